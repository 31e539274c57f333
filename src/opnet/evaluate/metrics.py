"""The error measures of the AFLW2000-3D / BIWI protocols, as pure numpy functions.

Rotations are (N, 4) xyzw quaternions (q and -q alike); angles come back in radians unless a name
says ``_deg``/``_pct``. The definitions follow the original evaluation (trackertraincode.eval),
see docs/evaluation.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from opnet.geometry import geodesic_distance, quat_to_euler

YAW_BINS_DEG = ((0.0, 30.0), (30.0, 60.0), (60.0, 90.0))
"""|yaw| bins of the landmark NME; a bin holds lo <= |yaw| < hi."""


def angle_difference(a: ArrayLike, b: ArrayLike) -> NDArray[np.float64]:
    """a - b on the circle, in [-pi, pi] (radians)."""
    d = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    return np.arctan2(np.sin(d), np.cos(d))


def wrapped_angle_difference(a: ArrayLike, b: ArrayLike) -> NDArray[np.float64]:
    """|a - b| on the circle, in [0, pi]: 179 deg and -179 deg are 2 deg apart."""
    return np.abs(angle_difference(a, b))


def euler_errors(pred_quat: ArrayLike, true_quat: ArrayLike) -> NDArray[np.float64]:
    """(N, 3) absolute pitch, yaw, roll errors (AFLW Euler convention, wrap-around), radians."""
    return wrapped_angle_difference(quat_to_euler(pred_quat), quat_to_euler(true_quat))


def geodesic_errors(pred_quat: ArrayLike, true_quat: ArrayLike) -> NDArray[np.float64]:
    """(N,) angle of R_true^-1 R_pred in radians, [0, pi]."""
    return geodesic_distance(pred_quat, true_quat)


def position_errors(pred_coords: ArrayLike, true_coords: ArrayLike, rois: ArrayLike) -> NDArray[np.float64]:
    """(N, 3) |dx|, |dy|, |dsize| of head centre and size, divided by the ROI width (x1 - x0)."""
    rois = np.asarray(rois, dtype=np.float64)
    width = rois[:, 2] - rois[:, 0]
    diff = np.abs(np.asarray(pred_coords, dtype=np.float64) - np.asarray(true_coords, dtype=np.float64))
    return diff / width[:, None]


def xy_rms(position_err: ArrayLike) -> float:
    """XY as a fraction: sqrt(mean over samples of dx^2 + dy^2) of :func:`position_errors`."""
    e = np.asarray(position_err, dtype=np.float64)
    return float(np.sqrt(np.mean(np.sum(e[:, :2] ** 2, axis=1))))


def size_rms(position_err: ArrayLike) -> float:
    """S as a fraction: sqrt(mean over samples of dsize^2) of :func:`position_errors`."""
    e = np.asarray(position_err, dtype=np.float64)
    return float(np.sqrt(np.mean(e[:, 2] ** 2)))


def landmark_nme(pred_points: ArrayLike, true_points: ArrayLike, dims: int = 3) -> NDArray[np.float64]:
    """(N,) mean point distance over the 68 landmarks / sqrt(w * h) of the true landmarks' box.

    Depths are compared after subtracting each set's mean depth; ``dims`` = 2 compares x, y only.
    """
    pred = np.array(pred_points, dtype=np.float64)
    true = np.array(true_points, dtype=np.float64)
    for p in (pred, true):
        if p.shape[-1] == 3:
            p[..., 2] -= p[..., 2].mean(axis=-1, keepdims=True)
    dist = np.linalg.norm(pred[..., :dims] - true[..., :dims], axis=-1).mean(axis=-1)
    extent = true[..., :2].max(axis=-2) - true[..., :2].min(axis=-2)
    return dist / np.sqrt(extent[..., 0] * extent[..., 1])


def yaw_bin_masks(true_quat: ArrayLike) -> NDArray[np.bool_]:
    """(N, 3) membership of each sample in the |yaw| bins 0-30, 30-60, 60-90 deg (true pose)."""
    abs_yaw = np.rad2deg(np.abs(quat_to_euler(true_quat)[:, 1]))
    return np.stack([(lo <= abs_yaw) & (abs_yaw < hi) for lo, hi in YAW_BINS_DEG], axis=-1)


def mean_by_bins(values: ArrayLike, masks: ArrayLike) -> NDArray[np.float64]:
    """(K + 1,) mean of ``values`` in each of K bins (NaN if empty), then the mean of those K means."""
    values = np.asarray(values, dtype=np.float64)
    masks = np.asarray(masks, dtype=bool)
    per_bin = np.array([values[m].mean() if m.any() else np.nan for m in masks.T])
    return np.append(per_bin, per_bin.mean())


def _pct(value: float | None) -> float | None:
    return None if value is None or not np.isfinite(value) else 100.0 * float(value)


@dataclass(frozen=True)
class PoseMetrics:
    """The numbers of one table row. ``None`` where the model or the data lacks what is needed."""

    samples: int
    pitch_deg: float
    yaw_deg: float
    roll_deg: float
    mean_deg: float
    geodesic_deg: float
    xy_pct: float | None = None
    size_pct: float | None = None
    nme3d_pct: float | None = None
    nme2d_0_30_pct: float | None = None
    nme2d_30_60_pct: float | None = None
    nme2d_60_90_pct: float | None = None
    nme2d_avg_pct: float | None = None


def summarize(
    euler_err: ArrayLike,
    geodesic_err: ArrayLike,
    position_err: ArrayLike | None = None,
    nme3d: ArrayLike | None = None,
    nme2d: ArrayLike | None = None,
    yaw_masks: ArrayLike | None = None,
) -> PoseMetrics:
    """Per-sample errors (radians / fractions, as the functions above return them) -> table numbers."""
    pyr = np.rad2deg(np.mean(np.asarray(euler_err, dtype=np.float64), axis=0))
    values: dict[str, float | None] = {}
    if position_err is not None:
        values.update(xy_pct=_pct(xy_rms(position_err)), size_pct=_pct(size_rms(position_err)))
    if nme3d is not None:
        values["nme3d_pct"] = _pct(float(np.mean(np.asarray(nme3d, dtype=np.float64))))
    if nme2d is not None and yaw_masks is not None:
        bins = mean_by_bins(nme2d, yaw_masks)
        keys = ("nme2d_0_30_pct", "nme2d_30_60_pct", "nme2d_60_90_pct", "nme2d_avg_pct")
        values.update({k: _pct(v) for k, v in zip(keys, bins, strict=True)})
    return PoseMetrics(
        samples=int(np.shape(euler_err)[0]),
        pitch_deg=float(pyr[0]),
        yaw_deg=float(pyr[1]),
        roll_deg=float(pyr[2]),
        mean_deg=float(pyr.mean()),
        geodesic_deg=float(np.rad2deg(np.mean(np.asarray(geodesic_err, dtype=np.float64)))),
        **values,
    )
