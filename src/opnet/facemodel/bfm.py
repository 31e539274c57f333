"""The 3DDFA face model (``bfm_noneck_v3.pkl``, a Basel Face Model 2009 derivative) as a :class:`FaceModel`.

The pickle (cleardusk/3DDFA, 3DDFA_V2 ``configs/``) is a dict of numpy arrays:
``u`` (3V, 1) mean shape, x y z per vertex, in micrometres; ``w_shp`` (3V, S) and ``w_exp`` (3V, E)
shape and expression bases; ``keypoints`` (204,) indices into the flattened (3V,) array, x y z of
the 68 landmarks (vertex = keypoint // 3); ``tri`` (3, T) triangles where present (v3 keeps them
in a separate ``tri.pkl``, looked up next to the model).

Conversion into our frame and units (see :mod:`opnet.facemodel`): the model's y axis points up and
its z axis towards the viewer, so y and z are negated (a rotation by 180 deg about x, so triangle
orientation is kept); one unit is 1e5 micrometres (the label head size). The bases are scaled so
that the coefficients are ``shapeparams`` as stored in datasets: ``Shape_Para[:40] / 20 / 1e5`` and
``Exp_Para[:10] / 5`` (:func:`opnet.prepare.threeddfa.shape_params`). With these, projecting the
landmarks with a sample's labels reproduces the 3DDFA projection of its ``Pose_Para``.
"""

from __future__ import annotations

import io
import os
import pickle
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from opnet.errors import OpNetError
from opnet.facemodel import FaceModel

MICROMETRES_PER_UNIT = 1e5
SHAPE_SCALE = 20.0
EXPRESSION_SCALE = 5e-5
_FLIP_YZ = np.array([1.0, -1.0, -1.0])

_ALLOWED_GLOBALS = {
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "scalar"),
    ("_codecs", "encode"),
}


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles dicts of numpy arrays only: a model file cannot run code."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(f"refers to {module}.{name}, which a model file has no use for")
        return super().find_class(module, name)


def _load_pickle(path: Path) -> Any:
    try:
        return _ArrayUnpickler(io.BytesIO(path.read_bytes()), encoding="latin1").load()
    except FileNotFoundError:
        raise OpNetError(f"{path}: no such file") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError) as e:
        raise OpNetError(f"{path}: not a 3DDFA model pickle ({e})") from None


def _array(raw: dict, key: str, path: Path) -> NDArray:
    if key not in raw:
        raise OpNetError(f"{path}: no '{key}'; a 3DDFA model has u, w_shp, w_exp and keypoints")
    return np.asarray(raw[key])


def _bases(raw: dict, path: Path, vertices: int, shape_dim: int, exp_dim: int) -> tuple[NDArray, NDArray]:
    bases = []
    for key, dim, scale in (("w_shp", shape_dim, SHAPE_SCALE), ("w_exp", exp_dim, EXPRESSION_SCALE)):
        w = _array(raw, key, path)
        if w.ndim != 2 or w.shape[0] != 3 * vertices or w.shape[1] < dim:
            raise OpNetError(f"{path}: '{key}' has shape {w.shape}, expected ({3 * vertices}, >= {dim})")
        basis = w[:, :dim].astype(np.float64).reshape(vertices, 3, dim).transpose(2, 0, 1)
        bases.append((scale * basis * _FLIP_YZ).astype(np.float32))
    return bases[0], bases[1]


def _landmark_indices(raw: dict, path: Path, vertices: int) -> NDArray[np.int64]:
    keypoints = _array(raw, "keypoints", path).astype(np.int64).ravel()
    if keypoints.shape != (204,):
        raise OpNetError(f"{path}: 'keypoints' has {keypoints.size} entries, expected 204 (x, y, z of 68)")
    xyz = keypoints.reshape(68, 3)
    if np.any(xyz[:, 0] % 3 != 0) or np.any(xyz - xyz[:, :1] != np.arange(3)) or xyz.max() >= 3 * vertices:
        raise OpNetError(f"{path}: 'keypoints' are not x, y, z indices of 68 vertices")
    return xyz[:, 0] // 3


def _triangles(raw: dict, path: Path, mean: NDArray, triangles_path: Path | None) -> NDArray[np.int32]:
    if "tri" in raw:
        tri = np.asarray(raw["tri"])
    else:
        candidate = triangles_path or path.with_name("tri.pkl")
        if not candidate.is_file():
            return np.zeros((0, 3), np.int32)
        tri = np.asarray(_load_pickle(candidate))
    if tri.ndim != 2 or 3 not in tri.shape:
        raise OpNetError(f"{path}: triangles have shape {tri.shape}, expected (3, T) or (T, 3)")
    tri = tri.T if tri.shape[0] == 3 and tri.shape[1] != 3 else tri
    tri = tri.astype(np.int64)
    if tri.min() < 0 or tri.max() >= len(mean):
        raise OpNetError(f"{path}: triangle indices outside 0..{len(mean) - 1}")
    return _outward(tri, mean).astype(np.int32)


def _outward(tri: NDArray, mean: NDArray) -> NDArray:
    """Triangles ordered counter-clockwise seen from outside, i.e. normals pointing away from the
    model origin (the middle of the head, behind the face)."""
    a, b, c = mean[tri[:, 0]], mean[tri[:, 1]], mean[tri[:, 2]]
    outward = np.einsum("ij,ij->i", np.cross(b - a, c - a), a).sum()
    return tri if outward >= 0 else tri[:, ::-1]


def load_3ddfa(
    path: str | os.PathLike,
    triangles_path: str | os.PathLike | None = None,
    shape_dim: int = 40,
    exp_dim: int = 10,
) -> FaceModel:
    """Loads ``bfm_noneck_v3.pkl`` (or another 3DDFA model pickle) into our frame and units.

    Keeps the first ``shape_dim`` shape and ``exp_dim`` expression components (the ones datasets
    store in ``shapeparams``). Raises :class:`OpNetError` for a file that is not such a model.
    """
    path = Path(path)
    raw = _load_pickle(path)
    if not isinstance(raw, dict):
        raise OpNetError(f"{path}: holds a {type(raw).__name__}, expected the dict of a 3DDFA model")
    u = _array(raw, "u", path).astype(np.float64).ravel()
    if u.size == 0 or u.size % 3:
        raise OpNetError(f"{path}: 'u' has {u.size} values, expected x, y, z per vertex")
    vertices = u.size // 3
    mean = u.reshape(vertices, 3) * _FLIP_YZ / MICROMETRES_PER_UNIT
    shape_basis, expression_basis = _bases(raw, path, vertices, shape_dim, exp_dim)
    tri_path = Path(triangles_path) if triangles_path is not None else None
    return FaceModel(
        mean=mean.astype(np.float32),
        triangles=_triangles(raw, path, mean, tri_path),
        shape_basis=shape_basis,
        expression_basis=expression_basis,
        landmark_indices=_landmark_indices(raw, path, vertices),
    )
