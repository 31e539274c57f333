"""Fitting a face model to 68 landmarks: pose, position, scale, shape and expression coefficients.

The model is placed as :func:`opnet.facemodel.project` places it: image point
``size * R (v - HEAD_CENTRE) + (x, y, 0)``. Residuals are landmark differences in percent of the
landmark box (sqrt of its area), under a robust loss (soft L1: outliers count linearly, not
squared), plus a Gaussian prior on the coefficients: one standard deviation of any component
moves the 68 model landmarks by :data:`PRIOR_DEFORMATION` units (RMS), whatever the model's scaling.

2D datasets (300W, WFLW, LaPa) mark the *visible* jaw outline, not the 3D jaw: on a turned face
the far side's jaw points are weighted down with |yaw| (:func:`landmark_weights`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import least_squares

from opnet.facemodel import HEAD_CENTRE, FaceModel, landmarks_to_label, project
from opnet.geometry import (
    canonical_quat,
    hpb_to_quat,
    quat_multiply,
    quat_to_hpb,
    quat_to_matrix,
    rotvec_to_quat,
)

PRIOR_DEFORMATION = 0.01
"""Landmark displacement (model units, RMS) of one prior standard deviation of a coefficient."""
ROBUST_SCALE_PCT = 2.0
"""Residuals beyond this (percent of the landmark box) count linearly."""
JAW_FADE_DEG = (15.0, 45.0)
"""Far-side jaw weights fall from 1 at the first |yaw| to 0 at the second."""
START_HEADINGS_DEG = (-60.0, -30.0, 0.0, 30.0, 60.0)
"""Headings tried for a fit without an initial pose."""
_FAR_JAW_NEGATIVE_X = np.arange(0, 8)  # model x < 0: far from the camera for yaw > 0
_FAR_JAW_POSITIVE_X = np.arange(9, 17)


@dataclass(frozen=True)
class FaceParams:
    """A face model placed in an image: ``quat`` (4,) xyzw, ``coords`` (3,) x, y, size (pixels),
    ``shape`` (S,) and ``expression`` (E,) coefficients of the model."""

    quat: NDArray[np.float64]
    coords: NDArray[np.float64]
    shape: NDArray[np.float64]
    expression: NDArray[np.float64]

    def landmarks(self, model: FaceModel) -> NDArray[np.float64]:
        """(68, 3) model landmarks for these coefficients (model frame)."""
        return model.landmarks(self.shape, self.expression)

    def pt3d_68(self, model: FaceModel) -> NDArray[np.float64]:
        """(68, 3) the landmarks projected, in the ``pt3d_68`` convention."""
        return landmarks_to_label(project(self.landmarks(model), self.quat, self.coords))


@dataclass(frozen=True)
class LandmarkFit:
    """A fit and its weighted RMS landmark error in percent of the landmark box (sqrt of its area)."""

    params: FaceParams
    residual_pct: float


def neutral_params(model: FaceModel, quat: ArrayLike, coords: ArrayLike) -> FaceParams:
    """The mean face at a pose (all coefficients 0)."""
    return FaceParams(
        canonical_quat(np.asarray(quat, np.float64)),
        np.asarray(coords, np.float64),
        np.zeros(len(model.shape_basis)),
        np.zeros(len(model.expression_basis)),
    )


def landmark_weights(yaw_rad: float) -> NDArray[np.float64]:
    """(68,) weights: 1, except the far side's jaw points (0-7 for yaw > 0, 9-16 for yaw < 0),
    which fade to 0 between the |yaw| of :data:`JAW_FADE_DEG`."""
    weights = np.ones(68)
    lo, hi = np.deg2rad(JAW_FADE_DEG)
    far = _FAR_JAW_NEGATIVE_X if yaw_rad > 0 else _FAR_JAW_POSITIVE_X
    weights[far] = np.clip((hi - abs(yaw_rad)) / (hi - lo), 0.0, 1.0)
    return weights


def box_size(points: ArrayLike) -> float:
    """sqrt(width * height) of the box of (K, 2+) points, pixels (at least 1)."""
    points = np.asarray(points, dtype=np.float64)
    extent = points[:, :2].max(axis=0) - points[:, :2].min(axis=0)
    return float(max(np.sqrt(extent[0] * extent[1]), 1.0))


def residual_pct(params: FaceParams, model: FaceModel, points: ArrayLike, weights: ArrayLike) -> float:
    """Weighted RMS distance between the projected model landmarks and ``points`` (68, 2|3) (x, y
    only), in percent of the points' box."""
    points = np.asarray(points, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    error = np.linalg.norm(params.pt3d_68(model)[:, :2] - points[:, :2], axis=-1)
    return float(100.0 * np.sqrt(np.sum(weights * error**2) / np.sum(weights)) / box_size(points))


def coefficient_std(model: FaceModel) -> NDArray[np.float64]:
    """(S + E,) prior standard deviations: each moves the landmarks by PRIOR_DEFORMATION (RMS)."""
    bases = np.concatenate([model.shape_basis, model.expression_basis])[:, model.landmark_indices]
    rms = np.sqrt(np.mean(np.sum(bases.astype(np.float64) ** 2, axis=-1), axis=-1))
    return PRIOR_DEFORMATION / np.maximum(rms, PRIOR_DEFORMATION / 10.0)


class _Problem:
    """Residuals of a fit: which parameters are free, the targets and their weights.

    Parameter vector: [rotation vector (3), x, y, log size] when the pose is free (the rotation is
    relative to ``start.quat``, so it stays small), then the S + E coefficients.
    """

    def __init__(
        self, model: FaceModel, points: NDArray, weights: NDArray, start: FaceParams, free_pose: bool
    ):
        self.mean = model.mean[model.landmark_indices].astype(np.float64)
        self.bases = np.concatenate([model.shape_basis, model.expression_basis])[:, model.landmark_indices]
        self.bases = self.bases.astype(np.float64)
        self.num_shape = len(model.shape_basis)
        self.std = coefficient_std(model)
        self.points, self.weights, self.start, self.free_pose = points, weights, start, free_pose
        self.norm = 0.01 * box_size(points)
        self.dims = points.shape[1]

    def initial(self) -> NDArray[np.float64]:
        coefficients = np.concatenate([self.start.shape, self.start.expression])
        if not self.free_pose:
            return coefficients
        return np.concatenate(
            [np.zeros(3), self.start.coords[:2], [np.log(self.start.coords[2])], coefficients]
        )

    def params(self, x: NDArray[np.float64]) -> FaceParams:
        quat, coords = self.start.quat, self.start.coords
        if self.free_pose:
            quat = quat_multiply(rotvec_to_quat(x[:3]), self.start.quat)
            coords = np.array([x[3], x[4], np.exp(x[5])])
            x = x[6:]
        return FaceParams(quat, coords, x[: self.num_shape], x[self.num_shape :])

    def residuals(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        p = self.params(x)
        coefficients = np.concatenate([p.shape, p.expression])
        landmarks = self.mean + np.einsum("k,kvc->vc", coefficients, self.bases)
        size = p.coords[2]
        image = size * (landmarks - HEAD_CENTRE) @ quat_to_matrix(p.quat).T
        image[:, :2] += p.coords[:2]
        if self.dims == 3:
            image = landmarks_to_label(image)
        diff = (image[:, : self.dims] - self.points) * self.weights[:, None] / self.norm
        return np.concatenate([diff.ravel(), coefficients / self.std])


def _solve(problem: _Problem) -> tuple[FaceParams, float]:
    """The least-squares solution and its cost (half the sum of the robust residuals)."""
    result = least_squares(
        problem.residuals,
        problem.initial(),
        loss="soft_l1",
        f_scale=ROBUST_SCALE_PCT,
        x_scale="jac",
        max_nfev=200,
    )
    return problem.params(result.x), float(result.cost)


def _rigid_model(model: FaceModel) -> FaceModel:
    """The model's mean landmarks without bases: the model of a pose-only fit."""
    none = np.zeros((0, 68, 3), np.float32)
    return FaceModel(
        model.mean[model.landmark_indices], np.zeros((0, 3), np.int32), none, none, np.arange(68)
    )


def _rigid_start(model: FaceModel, points: NDArray, heading_rad: float) -> FaceParams:
    """The mean face at ``heading_rad`` with the centroid and spread of the points (model: rigid)."""
    quat = hpb_to_quat([heading_rad, 0.0, 0.0])
    unit = project(model.landmarks(), quat, [0.0, 0.0, 1.0])[:, :2]
    spread = np.sqrt(np.mean(np.sum((unit - unit.mean(0)) ** 2, -1)))
    target = np.sqrt(np.mean(np.sum((points - points.mean(0)) ** 2, -1)))
    size = target / spread
    centre = points.mean(0) - size * unit.mean(0)
    return neutral_params(model, quat, [centre[0], centre[1], size])


def _best_rigid_start(model: FaceModel, points: NDArray) -> FaceParams:
    """The best of pose-only fits started at each of START_HEADINGS_DEG."""
    rigid = _rigid_model(model)
    fits = []
    for heading in np.deg2rad(START_HEADINGS_DEG):
        problem = _Problem(
            rigid, points, landmark_weights(heading), _rigid_start(rigid, points, heading), True
        )
        fits.append(_solve(problem))
    best = min(fits, key=lambda fit: fit[1])[0]
    return neutral_params(model, best.quat, best.coords)


def fit_landmarks(
    model: FaceModel, points: ArrayLike, start: FaceParams | None = None, rounds: int = 2
) -> LandmarkFit:
    """Pose, position, scale and coefficients that best explain 2D ``points`` (68, 2) in pixels.

    ``start`` (e.g. pseudo-labels) initialises the fit; without it, pose-only fits from several
    headings pick the start. Jaw weights follow the fitted yaw (``rounds`` refits).
    """
    points = np.asarray(points, dtype=np.float64)[:, :2]
    params = (
        _best_rigid_start(model, points) if start is None else neutral_params(model, start.quat, start.coords)
    )
    for _ in range(rounds):
        weights = landmark_weights(float(quat_to_hpb(params.quat)[0]))
        params, _ = _solve(_Problem(model, points, weights, params, free_pose=True))
    weights = landmark_weights(float(quat_to_hpb(params.quat)[0]))
    return LandmarkFit(params, residual_pct(params, model, points, weights))


def fit_shape(model: FaceModel, points: ArrayLike, quat: ArrayLike, coords: ArrayLike) -> LandmarkFit:
    """Coefficients that best explain ``points`` at a known pose: (68, 3) ``pt3d_68`` labels (x, y
    and depth) or (68, 2) 2D landmarks (far-side jaw weighted down)."""
    points = np.asarray(points, dtype=np.float64)
    start = neutral_params(model, quat, coords)
    weights = np.ones(68) if points.shape[1] == 3 else landmark_weights(float(quat_to_hpb(start.quat)[0]))
    params, _ = _solve(_Problem(model, points, weights, start, free_pose=False))
    return LandmarkFit(params, residual_pct(params, model, points, weights))
