"""The head mesh that carries the photo: the face model's mesh, closed with a skull if it is open.

A rotated head must hide everything behind it. The procedural head is closed; a face-only model
(3DDFA's BFM covers forehead to chin) gets an ellipsoid skull behind the face, textured from the
photo like the face. Each vertex also knows its mirror image (for texture hidden in the photo)
and its mesh neighbours (for filling texture that is not seen at all).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray
from scipy.spatial import cKDTree

from opnet.facemodel import FaceModel
from opnet.facemodel.relax import neighbour_mean

SKULL_CENTRE = np.array([0.0, -0.35, 0.1])
SKULL_RADII = np.array([0.68, 0.85, 0.85])
"""Ellipsoid skull (model units) behind a face-only model: inside the procedural head's skull, behind
the face of the mean 3DDFA model."""
SKULL_RINGS, SKULL_SEGMENTS = 24, 48


@dataclass(frozen=True)
class HeadMesh:
    """``model``'s vertices followed by ``num_extra`` skull vertices (fixed shape); ``triangles``
    (T, 3) counter-clockwise from outside; ``mirror`` (V,) vertex of the mirror image (x -> -x);
    ``smoothing`` (V, V) sparse mean over each vertex's edge neighbours."""

    model: FaceModel
    extra: NDArray[np.float64]
    triangles: NDArray[np.int64]
    mirror: NDArray[np.int64]
    smoothing: sp.csr_matrix

    @property
    def num_vertices(self) -> int:
        return self.model.num_vertices + len(self.extra)

    def vertices(self, shape: ArrayLike, expression: ArrayLike) -> NDArray[np.float64]:
        """(V, 3) model-frame vertices for the coefficients (the skull does not deform)."""
        return np.concatenate([self.model.vertices(shape, expression), self.extra])


def is_closed(triangles: NDArray[np.integer]) -> bool:
    """True if every edge is shared by exactly two triangles (a watertight surface)."""
    t = np.asarray(triangles, dtype=np.int64)
    edges = np.sort(np.concatenate([t[:, [0, 1]], t[:, [1, 2]], t[:, [2, 0]]]), axis=1)
    _, counts = np.unique(edges, axis=0, return_counts=True)
    return bool(len(t)) and bool(np.all(counts == 2))


def ellipsoid_mesh(centre: ArrayLike, radii: ArrayLike, rings: int, segments: int) -> tuple[NDArray, NDArray]:
    """A closed latitude-longitude ellipsoid: vertices (V, 3) and outward counter-clockwise triangles."""
    theta = np.linspace(0.0, np.pi, rings + 1)[1:-1]
    phi = np.linspace(-np.pi, np.pi, segments, endpoint=False)
    t, p = np.meshgrid(theta, phi, indexing="ij")
    ring = np.stack([np.sin(t) * np.sin(p), -np.cos(t), -np.sin(t) * np.cos(p)], axis=-1).reshape(-1, 3)
    unit = np.concatenate([[[0.0, -1.0, 0.0]], ring, [[0.0, 1.0, 0.0]]])

    def index(i: int, j: NDArray) -> NDArray:
        return 1 + i * segments + j % segments

    j = np.arange(segments)
    tris = [np.stack([np.zeros(segments, int), index(0, j), index(0, j + 1)], -1)]
    for i in range(rings - 2):
        tris += [
            np.stack([index(i, j), index(i + 1, j), index(i + 1, j + 1)], -1),
            np.stack([index(i, j), index(i + 1, j + 1), index(i, j + 1)], -1),
        ]
    bottom = np.full(segments, len(unit) - 1)
    tris.append(np.stack([index(rings - 2, j), bottom, index(rings - 2, j + 1)], -1))
    triangles = np.concatenate(tris)
    vertices = np.asarray(centre) + unit * np.asarray(radii)
    a, b, c = (vertices[triangles[:, k]] for k in range(3))
    if np.einsum("ij,ij->", np.cross(b - a, c - a), a - np.asarray(centre)) < 0:
        triangles = triangles[:, ::-1]
    return vertices, triangles


def mirror_map(vertices: ArrayLike) -> NDArray[np.int64]:
    """(V,) index of the vertex nearest to each vertex's mirror image (x -> -x)."""
    vertices = np.asarray(vertices, dtype=np.float64)
    _, index = cKDTree(vertices).query(vertices * np.array([-1.0, 1.0, 1.0]))
    return index.astype(np.int64)


def head_mesh(model: FaceModel) -> HeadMesh:
    """The model's mesh, closed by an ellipsoid skull if it is open (see the module notes)."""
    triangles = model.triangles.astype(np.int64)
    if len(triangles) == 0:
        raise ValueError("the face model has no triangles to render")
    extra = np.zeros((0, 3))
    if not is_closed(triangles):
        extra, skull = ellipsoid_mesh(SKULL_CENTRE, SKULL_RADII, SKULL_RINGS, SKULL_SEGMENTS)
        triangles = np.concatenate([triangles, skull + model.num_vertices])
    vertices = np.concatenate([model.mean.astype(np.float64), extra])
    return HeadMesh(model, extra, triangles, mirror_map(vertices), neighbour_mean(triangles, len(vertices)))
