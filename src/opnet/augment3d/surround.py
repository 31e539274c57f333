"""The surroundings of the head: a sheet over the whole photo that follows the head near it and
stays still far from it.

The photo outside the head (hair beyond the model's skull, ears, neck, shoulders, background) is
a regular grid of vertices over the image, textured with the photo itself. Its depth is a plane
through the middle of the head, parallel to the image (a depth prior: no depth model is run), so
inside the head's outline it lies inside the head and is hidden. Each vertex has a *weight*: 1 on
the head's outline and within :data:`DECAY_START` head sizes of it, then falling off as
exp(-(d - DECAY_START) / range) with the distance d (head sizes) from the outline, down to exactly 0
(:data:`WEIGHT_FLOOR`) about two head sizes away and at the image border. A view moves
each vertex by weight x the head's motion, so hair and neck turn with the head, the far
background stays where it was, and the sheet in between stretches: it never tears, so the new
picture has no holes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.ndimage import distance_transform_edt

DECAY_START = 0.1
DECAY_RANGE = 0.6
"""Head sizes (the ``coords`` size) over which a surrounding vertex's weight falls by 1/e, beyond
DECAY_START."""
CELLS_PER_HEAD = 6.0
"""Grid spacing: this many cells per head size (at least MIN_CELL_PX pixels each)."""
MIN_CELL_PX = 4.0
WEIGHT_FLOOR = 0.05
"""The falloff is lowered by this and rescaled, so that the far background does not move at all."""
BORDER_TAPER = 0.5
"""The weights fall to 0 over this many head sizes before the image border, which stays in place."""
DEPTH_BLEND = 0.3
"""Head sizes over which the sheet's depth goes from the head's outline to the background plane."""


@dataclass(frozen=True)
class Surroundings:
    """``points`` (G, 3) grid vertices in the photo (x, y, depth as the head's points), ``triangles``
    (T, 3) facing the camera (those wholly inside the head's outline left out: they stay inside the
    head in every view), ``weights`` (G,) in [0, 1]."""

    points: NDArray[np.float64]
    triangles: NDArray[np.int64]
    weights: NDArray[np.float64]


def grid_over_image(height: int, width: int, cell_px: float, depth: float) -> tuple[NDArray, NDArray]:
    """Vertices (G, 3) of a regular grid covering [0, width] x [0, height] at ``depth``, and its
    triangles (counter-clockwise seen from the camera: y points down)."""
    nx = max(2, int(np.ceil(width / cell_px)) + 1)
    ny = max(2, int(np.ceil(height / cell_px)) + 1)
    x, y = np.meshgrid(np.linspace(0.0, width, nx), np.linspace(0.0, height, ny))
    points = np.stack([x.ravel(), y.ravel(), np.full(x.size, depth)], axis=-1)
    i, j = np.meshgrid(np.arange(ny - 1), np.arange(nx - 1), indexing="ij")
    a = (i * nx + j).ravel()
    b, c, d = a + 1, a + nx + 1, a + nx
    triangles = np.concatenate([np.stack([a, c, b], -1), np.stack([a, d, c], -1)])
    return points, triangles


def _nearest_inside(head_mask: NDArray[np.bool_]) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """(H, W) distance in pixels from each pixel to the head (0 on it) and the flat index of the
    nearest head pixel."""
    width = head_mask.shape[1]
    if not head_mask.any():
        return np.full(head_mask.shape, np.inf), np.zeros(head_mask.shape, np.int64)
    distance, (rows, columns) = distance_transform_edt(~head_mask, return_indices=True)
    return distance, rows * width + columns


def surroundings(
    front: NDArray, back: NDArray, size: float, plane_depth: float, decay_range: float = DECAY_RANGE
) -> Surroundings:
    """The grid for a photo whose head's nearest and farthest surfaces lie at depths ``front`` and
    ``back`` (H, W) (inf where the head is not); ``size`` head size in pixels; ``plane_depth``
    depth of the background plane.

    Inside the head's outline the sheet lies halfway between front and back (inside the head);
    outside, its depth goes from the outline's to the plane's within about DEPTH_BLEND head sizes.
    """
    height, width = front.shape
    points, triangles = grid_over_image(height, width, max(MIN_CELL_PX, size / CELLS_PER_HEAD), plane_depth)
    inside = np.isfinite(front)
    distance, nearest = _nearest_inside(inside)
    back = np.where(np.isfinite(back), back, front)  # an open mesh may have no back surface there
    middle = np.where(inside, 0.5 * (front + back), plane_depth).ravel()
    column = np.clip(np.round(points[:, 0] - 0.5).astype(int), 0, width - 1)
    row = np.clip(np.round(points[:, 1] - 0.5).astype(int), 0, height - 1)
    d = distance[row, column] / size
    edge = middle[nearest[row, column]]
    points[:, 2] = plane_depth + (edge - plane_depth) * np.exp(-d / DEPTH_BLEND)
    border = np.minimum(
        np.minimum(points[:, 0], width - points[:, 0]), np.minimum(points[:, 1], height - points[:, 1])
    )
    t = np.clip(border / (BORDER_TAPER * size), 0.0, 1.0)
    pinned = t * t * (3.0 - 2.0 * t)  # smoothstep: no kink where the taper ends
    falloff = np.exp(-np.maximum(d - DECAY_START, 0.0) / decay_range)
    weights = np.maximum(falloff - WEIGHT_FLOOR, 0.0) / (1.0 - WEIGHT_FLOOR) * pinned
    # Triangles wholly inside the outline move with the head, inside it: never seen, never drawn.
    hidden = np.all(inside[row, column][triangles], axis=1)
    return Surroundings(points, triangles[~hidden], weights)
