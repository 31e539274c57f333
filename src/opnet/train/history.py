"""The per-epoch metrics of a run: rows of named numbers, written as CSV.

Columns: ``epoch`` (1-based), ``lr`` (at the epoch's last step), ``samples`` trained, ``train_s``
(seconds of training, without validation), ``images_per_s``, ``elapsed_s`` (since this process
started the run), ``train_<term>`` (mean loss terms, ``train_total`` the weighted sum),
``grad_norm`` (mean infinity norm of the gradient before clipping), ``val_<term>``,
``val_{pitch,yaw,roll,mean,geodesic}_deg`` and ``swa_epochs`` (epochs in the SWA average so far).
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from pathlib import Path

from opnet.fileio import atomic_output

Row = dict[str, float]


def columns(rows: Sequence[Row]) -> list[str]:
    """All column names, in order of first appearance."""
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    return list(names)


def write_metrics_csv(rows: Sequence[Row], path: str | os.PathLike) -> Path:
    """Writes ``rows`` (one per epoch) as CSV, atomically, replacing an older file."""
    path = Path(path)
    with atomic_output(path, overwrite=True) as tmp, open(tmp, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns(rows), restval="")
        writer.writeheader()
        writer.writerows(rows)
    return path


def read_metrics_csv(path: str | os.PathLike) -> list[Row]:
    """The rows of a metrics file; empty cells are left out."""
    with open(path, newline="", encoding="utf-8") as f:
        return [{k: float(v) for k, v in row.items() if v != ""} for row in csv.DictReader(f)]
