"""Closing the eyes of a face model, as a deformation of its vertices in the model frame.

The texture stays where the photo put it, so moving vertices moves the photo's skin: the upper
lid comes down to a closing line 3/4 of the way to the lower lid, the skin between lid and brow
stretches after it, the lower lid rises a little, and the eye opening between them shrinks to
nothing (the eyeball's texture disappears). Lid shapes come from the model's own eye landmarks
(iBUG 36-41 and 42-47), so the eye landmarks of the labels move with the lids.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

# Per eye: corners, upper lid, lower lid, brow (iBUG 68 indices; outer corner first).
EYES = (
    ((36, 39), (37, 38), (41, 40), (17, 18, 19, 20, 21)),
    ((45, 42), (44, 43), (46, 47), (26, 25, 24, 23, 22)),
)
CLOSING_LINE = 0.75
"""Where the closed lids meet, as a fraction of the way from the upper to the lower lid."""
SIDE_FALLOFF = 0.35
"""Beyond the eye corners the deformation fades over this fraction of the eye's width."""
BROW_REACH = 0.8
"""The skin above the upper lid follows it up to this fraction of the way to the brow."""
LOWER_REACH = 0.5
"""The cheek below the lower lid follows it over this fraction of the lid-to-brow height."""


def _lid(x: NDArray, corners: NDArray, middle: NDArray) -> NDArray:
    """Height of a lid curve at model x: piecewise linear through two corners and two middle points."""
    knots = np.concatenate([corners[:1], middle, corners[1:]])
    order = np.argsort(knots[:, 0])
    return np.interp(x, knots[order, 0], knots[order, 1])


def _close_one_eye(vertices: NDArray, landmarks: NDArray, eye: tuple, amount: float) -> NDArray:
    """Vertical displacement (V,) that closes one eye by ``amount`` in [0, 1]."""
    corners, upper, lower, brow = (landmarks[list(ids)] for ids in eye)
    x, y = vertices[:, 0], vertices[:, 1]
    y_up, y_low = _lid(x, corners, upper), _lid(x, corners, lower)
    y_close = y_up + CLOSING_LINE * (y_low - y_up)
    reach_up = BROW_REACH * float(np.mean(upper[:, 1]) - np.mean(brow[:, 1]))
    reach_down = LOWER_REACH * reach_up
    new_up = y_up + amount * (y_close - y_up)
    new_low = y_low + amount * (y_close - y_low)
    top, bottom = y_up - reach_up, y_low + reach_down
    moved = np.select(
        [(y >= top) & (y < y_up), (y >= y_up) & (y <= y_low), (y > y_low) & (y <= bottom)],
        [
            top + (y - top) * (new_up - top) / (y_up - top),
            new_up + (y - y_up) * (new_low - new_up) / np.maximum(y_low - y_up, 1e-9),
            new_low + (y - y_low) * (bottom - new_low) / (bottom - y_low),
        ],
        default=y,
    )
    left, right = np.sort(corners[:, 0])
    margin = SIDE_FALLOFF * (right - left)
    outside = np.maximum(np.maximum(left - x, x - right), 0.0) / margin
    side = 0.5 * (1.0 + np.cos(np.pi * np.minimum(outside, 1.0)))
    front = vertices[:, 2] < np.mean(corners[:, 2]) + 0.5 * (right - left)
    return (moved - y) * side * front


def close_eyes(vertices: NDArray, landmark_indices: NDArray, amount: float) -> NDArray[np.float64]:
    """(V, 3) model-frame vertices with both eyes closed by ``amount`` (0 open, 1 shut)."""
    vertices = np.asarray(vertices, dtype=np.float64)
    if amount <= 0.0:
        return vertices
    landmarks = vertices[landmark_indices]
    out = vertices.copy()
    for eye in EYES:
        out[:, 1] += _close_one_eye(vertices, landmarks, eye, amount)
    return out
