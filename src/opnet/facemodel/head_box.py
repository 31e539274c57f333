"""The head box: the image extent of the posed mean face mask, from the forehead to the chin.

The original evaluation's default face box ("H_roi", ``PutRoiFromLandmarks(extend_to_forehead=True)``)
is the 2D bounding box of every vertex of the 3DDFA face model (``bfm_noneck_v3``: the Basel Face
Model without ears and neck) in its mean shape, posed with a sample's true rotation, head centre
and size. OpNet cannot ship that model, so by default the same region is cut out of OpNet's own
procedural head (:mod:`opnet.facemodel.procedural`, built on the mean 3D landmarks of real labels, which
match the 3DDFA mean landmarks to about 1 mm): the *face mask*, the part of the head surface

- below the hairline: a plane along x through the forehead surface at y = :data:`HAIRLINE_Y` that
  descends to y = :data:`TEMPLE_Y` at the ear plane, as the hairline does at the temples;
- in front of the ears: z <= :data:`EAR_PLANE_Z`;
- within |x| <= :data:`HALF_WIDTH` (the cheek and temple surface, no ears).

Model units and frame are those of :mod:`opnet.facemodel` (1 unit = the label head size). The box
of a posed point set equals the box of its convex hull, so only the hull's vertices are kept
(:func:`face_mask_hull`). Given the 3DDFA file (``opnet download 3ddfa-bfm``), its whole mean mesh
is the mask and the box is exactly the original's (:func:`mask_hull` of ``model.mean``).
"""

from __future__ import annotations

import functools

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.spatial import ConvexHull

from opnet.facemodel import HEAD_CENTRE, FaceModel
from opnet.geometry import Float64Array, quat_to_matrix, roi_from_points

HAIRLINE_Y = -1.10
"""Height of the hairline above the forehead, model units (the eyebrows are at about -0.48, the
chin at 0.88: the upper third of the face as tall as the middle one)."""
TEMPLE_Y = -0.55
"""Height of the hairline where it meets the ear plane (the top of the ear)."""
EAR_PLANE_Z = -0.05
"""The mask ends in front of the ears (the ear root), as the 3DDFA model does."""
HALF_WIDTH = 0.76
"""Half the width of the mask across the temples and cheeks (the jaw landmarks 0 and 16 are at
+-0.73)."""


def forehead_depth(vertices: Float64Array) -> float:
    """z of the mean surface's midline (|x| < 0.05) at height :data:`HAIRLINE_Y`, front side."""
    mid = vertices[(np.abs(vertices[:, 0]) < 0.05) & (vertices[:, 2] < 0.0)]
    order = np.argsort(mid[:, 1])
    return float(np.interp(HAIRLINE_Y, mid[order, 1], mid[order, 2]))


def mask_half_spaces(forehead_z: float) -> tuple[Float64Array, Float64Array]:
    """(P, 3) normals n and (P,) offsets d of the face mask {p : n . p <= d}."""
    rise = np.array([0.0, TEMPLE_Y - HAIRLINE_Y, EAR_PLANE_Z - forehead_z])
    hairline_normal = np.array([0.0, -rise[2], rise[1]])  # perpendicular to x and to the hairline
    anchor = np.array([0.0, HAIRLINE_Y, forehead_z])
    normals = np.array([hairline_normal, [0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [-1.0, 0.0, 0.0]])
    offsets = np.array([hairline_normal @ anchor, EAR_PLANE_Z, HALF_WIDTH, HALF_WIDTH])
    return normals, offsets


def _clipped_edges(vertices: Float64Array, triangles: NDArray[np.integer]) -> Float64Array:
    """End points (M, 3) of the mesh edges' parts inside the face mask (Liang-Barsky clipping),
    so that the mask's border follows the cut exactly rather than the nearest vertices."""
    edges = np.unique(np.sort(triangles[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2), axis=1), axis=0)
    a, b = vertices[edges[:, 0]], vertices[edges[:, 1]]
    normals, offsets = mask_half_spaces(forehead_depth(vertices))
    fa = a @ normals.T - offsets  # (E, P): <= 0 inside
    fb = b @ normals.T - offsets
    with np.errstate(divide="ignore", invalid="ignore"):
        t = fa / (fa - fb)  # where the edge crosses each plane
    entering = (fa > 0) & (fb <= 0)
    leaving = (fa <= 0) & (fb > 0)
    t0 = np.max(np.where(entering, t, 0.0), axis=1, initial=0.0)
    t1 = np.min(np.where(leaving, t, 1.0), axis=1, initial=1.0)
    outside = np.any((fa > 0) & (fb > 0), axis=1) | (t0 > t1)
    a, b, t0, t1 = a[~outside], b[~outside], t0[~outside], t1[~outside]
    return np.concatenate([a + t0[:, None] * (b - a), a + t1[:, None] * (b - a)])


def mask_hull(points: ArrayLike) -> Float64Array:
    """(K, 3) vertices of the convex hull of points (N, 3): the same boxes under any pose."""
    points = np.asarray(points, dtype=np.float64)
    return points[ConvexHull(points).vertices]


@functools.lru_cache(maxsize=1)
def face_mask_hull() -> Float64Array:
    """(K, 3) hull vertices of the face mask of OpNet's procedural head (model frame; built once)."""
    from opnet.facemodel.procedural import procedural_face_model

    model = procedural_face_model()
    return mask_hull(_clipped_edges(model.mean.astype(np.float64), model.triangles))


def model_mask_hull(model: FaceModel) -> Float64Array:
    """(K, 3) hull vertices of a whole face model's mean mesh (the 3DDFA model: the original's mask)."""
    return mask_hull(model.mean)


def head_boxes(quats: ArrayLike, coords: ArrayLike, hull: ArrayLike | None = None) -> Float64Array:
    """(N, 4) head boxes x0, y0, x1, y1 in pixels for true rotations (N, 4) xyzw and head centres and
    sizes ``coords`` (N, 3) in pixels; ``hull`` (K, 3) mask points, default :func:`face_mask_hull`."""
    points = (face_mask_hull() if hull is None else np.asarray(hull, dtype=np.float64)) - HEAD_CENTRE
    coords = np.asarray(coords, dtype=np.float64)
    rotated = np.einsum("nij,kj->nki", quat_to_matrix(quats), points)
    xy = coords[:, None, 2:3] * rotated[..., :2] + coords[:, None, :2]
    return roi_from_points(xy)
