"""Smoothing of the tracked head pose: OpenTrack's deadzone filter and a One-Euro filter.

- :class:`DeadzoneFilter` is OpenTrack's internal filter (``deadzone_filter.cpp``): the
  network's uncertainty is carried into world space with an unscented transform; the step from
  the previous pose is scaled by sigmoid((d - size) * hardness), d = the Mahalanobis length of
  the step, so steps within the noise are damped and large ones pass.
- :class:`OneEuroFilter` (Casiez et al. 2012) is an adaptive low-pass: the cut-off frequency
  grows with the speed (rotation in deg/s, position in cm/s, OpenTrack's output units).

Every filter maps (prediction, world transform, time) to a :class:`~opnet.track.world.WorldPose`;
see docs/opentrack.md for the formulas.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.linalg import block_diag

from opnet.geometry import matrix_to_quat, quat_multiply, quat_to_matrix, quat_to_rotvec, rotvec_to_quat
from opnet.runtime import PosePrediction
from opnet.track.world import WorldPose

ToWorld = Callable[[NDArray[np.float64], ArrayLike, ArrayLike, ArrayLike], WorldPose]
"""(image-space quats (..., 4) xyzw, centres x, y and sizes (...) in pixels) -> world poses
(OpenTrack's transform)."""

SMOOTHING = ("none", "deadzone", "one-euro")


class PoseFilter(Protocol):
    def update(self, face: PosePrediction, to_world: ToWorld, time_s: float) -> WorldPose:
        """The filtered world pose of the single face in ``face`` (B = 1) seen at ``time_s``."""
        ...


class NoFilter:
    """The raw world pose."""

    def update(self, face: PosePrediction, to_world: ToWorld, time_s: float) -> WorldPose:
        x, y, size = face.coords[0]
        return to_world(face.quat[0], x, y, size)


def _sigmoid(x: float) -> float:
    return float(1.0 / (1.0 + np.exp(-x)))


@dataclass(frozen=True)
class SigmaPoints:
    """Van der Merwe's scaled sigma points (as in filterpy / OpenTrack's ``unscented_trafo.h``)."""

    dim: int = 6
    alpha: float = 0.01
    beta: float = 2.0

    @property
    def lam(self) -> float:
        kappa = 3 - self.dim
        return self.alpha**2 * (self.dim + kappa) - self.dim

    def weights(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """(mean weights, covariance weights), 2 dim + 1 each."""
        n, lam = self.dim, self.lam
        wm = np.full(2 * n + 1, 0.5 / (n + lam))
        wc = wm.copy()
        wm[0] = lam / (n + lam)
        wc[0] = wm[0] + 1 - self.alpha**2 + self.beta
        return wm, wc

    def points(self, tril: NDArray[np.float64]) -> NDArray[np.float64]:
        """(2 dim + 1, dim) points around 0 for the covariance L L^T: 0, +-sqrt(dim + lam) L[:, k]."""
        columns = np.sqrt(self.dim + self.lam) * np.asarray(tril, dtype=np.float64).T
        return np.concatenate([np.zeros((1, self.dim)), columns, -columns])

    def statistics(self, samples: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Weighted mean and covariance of transformed points (2 dim + 1, d)."""
        wm, wc = self.weights()
        mean = wm @ samples
        centred = samples - mean
        return mean, (wc[:, None] * centred).T @ centred


class DeadzoneFilter:
    """OpenTrack's deadzone filter; needs a model with both uncertainty outputs (else: raw poses).

    ``size`` (OpenTrack's "deadzone size", default 1) and ``hardness`` (default 1.5). Positions
    are scaled to metres and image offsets by 1/200 inside, as OpenTrack does.
    """

    IMAGE_SCALE = 200.0
    WORLD_SCALE = 1000.0

    def __init__(self, size: float = 1.0, hardness: float = 1.5):
        self.size, self.hardness = size, hardness
        self.previous: WorldPose | None = None
        self._sigma = SigmaPoints()

    def _sample_poses(
        self, face: PosePrediction, coords_tril: NDArray, rot_tril: NDArray, to_world: ToWorld
    ) -> WorldPose:
        """World poses of the 13 sigma points of the face's uncertainty (image offsets / 200, rotvec);
        ``coords_tril`` and ``rot_tril``: the face's (1, 3, 3) Cholesky factors."""
        tril = block_diag(coords_tril[0] / self.IMAGE_SCALE, rot_tril[0])
        offsets = self._sigma.points(tril)
        x, y, size = face.coords[0]
        quat = quat_multiply(face.quat[0], rotvec_to_quat(offsets[:, 3:]))
        sizes = np.maximum(0.1 * size, size + offsets[:, 2] * self.IMAGE_SCALE)
        xs, ys = x + offsets[:, 0] * self.IMAGE_SCALE, y + offsets[:, 1] * self.IMAGE_SCALE
        return to_world(quat, xs, ys, sizes)

    def _attenuation(self, mean: NDArray[np.float64], cov: NDArray[np.float64]) -> float:
        try:
            chol = np.linalg.cholesky(cov)
        except np.linalg.LinAlgError:
            return 1.0
        whitened = np.linalg.solve(chol, mean)
        return _sigmoid((np.sqrt(whitened @ whitened) - self.size) * self.hardness)

    def update(self, face: PosePrediction, to_world: ToWorld, time_s: float) -> WorldPose:
        if self.previous is None or face.rotaxis_scales_tril is None or face.coords_scales_tril is None:
            self.previous = NoFilter().update(face, to_world, time_s)
            return self.previous
        prev_pos = self.previous.position_mm / self.WORLD_SCALE
        samples = self._sample_poses(face, face.coords_scales_tril, face.rotaxis_scales_tril, to_world)
        turns = quat_to_rotvec(matrix_to_quat(self.previous.rotation.T @ samples.rotation))
        moves = samples.position_mm / self.WORLD_SCALE - prev_pos
        mean, cov = self._sigma.statistics(np.concatenate([moves, turns], axis=1))
        step = mean * self._attenuation(mean, cov)
        rotation = self.previous.rotation @ quat_to_matrix(rotvec_to_quat(step[3:]))
        self.previous = WorldPose(rotation, (prev_pos + step[:3]) * self.WORLD_SCALE)
        return self.previous


def _smoothing_factor(cutoff_hz: float, dt: float) -> float:
    """Exponential smoothing factor of a first-order low-pass with this cut-off for a step dt."""
    tau = 1.0 / (2.0 * np.pi * cutoff_hz)
    return 1.0 / (1.0 + tau / dt)


class OneEuroFilter:
    """One-Euro filter of the world pose; rotation filtered on SO(3) (steps as rotation vectors).

    Cut-off = ``min_cutoff_hz`` + ``beta`` * speed, with the speed in deg/s for the rotation and
    cm/s for the position, low-passed at ``derivative_cutoff_hz``.
    """

    def __init__(self, min_cutoff_hz: float = 1.0, beta: float = 0.05, derivative_cutoff_hz: float = 1.0):
        self.min_cutoff_hz, self.beta, self.derivative_cutoff_hz = min_cutoff_hz, beta, derivative_cutoff_hz
        self.previous: WorldPose | None = None
        self._time = 0.0
        self._speed = np.zeros(2)  # filtered rotation speed (deg/s), position speed (cm/s)

    def _step(self, delta: NDArray[np.float64], unit: float, k: int, dt: float) -> NDArray[np.float64]:
        """The filtered part of ``delta`` (from the previous output to the measurement); unit -> deg or cm."""
        speed = np.linalg.norm(delta) * unit / dt
        a_d = _smoothing_factor(self.derivative_cutoff_hz, dt)
        self._speed[k] += a_d * (speed - self._speed[k])
        return _smoothing_factor(self.min_cutoff_hz + self.beta * self._speed[k], dt) * delta

    def update(self, face: PosePrediction, to_world: ToWorld, time_s: float) -> WorldPose:
        raw = NoFilter().update(face, to_world, time_s)
        dt = time_s - self._time
        if self.previous is None or dt <= 0:
            self.previous, self._time = raw, time_s
            return raw
        rot_delta = quat_to_rotvec(matrix_to_quat(self.previous.rotation.T @ raw.rotation))
        rot_step = self._step(rot_delta, float(np.rad2deg(1.0)), 0, dt)
        pos_step = self._step(raw.position_mm - self.previous.position_mm, 0.1, 1, dt)
        rotation = self.previous.rotation @ quat_to_matrix(rotvec_to_quat(rot_step))
        self.previous, self._time = WorldPose(rotation, self.previous.position_mm + pos_step), time_s
        return self.previous


def make_filter(
    kind: str,
    deadzone_size: float = 1.0,
    deadzone_hardness: float = 1.5,
    min_cutoff_hz: float = 1.0,
    beta: float = 0.05,
) -> PoseFilter:
    """A fresh filter by name: ``none``, ``deadzone`` (OpenTrack's) or ``one-euro``."""
    if kind == "none":
        return NoFilter()
    if kind == "deadzone":
        return DeadzoneFilter(deadzone_size, deadzone_hardness)
    if kind == "one-euro":
        return OneEuroFilter(min_cutoff_hz, beta)
    raise ValueError(f"unknown smoothing {kind!r}; expected one of {', '.join(SMOOTHING)}")
