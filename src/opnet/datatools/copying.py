"""Copying samples of dataset files into a new file, bit for bit (the core of join, filter and split).

Every field is written with the spec read from the input (dtype and attributes), image files are
copied as stored bytes, so a copied sample is identical to its source; sequence boundaries follow
the source's.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import h5py
import numpy as np
from numpy.typing import NDArray

from opnet.data import DatasetWriter, FieldSpec, ImageStorage, PoseDataset
from opnet.errors import OpNetError
from opnet.progress import ProgressBar

BLOCK_ROWS = 512

Part = tuple[PoseDataset, NDArray[np.int64]]
"""A dataset and the (sorted) indices of its samples to copy."""


def _comparable(spec: FieldSpec) -> tuple:
    attrs = {
        k: (v.decode() if isinstance(v, bytes) else np.asarray(v).tolist()) for k, v in spec.attrs.items()
    }
    return spec.category, spec.sample_shape, spec.dtype.str, _storage_kind(spec), sorted(attrs.items())


def _storage_kind(spec: FieldSpec) -> str:
    """'string', 'bytes' (variable length) or 'array': how the field's values are stored."""
    if h5py.check_string_dtype(spec.dtype) is not None:
        return "string"
    return "bytes" if h5py.check_vlen_dtype(spec.dtype) is not None else "array"


def check_same_fields(datasets: Sequence[PoseDataset]) -> None:
    """Raises OpNetError unless all files have the same fields with the same dtypes and attributes."""
    first = datasets[0]
    for other in datasets[1:]:
        if set(other.fields) != set(first.fields):
            raise OpNetError(
                f"{other.path}: has fields {sorted(other.fields)}, but {first.path} has "
                f"{sorted(first.fields)}; joined files need the same fields"
            )
        for name, spec in first.fields.items():
            if _comparable(spec) != _comparable(other.fields[name]):
                raise OpNetError(
                    f"{other.path}: field '{name}' is stored differently than in {first.path} "
                    f"({other.fields[name].dtype} {other.fields[name].attrs} vs {spec.dtype} {spec.attrs})"
                )


def _rows(ds: PoseDataset, name: str, start: int, end: int) -> Sequence[Any] | np.ndarray:
    spec = ds.fields[name]
    if name == ds.image_field and spec.storage == ImageStorage.FILENAME:
        return [ds.read_image_bytes(i) for i in range(start, end)]
    if spec.is_image and spec.storage == ImageStorage.FILENAME:
        raise OpNetError(
            f"{ds.path}: field '{name}' stores file names; only the main image field can be copied"
        )
    return ds.read_field(name, slice(start, end), raw=True)


def _runs(indices: NDArray[np.int64]) -> list[tuple[int, int]]:
    """[lo, hi) positions in ``indices`` of runs of consecutive sample indices, at most BLOCK_ROWS long."""
    breaks = np.flatnonzero(np.diff(indices) != 1) + 1
    runs: list[tuple[int, int]] = []
    for lo, hi in zip(np.concatenate([[0], breaks]), np.concatenate([breaks, [len(indices)]]), strict=True):
        runs.extend((a, min(a + BLOCK_ROWS, int(hi))) for a in range(int(lo), int(hi), BLOCK_ROWS))
    return runs


def write_parts(
    output: str | os.PathLike,
    parts: Sequence[Part],
    sequences: bool,
    overwrite: bool = False,
    progress: bool = False,
) -> int:
    """Writes the samples ``indices`` of each part's dataset, in order, into ``output``.

    With ``sequences``, a new sequence starts at every part and wherever the source sequence
    changes (a sequence with samples left out stays one sequence). Fields and specs come from the
    first dataset. Returns the number of samples written.
    """
    specs: dict[str, FieldSpec] = dict(parts[0][0].fields)
    total = sum(len(indices) for _, indices in parts)
    if total == 0:
        raise OpNetError(f"{output}: nothing left to write (0 samples selected)")
    with (
        DatasetWriter(output, specs=specs, overwrite=overwrite, raw_coordinates=True) as writer,
        ProgressBar(total=total, unit="sample", disable=not progress, desc=os.path.basename(output)) as bar,
    ):
        for ds, indices in parts:
            indices = np.asarray(indices, dtype=np.int64)
            new_sequence = np.concatenate([[True], np.diff(ds.sequence_ids[indices]) != 0])
            for lo, hi in _runs(indices):
                columns = {
                    name: _rows(ds, name, int(indices[lo]), int(indices[hi - 1]) + 1) for name in specs
                }
                for k in range(hi - lo):
                    if sequences and new_sequence[lo + k]:
                        writer.start_sequence()
                    writer.append({name: column[k] for name, column in columns.items()})
                bar.update(hi - lo)
    return total
