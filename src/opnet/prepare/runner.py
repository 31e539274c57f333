"""Runs a converter: discover samples, convert them in parallel, stream them in order into a dataset file.

A converter (one per raw dataset) says which samples an archive holds (:meth:`Converter.discover`,
cheap, in output order) and turns one of them into a sample dict (:meth:`Converter.convert`, run in
worker processes). Results come back in discovery order, so the output is identical for any number
of workers; at most a few batches are in flight, so memory stays flat in the number of samples.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Generator, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

from opnet.data import DatasetWriter, FieldSpec
from opnet.errors import OpNetError
from opnet.fileio import check_writable
from opnet.parallel import ordered_map
from opnet.prepare.archive import Archive
from opnet.progress import ProgressBar

log = logging.getLogger(__name__)

MIN_TASKS_PER_WORKER = 64

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class Task:
    """One sample to convert. ``name`` appears in messages; samples with equal ``sequence`` form a
    sequence (person, video, source face); ``None`` everywhere means the dataset has no sequences."""

    name: str
    sequence: str | None = None
    data: Any = None


@dataclass(frozen=True)
class Skipped:
    """A sample left out, and why (counted in the summary)."""

    reason: str


class Converter(Protocol):
    """What :func:`run_conversion` needs from a dataset converter (a picklable object)."""

    name: str

    def specs(self) -> Mapping[str, FieldSpec]:
        """Specs of the output fields that differ from the writer's defaults."""

    def notes(self) -> list[str]:
        """Remarks for the summary, e.g. a field left out and why."""

    def discover(self, archive: Archive) -> list[Task]:
        """The samples of the archive, in output order."""

    def convert(self, archive: Archive, task: Task) -> dict[str, Any] | Skipped:
        """One sample: field name -> value (image bytes or pixels, label arrays)."""


@dataclass
class Summary:
    """What a conversion did."""

    output: Path
    written: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    sequences: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def format(self) -> str:
        rate = self.written / self.seconds if self.seconds > 0 else 0.0
        lines = [
            f"wrote {self.output}: {self.written} samples"
            + (f" in {self.sequences} sequences" if self.sequences else "")
            + f" ({self.seconds:.1f} s, {rate:.0f} samples/s)"
        ]
        total = sum(self.skipped.values())
        if total:
            lines.append(f"skipped {total} samples:")
            lines.extend(f"  {count:6d}  {reason}" for reason, count in self.skipped.most_common())
        lines.extend(f"note: {note}" for note in self.notes)
        return "\n".join(lines)


def skip_bad(task: Task, what: str, error: Exception) -> Skipped:
    """Skips a sample whose ``what`` (e.g. '.mat file') is malformed; the debug log names the file."""
    log.debug("%s: bad %s: %s", task.name, what, error)
    return Skipped(f"bad {what} ({error})")


def run_conversion(
    converter: Converter,
    source: str | Path,
    output: str | Path,
    limit: int | None = None,
    workers: int = 1,
    overwrite: bool = False,
    progress: bool = False,
) -> Summary:
    """Converts the raw dataset at ``source`` (zip or folder) into the dataset file ``output``.

    ``limit`` keeps the first N samples (in output order); ``workers`` > 1 converts in that many
    processes. Nothing is written if anything fails (including: no sample could be converted).
    """
    start = time.perf_counter()
    check_writable(Path(output), overwrite)  # before the (possibly long) listing of the archive
    archive = Archive(source)
    tasks = converter.discover(archive)
    if not tasks:
        unsafe = f" ({archive.unsafe_note()})" if archive.unsafe_names else ""
        raise OpNetError(f"{source}: no {converter.name} samples found; is this the right archive?{unsafe}")
    if limit is not None:
        tasks = tasks[:limit]
    summary = Summary(Path(output), notes=converter.notes())
    if archive.unsafe_names:
        log.warning("%s: %s", source, archive.unsafe_note())
        summary.notes.append(archive.unsafe_note())
    results = _convert_all(converter, archive, tasks, workers)
    try:
        with DatasetWriter(output, specs=converter.specs(), overwrite=overwrite) as writer:
            _write_results(writer, tasks, results, summary, progress)
            if summary.written == 0:
                reasons = ", ".join(summary.skipped) or "none"
                raise OpNetError(f"{source}: no sample could be converted (reasons: {reasons})")
    finally:
        results.close()
        archive.close()
    summary.seconds = time.perf_counter() - start
    return summary


def _write_results(
    writer: DatasetWriter,
    tasks: list[Task],
    results: Iterable[dict | Skipped],
    summary: Summary,
    progress: bool,
) -> None:
    previous: str | None = None
    bar = ProgressBar(
        total=len(tasks), unit="sample", disable=not progress, desc=summary.output.name, leave=False
    )
    with bar:  # the summary says what was done
        for task, result in zip(tasks, results, strict=True):
            bar.update()
            if isinstance(result, Skipped):
                summary.skipped[result.reason] += 1
                continue
            if task.sequence is not None and task.sequence != previous:
                writer.start_sequence()
                summary.sequences += 1
                previous = task.sequence
            writer.append(result)
            summary.written += 1


def _convert_all(
    converter: Converter, archive: Archive, tasks: list[Task], workers: int
) -> Generator[dict | Skipped, None, None]:
    workers = min(workers, len(tasks) // MIN_TASKS_PER_WORKER)  # starting processes costs about a second
    if workers <= 1:
        return (converter.convert(archive, task) for task in tasks)
    return ordered_map(_convert_in_worker, tasks, workers, _init_worker, (converter, archive))


_WORKER_STATE: tuple[Converter, Archive] | None = None


def _init_worker(converter: Converter, archive: Archive) -> None:
    global _WORKER_STATE
    _WORKER_STATE = (converter, archive)


def _convert_in_worker(task: Task) -> dict | Skipped:
    assert _WORKER_STATE is not None, "worker not initialised"
    converter, archive = _WORKER_STATE
    return converter.convert(archive, task)
