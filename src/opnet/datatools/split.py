"""Splitting a dataset file into parts by whole sequences, so that no person is in two parts."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from opnet.data import open_dataset
from opnet.datatools.copying import write_parts
from opnet.errors import OpNetError
from opnet.fileio import check_writable


def sample_targets(
    count: int, fractions: Sequence[float] | None = None, counts: Sequence[int | None] | None = None
) -> NDArray[np.float64]:
    """Samples wanted per part from fractions (summing to 1) or sample counts (one may be None: the rest)."""
    if (fractions is None) == (counts is None):
        raise OpNetError("split: give either fractions or counts")
    if fractions is not None:
        f = np.asarray(fractions, dtype=np.float64)
        if np.any(f < 0) or abs(f.sum() - 1.0) > 1e-6:
            raise OpNetError(f"--fractions {list(fractions)}: must be >= 0 and sum to 1")
        return f * count
    assert counts is not None  # exactly one of fractions and counts is given
    rest = [i for i, c in enumerate(counts) if c is None]
    fixed = sum(c for c in counts if c is not None)
    if len(rest) > 1 or any(c is not None and c < 0 for c in counts):
        raise OpNetError(f"--counts {list(counts)}: non-negative sample counts, at most one 'rest'")
    if fixed > count or (not rest and fixed != count):
        raise OpNetError(
            f"--counts {list(counts)}: sum to {fixed}, the file has {count} samples "
            "(give 'rest' for one part)"
        )
    return np.array([count - fixed if c is None else c for c in counts], dtype=np.float64)


def assign_sequences(
    lengths: NDArray[np.int64], targets: NDArray[np.float64], seed: int
) -> NDArray[np.int64]:
    """Part index per sequence: sequences in a seeded random order, each to the part furthest below
    its target. Exact when every sequence is one sample; otherwise within a sequence length."""
    order = np.random.default_rng(seed).permutation(len(lengths))
    filled = np.zeros(len(targets))
    part = np.empty(len(lengths), dtype=np.int64)
    for s in order:
        i = int(np.argmax(targets - filled))
        part[s] = i
        filled[i] += lengths[s]
    return part


def split_dataset(
    source: str | os.PathLike,
    outputs: Sequence[str | os.PathLike],
    fractions: Sequence[float] | None = None,
    counts: Sequence[int | None] | None = None,
    seed: int = 0,
    overwrite: bool = False,
    progress: bool = False,
) -> list[int]:
    """Writes the sequences of ``source`` into ``outputs`` (one part each, in their original order);
    returns the samples per part. A file without ``sequence_starts`` splits by sample."""
    if len(outputs) < 2 or len({os.fspath(o) for o in outputs}) != len(outputs):
        raise OpNetError("split: give at least two different output files")
    for output in outputs:
        check_writable(Path(output), overwrite)
    with open_dataset(source, require_images=False) as ds:
        targets = sample_targets(len(ds), fractions, counts)
        if len(targets) != len(outputs):
            raise OpNetError(f"split: {len(outputs)} outputs but {len(targets)} sizes")
        sequences = ds.sequences
        part = assign_sequences(sequences[:, 1] - sequences[:, 0], targets, seed)
        written = []
        for i, output in enumerate(outputs):
            indices = np.flatnonzero(part[ds.sequence_ids] == i)
            if len(indices) == 0:
                raise OpNetError(
                    f"{output}: no sequence was assigned to this part; the file has "
                    f"{len(sequences)} sequences"
                )
            written.append(
                write_parts(output, [(ds, indices)], ds.sequence_starts is not None, overwrite, progress)
            )
        return written
