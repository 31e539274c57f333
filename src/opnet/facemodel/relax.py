"""Evening out a mesh that lies on a signed-distance surface, without leaving the surface.

Sampling a surface along rays leaves long, thin triangles where it is steep (the sides of the
nose, behind the ears). Relaxation slides each vertex along the surface towards where its
neighbours would put it, relative to a reference mesh with the same connectivity (the spacing
wanted, e.g. the same grid on a smooth ellipsoid), then projects it back onto the surface.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from opnet.facemodel.radial import FloatArray, SignedDistance

_STEP = 1e-4  # finite-difference step for the gradient of the distance


def neighbour_mean(triangles: NDArray[np.integer], num_vertices: int) -> sp.csr_matrix:
    """(V, V) sparse operator giving each vertex the mean of its edge neighbours."""
    t = np.asarray(triangles, dtype=np.int64)
    rows = np.concatenate([t[:, 0], t[:, 1], t[:, 2], t[:, 1], t[:, 2], t[:, 0]])
    cols = np.concatenate([t[:, 1], t[:, 2], t[:, 0], t[:, 0], t[:, 1], t[:, 2]])
    adjacency = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(num_vertices, num_vertices))
    adjacency.data[:] = 1.0  # an edge shared by two triangles counts once
    degree = np.asarray(adjacency.sum(axis=1)).ravel()
    return sp.diags(1.0 / np.maximum(degree, 1.0)) @ adjacency


def surface_normals(sdf: SignedDistance, points: FloatArray) -> FloatArray:
    """(N, 3) unit gradients of ``sdf`` at points (N, 3) (forward differences)."""
    at = sdf(points)
    grad = np.stack([sdf(points + _STEP * e) - at for e in np.eye(3)], axis=-1)
    return grad / np.maximum(np.linalg.norm(grad, axis=-1, keepdims=True), 1e-12)


def relax_on_surface(
    sdf: SignedDistance,
    vertices: FloatArray,
    triangles: NDArray[np.integer],
    reference: FloatArray,
    iterations: int = 15,
    rate: float = 0.5,
) -> FloatArray:
    """Vertices (V, 3) on ``sdf`` = 0, slid tangentially to match the local spacing of ``reference`` (V, 3).

    Each step moves a vertex by ``rate`` times the gap between its neighbours' mean and where the
    reference has it, without the part along the surface normal, then projects it back onto the
    surface with two Newton steps along that normal.
    """
    mean_of = neighbour_mean(triangles, len(vertices))
    wanted = mean_of @ reference - reference
    p = vertices.copy()
    for _ in range(iterations):
        move = mean_of @ p - p - wanted
        n = surface_normals(sdf, p)
        p = p + rate * (move - np.sum(move * n, axis=-1, keepdims=True) * n)
        for _ in range(2):
            p -= sdf(p)[:, None] * n
    return p
