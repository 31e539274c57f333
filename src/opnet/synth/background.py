"""Random backgrounds: smooth colour fields with clutter, or textured scenes (fractal texture,
walls, windows, shelves); shapes, stripes, defocus."""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray


def _colour(rng: np.random.Generator) -> NDArray[np.float32]:
    """A random colour, mostly muted: a gray level plus a little chroma."""
    gray = rng.uniform(0.05, 0.95)
    return np.clip(gray + rng.uniform(0.0, 0.5) * (rng.random(3) - 0.5), 0.0, 1.0).astype(np.float32)


def _colour_field(rng: np.random.Generator, height: int, width: int) -> NDArray[np.float32]:
    """Smoothly varying colours: random colours on a coarse grid, interpolated (a gradient for 2 x 2)."""
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


def _fractal(rng: np.random.Generator, height: int, width: int) -> NDArray[np.float32]:
    """(height, width, 3) colour noise with a 1/f spectrum (foliage, fabric, walls, crowds), in [0, 1]."""
    grid = np.zeros((48, 48, 3), np.float32)
    amplitude, total = 1.0, 0.0
    for cells in (3, 6, 12, 24, 48):  # octaves summed on a 48 x 48 grid, then enlarged once
        layer = rng.standard_normal((cells, cells, 3)).astype(np.float32)
        grid += amplitude * cv2.resize(layer, (48, 48), interpolation=cv2.INTER_CUBIC)
        total += amplitude
        amplitude *= rng.uniform(0.45, 0.75)
    image = cv2.resize(grid, (width, height), interpolation=cv2.INTER_CUBIC)
    chroma = rng.uniform(0.0, 0.6)
    gray = image.mean(axis=-1, keepdims=True)
    image = gray + chroma * (image - gray)
    return np.clip(_colour(rng) + rng.uniform(0.08, 0.25) * image / total, 0.0, 1.0)


def _structure(image: NDArray[np.float32], rng: np.random.Generator) -> None:
    """Walls, doors, shelves and windows: large upright rectangles with shading, some bright."""
    h, w = image.shape[:2]
    for _ in range(int(rng.integers(1, 5))):
        x0, x1 = sorted(rng.integers(-w // 4, w + w // 4, 2))
        y0, y1 = sorted(rng.integers(-h // 4, h + h // 4, 2))
        x0, y0, x1, y1 = max(int(x0), 0), max(int(y0), 0), min(int(x1), w), min(int(y1), h)
        if x1 - x0 < 4 or y1 - y0 < 4:
            continue
        bright = rng.random() < 0.25  # a window or a lamp, often overexposed
        colour = np.full(3, rng.uniform(0.85, 1.2), np.float32) if bright else _colour(rng)
        ramp = np.linspace(1.0, rng.uniform(0.6, 1.2), y1 - y0, dtype=np.float32)[:, None, None]
        image[y0:y1, x0:x1] = colour * ramp
        if rng.random() < 0.5:
            edge = tuple(float(c) for c in _colour(rng) * 0.5)
            cv2.rectangle(image, (x0, y0), (x1 - 1, y1 - 1), edge, int(rng.integers(1, max(2, w // 60))))


def random_background(
    rng: np.random.Generator, height: int, width: int, textured: bool = False
) -> NDArray[np.float32]:
    """(height, width, 3) float32 RGB in [0, 1]: a colour field with clutter, sometimes stripes,
    defocused; ``textured``: a scene of fractal texture, walls, windows and shelves, and some clutter."""
    if textured:
        image = _fractal(rng, height, width)
        _structure(image, rng)
        shapes = int(rng.integers(0, 8))
    else:
        image = _colour_field(rng, height, width)
        shapes = int(rng.integers(2, 20))
    for _ in range(shapes):
        _draw_shape(image, rng)
    if rng.random() < 0.2:
        image += float(rng.uniform(0.03, 0.1)) * _stripes(rng, height, width)[..., None]
    sigma = rng.uniform(0.0, 3.0) * max(height, width) / 256.0
    if sigma > 0.5:
        image = cv2.GaussianBlur(image, (0, 0), sigma)
    return np.clip(image, 0.0, 1.0)
