"""Label values that no computation can use: non-finite numbers and zero quaternions.

The layout of a file is checked when it opens (:mod:`opnet.data.reader`); these checks look at
values, for commands that would otherwise fail deep inside with a NumPy or OpenCV error.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from opnet.data.fields import FLOAT_CATEGORIES, Category
from opnet.data.reader import PoseDataset
from opnet.errors import DataError

MIN_QUAT_NORM = 1e-6
"""Quaternions shorter than this have no direction: 'zero'."""


def quaternion_faults(quats: ArrayLike) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """(not finite, zero): two (N,) masks over (N, 4) quaternions; a usable row is in neither."""
    q = np.asarray(quats, dtype=np.float64).reshape(-1, 4)
    finite = np.all(np.isfinite(q), axis=1)
    norm = np.linalg.norm(np.where(finite[:, None], q, 0.0), axis=1)
    return ~finite, finite & (norm < MIN_QUAT_NORM)


def _raise_first(
    path: str | os.PathLike, field: str, bad: NDArray[np.bool_], problem: str, indices: Sequence[int] | None
) -> None:
    rows = np.flatnonzero(bad)
    where = rows if indices is None else np.asarray(indices)[rows]
    more = f" ({len(where)} samples in all)" if len(where) > 1 else ""
    raise DataError(path, f"{problem}{more}", field, int(where[0]))


def check_quaternions(
    path: str | os.PathLike,
    quats: ArrayLike,
    indices: Sequence[int] | None = None,
    field: str = "quats",
    allow_not_finite: bool = False,
) -> None:
    """Raises :class:`DataError` naming the first sample whose quaternion is not finite or zero.

    ``quats``: (N, 4) rows of the samples ``indices`` (default 0..N-1). ``allow_not_finite``: only
    zero quaternions are refused (for callers that drop non-finite labels themselves)."""
    not_finite, zero = quaternion_faults(quats)
    for bad, problem in ((not_finite, "quaternion is not finite"), (zero, "quaternion is zero")):
        if allow_not_finite and bad is not_finite:
            continue
        if bad.any():
            _raise_first(path, field, bad, problem, indices)


def check_finite(
    path: str | os.PathLike, field: str, values: ArrayLike, indices: Sequence[int] | None = None
) -> None:
    """Raises :class:`DataError` naming the first sample (row of ``values``) holding NaN or infinity."""
    v = np.asarray(values, dtype=np.float64)
    bad = ~np.all(np.isfinite(v.reshape(len(v), -1)), axis=1)
    if bad.any():
        _raise_first(path, field, bad, "holds values that are not finite (NaN or infinity)", indices)


def check_sample_labels(
    path: str | os.PathLike, sample: Mapping[str, Any], index: int, categories: Mapping[str, Category]
) -> None:
    """Checks one sample's float labels (fields of :data:`FLOAT_CATEGORIES`), quaternion included."""
    for name, category in categories.items():
        if category not in FLOAT_CATEGORIES or sample.get(name) is None:
            continue
        values = np.asarray(sample[name])[None]
        if category == Category.QUAT:
            check_quaternions(path, values, [index], name)
        else:
            check_finite(path, name, values, [index])


def check_evaluation_labels(ds: PoseDataset) -> None:
    """Refuses a file without samples, or with a zero quaternion (an evaluation drops samples whose
    labels are not finite and counts them, but a zero rotation is no label at all)."""
    if len(ds) == 0:
        raise DataError(ds.path, "has no samples")
    if ds.has("quats"):
        check_quaternions(ds.path, ds.read_field("quats"), allow_not_finite=True)
