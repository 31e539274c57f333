"""Linear 3D face models in the head frame: the interface shared by datasets, synthesis and fitting.

Frame and units: the head frame of docs/format.md (X right, Y down, Z into the screen at zero
rotation, the face looking along -Z), origin at the centre of the head, one unit = the head
*size* of the labels (``coords[2]``, about the projected head radius). The labelled head centre
(between the eyes) is the model point :data:`HEAD_CENTRE` = (0, -0.26, -0.9): a head with pose
``q`` and labels ``coords = (x, y, size)`` puts model point v at image
``size * R(q) @ (v - HEAD_CENTRE) + (x, y, 0)`` (:func:`project`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from opnet.geometry import quat_to_matrix

HEAD_CENTRE = np.array([0.0, -0.26, -0.9])
"""The labelled head centre (``coords[:2]``) in model units: between the eyes, in front of the origin."""

EYE_CORNERS = (36, 39, 42, 45)
"""Landmarks whose mean depth is 0 in ``pt3d_68`` labels."""


@dataclass(frozen=True)
class FaceModel:
    """Mean mesh + linear shape and expression bases + the 68 iBUG landmark vertices.

    Shapes: ``mean`` (V, 3), ``triangles`` (T, 3) counter-clockwise seen from outside,
    ``shape_basis`` (S, V, 3), ``expression_basis`` (E, V, 3) (E may be 0),
    ``landmark_indices`` (68,) vertex indices.
    """

    mean: NDArray[np.float32]
    triangles: NDArray[np.int32]
    shape_basis: NDArray[np.float32]
    expression_basis: NDArray[np.float32]
    landmark_indices: NDArray[np.int64]

    @property
    def num_vertices(self) -> int:
        return len(self.mean)

    def vertices(
        self, shape: ArrayLike | None = None, expression: ArrayLike | None = None
    ) -> NDArray[np.float64]:
        """(V, 3) vertices for shape (S,) and expression (E,) coefficients (zeros if None)."""
        v = self.mean.astype(np.float64)
        # einsum mixes float32 bases with float64 coefficients without converting the whole basis
        if shape is not None:
            s = np.asarray(shape, np.float64)
            v = v + np.einsum("s,svc->vc", s, self.shape_basis[: len(s)])
        if expression is not None:
            e = np.asarray(expression, np.float64)
            v = v + np.einsum("e,evc->vc", e, self.expression_basis[: len(e)])
        return v

    def landmarks(
        self, shape: ArrayLike | None = None, expression: ArrayLike | None = None
    ) -> NDArray[np.float64]:
        """(68, 3) landmark points for the given coefficients."""
        return self.vertices(shape, expression)[self.landmark_indices]


def project(points: ArrayLike, quat: ArrayLike, coords: ArrayLike) -> NDArray[np.float64]:
    """Model points (..., 3) -> image points (..., 3): x, y pixels and z depth in pixels.

    Depth is relative to the labelled head centre; ``pt3d_68`` labels additionally shift z so that
    the mean depth of :data:`EYE_CORNERS` is 0 (see :func:`landmarks_to_label`).
    """
    x, y, size = np.asarray(coords, dtype=np.float64)
    rotated = (np.asarray(points, dtype=np.float64) - HEAD_CENTRE) @ quat_to_matrix(quat).T
    return size * rotated + np.array([x, y, 0.0])


def landmarks_to_label(image_points: ArrayLike) -> NDArray[np.float64]:
    """(68, 3) projected landmarks -> the ``pt3d_68`` convention (eye-corner mean depth 0)."""
    pts = np.array(image_points, dtype=np.float64)
    pts[..., 2] -= pts[..., EYE_CORNERS, 2].mean(axis=-1, keepdims=True)
    return pts
