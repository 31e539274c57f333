"""Filtering a dataset file: dropping whole sequences or single samples."""

from __future__ import annotations

import os
from collections.abc import Iterable

import numpy as np

from opnet.data import open_dataset
from opnet.datatools.copying import write_parts
from opnet.errors import OpNetError, summarise_indices


def _checked(values: Iterable[int], count: int, what: str) -> np.ndarray:
    values = np.unique(np.asarray(list(values), dtype=np.int64))
    bad = values[(values < 0) | (values >= count)]
    if len(bad):
        raise OpNetError(f"--drop-{what}: {summarise_indices(bad)} not in 0..{count - 1}")
    return values


def filter_dataset(
    source: str | os.PathLike,
    output: str | os.PathLike,
    drop_sequences: Iterable[int] = (),
    drop_indices: Iterable[int] = (),
    overwrite: bool = False,
    progress: bool = False,
) -> int:
    """Copies ``source`` to ``output`` without the given sequences and samples; returns the samples kept.

    Sequence boundaries are kept (a sequence left empty disappears). In a file without
    ``sequence_starts`` every sample is its own sequence.
    """
    with open_dataset(source, require_images=False) as ds:
        keep = np.ones(len(ds), dtype=bool)
        sequences = ds.sequences
        for s in _checked(drop_sequences, len(sequences), "sequences"):
            keep[sequences[s, 0] : sequences[s, 1]] = False
        keep[_checked(drop_indices, len(ds), "indices")] = False
        return write_parts(
            output, [(ds, np.flatnonzero(keep))], ds.sequence_starts is not None, overwrite, progress
        )
