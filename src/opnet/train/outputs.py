"""The files of a run folder, and the checks before a run starts or resumes in it."""

from __future__ import annotations

import contextlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from opnet.errors import OpNetError
from opnet.fileio import check_folder_creatable, remove_path
from opnet.settings import from_plain
from opnet.train.config import TrainConfig, changed_settings, read_config_file

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunPaths:
    """Where a run in ``outdir`` keeps its files."""

    outdir: Path
    plot: Path | None = None

    @classmethod
    def of(cls, outdir: str | os.PathLike, config: TrainConfig) -> RunPaths:
        """``--save-plot``: relative names are placed in the run folder (as the original did)."""
        outdir = Path(outdir)
        return cls(outdir, None if config.save_plot is None else outdir / config.save_plot)

    @property
    def config(self) -> Path:
        return self.outdir / "config.yaml"

    @property
    def metrics(self) -> Path:
        return self.outdir / "metrics.csv"

    @property
    def last(self) -> Path:
        return self.outdir / "last.ckpt"

    @property
    def best(self) -> Path:
        return self.outdir / "best.ckpt"

    @property
    def swa(self) -> Path:
        return self.outdir / "swa.ckpt"

    @property
    def resume(self) -> Path:
        """Lightning's full training state (optimizer, schedule, SWA average, loop, history)."""
        return self.outdir / "resume.ckpt"

    def run_files(self) -> list[Path]:
        return [
            p
            for p in (self.config, self.metrics, self.last, self.best, self.swa, self.resume, self.plot)
            if p
        ]


def saved_config(outdir: str | os.PathLike) -> TrainConfig:
    """The resolved config of the run in ``outdir`` (its config.yaml)."""
    path = Path(outdir) / "config.yaml"
    if not path.is_file():
        raise OpNetError(f"--resume {outdir}: no {path.name} there (not an OpNet training folder)")
    return from_plain(TrainConfig, read_config_file(path), str(path))


def check_fresh(paths: RunPaths, overwrite: bool) -> list[Path]:
    """The run files already in the folder; raises if there are any and not ``overwrite``. Writes nothing."""
    existing = [p for p in paths.run_files() if p.exists()]
    if existing and not overwrite:
        raise OpNetError(
            f"{paths.outdir}: already holds a run ({existing[0].name}); "
            "continue it with --resume or replace it with --force"
        )
    check_folder_creatable(paths.outdir)
    return existing


def start_fresh(paths: RunPaths, overwrite: bool) -> None:
    """Creates the run folder; a folder holding a run is refused unless ``overwrite`` (its run files go)."""
    for path in check_fresh(paths, overwrite):
        remove_path(path)
    try:
        paths.outdir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OpNetError(f"--outdir {paths.outdir}: cannot be created ({e.strerror})") from None


def discard_failed_start(paths: RunPaths, created_folder: bool) -> None:
    """Removes what a run that failed before completing an epoch wrote (its files; the folder if the run
    made it and it is empty), so that the corrected command is not refused as 'already holds a run'."""
    for path in paths.run_files():
        remove_path(path)
    if created_folder:
        with contextlib.suppress(OSError):
            paths.outdir.rmdir()


def check_resume(paths: RunPaths, config: TrainConfig) -> bool:
    """Checks that ``config`` continues the run in the folder; True if there is training state to resume."""
    changed = changed_settings(saved_config(paths.outdir), config)
    if changed:
        raise OpNetError(
            f"--resume {paths.outdir}: the run was configured differently ({', '.join(changed)}); "
            "a resumed run keeps its settings"
        )
    if not paths.resume.is_file():
        log.warning(
            "%s: no training state yet (interrupted in the first epoch); starting from epoch 1", paths.outdir
        )
        return False
    return True
