"""Z-buffer rasterisation of triangle meshes, vectorised with numpy (no graphics library needed).

Input vertices are already in the pixel coordinates of the target image (docs/format.md: pixel
(0, 0) is the top-left corner of the top-left pixel, so pixel (i, j) is sampled at its centre
(j + 0.5, i + 0.5)); the third coordinate is depth, smaller = nearer the camera. The result
lists, for every covered pixel, the nearest triangle and the barycentric weights of its corners
there, from which any per-vertex or per-corner attribute is interpolated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

_EDGE_TOLERANCE = 1e-6  # pixel centres on a shared edge count for both triangles: no cracks


@dataclass(frozen=True)
class Fragments:
    """The visible surface at the covered pixels of a (height, width) image.

    ``pixels`` (P,) flat indices ``row * width + column`` in increasing order; ``triangles`` (P,)
    index of the covering triangle; ``corners`` (P, 3) its vertex indices; ``barycentric``
    (P, 3) float32 weights of those corners at the pixel centre; ``depth`` (P,) float32.
    """

    height: int
    width: int
    pixels: NDArray[np.int64]
    triangles: NDArray[np.int64]
    corners: NDArray[np.int64]
    barycentric: NDArray[np.float32]
    depth: NDArray[np.float32]

    def __len__(self) -> int:
        return len(self.pixels)

    def interpolate(self, values: ArrayLike, triangles: ArrayLike | None = None) -> NDArray[np.float32]:
        """Per-pixel (P, C) interpolation of ``values`` (A, C) (or (A,) giving (P,)).

        By default ``values`` are per vertex. With ``triangles`` (T, 3) indexing ``values`` corner by
        corner (like OBJ texture indices), attributes may differ between triangles at a vertex.
        """
        values = np.asarray(values, dtype=np.float32)
        corners = self.corners if triangles is None else np.asarray(triangles)[self.triangles]
        flat = values.reshape(len(values), -1)
        w = self.barycentric
        out = (flat[corners[:, 0]] * w[:, 0:1] + flat[corners[:, 1]] * w[:, 1:2]
               + flat[corners[:, 2]] * w[:, 2:3])
        return out.reshape(len(self), *values.shape[1:])

    def to_image(self, values: ArrayLike, fill: float = 0.0) -> NDArray:
        """Scatters per-pixel ``values`` (P, ...) into an (height, width, ...) image, ``fill`` elsewhere."""
        values = np.asarray(values)
        image = np.full((self.height * self.width, *values.shape[1:]), fill, dtype=values.dtype)
        image[self.pixels] = values
        return image.reshape(self.height, self.width, *values.shape[1:])

    def mask(self) -> NDArray[np.bool_]:
        """(height, width) True where a triangle covers the pixel centre."""
        return self.to_image(np.ones(len(self), dtype=bool), fill=False)


def rasterize(vertices: ArrayLike, triangles: ArrayLike, height: int, width: int,
              cull_backfaces: bool = True) -> Fragments:
    """The nearest triangle at each pixel centre of an (height, width) image.

    ``vertices`` (V, 3): x, y in pixels, depth (any unit, smaller = nearer). ``triangles`` (T, 3)
    int, counter-clockwise seen from outside (see opnet.facemodel.FaceModel); with
    ``cull_backfaces`` triangles facing away from the camera (+z) are skipped, which is right for
    closed meshes; pass False for open meshes seen from both sides. Parts outside the image are clipped.
    """
    v = np.asarray(vertices, dtype=np.float64)
    tris = np.asarray(triangles, dtype=np.int64).reshape(-1, 3)
    setup = _TriangleSetup.build(v, tris, height, width, cull_backfaces)
    tid, dx, dy = setup.candidates()
    coef = setup.coefficients[tid]
    w0 = coef[:, 0] * dx + coef[:, 1] * dy + coef[:, 2]
    w1 = coef[:, 3] * dx + coef[:, 4] * dy + coef[:, 5]
    inside = (w0 >= -_EDGE_TOLERANCE) & (w1 >= -_EDGE_TOLERANCE) & (w0 + w1 <= 1.0 + _EDGE_TOLERANCE)
    tid, dx, dy, w0, w1, coef = tid[inside], dx[inside], dy[inside], w0[inside], w1[inside], coef[inside]
    depth = coef[:, 6] * dx + coef[:, 7] * dy + coef[:, 8]
    pixels = (setup.y0[tid] + dy.astype(np.int64)) * width + setup.x0[tid] + dx.astype(np.int64)
    pixels, winner = _nearest_per_pixel(pixels, depth, height * width)
    bary = np.stack([w0[winner], w1[winner], 1.0 - w0[winner] - w1[winner]], axis=-1)
    triangle = setup.ids[tid[winner]]
    return Fragments(height, width, pixels, triangle, tris[triangle],
                     np.clip(bary, 0.0, 1.0).astype(np.float32), depth[winner])


def _nearest_per_pixel(pixels: NDArray[np.int64], depth: NDArray[np.float32],
                       num_pixels: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Covered pixels (sorted) and, for each, the index of its nearest candidate (z-buffer test)."""
    zbuffer = np.full(num_pixels, np.inf, dtype=np.float32)
    np.minimum.at(zbuffer, pixels, depth)
    front = np.flatnonzero(depth <= zbuffer[pixels])
    owner = np.full(num_pixels, -1, dtype=np.int64)
    owner[pixels[front]] = front  # ties (shared edges, equal depth): any one of them
    covered = np.flatnonzero(owner >= 0)
    return covered, owner[covered]


@dataclass(frozen=True)
class _TriangleSetup:
    """Per-triangle data for the triangles that can cover a pixel.

    Each triangle has a box of candidate pixels starting at column ``x0``, row ``y0``, ``nx`` by
    ``ny``; ``coefficients`` (K, 9) float32 give the first two barycentric weights and the depth
    as a * dx + b * dy + c of the pixel offset (dx, dy) inside that box.
    """

    ids: NDArray[np.int64]
    x0: NDArray[np.int64]
    y0: NDArray[np.int64]
    nx: NDArray[np.int64]
    ny: NDArray[np.int64]
    coefficients: NDArray[np.float32]

    @classmethod
    def build(cls, v: NDArray[np.float64], tris: NDArray[np.int64], height: int, width: int,
              cull_backfaces: bool) -> _TriangleSetup:
        a, b, c = v[tris[:, 0]], v[tris[:, 1]], v[tris[:, 2]]
        area2 = (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
        corners = np.stack([a, b, c], axis=1)[:, :, :2]
        x0 = np.maximum(np.ceil(corners[..., 0].min(axis=1) - 0.5), 0).astype(np.int64)
        x1 = np.minimum(np.floor(corners[..., 0].max(axis=1) - 0.5), width - 1).astype(np.int64)
        y0 = np.maximum(np.ceil(corners[..., 1].min(axis=1) - 0.5), 0).astype(np.int64)
        y1 = np.minimum(np.floor(corners[..., 1].max(axis=1) - 0.5), height - 1).astype(np.int64)
        facing = area2 < 0.0 if cull_backfaces else area2 != 0.0  # < 0: normal towards the camera
        ids = np.flatnonzero(facing & (x1 >= x0) & (y1 >= y0))
        coef = _plane_coefficients(a[ids], b[ids], c[ids], area2[ids], x0[ids] + 0.5, y0[ids] + 0.5)
        return cls(ids, x0[ids], y0[ids], x1[ids] - x0[ids] + 1, y1[ids] - y0[ids] + 1, coef)

    def candidates(self) -> tuple[NDArray[np.int64], NDArray[np.float32], NDArray[np.float32]]:
        """Every (triangle, pixel) pair of the boxes: triangle row, dx and dy (float32)."""
        count = self.nx * self.ny
        tid = np.repeat(np.arange(len(self.ids)), count)
        offset = np.arange(len(tid)) - np.repeat(np.cumsum(count) - count, count)
        dy, dx = np.divmod(offset, self.nx[tid])
        return tid, dx.astype(np.float32), dy.astype(np.float32)


def _plane_coefficients(a: NDArray, b: NDArray, c: NDArray, area2: NDArray, ox: NDArray,
                        oy: NDArray) -> NDArray[np.float32]:
    """(K, 9): weights of corners a and b, and depth, as linear functions of (x - ox, y - oy)."""

    def weight(p: NDArray, q: NDArray) -> tuple[NDArray, NDArray, NDArray]:
        # Weight of the corner opposite edge p-q: cross(p - x, q - x) / area2, linear in x.
        ga = (p[:, 1] - q[:, 1]) / area2
        gb = (q[:, 0] - p[:, 0]) / area2
        const = (p[:, 0] * q[:, 1] - p[:, 1] * q[:, 0]) / area2
        return ga, gb, const + ga * ox + gb * oy

    wa, wb = weight(b, c), weight(c, a)
    dz_a, dz_b = a[:, 2] - c[:, 2], b[:, 2] - c[:, 2]
    depth = (wa[0] * dz_a + wb[0] * dz_b, wa[1] * dz_a + wb[1] * dz_b,
             wa[2] * dz_a + wb[2] * dz_b + c[:, 2])
    return np.stack([*wa, *wb, *depth], axis=-1).astype(np.float32)
