"""Star-shaped meshes: a latitude-longitude grid of directions, pushed out to a signed-distance surface.

Directions are parametrised by the polar angle theta from -y (the top) and the azimuth phi about
the y axis, phi = 0 facing -z (the front) and phi = pi/2 facing +x:
``d = (sin(theta) sin(phi), -cos(theta), -sin(theta) cos(phi))``. Vertex 0 is the top pole,
vertex ``1 + i * C + j`` sits on row i (theta_i) and column j (phi_j), the last vertex is the
bottom pole. Column 0 is the back (phi = -pi), column C / 2 the front, and column j mirrors
column C - j, so a left-right symmetric surface gives a symmetric mesh. Grid lines are placed
at equal quantiles of a density, which concentrates vertices where detail is wanted.

Texture coordinates are in *grid units*: u = column (0..C, the seam at the back repeated as
column C), v = row + 1 (0 = top pole, R + 1 = bottom pole); they are given per triangle corner
(``uv_triangles`` into ``uv``) so that the seam and the poles do not smear the texture.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
SignedDistance = Callable[[FloatArray], FloatArray]


def quantile_grid(count: int, low: float, high: float, peak: float, width: float, gain: float) -> FloatArray:
    """``count`` angles in [low, high] (both ends included), denser by 1 + gain near ``peak``.

    The density is 1 + gain * exp(-(a - peak)^2 / (2 width^2)); the angles split it into equal parts.
    """
    fine = np.linspace(low, high, 4096)
    density = 1.0 + gain * np.exp(-0.5 * ((fine - peak) / width) ** 2)
    cumulative = np.concatenate([[0.0], np.cumsum(0.5 * (density[1:] + density[:-1]) * np.diff(fine))])
    return np.interp(np.linspace(0.0, cumulative[-1], count), cumulative, fine)


@dataclass(frozen=True)
class RadialGrid:
    """R rows (``polar``, poles excluded) by C columns (``azimuth``, C even) of directions."""

    polar: FloatArray
    azimuth: FloatArray

    @classmethod
    def with_focus(
        cls,
        rows: int,
        columns: int,
        polar_peak: float,
        polar_width: float,
        polar_gain: float,
        azimuth_width: float,
        azimuth_gain: float,
    ) -> RadialGrid:
        """A grid denser around ``polar_peak`` and around the front (phi = 0), symmetric in phi."""
        if columns % 2:
            raise ValueError(f"columns must be even for a symmetric grid, got {columns}")
        polar = quantile_grid(rows + 2, 0.0, np.pi, polar_peak, polar_width, polar_gain)[1:-1]
        half = quantile_grid(columns // 2 + 1, -np.pi, 0.0, 0.0, azimuth_width, azimuth_gain)
        return cls(polar=polar, azimuth=np.concatenate([half, -half[-2:0:-1]]))

    @property
    def rows(self) -> int:
        return len(self.polar)

    @property
    def columns(self) -> int:
        return len(self.azimuth)

    @property
    def num_vertices(self) -> int:
        return self.rows * self.columns + 2

    def directions(self) -> FloatArray:
        """(V, 3) unit directions of the vertices."""
        theta, phi = np.meshgrid(self.polar, self.azimuth, indexing="ij")
        ring = np.stack([np.sin(theta) * np.sin(phi), -np.cos(theta), -np.sin(theta) * np.cos(phi)], axis=-1)
        return np.concatenate([[[0.0, -1.0, 0.0]], ring.reshape(-1, 3), [[0.0, 1.0, 0.0]]])

    def vertex_index(self, row: NDArray | int, column: NDArray | int) -> NDArray[np.int64]:
        return 1 + np.asarray(row) * self.columns + np.asarray(column) % self.columns

    def mirror(self) -> NDArray[np.int64]:
        """(V,) permutation taking each vertex to its mirror image (x -> -x)."""
        rows, cols = np.meshgrid(np.arange(self.rows), np.arange(self.columns), indexing="ij")
        ring = self.vertex_index(rows, (self.columns - cols) % self.columns).ravel()
        return np.concatenate([[0], ring, [self.num_vertices - 1]])

    def triangles(self) -> NDArray[np.int32]:
        """(T, 3) triangles, counter-clockwise seen from outside, mirror-symmetric diagonals."""
        return self._triangles(self.vertex_index, lambda j: 0, lambda j: self.num_vertices - 1)

    def uv(self) -> FloatArray:
        """(A, 2) texture coordinates in grid units: the ring (R x (C + 1)), then C top and C bottom
        pole copies."""
        v, u = np.meshgrid(np.arange(1, self.rows + 1), np.arange(self.columns + 1), indexing="ij")
        ring = np.stack([u, v], axis=-1).reshape(-1, 2)
        centres = np.arange(self.columns) + 0.5
        top = np.stack([centres, np.zeros(self.columns)], axis=-1)
        bottom = np.stack([centres, np.full(self.columns, self.rows + 1.0)], axis=-1)
        return np.concatenate([ring, top, bottom]).astype(np.float64)

    def uv_triangles(self) -> NDArray[np.int32]:
        """(T, 3) indices into :meth:`uv`, corner by corner like :meth:`triangles`."""
        ring_size = self.rows * (self.columns + 1)
        return self._triangles(
            lambda i, j: np.asarray(i) * (self.columns + 1) + np.asarray(j),
            lambda j: ring_size + j,
            lambda j: ring_size + self.columns + j,
        )

    def _triangles(self, ring: Callable, top: Callable, bottom: Callable) -> NDArray[np.int32]:
        """Triangles with vertex ids from ``ring(row, column)`` (column C allowed), ``top(col)``,
        ``bottom(col)``."""
        c = self.columns
        j = np.arange(c)
        # Seen from outside at the front, columns run to the right and rows downwards, like an image.
        out = [np.stack([np.broadcast_to(top(j), (c,)), ring(0, j), ring(0, j + 1)], axis=-1)]
        for i in range(self.rows - 1):
            a, b, cc, d = ring(i, j), ring(i, j + 1), ring(i + 1, j + 1), ring(i + 1, j)
            left = j < c // 2  # diagonal a-c on the left half, b-d on the right: mirror-symmetric
            first = np.where(left[:, None], np.stack([a, d, cc], -1), np.stack([a, d, b], -1))
            second = np.where(left[:, None], np.stack([a, cc, b], -1), np.stack([b, d, cc], -1))
            out += [first, second]
        last = self.rows - 1
        out.append(np.stack([ring(last, j), np.broadcast_to(bottom(j), (c,)), ring(last, j + 1)], axis=-1))
        return np.concatenate(out).astype(np.int32)


def surface_radii(
    sdf: SignedDistance,
    origins: FloatArray,
    directions: FloatArray,
    r_max: float,
    step: float = 0.02,
    iterations: int = 24,
) -> FloatArray:
    """(V,) distance along each ray (origins (V, 3), unit directions (V, 3)) to the outermost ``sdf`` = 0.

    Marches inwards from ``r_max`` (which must be outside the surface) in steps of ``step``, then
    bisects. A ray that never enters the shape gets a distance of 0.
    """
    radii = np.arange(r_max, 0.0, -step)
    inside = np.stack([sdf(origins + r * directions) < 0.0 for r in radii], axis=1)
    hit = inside.any(axis=1)
    lo = radii[np.where(hit, inside.argmax(axis=1), len(radii) - 1)]  # inside the shape
    hi = lo + step  # outside
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        in_shape = sdf(origins + mid[:, None] * directions) < 0.0
        lo = np.where(in_shape, mid, lo)
        hi = np.where(in_shape, hi, mid)
    return np.where(hit, 0.5 * (lo + hi), 0.0)
