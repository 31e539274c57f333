"""Facial features drawn in a frontal chart through the 68 landmarks of the mean head.

The chart is an orthographic front view of the head (model x, y; one unit = :data:`CHART_SCALE`
chart pixels). Each feature is a soft mask drawn with OpenCV from landmark polygons; texels of the
head texture look their mask up at their own (x, y) (opnet.synth.head_texture). Because the
masks are built from the model's landmark vertices, painted lips, eyes and brows sit exactly
where the landmark labels are.
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

CHART_SCALE = 200.0
CHART_ORIGIN = np.array([-1.1, -1.5])
CHART_SIZE = (560, 440)  # rows, columns: x in [-1.1, 1.1], y in [-1.5, 1.3]
_SHIFT = 4

Landmarks = NDArray[np.float64]


def to_chart(points: NDArray) -> NDArray[np.float32]:
    """Model (x, y) (..., 2+) -> chart pixel coordinates (OpenCV: pixel centres at integers)."""
    return ((np.asarray(points)[..., :2] - CHART_ORIGIN) * CHART_SCALE - 0.5).astype(np.float32)


def _fixed(points: NDArray) -> NDArray[np.int32]:
    return np.round(to_chart(points) * (1 << _SHIFT)).astype(np.int32)


def _canvas() -> NDArray[np.float32]:
    return np.zeros(CHART_SIZE, dtype=np.float32)


def _soften(mask: NDArray[np.float32], sigma_units: float) -> NDArray[np.float32]:
    return cv2.GaussianBlur(mask, (0, 0), sigma_units * CHART_SCALE)


def polygon_mask(points: NDArray, soft_units: float = 0.006) -> NDArray[np.float32]:
    """Filled polygon through model points (K, 2+), edges blurred by ``soft_units``."""
    mask = _canvas()
    cv2.fillPoly(mask, [_fixed(points)], 1.0, cv2.LINE_AA, _SHIFT)
    return _soften(mask, soft_units)


def polyline_mask(
    points: NDArray, thickness_units: float, soft_units: float = 0.004, closed: bool = False
) -> NDArray[np.float32]:
    """A line through model points (K, 2+) of the given thickness."""
    mask = _canvas()
    thickness = max(1, int(round(thickness_units * CHART_SCALE)))
    cv2.polylines(mask, [_fixed(points)], closed, 1.0, thickness, cv2.LINE_AA, _SHIFT)
    return _soften(mask, soft_units)


def disc_mask(centre: NDArray, radius_units: float, soft_units: float = 0.004) -> NDArray[np.float32]:
    mask = _canvas()
    cv2.circle(
        mask,
        tuple(_fixed(centre)),
        int(radius_units * CHART_SCALE * (1 << _SHIFT)),
        1.0,
        -1,
        cv2.LINE_AA,
        _SHIFT,
    )
    return _soften(mask, soft_units)


def _brow_outline(points: NDArray, inner_width: float, outer_width: float) -> NDArray:
    """Polygon around a brow line (5, 2+) running from its outer to its inner end, tapering outwards."""
    width = np.linspace(outer_width, inner_width, len(points))[:, None]
    up = points[:, :2] - [0.0, 0.35] * width
    down = points[:, :2] + [0.0, 0.65] * width
    return np.concatenate([up, down[::-1]])


def _eye_masks(lm: Landmarks, eye: slice) -> dict[str, NDArray[np.float32]]:
    outline = lm[eye]
    sclera = polygon_mask(outline, soft_units=0.003)
    centre = outline.mean(axis=0)
    height = np.ptp(outline[:, 1])
    return {
        "sclera": sclera,
        "iris": disc_mask(centre, 0.95 * height) * sclera,
        "pupil": disc_mask(centre, 0.38 * height) * sclera,
        "upper_lid": polyline_mask(outline[:4], 0.018),
        "lower_lid": polyline_mask(np.concatenate([outline[3:], outline[:1]]), 0.008),
    }


def feature_masks(lm: Landmarks) -> dict[str, NDArray[np.float32]]:
    """Soft chart masks (rows, columns) of the facial features of a face with landmarks (68, 2+)."""
    masks: dict[str, NDArray[np.float32]] = {}
    for eye in (slice(36, 42), slice(42, 48)):
        for name, mask in _eye_masks(lm, eye).items():
            masks[name] = np.maximum(masks.get(name, 0.0), mask)
    right_brow, left_brow = lm[17:22], lm[22:27][::-1]
    masks["brows"] = np.maximum(
        *(polygon_mask(_brow_outline(b, 0.065, 0.035), 0.008) for b in (right_brow, left_brow))
    )
    outer, inner = lm[48:60], lm[60:68]
    masks["lips"] = polygon_mask(outer, soft_units=0.006)
    masks["mouth"] = np.maximum(polygon_mask(inner, 0.004), polyline_mask(inner[:5], 0.008))
    nostril_centres = [
        0.5 * (lm[31] + lm[32]) + [0.0, -0.01, 0.0],
        0.5 * (lm[34] + lm[35]) + [0.0, -0.01, 0.0],
    ]
    masks["nostrils"] = np.maximum(*(disc_mask(c, 0.022, 0.008) for c in nostril_centres))
    masks["beard"] = _beard_mask(lm) * (1.0 - masks["lips"])
    masks.update(_detail_masks(lm, masks))
    return masks


def _detail_masks(lm: Landmarks, masks: dict[str, NDArray[np.float32]]) -> dict[str, NDArray[np.float32]]:
    """Skin details and make-up (the ``skin`` realism lever): nasolabial folds, shadows under the
    eyes, forehead lines, eye shadow over the upper lids."""
    folds = [
        np.array([lm[31, :2] + [-0.05, -0.03], lm[31, :2] + [-0.1, 0.08], lm[48, :2] + [-0.05, 0.06]]),
        np.array([lm[35, :2] + [0.05, -0.03], lm[35, :2] + [0.1, 0.08], lm[54, :2] + [0.05, 0.06]]),
    ]
    under = [lm[[36, 41, 40, 39], :2] + [0.0, 0.045], lm[[42, 47, 46, 45], :2] + [0.0, 0.045]]
    brow_top = min(lm[17:27, 1])
    lines = [
        np.array([[-0.32, brow_top - d], [0.0, brow_top - d - 0.01], [0.32, brow_top - d]])
        for d in (0.1, 0.17, 0.24)
    ]
    shadow = [
        np.concatenate([lm[36:40, :2], lm[[21, 20, 19, 18, 17], :2] + [0.0, 0.04]]),
        np.concatenate([lm[42:46, :2], lm[[26, 25, 24, 23, 22], :2] + [0.0, 0.04]]),
    ]
    eyes = np.clip(masks["sclera"] * 4.0, 0.0, 1.0)
    return {
        "folds": np.maximum(*(polyline_mask(f, 0.02, 0.02) for f in folds)),
        "under_eyes": np.maximum(*(polyline_mask(u, 0.035, 0.03) for u in under)) * (1.0 - eyes),
        "wrinkles": np.max([polyline_mask(line, 0.008, 0.006) for line in lines], axis=0),
        "eye_shadow": np.maximum(*(polygon_mask(p, 0.02) for p in shadow))
        * (1.0 - eyes)
        * (1.0 - masks["brows"]),
    }


def _beard_mask(lm: Landmarks) -> NDArray[np.float32]:
    """Jaw, chin, cheeks below the cheekbones and the upper lip (the mask is soft)."""
    jaw = lm[2:15, :2]
    under_nose = np.array([lm[35, :2] + [0.04, 0.0], lm[33, :2] + [0.0, 0.02], lm[31, :2] + [-0.04, 0.0]])
    cheeks = np.array(
        [
            lm[14, :2] + [-0.05, -0.1],
            lm[54, :2] + [0.12, -0.12],
            *under_nose,
            lm[48, :2] + [-0.12, -0.12],
            lm[2, :2] + [0.05, -0.1],
        ]
    )
    return polygon_mask(np.concatenate([jaw, cheeks]), soft_units=0.05)
