"""A procedural human head in the :class:`~opnet.facemodel.FaceModel` interface (no model file needed).

The head is a smooth union of signed-distance primitives (skull, face and jaw, brow ridge,
cheekbones, eye sockets with eyeballs, nose, lips, chin, ears) sampled along the rays of a
:class:`~opnet.facemodel.radial.RadialGrid` that is densest on the face. Units and frame are those
of opnet.facemodel: one unit = the label head size, :data:`~opnet.facemodel.HEAD_CENTRE` between
the eyes, the face looking along -z. The proportions follow the mean 3D landmarks of real
AFLW2000-3D labels in these units (:data:`LANDMARK_TEMPLATE`). The mean mesh is mirror-symmetric
and the 68 landmarks respect ``opnet.geometry.IBUG68_MIRROR``; the shape basis holds localised
deformations (nose, jaw, chin, eyes, lips, skull, ears, asymmetries), one unit of each a plausible
one-standard-deviation change.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from opnet.facemodel import FaceModel
from opnet.facemodel import sdf as s
from opnet.facemodel.radial import FloatArray, RadialGrid, surface_radii
from opnet.facemodel.relax import neighbour_mean, relax_on_surface
from opnet.facemodel.shape_modes import shape_basis
from opnet.geometry import IBUG68_MIRROR

GRID_ROWS = 80
GRID_COLUMNS = 128
RELAX_ITERATIONS = 15
RELAX_REFERENCE_SMOOTHING = 30
CORE_CENTRE = np.array([0.0, -0.25, -0.1])
CORE_RADII = np.array([0.45, 0.7, 0.55])
"""The surface is sampled along the outward normals of this ellipsoid inside the head: such rays
never cross outside it, and the face is a height field over its front."""

_TEMPLATE_HALF = {  # iBUG index: (x, y, z) for the person's right side and the midline
    0: (-0.72, -0.17, -0.17),
    1: (-0.70, 0.03, -0.19),
    2: (-0.67, 0.21, -0.21),
    3: (-0.62, 0.37, -0.25),
    4: (-0.56, 0.54, -0.34),
    5: (-0.46, 0.67, -0.50),
    6: (-0.35, 0.76, -0.69),
    7: (-0.21, 0.84, -0.85),
    8: (0.0, 0.88, -0.92),
    17: (-0.56, -0.41, -0.80),
    18: (-0.49, -0.47, -0.92),
    19: (-0.38, -0.48, -1.00),
    20: (-0.28, -0.47, -1.05),
    21: (-0.19, -0.46, -1.08),
    27: (0.0, -0.26, -1.11),
    28: (0.0, -0.13, -1.20),
    29: (0.0, -0.01, -1.28),
    30: (0.0, 0.09, -1.31),
    31: (-0.12, 0.18, -1.10),
    32: (-0.07, 0.19, -1.14),
    33: (0.0, 0.20, -1.15),
    36: (-0.43, -0.26, -0.87),
    37: (-0.36, -0.295, -0.95),
    38: (-0.27, -0.295, -0.95),
    39: (-0.185, -0.255, -0.93),
    40: (-0.265, -0.235, -0.95),
    41: (-0.36, -0.23, -0.93),
    48: (-0.25, 0.43, -0.99),
    49: (-0.165, 0.365, -1.11),
    50: (-0.06, 0.315, -1.16),
    51: (0.0, 0.33, -1.16),
    59: (-0.165, 0.485, -1.06),
    58: (-0.09, 0.525, -1.10),
    57: (0.0, 0.53, -1.10),
    60: (-0.235, 0.43, -1.00),
    61: (-0.07, 0.395, -1.10),
    62: (0.0, 0.395, -1.12),
    67: (-0.07, 0.44, -1.09),
    66: (0.0, 0.445, -1.10),
}


def _landmark_template() -> FloatArray:
    """(68, 3) symmetric mean landmark positions (the person's left side mirrors the right)."""
    out = np.full((68, 3), np.nan)
    for index, point in _TEMPLATE_HALF.items():
        out[index] = point
        out[IBUG68_MIRROR[index]] = np.multiply(point, (-1.0, 1.0, 1.0))
    return out


LANDMARK_TEMPLATE = _landmark_template()
"""(68, 3) target positions of the iBUG landmarks (mean of real labels, made symmetric)."""


@dataclass(frozen=True)
class ProceduralHead:
    """The procedural face model plus what rendering it needs.

    ``grid`` gives the vertex layout and texture coordinates (``grid.uv()`` per
    ``grid.uv_triangles()`` corner, in grid units); ``mirror`` (V,) maps each vertex to its mirror image.
    """

    model: FaceModel
    grid: RadialGrid
    mirror: NDArray[np.int64]


def head_distance(points: FloatArray) -> FloatArray:
    """Signed distance (N,) of points (N, 3) to the mean head surface (negative inside)."""
    points = np.ascontiguousarray(np.asarray(points, dtype=np.float64).T)
    m = s.mirror_x(points)
    skull = s.ellipsoid(points, (0.0, -0.45, 0.02), (0.74, 0.90, 0.93))
    face = s.ellipsoid(points, (0.0, 0.22, -0.42), (0.60, 0.62, 0.56))
    jaw = s.round_cone(m, (0.52, 0.38, -0.25), (0.16, 0.78, -0.78), 0.12, 0.11)
    d = s.smooth_union(skull, face, 0.25)
    d = s.smooth_union(d, jaw, 0.2)
    d = s.smooth_union(d, s.ellipsoid(points, (0.0, 0.70, -0.74), (0.22, 0.17, 0.18)), 0.12)  # chin
    d = s.smooth_union(d, s.ellipsoid(m, (0.40, 0.04, -0.62), (0.26, 0.24, 0.30)), 0.2)  # cheeks
    d = s.smooth_union(d, s.ellipsoid(points, (0.0, 0.33, -0.78), (0.34, 0.30, 0.32)), 0.15)  # muzzle
    d = s.smooth_union(d, s.ellipsoid(m, (0.29, -0.43, -0.84), (0.3, 0.11, 0.21)), 0.15)  # brow ridges
    d = s.smooth_subtract(d, s.ellipsoid(m, (0.31, -0.27, -1.02), (0.15, 0.1, 0.12)), 0.1)  # eye sockets
    d = s.smooth_union(d, s.ellipsoid(m, (0.31, -0.265, -0.835), (0.125, 0.125, 0.125)), 0.03)  # eyeballs
    d = s.smooth_union(d, _nose(points, m), 0.08)
    d = s.smooth_union(d, s.ellipsoid(points, (0.0, 0.355, -1.03), (0.23, 0.055, 0.13)), 0.05)  # upper lip
    d = s.smooth_union(d, s.ellipsoid(points, (0.0, 0.48, -0.99), (0.19, 0.065, 0.12)), 0.05)  # lower lip
    d = s.smooth_subtract(d, s.ellipsoid(points, (0.0, 0.415, -1.07), (0.2, 0.012, 0.06)), 0.02)  # mouth
    ears = s.rotated_ellipsoid(m, (0.76, -0.12, 0.08), (0.07, 0.27, 0.16), 0.25)
    return s.smooth_union(d, ears, 0.06)


def _nose(points: FloatArray, mirrored: FloatArray) -> FloatArray:
    ridge = s.round_cone(points, (0.0, -0.26, -1.0), (0.0, 0.05, -1.18), 0.045, 0.08)
    tip = s.ellipsoid(points, (0.0, 0.1, -1.2), (0.08, 0.075, 0.1))
    body = s.ellipsoid(points, (0.0, 0.06, -1.04), (0.14, 0.17, 0.12))
    alae = s.ellipsoid(mirrored, (0.1, 0.16, -1.06), (0.07, 0.06, 0.07))
    return s.smooth_union(s.smooth_union(s.smooth_union(ridge, tip, 0.06), body, 0.08), alae, 0.05)


def _rays(directions: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Ray origins on the core ellipsoid and unit directions along its normals, for grid directions (V, 3)."""
    normals = directions / CORE_RADII
    return CORE_CENTRE + directions * CORE_RADII, normals / np.linalg.norm(normals, axis=-1, keepdims=True)


def _landmark_vertices(mean: FloatArray, mirror: NDArray[np.int64]) -> NDArray[np.int64]:
    """(68,) distinct vertices nearest to the template landmarks, mirror-consistent.

    The person's right side and the midline are chosen in index order (midline landmarks among the
    vertices on the symmetry plane), each from the vertices not taken yet; the left side mirrors them.
    """
    on_axis = mirror == np.arange(len(mean))
    chosen = np.full(68, -1, dtype=np.int64)
    free = np.ones(len(mean), dtype=bool)
    for index in np.flatnonzero(LANDMARK_TEMPLATE[:, 0] <= 0.0):
        distance = np.linalg.norm(mean - LANDMARK_TEMPLATE[index], axis=-1)
        allowed = free & (on_axis if LANDMARK_TEMPLATE[index, 0] == 0.0 else ~on_axis)
        vertex = int(np.argmin(np.where(allowed, distance, np.inf)))
        chosen[index] = vertex
        free[[vertex, mirror[vertex]]] = False
    left = LANDMARK_TEMPLATE[:, 0] > 0.0
    chosen[left] = mirror[chosen[IBUG68_MIRROR[left]]]
    return chosen


def _mean_mesh(grid: RadialGrid) -> FloatArray:
    """(V, 3) the head surface sampled along the grid's rays, then evened out on the surface."""
    origins, rays = _rays(grid.directions())
    distance = surface_radii(head_distance, origins, rays, r_max=1.2, step=0.04)
    triangles = grid.triangles()
    smooth_distance = distance
    mean_of = neighbour_mean(triangles, len(distance))
    for _ in range(RELAX_REFERENCE_SMOOTHING):
        smooth_distance = mean_of @ smooth_distance
    reference = origins + smooth_distance[:, None] * rays
    return relax_on_surface(
        head_distance, origins + distance[:, None] * rays, triangles, reference, iterations=RELAX_ITERATIONS
    )


@functools.lru_cache(maxsize=4)
def procedural_head(rows: int = GRID_ROWS, columns: int = GRID_COLUMNS) -> ProceduralHead:
    """The procedural head (built once per process: about a second)."""
    grid = RadialGrid.with_focus(
        rows, columns, polar_peak=1.75, polar_width=0.55, polar_gain=2.2, azimuth_width=0.7, azimuth_gain=3.0
    )
    mean = _mean_mesh(grid)
    mirror = grid.mirror()
    mean = 0.5 * (mean + mean[mirror] * np.array([-1.0, 1.0, 1.0]))  # exact symmetry despite rounding
    model = FaceModel(
        mean=mean.astype(np.float32),
        triangles=grid.triangles(),
        shape_basis=shape_basis(mean).astype(np.float32),
        expression_basis=np.zeros((0, len(mean), 3), dtype=np.float32),
        landmark_indices=_landmark_vertices(mean, mirror),
    )
    return ProceduralHead(model=model, grid=grid, mirror=mirror)


def procedural_face_model() -> FaceModel:
    """The procedural head's :class:`~opnet.facemodel.FaceModel`."""
    return procedural_head().model
