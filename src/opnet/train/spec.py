"""The ``--ds`` language: ``name[:weight]+name[:weight]+...``, names or dataset file paths.

A weight is a relative *virtual sample count*: with sampling weighting each training sample
first draws a dataset with probability w / sum(w). Datasets named without a weight get
:data:`DEFAULT_WEIGHTS` (the original recipe's); a file path without a weight gets its number of
samples. Resolving names to files is the command line's job (``$DATADIR``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from opnet.errors import OpNetError

DEFAULT_WEIGHTS: dict[str, float] = {
    "300wlp": 60_000.0,
    "repro_300_wlp": 60_000.0,
    "repro_300_wlp_woextra": 60_000.0,
    "wflw_lp": 40_000.0,
    "lapa_megaface_lp": 10_000.0,
    "synface": 10_000.0,
    "biwi": 1_000.0,
    "aflw2k3d": 1_000.0,
}
"""Default weight of each named dataset (virtual sample counts of the original training recipe)."""


@dataclass(frozen=True)
class SpecEntry:
    """One ``+``-separated part of a dataset spec: a dataset name or file path, and its weight if given."""

    source: str
    weight: float | None = None


def _parse_weight(text: str, part: str, flag: str) -> float:
    try:
        weight = float(text)
    except ValueError:
        raise OpNetError(f"{flag}: weight {text!r} in {part!r} is not a number") from None
    if not math.isfinite(weight) or weight <= 0:
        raise OpNetError(f"{flag}: weight {text!r} in {part!r} must be a positive number")
    return weight


def _one_existing_file(spec: str, flag: str) -> list[SpecEntry] | None:
    """The spec as one entry when it is the path of an existing file, with or without ``:weight``
    (so that a path holding '+' or ':' is not cut into parts), else None."""
    if Path(spec).is_file():
        return [SpecEntry(spec)]
    source, colon, weight_text = spec.rpartition(":")
    if colon and Path(source).is_file():
        return [SpecEntry(source, _parse_weight(weight_text, spec, flag))]
    return None


def parse_dataset_spec(spec: str, flag: str = "--ds") -> list[SpecEntry]:
    """``"a:20000+b+path/c.h5:5"`` -> entries in order; one-line errors name ``flag`` and the bad part.

    The weight follows the last ':' of a part. A dataset may appear only once. The path of one
    existing file is one entry even when it holds '+' or ':' (``runs/a+b/train.h5``).
    """
    if not spec.strip():
        raise OpNetError(f"{flag}: empty; expected name[:weight]+name[:weight]+...")
    whole = _one_existing_file(spec, flag)
    if whole is not None:
        return whole
    entries: list[SpecEntry] = []
    for part in spec.split("+"):
        part = part.strip()
        if not part:
            raise OpNetError(
                f"{flag} {spec!r}: empty part between '+'; expected name[:weight]+name[:weight]+..."
            )
        source, colon, weight_text = part.rpartition(":")
        if not colon:
            source, weight_text = part, ""
        if not source.strip():
            raise OpNetError(f"{flag}: {part!r} has a weight but no dataset name")
        weight = _parse_weight(weight_text, part, flag) if colon else None
        entries.append(SpecEntry(source.strip(), weight))
    seen = [e.source for e in entries]
    duplicates = sorted({s for s in seen if seen.count(s) > 1})
    if duplicates:
        raise OpNetError(f"{flag} {spec!r}: {', '.join(duplicates)} given more than once")
    return entries
