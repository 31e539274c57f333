"""Helpers shared by subcommands: argument types and the environment (read here only)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from opnet.errors import OpNetError


def parse_indices(text: str) -> list[int]:
    """'0 3 5-9,12' -> [0, 3, 5, 6, 7, 8, 9, 12] (ranges inclusive)."""
    out: list[int] = []
    for part in text.replace(",", " ").split():
        try:
            if "-" in part[1:]:
                a, b = part.split("-", 1) if not part.startswith("-") else (part, part)
                out.extend(range(int(a), int(b) + 1))
            else:
                out.append(int(part))
        except ValueError:
            raise argparse.ArgumentTypeError(f"bad index {part!r}; expected e.g. '0 3 5-9'") from None
    return out


def data_dir() -> Path | None:
    """``$DATADIR``, where dataset names like ``aflw2k3d`` are looked up."""
    value = os.environ.get("DATADIR")
    return Path(value) if value else None


def num_workers() -> int:
    """``$NUM_WORKERS`` or the number of usable CPU cores."""
    value = os.environ.get("NUM_WORKERS")
    if value:
        try:
            return max(0, int(value))
        except ValueError:
            raise OpNetError(f"NUM_WORKERS={value!r}: expected a whole number") from None
    return len(os.sched_getaffinity(0))


def existing_file(text: str) -> Path:
    """Argument type: a path that must exist."""
    path = Path(text)
    if not path.exists():
        raise argparse.ArgumentTypeError(f"{text}: no such file")
    return path
