"""Labels of a batch of faces in a pixel frame, how they follow affines, and the face box of each ROI mode."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np
from numpy.typing import ArrayLike, NDArray

from opnet.augment.config import RoiMode
from opnet.geometry import (
    FloatArray,
    affine_mirrors,
    affine_scale,
    roi_from_points,
    transform_landmarks,
    transform_points,
    transform_quat,
    transform_roi,
)

NUM_POINTS = 68
NUM_SHAPEPARAMS = 50
EYEBROWS = slice(17, 27)
NOSE_BRIDGE_TOP = 27
CHIN = 8
FOREHEAD_FRACTION = 0.5
"""Hairline = eyebrow points moved up by this fraction of the chin -> nose-bridge vector (facial thirds)."""

_IDENTITY_QUAT = np.array([0.0, 0.0, 0.0, 1.0])


@dataclass(frozen=True)
class FaceLabels:
    """Labels of B faces in pixels, with (B,) masks of the labels each face has.

    roi (B, 4) x0, y0, x1, y1; coords (B, 3) head centre x, y and size; quat (B, 4) xyzw;
    points (B, 68, 3) iBUG landmarks (z in pixels; 0 where ``has_points_z`` is False);
    shapeparams (B, 50) (not geometric). Rows without a label hold placeholders (zeros, the
    identity rotation) that every transform accepts.
    """

    roi: FloatArray
    coords: FloatArray
    quat: FloatArray
    points: FloatArray
    shapeparams: FloatArray
    has_roi: NDArray[np.bool_]
    has_coords: NDArray[np.bool_]
    has_quat: NDArray[np.bool_]
    has_points: NDArray[np.bool_]
    has_points_z: NDArray[np.bool_]
    has_shapeparams: NDArray[np.bool_]

    def __len__(self) -> int:
        return len(self.roi)

    @classmethod
    def one(
        cls,
        roi: ArrayLike | None = None,
        coords: ArrayLike | None = None,
        quat: ArrayLike | None = None,
        points: ArrayLike | None = None,
        shapeparams: ArrayLike | None = None,
    ) -> FaceLabels:
        """The labels of a single face (B = 1); None for labels it lacks. ``points`` may be (68, 2)."""

        def row(
            value: ArrayLike | None, shape: tuple[int, ...], fill: FloatArray | None = None
        ) -> FloatArray:
            out = np.zeros((1, *shape)) if fill is None else fill[None].copy()
            if value is not None:
                value = np.asarray(value, dtype=np.float64)
                out[0, ..., : value.shape[-1]] = value
            return out

        pts = None if points is None else np.asarray(points)
        return cls(
            row(roi, (4,)),
            row(coords, (3,)),
            row(quat, (4,), _IDENTITY_QUAT),
            row(pts, (NUM_POINTS, 3)),
            row(shapeparams, (NUM_SHAPEPARAMS,)),
            np.array([roi is not None]),
            np.array([coords is not None]),
            np.array([quat is not None]),
            np.array([pts is not None]),
            np.array([pts is not None and pts.shape[-1] == 3]),
            np.array([shapeparams is not None]),
        )

    def take(self, rows: ArrayLike) -> FaceLabels:
        """The labels of some rows, in the given order."""
        return FaceLabels(**{f.name: getattr(self, f.name)[rows] for f in fields(self)})

    @classmethod
    def concatenate(cls, parts: Sequence[FaceLabels]) -> FaceLabels:
        return cls(**{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)})

    def transformed(
        self, affines: ArrayLike, box: str = "ellipse", mirrored_shapeparams: bool = False
    ) -> FaceLabels:
        """The labels in images warped by (B, 2, 3) similarity affines (maybe mirroring).

        ``box``: the ROI becomes the box of its moved inscribed ellipse (``ellipse``, see
        :func:`opnet.geometry.transform_roi`) or of its moved corners (``corners``, the original's).
        Shape parameters describe an unmirrored face, so mirrored rows lose them unless
        ``mirrored_shapeparams`` (the original kept training them).
        """
        affines = np.asarray(affines, dtype=np.float64)
        centres = transform_points(affines, self.coords[:, None, :2])[:, 0]
        coords = np.concatenate([centres, (self.coords[:, 2] * affine_scale(affines))[:, None]], axis=1)
        mirrored = np.zeros(len(affines), bool) if mirrored_shapeparams else affine_mirrors(affines)
        return FaceLabels(
            corner_boxes(affines, self.roi) if box == "corners" else transform_roi(affines, self.roi),
            coords,
            transform_quat(affines, self.quat),
            transform_landmarks(affines, self.points),
            self.shapeparams,
            self.has_roi,
            self.has_coords,
            self.has_quat,
            self.has_points,
            self.has_points_z,
            self.has_shapeparams & ~mirrored,
        )


def corner_boxes(affines: ArrayLike, roi: ArrayLike) -> FloatArray:
    """Boxes (B, 4) of the four corners of ROIs (B, 4) moved by (B, 2, 3) affines."""
    roi = np.asarray(roi, dtype=np.float64)
    corners = roi[:, [[0, 1], [2, 1], [0, 3], [2, 3]]]
    moved = transform_points(affines, corners)
    return np.concatenate([moved.min(axis=1), moved.max(axis=1)], axis=1)


def forehead_box(points: ArrayLike) -> FloatArray:
    """Boxes (..., 4) of 68 landmarks (..., 68, 2|3) extended up to the hairline.

    The hairline is estimated as the eyebrow points moved by ``FOREHEAD_FRACTION`` of the vector
    from the chin (8) to the top of the nose bridge (27), in 3D when z is given: the upper third
    of a face (hairline to brow) is about half the lower two (brow to chin). It follows the head's
    pitch, yaw and roll and every image transform the landmarks follow.
    """
    points = np.asarray(points, dtype=np.float64)
    up = points[..., NOSE_BRIDGE_TOP, :] - points[..., CHIN, :]
    hairline = points[..., EYEBROWS, :] + FOREHEAD_FRACTION * up[..., None, :]
    return roi_from_points(np.concatenate([points, hairline], axis=-2))


def face_boxes(labels: FaceLabels, mode: RoiMode) -> tuple[FloatArray, NDArray[np.bool_]]:
    """The face boxes (B, 4) that frame the crop in ``mode``, and (B,) whether a face has one.

    ``original``: the stored ROI. ``landmarks``: the box of the 68 landmarks;
    ``extent_to_forehead``: :func:`forehead_box`; both fall back to the stored ROI without landmarks.
    """
    if mode == RoiMode.ORIGINAL:
        return labels.roi, labels.has_roi
    from_points = (
        forehead_box(labels.points) if mode == RoiMode.EXTENT_TO_FOREHEAD else roi_from_points(labels.points)
    )
    boxes = np.where(labels.has_points[:, None], from_points, labels.roi)
    return boxes, labels.has_points | labels.has_roi
