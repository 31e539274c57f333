"""Labels from 3DDFA fits: the ``.mat`` files of AFLW2000-3D and 300W-LP (REFERENCE.md §1-§3).

A fit places the Basel face model (units: micrometres) in the image with
``Pose_Para = [pitch, yaw, roll, tx, ty, tz, scale]``: ``p = scale * R(pitch, yaw, roll) @ v + t`` and
image ``y = H - p_y``. In our frame that rotation is :func:`opnet.geometry.euler_to_quat`, and one
unit of :mod:`opnet.facemodel` is 1e5 model units (100 mm, the head radius), so a fit projects at
exactly ``scale * 1e5`` pixels per unit. The head-size *label* keeps the original converter's
``0.5 * scale / 224 * W * 1e5`` (``W / 448`` times that: 0.45 % more on the 450 px images of both
datasets) so that labels stay comparable with models trained on them.

The files' pixel coordinates put the centre of pixel i at i (as the original's dataset files store
them); every position returned here is in OpNet's pixel-corner convention (:func:`centre_to_corner`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from opnet.facemodel import HEAD_CENTRE, FaceModel, landmarks_to_label, project
from opnet.geometry import euler_to_quat, quat_to_matrix, roi_from_points
from opnet.prepare.archive import Archive
from opnet.prepare.imaging import centre_to_corner, read_with_size
from opnet.prepare.matfile import load_mat
from opnet.prepare.runner import Skipped, Task, skip_bad

MODEL_UNITS_PER_HEAD = 1e5
"""Basel face model units (micrometres) per :mod:`opnet.facemodel` unit."""

SHAPE_PARAMS = 40
EXPRESSION_PARAMS = 10


@dataclass(frozen=True)
class Fit:
    """The parts of a 3DDFA ``.mat`` file the labels use.

    pose (7,) Pose_Para; shape (S,) Shape_Para; expression (E,) Exp_Para; landmarks (68, 3)
    ``pt3d_68`` transposed (image x, y and depth, as fitted) or None when the file has none.
    """

    pose: NDArray[np.float64]
    shape: NDArray[np.float64]
    expression: NDArray[np.float64]
    landmarks: NDArray[np.float64] | None


def read_fit(buffer: bytes) -> Fit:
    """Parses a 3DDFA ``.mat`` file; raises ValueError naming the field that is missing or malformed."""
    data = load_mat(buffer)
    fields = {}
    for key, size in (("Pose_Para", 7), ("Shape_Para", SHAPE_PARAMS), ("Exp_Para", EXPRESSION_PARAMS)):
        if key not in data:
            raise ValueError(f"no {key}")
        value = np.asarray(data[key], dtype=np.float64).ravel()
        if len(value) < size or not np.all(np.isfinite(value[:size])):
            raise ValueError(f"{key} has fewer than {size} finite values")
        fields[key] = value
    landmarks = None
    if "pt3d_68" in data:
        pts = np.asarray(data["pt3d_68"], dtype=np.float64)
        if pts.shape != (3, 68):
            raise ValueError(f"pt3d_68 has shape {pts.shape}, expected (3, 68)")
        landmarks = pts.T.copy()
    return Fit(fields["Pose_Para"][:7], fields["Shape_Para"], fields["Exp_Para"], landmarks)


def read_fit_and_photo(
    archive: Archive, task: Task, image_name: str
) -> tuple[Fit, bytes, int, int] | Skipped:
    """The fit in ``task``'s .mat file and the photo beside it (bytes, width, height), or why not."""
    if image_name not in archive:
        return Skipped("no .jpg next to the .mat file")
    try:
        fit = read_fit(archive.read(task.name))
    except ValueError as e:
        return skip_bad(task, ".mat file", e)
    photo = read_with_size(archive, image_name)
    return photo if isinstance(photo, Skipped) else (fit, *photo)


def pose_quat(pose: NDArray) -> NDArray[np.float64]:
    """(4,) xyzw rotation of a fit: Rx(-pitch) Ry(yaw) Rz(roll) in our frame."""
    return euler_to_quat(np.asarray(pose[:3], dtype=np.float64))


def label_size(pose: NDArray, image_width: int) -> float:
    """Head-size label in pixels: 0.5 * scale / 224 * W * 1e5 (the original's formula)."""
    return 0.5 * float(pose[6]) / 224.0 * image_width * MODEL_UNITS_PER_HEAD


def _coords_for(pose: NDArray, image_height: int, size: float) -> NDArray[np.float64]:
    """(3,) head centre x, y between the eyes and ``size``, for the model origin at (tx, H - ty)."""
    origin = centre_to_corner([pose[3], image_height - pose[4]])
    offset = quat_to_matrix(pose_quat(pose)) @ HEAD_CENTRE * size
    return np.array([origin[0] + offset[0], origin[1] + offset[1], size])


def head_coords(pose: NDArray, image_width: int, image_height: int) -> NDArray[np.float64]:
    """(3,) ``coords`` label: head centre x, y between the eyes and head size, pixels."""
    return _coords_for(pose, image_height, label_size(pose, image_width))


def fitted_coords(pose: NDArray, image_height: int) -> NDArray[np.float64]:
    """(3,) coords with the fit's exact scale (``scale * 1e5``): projecting the model with these
    reproduces the 3DDFA projection (see :func:`model_landmarks`)."""
    return _coords_for(pose, image_height, float(pose[6]) * MODEL_UNITS_PER_HEAD)


def shape_params(fit: Fit) -> NDArray[np.float64]:
    """(50,) ``shapeparams``: Shape_Para[:40] / 20 / 1e5 and Exp_Para[:10] / 5."""
    return np.concatenate([fit.shape[:SHAPE_PARAMS] / 20.0 / 1e5, fit.expression[:EXPRESSION_PARAMS] / 5.0])


def aflw_landmarks(fitted: NDArray) -> NDArray[np.float64]:
    """(68, 3) ``pt3d_68`` label from a file's pt3d_68 (transposed): depth flipped to point into the
    screen, then shifted so that the eye corners have mean depth 0."""
    pts = centre_to_corner(fitted)
    pts[:, 2] *= -1.0
    return landmarks_to_label(pts)


def landmarks_only(model: FaceModel) -> FaceModel:
    """The model reduced to its 68 landmark vertices (no triangles): the same :func:`model_landmarks`
    for a fraction of the work and memory."""
    idx = model.landmark_indices
    return FaceModel(
        mean=model.mean[idx],
        triangles=np.zeros((0, 3), np.int32),
        shape_basis=model.shape_basis[:, idx],
        expression_basis=model.expression_basis[:, idx],
        landmark_indices=np.arange(len(idx), dtype=np.int64),
    )


def model_landmarks(
    model: FaceModel, pose: NDArray, params: NDArray, image_height: int
) -> NDArray[np.float64]:
    """(68, 3) ``pt3d_68`` of the fitted face model: its landmarks for ``shapeparams`` ``params``,
    projected exactly as 3DDFA does."""
    points = model.landmarks(params[:SHAPE_PARAMS], params[SHAPE_PARAMS:])
    return landmarks_to_label(project(points, pose_quat(pose), fitted_coords(pose, image_height)))


def head_roi(model: FaceModel, pose: NDArray, params: NDArray, image_height: int) -> NDArray[np.float64]:
    """(4,) box of the whole head: the projected face mesh together with the head sphere (radius 1
    unit = 100 mm around the model origin, the middle of the head), which covers skull and hair."""
    quat, coords = pose_quat(pose), fitted_coords(pose, image_height)
    mesh = project(model.vertices(params[:SHAPE_PARAMS], params[SHAPE_PARAMS:]), quat, coords)
    origin = project(np.zeros(3), quat, coords)
    radius = coords[2]
    sphere = np.array([origin[:2] - radius, origin[:2] + radius])
    return roi_from_points(np.concatenate([mesh[:, :2], sphere]))
