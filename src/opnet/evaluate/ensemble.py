"""Ensembles: several models' predictions for the same patches averaged into one.

Rotations are averaged as rotations (scipy's ``Rotation.mean``: the rotation closest to all in
the chordal sense, the principal eigenvector of sum q q^T), which is blind to the sign of each
quaternion; component-wise means of quaternions are not. Positions, sizes, boxes and landmarks
are plain means. Uncertainty factors are not averaged (the result has none).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.spatial.transform import Rotation

from opnet.geometry import canonical_quat
from opnet.runtime import PosePrediction


def average_rotations(quats: np.ndarray) -> np.ndarray:
    """(M, N, 4) quaternions of M models for N samples -> (N, 4) canonical per-sample averages."""
    quats = np.asarray(quats, dtype=np.float64)
    means = [Rotation.from_quat(quats[:, i]).mean().as_quat() for i in range(quats.shape[1])]
    return canonical_quat(np.reshape(means, (-1, 4)))


def average_predictions(predictions: Sequence[PosePrediction]) -> PosePrediction:
    """The ensemble prediction of models that saw the same N samples."""
    if not predictions:
        raise ValueError("an ensemble needs at least one prediction")
    if len({len(p) for p in predictions}) != 1:
        raise ValueError(f"predictions differ in length: {[len(p) for p in predictions]}")
    point_sets = [p.points for p in predictions if p.points is not None]
    points = np.mean(point_sets, axis=0) if len(point_sets) == len(predictions) else None
    return PosePrediction(
        quat=average_rotations(np.stack([p.quat for p in predictions])),
        coords=np.mean([p.coords for p in predictions], axis=0),
        box=np.mean([p.box for p in predictions], axis=0),
        points=points,
    )
