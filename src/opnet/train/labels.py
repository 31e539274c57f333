"""The labels of a whole dataset file in memory, checked once, so that a batch reads only its images."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike, NDArray

from opnet.augment import NUM_POINTS, NUM_SHAPEPARAMS, FaceLabels, RoiMode, face_boxes
from opnet.data import PoseDataset
from opnet.errors import DataError

POINT_FIELDS = ("pt3d_68", "pt2d_68")
"""Landmark fields in order of preference: 3D where a file has both."""


@dataclass(frozen=True)
class LabelTable:
    """All labels of one file (N rows, placeholders where missing) with per-row validity masks.

    A label counts as missing where the file lacks the field, where it is not finite, and for
    degenerate values (an empty ROI, a head size <= 0, a zero quaternion). Values are float32.
    """

    path: Path
    labels: FaceLabels

    def rows(self, rows: ArrayLike) -> FaceLabels:
        return self.labels.take(np.asarray(rows, dtype=np.int64))

    def has_face_box(self, mode: RoiMode) -> NDArray[np.bool_]:
        """(N,) whether each row gives a face box in ``mode`` (:func:`opnet.augment.face_boxes`)."""
        return face_boxes(self.labels, mode)[1]


def _read(
    ds: PoseDataset, name: str, shape: tuple[int, ...], also: tuple[int, ...] | None = None
) -> tuple[NDArray[np.float32], NDArray[np.bool_]]:
    """(N, *shape) float32 values and (N,) finiteness; zeros and False if the file has no such field.

    ``also``: another accepted per-sample shape, zero-padded to ``shape`` (2D landmarks).
    """
    out = np.zeros((len(ds), *shape), np.float32)
    if not ds.has(name):
        return out, np.zeros(len(ds), bool)
    values = ds.read_field(name)
    if values.shape[1:] not in (shape, also):
        raise DataError(ds.path, f"expected per-sample shape {shape}, found {values.shape[1:]}", name)
    finite = np.isfinite(values.reshape(len(values), -1)).all(axis=1)
    out[finite, ..., : values.shape[-1]] = values[finite]
    return out, finite


def load_label_table(ds: PoseDataset) -> LabelTable:
    """Reads every label field of ``ds`` (landmarks: ``pt3d_68``, else ``pt2d_68``) and closes its handle."""
    point_field = next((f for f in POINT_FIELDS if ds.has(f)), POINT_FIELDS[0])
    roi, has_roi = _read(ds, "rois", (4,))
    coords, has_coords = _read(ds, "coords", (3,))
    quat, has_quat = _read(ds, "quats", (4,))
    points, has_points = _read(ds, point_field, (NUM_POINTS, 3), also=(NUM_POINTS, 2))
    shapeparams, has_shapeparams = _read(ds, "shapeparams", (NUM_SHAPEPARAMS,))
    ds.close()
    has_roi &= (roi[:, 2] > roi[:, 0]) & (roi[:, 3] > roi[:, 1])
    has_coords &= coords[:, 2] > 0
    has_quat &= np.linalg.norm(quat, axis=1) > 0.5
    quat[~has_quat] = (0.0, 0.0, 0.0, 1.0)
    has_points_z = has_points & (point_field == "pt3d_68")
    labels = FaceLabels(
        roi,
        coords,
        quat,
        points,
        shapeparams,
        has_roi,
        has_coords,
        has_quat,
        has_points,
        has_points_z,
        has_shapeparams,
    )
    return LabelTable(ds.path, labels)
