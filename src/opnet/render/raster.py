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
    ``corners`` and ``barycentric`` are stored column by column (Fortran order), which makes
    interpolation several times faster.
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
        columns = np.ascontiguousarray(values.reshape(len(values), -1).T)  # (C, A)
        ids = (
            self.corners.T
            if triangles is None
            else np.ascontiguousarray(np.asarray(triangles).T)[:, self.triangles]
        )
        w = self.barycentric.T
        out = np.empty((len(columns), len(self)), dtype=np.float32)
        for channel, column in enumerate(columns):
            out[channel] = column[ids[0]] * w[0] + column[ids[1]] * w[1] + column[ids[2]] * w[2]
        return out.T.reshape(len(self), *values.shape[1:])

    def to_image(self, values: ArrayLike, fill: float = 0.0) -> NDArray:
        """Scatters per-pixel ``values`` (P, ...) into an (height, width, ...) image, ``fill`` elsewhere."""
        values = np.asarray(values)
        image = np.full((self.height * self.width, *values.shape[1:]), fill, dtype=values.dtype)
        image[self.pixels] = values
        return image.reshape(self.height, self.width, *values.shape[1:])

    def mask(self) -> NDArray[np.bool_]:
        """(height, width) True where a triangle covers the pixel centre."""
        return self.to_image(np.ones(len(self), dtype=bool), fill=False)


def rasterize(
    vertices: ArrayLike, triangles: ArrayLike, height: int, width: int, cull_backfaces: bool = True
) -> Fragments:
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
    c = setup.coefficients
    w0 = c[0][tid] * dx + c[1][tid] * dy + c[2][tid]
    w1 = c[3][tid] * dx + c[4][tid] * dy + c[5][tid]
    inside = np.flatnonzero(
        (w0 >= -_EDGE_TOLERANCE) & (w1 >= -_EDGE_TOLERANCE) & (w0 + w1 <= 1.0 + _EDGE_TOLERANCE)
    )
    tid, dx, dy, w0, w1 = tid[inside], dx[inside], dy[inside], w0[inside], w1[inside]
    depth = c[6][tid] * dx + c[7][tid] * dy + c[8][tid]
    pixels = (setup.y0[tid] + dy.astype(np.int64)) * width + setup.x0[tid] + dx.astype(np.int64)
    pixels, winner = _nearest_per_pixel(pixels, depth, height * width)
    w0, w1 = w0[winner], w1[winner]
    bary = np.clip(np.stack([w0, w1, 1.0 - w0 - w1]), 0.0, 1.0)
    triangle = setup.ids[tid[winner]]
    corners = np.ascontiguousarray(tris.T)[:, triangle]
    return Fragments(height, width, pixels, triangle, corners.T, bary.T, depth[winner])


def _nearest_per_pixel(
    pixels: NDArray[np.int64], depth: NDArray[np.float32], num_pixels: int
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
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
    ``ny``; ``coefficients`` (9, K) float32 give the first two barycentric weights and the depth
    as a * dx + b * dy + c of the pixel offset (dx, dy) inside that box (rows a, b, c of each).
    """

    ids: NDArray[np.int64]
    x0: NDArray[np.int64]
    y0: NDArray[np.int64]
    nx: NDArray[np.int64]
    ny: NDArray[np.int64]
    coefficients: NDArray[np.float32]

    @classmethod
    def build(
        cls, v: NDArray[np.float64], tris: NDArray[np.int64], height: int, width: int, cull_backfaces: bool
    ) -> _TriangleSetup:
        # Contiguous 1-D arrays throughout: several times faster than (T, 3) arrays here.
        x, y = np.ascontiguousarray(v[:, 0]), np.ascontiguousarray(v[:, 1])
        corner = np.ascontiguousarray(tris.T)
        ax, ay, bx, by, cx, cy = (
            x[corner[0]],
            y[corner[0]],
            x[corner[1]],
            y[corner[1]],
            x[corner[2]],
            y[corner[2]],
        )
        area2 = (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)
        facing = np.flatnonzero(area2 < 0.0 if cull_backfaces else area2 != 0.0)  # < 0: faces the camera
        ax, ay, bx, by, cx, cy, area2 = (
            ax[facing],
            ay[facing],
            bx[facing],
            by[facing],
            cx[facing],
            cy[facing],
            area2[facing],
        )
        x0 = np.maximum(np.ceil(np.minimum(np.minimum(ax, bx), cx) - 0.5), 0.0)
        x1 = np.minimum(np.floor(np.maximum(np.maximum(ax, bx), cx) - 0.5), width - 1.0)
        y0 = np.maximum(np.ceil(np.minimum(np.minimum(ay, by), cy) - 0.5), 0.0)
        y1 = np.minimum(np.floor(np.maximum(np.maximum(ay, by), cy) - 0.5), height - 1.0)
        keep = np.flatnonzero((x1 >= x0) & (y1 >= y0))
        ids = facing[keep]
        x0, y0, x1, y1 = x0[keep], y0[keep], x1[keep], y1[keep]
        # Corners relative to the centre of each box's first pixel: small numbers, exact in float32 later.
        ox, oy = x0 + 0.5, y0 + 0.5
        local = (ax[keep] - ox, ay[keep] - oy, bx[keep] - ox, by[keep] - oy, cx[keep] - ox, cy[keep] - oy)
        z = np.ascontiguousarray(v[:, 2])
        depth = (z[corner[0, ids]], z[corner[1, ids]], z[corner[2, ids]])
        coef = _plane_coefficients(*local, area2[keep], *depth)
        return cls(
            ids,
            x0.astype(np.int64),
            y0.astype(np.int64),
            (x1 - x0).astype(np.int64) + 1,
            (y1 - y0).astype(np.int64) + 1,
            coef,
        )

    def candidates(self) -> tuple[NDArray[np.int32], NDArray[np.float32], NDArray[np.float32]]:
        """Every (triangle, pixel) pair of the boxes: triangle row, dx and dy (float32)."""
        count = self.nx * self.ny
        tid = np.repeat(np.arange(len(self.ids), dtype=np.int32), count)
        offset = np.arange(len(tid)) - np.repeat(np.cumsum(count) - count, count)
        dy, dx = np.divmod(offset, self.nx[tid])
        return tid, dx.astype(np.float32), dy.astype(np.float32)


def _plane_coefficients(
    ax: NDArray,
    ay: NDArray,
    bx: NDArray,
    by: NDArray,
    cx: NDArray,
    cy: NDArray,
    area2: NDArray,
    za: NDArray,
    zb: NDArray,
    zc: NDArray,
) -> NDArray[np.float32]:
    """(9, K): weights of corners a and b, and depth, as g_x * dx + g_y * dy + g_0 of the pixel
    offset (dx, dy) from the local origin (corners are given relative to it)."""
    inv = 1.0 / area2
    # Weight of a = cross(b - p, c - p) / area2, of b = cross(c - p, a - p) / area2; both linear in p.
    wa = ((by - cy) * inv, (cx - bx) * inv, (bx * cy - by * cx) * inv)
    wb = ((cy - ay) * inv, (ax - cx) * inv, (cx * ay - cy * ax) * inv)
    dza, dzb = za - zc, zb - zc
    depth = (wa[0] * dza + wb[0] * dzb, wa[1] * dza + wb[1] * dzb, wa[2] * dza + wb[2] * dzb + zc)
    return np.stack([*wa, *wb, *depth]).astype(np.float32)
