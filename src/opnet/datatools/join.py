"""Joining dataset files: samples of all inputs in order, sequence boundaries kept."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from opnet.data import open_dataset
from opnet.datatools.copying import check_same_fields, write_parts
from opnet.errors import OpNetError


def join_datasets(
    inputs: Sequence[str | os.PathLike],
    output: str | os.PathLike,
    overwrite: bool = False,
    progress: bool = False,
) -> int:
    """Writes the samples of ``inputs`` one after the other into ``output``; returns the sample count.

    The inputs must have the same fields, stored alike. If any input has ``sequence_starts``, the
    output has them too: each input's sequences shifted by the samples before it, and an input
    without sequences counts as one sequence per sample.
    """
    if len(inputs) < 2:
        raise OpNetError("join: give at least two input files")
    datasets = [open_dataset(path, require_images=False) for path in inputs]
    try:
        check_same_fields(datasets)
        sequences = any(ds.sequence_starts is not None for ds in datasets)
        return write_parts(
            output, [(ds, np.arange(len(ds))) for ds in datasets], sequences, overwrite, progress
        )
    finally:
        for ds in datasets:
            ds.close()
