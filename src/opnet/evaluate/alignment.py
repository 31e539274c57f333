"""BIWI's two ways of aligning predicted rotations to the labels before measuring errors.

- Perspective correction: a network sees the face through its crop, i.e. along the camera ray to
  the head; its rotation is relative to that ray. The correction rotates the prediction from the
  ray's frame into the camera frame (principal point = image centre, focal length from the
  horizontal field of view).
- OPAL23 alignment (Cobo et al. 2023): per person, the Karcher (geodesic L2) mean A of the
  differences R_true^-1 R_pred is removed from every prediction: R_pred A^-1.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.spatial.transform import Rotation

from opnet.geometry import matrix_to_quat, quat_multiply

KARCHER_TOL_RAD = 1e-4
KARCHER_MAX_ITER = 1000


def camera_ray_rotation(xy: ArrayLike, image_wh: ArrayLike, fov_deg: float) -> NDArray[np.float64]:
    """(N, 3, 3) rotations whose z axis points along the camera ray through image points xy (pixels).

    The ray is (x - W/2, y - H/2, f) with f = (W/2) / tan(fov/2) pixels; the x axis stays
    horizontal (perpendicular to the camera's y axis). A point at the image centre gives identity.
    """
    xy = np.asarray(xy, dtype=np.float64)
    wh = np.asarray(image_wh, dtype=np.float64)
    focal = 0.5 * wh[:, 0] / np.tan(0.5 * np.deg2rad(fov_deg))
    z = np.concatenate([xy - 0.5 * wh, focal[:, None]], axis=-1)
    z /= np.linalg.norm(z, axis=-1, keepdims=True)
    x = np.cross(np.array([0.0, 1.0, 0.0]), z)
    x /= np.linalg.norm(x, axis=-1, keepdims=True)
    y = np.cross(z, x)
    return np.stack([x, y, z], axis=-1)


def perspective_corrected(
    quat: ArrayLike, xy: ArrayLike, image_wh: ArrayLike, fov_deg: float
) -> NDArray[np.float64]:
    """(N, 4) predicted rotations moved from the frame of the ray to the head (at xy) into the camera
    frame."""
    return quat_multiply(matrix_to_quat(camera_ray_rotation(xy, image_wh, fov_deg)), quat)


def karcher_mean(
    rotations: Rotation, tol: float = KARCHER_TOL_RAD, max_iter: int = KARCHER_MAX_ITER
) -> Rotation:
    """The rotation minimising the summed squared geodesic distances to ``rotations``.

    As in OPAL23's evaluation, rotations of 90 deg or more (from identity) are left out so that
    the iteration converges; it starts at the chordal mean and steps along the mean log-map.
    """
    inside = rotations[rotations.magnitude() < 0.5 * np.pi] if len(rotations) > 1 else rotations
    if len(inside) == 0:
        inside = rotations
    mean = inside.mean()
    for _ in range(max_iter):
        step = (mean.inv() * inside).as_rotvec().mean(axis=0)
        mean = mean * Rotation.from_rotvec(step)
        if np.linalg.norm(step) < tol:
            break
    return mean


def opal23_aligned(pred_quat: ArrayLike, true_quat: ArrayLike, groups: ArrayLike) -> NDArray[np.float64]:
    """(N, 4) predictions with each group's (person's) Karcher-mean offset R_true^-1 R_pred removed."""
    pred = np.asarray(pred_quat, dtype=np.float64)
    true = np.asarray(true_quat, dtype=np.float64)
    groups = np.asarray(groups)
    out = np.empty_like(pred)
    for group in np.unique(groups):
        mask = groups == group
        pred_rot = Rotation.from_quat(pred[mask])
        offset = karcher_mean(Rotation.from_quat(true[mask]).inv() * pred_rot)
        out[mask] = (pred_rot * offset.inv()).as_quat()
    return np.where(out[:, 3:] < 0, -out, out)
