"""WFLW's 98 and LaPa's 106 landmarks -> the 68-point iBUG scheme.

Each iBUG point is one source point or the mean of two (a brow point between the brow's upper and
lower edge, an eyelid point between two lid points); the jaw takes every second contour point
(WFLW) or a quadratic spline through LaPa's 33 contour points, sampled away from its ends (which
start too high, beside the eyes). The tables follow the original converters.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.interpolate import make_interp_spline

_BROWS = ((33,), (34, 41), (35, 40), (36, 39), (37, 38), (42, 50), (43, 49), (44, 48), (45, 47), (46,))


def _eye(corner_a: int, upper: tuple[int, int, int], corner_b: int, lower: tuple[int, int, int]) -> tuple:
    """iBUG's 6 eye points from 8 lid points: corner, 2 upper, corner, 2 lower."""
    return ((corner_a,), upper[:2], upper[1:], (corner_b,), lower[:2], lower[1:])


WFLW98_TO_IBUG68: tuple[tuple[int, ...], ...] = (
    *((i,) for i in range(0, 33, 2)),
    *_BROWS,
    *((i,) for i in range(51, 60)),
    *_eye(60, (61, 62, 63), 64, (65, 66, 67)),
    *_eye(68, (69, 70, 71), 72, (73, 74, 75)),
    *((i,) for i in range(76, 96)),
)
"""For each of the 68 iBUG points, the WFLW points whose mean it is."""

LAPA106_TO_IBUG68_FACE: tuple[tuple[int, ...], ...] = (
    *_BROWS,
    *((i,) for i in range(51, 55)),
    (57,),
    (58, 59),
    (60,),
    (61, 62),
    (63,),
    *_eye(66, (67, 68, 69), 70, (71, 72, 73)),
    *_eye(75, (76, 77, 78), 79, (80, 81, 82)),
    *((i,) for i in range(84, 104)),
)
"""For iBUG points 17..67, the LaPa points whose mean it is (the jaw 0..16 is interpolated)."""

LAPA_CONTOUR = 33
LAPA_JAW_SAMPLES = np.linspace(1.5, LAPA_CONTOUR - 1 - 1.5, 17)
"""Where on the contour (index units) LaPa's 17 jaw points are sampled."""


def _apply(table: tuple[tuple[int, ...], ...], points: NDArray) -> NDArray[np.float64]:
    return np.stack([points[list(group)].mean(axis=0) for group in table])


def wflw_to_ibug68(points: ArrayLike) -> NDArray[np.float64]:
    """(98, 2) WFLW landmarks -> (68, 2) iBUG landmarks."""
    points = np.asarray(points, dtype=np.float64)
    if points.shape != (98, 2):
        raise ValueError(f"expected (98, 2) WFLW landmarks, got {points.shape}")
    return _apply(WFLW98_TO_IBUG68, points)


def lapa_to_ibug68(points: ArrayLike) -> NDArray[np.float64]:
    """(106, 2) LaPa landmarks -> (68, 2) iBUG landmarks."""
    points = np.asarray(points, dtype=np.float64)
    if points.shape != (106, 2):
        raise ValueError(f"expected (106, 2) LaPa landmarks, got {points.shape}")
    contour = make_interp_spline(np.arange(LAPA_CONTOUR), points[:LAPA_CONTOUR], k=2)
    return np.concatenate([contour(LAPA_JAW_SAMPLES), _apply(LAPA106_TO_IBUG68_FACE, points)])
