"""Random cluttered backgrounds: smooth colour fields, shapes, stripes, defocus."""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray


def _colour(rng: np.random.Generator) -> NDArray[np.float32]:
    """A random colour, mostly muted: a gray level plus a little chroma."""
    gray = rng.uniform(0.05, 0.95)
    return np.clip(gray + rng.uniform(0.0, 0.5) * (rng.random(3) - 0.5), 0.0, 1.0).astype(np.float32)


def _colour_field(rng: np.random.Generator, height: int, width: int) -> NDArray[np.float32]:
    """Smoothly varying colours: a few random colours on a coarse grid, interpolated (a gradient for
    2 x 2)."""
    cells = int(rng.integers(2, 7))
    grid = np.stack([_colour(rng) for _ in range(cells * cells)]).reshape(cells, cells, 3)
    return cv2.resize(grid, (width, height), interpolation=cv2.INTER_LINEAR)


def _draw_shape(image: NDArray[np.float32], rng: np.random.Generator) -> None:
    """One random rectangle, ellipse, polygon or line, filled or outlined."""
    h, w = image.shape[:2]
    colour = tuple(float(c) for c in _colour(rng))
    thickness = -1 if rng.random() < 0.6 else int(rng.integers(1, max(2, w // 40)))
    x, y = int(rng.integers(-w // 4, w)), int(rng.integers(-h // 4, h))
    kind = rng.integers(4)
    if kind == 0:
        corner = (x + int(rng.integers(4, w // 2)), y + int(rng.integers(4, h // 2)))
        cv2.rectangle(image, (x, y), corner, colour, thickness)
    elif kind == 1:
        axes = (int(rng.integers(3, w // 4)), int(rng.integers(3, h // 4)))
        cv2.ellipse(image, (x, y), axes, float(rng.uniform(0, 180)), 0, 360, colour, thickness, cv2.LINE_AA)
    elif kind == 2:
        points = (np.array([x, y]) + rng.integers(-w // 4, w // 4, (int(rng.integers(3, 7)), 2))).astype(
            np.int32
        )
        if thickness < 0:
            cv2.fillPoly(image, [points], colour, cv2.LINE_AA)
        else:
            cv2.polylines(image, [points], True, colour, thickness, cv2.LINE_AA)
    else:
        end = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        cv2.line(image, (x, y), end, colour, max(1, abs(thickness)), cv2.LINE_AA)


def _stripes(rng: np.random.Generator, height: int, width: int) -> NDArray[np.float32]:
    """A periodic pattern (blinds, tiles, shelves) in a random direction, values in [-1, 1]."""
    angle = rng.uniform(0.0, np.pi)
    period = rng.uniform(4.0, 40.0) * max(height, width) / 256.0
    xs = np.cos(angle) * np.arange(width, dtype=np.float32)
    ys = np.sin(angle) * np.arange(height, dtype=np.float32)
    return np.sign(np.sin((ys[:, None] + xs[None, :]) * (2.0 * np.pi / period)))


def random_background(rng: np.random.Generator, height: int, width: int) -> NDArray[np.float32]:
    """(height, width, 3) float32 RGB in [0, 1]: a colour field with clutter, sometimes stripes, defocused."""
    image = _colour_field(rng, height, width)
    for _ in range(int(rng.integers(2, 20))):
        _draw_shape(image, rng)
    if rng.random() < 0.2:
        image += float(rng.uniform(0.03, 0.1)) * _stripes(rng, height, width)[..., None]
    sigma = rng.uniform(0.0, 3.0) * max(height, width) / 256.0
    if sigma > 0.5:
        image = cv2.GaussianBlur(image, (0, 0), sigma)
    return np.clip(image, 0.0, 1.0)
