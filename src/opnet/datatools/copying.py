"""Copying sample ranges of dataset files into a new file, bit for bit (the core of join, filter and split).

Every field is written with the spec read from the input (dtype and attributes), image files are
copied as stored bytes, so a copied sample is identical to its source. Each copied range can become
one sequence of the output.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import h5py
import numpy as np
from numpy.typing import NDArray
from tqdm import tqdm

from opnet.data import DatasetWriter, FieldSpec, ImageStorage, PoseDataset
from opnet.errors import OpNetError

BLOCK_ROWS = 512

Part = tuple[PoseDataset, NDArray[np.int64]]
"""A dataset and (K, 2) [start, end) sample ranges of it to copy, in this order."""


def _comparable(spec: FieldSpec) -> tuple:
    attrs = {k: (v.decode() if isinstance(v, bytes) else np.asarray(v).tolist()) for k, v in spec.attrs.items()}
    return spec.category, spec.sample_shape, spec.dtype.str, h5_kind(spec), sorted(attrs.items())


def h5_kind(spec: FieldSpec) -> str:
    """'bytes', 'string' or 'array': how the field's values are stored."""
    if h5py.check_vlen_dtype(spec.dtype) is not None:
        return "string" if h5py.check_string_dtype(spec.dtype) else "bytes"
    return "string" if h5py.check_string_dtype(spec.dtype) else "array"


def check_same_fields(datasets: Sequence[PoseDataset]) -> None:
    """Raises OpNetError unless all files have the same fields with the same dtypes and attributes."""
    first = datasets[0]
    for other in datasets[1:]:
        if set(other.fields) != set(first.fields):
            raise OpNetError(f"{other.path}: has fields {sorted(other.fields)}, but {first.path} has "
                             f"{sorted(first.fields)}; joined files need the same fields")
        for name, spec in first.fields.items():
            if _comparable(spec) != _comparable(other.fields[name]):
                raise OpNetError(f"{other.path}: field '{name}' is stored differently than in {first.path} "
                                 f"({other.fields[name].dtype} {other.fields[name].attrs} vs {spec.dtype} {spec.attrs})")


def _rows(ds: PoseDataset, name: str, start: int, end: int) -> Sequence[Any]:
    spec = ds.fields[name]
    if name == ds.image_field and spec.storage == ImageStorage.FILENAME:
        return [ds.read_image_bytes(i) for i in range(start, end)]
    if spec.is_image and spec.storage == ImageStorage.FILENAME:
        raise OpNetError(f"{ds.path}: field '{name}' stores file names; only the main image field can be copied")
    return ds.read_field(name, slice(start, end))


def write_parts(
    output: str | os.PathLike,
    parts: Sequence[Part],
    sequences: bool,
    overwrite: bool = False,
    progress: bool = False,
) -> int:
    """Writes the ranges of ``parts`` in order into ``output``; each range is one sequence if
    ``sequences`` (else adjacent ranges are copied as one). Fields and specs come from the first
    dataset. Returns the number of samples."""
    if not sequences:
        parts = [(ds, merge_adjacent(ranges)) for ds, ranges in parts]
    first = parts[0][0]
    specs: dict[str, FieldSpec] = dict(first.fields)
    total = int(sum((ranges[:, 1] - ranges[:, 0]).sum() for _, ranges in parts))
    if total == 0:
        raise OpNetError(f"{output}: nothing left to write (0 samples selected)")
    with DatasetWriter(output, specs=specs, overwrite=overwrite) as writer, \
            tqdm(total=total, unit="sample", disable=not progress, desc=os.path.basename(output)) as bar:
        for ds, ranges in parts:
            for start, end in ranges:
                if sequences:
                    writer.start_sequence()
                for block in range(int(start), int(end), BLOCK_ROWS):
                    stop = min(int(end), block + BLOCK_ROWS)
                    columns = {name: _rows(ds, name, block, stop) for name in specs}
                    for i in range(stop - block):
                        writer.append({name: column[i] for name, column in columns.items()})
                    bar.update(stop - block)
    return total


def merge_adjacent(ranges: NDArray[np.int64]) -> NDArray[np.int64]:
    """(K, 2) ranges with each range that starts where the previous ends merged into it."""
    ranges = np.asarray(ranges, dtype=np.int64).reshape(-1, 2)
    if len(ranges) < 2:
        return ranges
    breaks = ranges[1:, 0] != ranges[:-1, 1]
    starts = ranges[np.concatenate([[True], breaks]), 0]
    ends = ranges[np.concatenate([breaks, [True]]), 1]
    return np.stack([starts, ends], axis=-1)


def ranges_of(indices: NDArray[np.int64], sequence_ids: NDArray[np.int64]) -> NDArray[np.int64]:
    """(K, 2) [start, end) runs of consecutive sorted ``indices`` that share a sequence id."""
    indices = np.sort(np.asarray(indices, dtype=np.int64))
    if len(indices) == 0:
        return np.zeros((0, 2), np.int64)
    breaks = (np.diff(indices) != 1) | (np.diff(sequence_ids[indices]) != 0)
    starts = indices[np.concatenate([[True], breaks])]
    ends = indices[np.concatenate([breaks, [True]])] + 1
    return np.stack([starts, ends], axis=-1)
