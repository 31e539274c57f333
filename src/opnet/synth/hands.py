"""A hand (and its forearm) in front of the face: drawn over the rendered picture, lit like the scene.

The hand is a flat shape (palm, four fingers, thumb, forearm) placed and turned at random around
the lower half of the face: a chin resting on it, a hand over the mouth or on a cheek, one waving
beside the face. It is shaded as a rounded body from the distance to its outline, with the
shot's key light and ambient light. It covers the face; the labels are those of the head.
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from opnet.render.shading import Lighting

_SHIFT = 4


def _capsule(mask: NDArray[np.float32], a: NDArray, b: NDArray, radius: float) -> None:
    """Fills a capsule from ``a`` to ``b`` (pixels) into ``mask``."""
    pa, pb = (np.round(a * (1 << _SHIFT)).astype(int), np.round(b * (1 << _SHIFT)).astype(int))
    thickness = max(1, int(round(2 * radius)))
    cv2.line(mask, tuple(int(v) for v in pa), tuple(int(v) for v in pb), 1.0, thickness, cv2.LINE_AA, _SHIFT)


def hand_mask(
    size: int, centre: NDArray, scale: float, angle: float, rng: np.random.Generator
) -> NDArray[np.float32]:
    """(size, size) float32 coverage of a hand whose palm centre is at ``centre`` (pixels), ``scale``
    pixels per palm half-length, fingers pointing along ``angle`` (radians, image frame)."""
    mask = np.zeros((size, size), np.float32)
    forward = np.array([np.cos(angle), np.sin(angle)])
    side = np.array([-forward[1], forward[0]]) * (1.0 if rng.random() < 0.5 else -1.0)
    palm = [
        centre + scale * (0.8 * forward * np.cos(t) + 0.75 * side * np.sin(t))
        for t in np.linspace(0, 2 * np.pi, 24)
    ]
    pts = np.round(np.array(palm) * (1 << _SHIFT)).astype(np.int32)
    cv2.fillPoly(mask, [pts], 1.0, cv2.LINE_AA, _SHIFT)
    spread = rng.uniform(0.0, 0.25)
    for k, offset in enumerate(np.linspace(-0.55, 0.55, 4)):
        direction = forward + spread * offset * side
        direction /= np.linalg.norm(direction)
        length = (
            scale
            * rng.uniform(0.9, 1.3)
            * (0.85 if k in (0, 3) else 1.0)
            * (0.5 if rng.random() < 0.2 else 1.0)
        )
        base = centre + scale * (0.7 * forward + offset * side)
        _capsule(mask, base, base + length * direction, 0.2 * scale)
    thumb_dir = -0.2 * forward + side
    thumb_dir /= np.linalg.norm(thumb_dir)
    thumb_base = centre + scale * (-0.2 * forward + 0.6 * side)
    _capsule(
        mask,
        thumb_base,
        thumb_base + scale * rng.uniform(0.7, 1.0) * (thumb_dir + 0.6 * forward),
        0.22 * scale,
    )
    _capsule(mask, centre - 0.5 * scale * forward, centre - 6.0 * scale * forward, 0.65 * scale)  # forearm
    return np.clip(mask, 0.0, 1.0)


def draw_hand(
    image: NDArray[np.float32],
    coords: NDArray,
    skin: NDArray,
    lighting: Lighting,
    rng: np.random.Generator,
) -> NDArray[np.float32]:
    """Draws a hand over the face of a head at ``coords`` (x, y, size in pixels) into ``image``
    (H, W, 3) float32 in place; returns the hand's coverage (H, W)."""
    size = image.shape[0]
    head = float(coords[2])
    centre = np.asarray(coords[:2], np.float64) + head * np.array(
        [rng.uniform(-0.9, 0.9), rng.uniform(0.0, 1.1)]
    )
    angle = -np.pi / 2 + rng.uniform(-1.4, 1.4)
    coverage = hand_mask(size, centre, head * rng.uniform(0.3, 0.45), angle, rng)
    inside = (coverage > 0.5).astype(np.uint8)
    depth = cv2.distanceTransform(inside, cv2.DIST_L2, 3)
    bulge = np.sqrt(depth / max(1.0, float(depth.max())))
    gy, gx = np.gradient(cv2.GaussianBlur(bulge, (0, 0), 1.0))
    normal = np.stack([-gx * head * 0.3, -gy * head * 0.3, -np.ones_like(gx)], -1)
    normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
    light = np.clip(normal @ np.asarray(lighting.direction, np.float32), 0.0, None)
    albedo = np.asarray(skin, np.float32) * np.float32(rng.uniform(0.9, 1.1))
    colour = albedo * (
        np.asarray(lighting.ambient, np.float32) + light[..., None] * np.asarray(lighting.diffuse, np.float32)
    )
    image += coverage[..., None] * (colour.astype(np.float32) - image)
    return coverage
