"""Labels of a rendered head, in the conventions of real data (docs/format.md).

The renderer uses the weak-perspective projection of :func:`opnet.facemodel.project` with
``coords`` as they are stored, so every label is exact for the image:

- ``quats``: the head rotation, canonical (w >= 0);
- ``coords``: the image position of :data:`~opnet.facemodel.HEAD_CENTRE` (between the eyes) and
  the projection scale (pixels per model unit);
- ``pt3d_68``: the 68 landmark vertices projected, depth shifted as in
  :func:`~opnet.facemodel.landmarks_to_label`; all 68, visible or not (like AFLW2000-3D);
- ``pt2d_68``: their x, y. Real 2D datasets mark the jaw on the visible outline; synthetic data
  keeps the 3D points, so on turned faces the far jaw points lie inside the face;
- ``rois``: the box of the 68 landmarks (as AFLW2000-3D's boxes are).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from opnet.facemodel import landmarks_to_label, project
from opnet.geometry import canonical_quat, roi_from_points


def pose_labels(landmarks: ArrayLike, quat: ArrayLike, coords: ArrayLike) -> dict[str, NDArray[np.float32]]:
    """Labels of a head whose landmark vertices are ``landmarks`` (68, 3) (model frame), at pose
    ``quat`` (4,) xyzw with ``coords`` (3,) = x, y, size in pixels."""
    points = landmarks_to_label(project(landmarks, quat, coords))
    return {
        "quats": canonical_quat(quat).astype(np.float32),
        "coords": np.asarray(coords, dtype=np.float32),
        "pt3d_68": points.astype(np.float32),
        "pt2d_68": points[:, :2].astype(np.float32),
        "rois": roi_from_points(points).astype(np.float32),
    }
