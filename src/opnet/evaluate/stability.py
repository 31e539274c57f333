"""Stability: how much predictions jitter under the small changes a camera and a face box produce.

Every sample is re-run under perturbations grouped in families: crop shifts (sub-pixel to 2 px,
along x and y), crop scale (+-1 %, +-2 %), and Gaussian pixel noise at a few levels (several
draws each). A family's spread is the per-sample standard deviation of the predictions over the
unperturbed input and the family's variants, pooled over samples as a root mean square. Angles
use the AFLW Euler convention with wrap-around; the geodesic spread is the RMS angle to each
sample's mean rotation; position and size spreads are relative to the ROI width.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from opnet.evaluate.ensemble import average_rotations
from opnet.evaluate.metrics import angle_difference
from opnet.evaluate.runner import UNPERTURBED, Variant
from opnet.geometry import geodesic_distance, quat_to_euler
from opnet.runtime import PosePrediction


@dataclass(frozen=True)
class StabilitySettings:
    """The perturbations: shift magnitudes (px), scale factors, noise levels (gray levels) and draws."""

    shifts_px: tuple[float, ...] = (0.5, 1.0, 2.0)
    scales: tuple[float, ...] = (0.98, 0.99, 1.01, 1.02)
    noise_stds: tuple[float, ...] = (2.0, 4.0, 8.0)
    noise_draws: int = 4
    seed: int = 0

    def __post_init__(self) -> None:
        if self.noise_draws < 1 or any(s <= 0 for s in (*self.scales, *self.noise_stds)):
            raise ValueError("noise draws must be >= 1 and scales and noise levels positive")


def perturbation_families(settings: StabilitySettings) -> dict[str, tuple[Variant, ...]]:
    """Family name -> its variants (the unperturbed input is not among them)."""
    shifts = tuple(
        Variant(shift_px=d) for s in settings.shifts_px for d in ((s, 0.0), (-s, 0.0), (0.0, s), (0.0, -s))
    )
    families = {"shift": shifts, "scale": tuple(Variant(scale=s) for s in settings.scales)}
    for std in settings.noise_stds:
        families[f"noise {std:g}"] = tuple(
            Variant(noise_std=std, draw=k) for k in range(settings.noise_draws)
        )
    return {name: variants for name, variants in families.items() if variants}


def all_variants(settings: StabilitySettings) -> tuple[Variant, ...]:
    """The unperturbed input first, then every family's variants in order."""
    return (UNPERTURBED, *(v for vs in perturbation_families(settings).values() for v in vs))


@dataclass(frozen=True)
class Spread:
    """Pooled standard deviations of one family's predictions (degrees and % of the ROI width)."""

    family: str
    variants: int
    pitch_deg: float
    yaw_deg: float
    roll_deg: float
    geodesic_deg: float
    xy_pct: float
    size_pct: float


def _pooled_std(deviations: NDArray[np.float64]) -> NDArray[np.float64]:
    """(N, K, ...) deviations -> RMS over samples of the per-sample std over K."""
    return np.sqrt(np.mean(np.var(deviations, axis=1), axis=0))


def spread(
    quat: NDArray[np.float64], coords: NDArray[np.float64], roi_width: NDArray[np.float64], family: str
) -> Spread:
    """Spread of (N, K, 4) rotations and (N, K, 3) coords; index 0 on axis 1 is the unperturbed input."""
    n, k = quat.shape[:2]
    euler = quat_to_euler(quat)
    pyr = np.rad2deg(_pooled_std(angle_difference(euler, euler[:, :1])))
    mean = average_rotations(np.swapaxes(quat, 0, 1))
    geodesic = np.sqrt(np.mean(geodesic_distance(quat, mean[:, None]) ** 2))
    rel = coords / roi_width[:, None, None]
    xy = np.sqrt(np.sum(_pooled_std(rel[..., :2]) ** 2))
    return Spread(
        family,
        k - 1,
        float(pyr[0]),
        float(pyr[1]),
        float(pyr[2]),
        float(np.rad2deg(geodesic)),
        100.0 * float(xy),
        100.0 * float(_pooled_std(rel[..., 2])),
    )


def stability_spreads(
    prediction: PosePrediction, rois: NDArray[np.float64], settings: StabilitySettings
) -> list[Spread]:
    """Spreads per family from predictions laid out as :func:`all_variants` (N * K rows, sample-major)."""
    families = perturbation_families(settings)
    k_total = 1 + sum(len(v) for v in families.values())
    quat = prediction.quat.reshape(-1, k_total, 4)
    coords = prediction.coords.reshape(-1, k_total, 3)
    width = np.asarray(rois, dtype=np.float64)[:, 2] - np.asarray(rois, dtype=np.float64)[:, 0]
    out, start = [], 1
    for name, variants in families.items():
        cols = [0, *range(start, start + len(variants))]
        out.append(spread(quat[:, cols], coords[:, cols], width, name))
        start += len(variants)
    return out
