"""Where the keypoint model comes from: PCA of the training labels, or a 3D face model file.

The fit needs no face model. Each ``pt3d_68`` label is brought into the head frame with its own
pose (``quats``, ``coords``): v = R^T ((p - (x, y, t)) / size) + HEAD_CENTRE. The labels fix depth
only up to an offset t per sample (their eye corners have mean depth 0), which moves all 68
points of a sample along its viewing axis R^T e_z. So the fit splits each sample into its
centroid and its centred shape, which the offset does not change:

1. PCA of the centred shapes gives the mean shape and the basis;
2. the centroid is modelled as linear in the shape coefficients, mu + G alpha, and fitted by least
   squares on its components across each sample's viewing axis (the observable part), with a weak
   prior (mu near the plain mean, G near 0) for directions no sample observes, e.g. all-frontal data.

No iteration; exact for labels made from a linear model, whatever the number of components.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence

import numpy as np
import torch
from numpy.typing import ArrayLike, NDArray

from opnet.data import open_dataset
from opnet.errors import OpNetError
from opnet.facemodel import HEAD_CENTRE, FaceModel
from opnet.geometry import IBUG68_MIRROR, canonical_quat, mirror_points, mirror_quat, quat_to_matrix
from opnet.models.keypoints import NUM_POINTS, KeypointModel, pose_keypoints

log = logging.getLogger(__name__)

_PRIOR = 1e-4
"""Weight of the centroid prior relative to the data term of one sample."""
_RELATIVE_EIGEN_FLOOR = 1e-10
_FIT_CHUNK = 256


def _checked_labels(
    quats: ArrayLike, coords: ArrayLike, points: ArrayLike
) -> tuple[NDArray, NDArray, NDArray]:
    q = np.asarray(quats, np.float64)
    c = np.asarray(coords, np.float64)
    p = np.asarray(points, np.float64)
    n = len(q)
    if q.shape != (n, 4) or c.shape != (n, 3) or p.shape != (n, NUM_POINTS, 3):
        raise OpNetError(
            "keypoint fit needs quats (N, 4), coords (N, 3), pt3d_68 (N, 68, 3); "
            f"got {q.shape}, {c.shape}, {p.shape}"
        )
    ok = np.isfinite(q).all(1) & np.isfinite(c).all(1) & np.isfinite(p).all((1, 2)) & (c[:, 2] > 0)
    if ok.sum() < 2:
        raise OpNetError(
            f"keypoint fit needs at least 2 samples with finite labels and size > 0, got {ok.sum()}"
        )
    return canonical_quat(q[ok]), c[ok], p[ok]


def _with_mirrored(q: NDArray, c: NDArray, p: NDArray) -> tuple[NDArray, NDArray, NDArray]:
    """Adds the horizontally mirrored copy of every sample (mirror axis x = 0)."""
    cm = c * np.array([-1.0, 1.0, 1.0])
    pm = mirror_points(p, 0.0)[:, IBUG68_MIRROR]
    return np.concatenate([q, mirror_quat(q)]), np.concatenate([c, cm]), np.concatenate([p, pm])


def _head_frame(q: NDArray, c: NDArray, p: NDArray) -> tuple[NDArray, NDArray]:
    """Labels -> head-frame points at depth offset 0 (N, 68, 3), and viewing axes R^T e_z (N, 3)."""
    rot = quat_to_matrix(q)
    local = (p - np.concatenate([c[:, :2], np.zeros((len(c), 1))], axis=1)[:, None, :]) / c[:, 2, None, None]
    return np.einsum("nji,npj->npi", rot, local) + HEAD_CENTRE, rot[:, 2, :]


def _pca(x: NDArray, k: int) -> tuple[NDArray, NDArray, NDArray]:
    """Mean (D,), top-k orthonormal directions (D, k) and variances (k,) of the rows of x (N, D)."""
    mean = x.mean(axis=0)
    centred = x - mean
    variances, vectors = np.linalg.eigh(centred.T @ centred / max(1, len(x) - 1))
    order = np.argsort(variances)[::-1][:k]
    return mean, vectors[:, order], np.clip(variances[order], 0.0, None)


def _centroid_model(centroids: NDArray, axes: NDArray, coeffs: NDArray) -> NDArray:
    """(3, K + 1) matrix [mu, G] with centroid = mu + G alpha, fitted across each sample's axis.

    Minimises sum_n |P_n (c_n - [mu, G] f_n)|^2 + prior, with f_n = (1, alpha_n) and
    P_n = I - w_n w_n^T, via the normal equations in vec([mu, G]) (size 3 (K + 1)).
    """
    n = len(centroids)
    f = np.column_stack([np.ones(n), coeffs])
    u = (f[:, :, None] * axes[:, None, :]).reshape(n, -1)  # kron(f_n, w_n)
    across = centroids - np.sum(centroids * axes, axis=1, keepdims=True) * axes
    prior = np.zeros((f.shape[1], 3))
    prior[0] = centroids.mean(axis=0)
    lhs = np.kron(f.T @ f, np.eye(3)) - u.T @ u + _PRIOR * n * np.eye(u.shape[1])
    rhs = (f[:, :, None] * across[:, None, :]).reshape(n, -1).sum(axis=0) + _PRIOR * n * prior.ravel()
    return np.linalg.solve(lhs, rhs).reshape(f.shape[1], 3).T


def fit_keypoint_model(
    quats: ArrayLike,
    coords: ArrayLike,
    pt3d_68: ArrayLike,
    num_params: int = 50,
    mirror: bool = True,
    max_samples: int = 20000,
    seed: int = 0,
) -> KeypointModel:
    """Learns mean + ``num_params`` basis vectors from labels: quats (N, 4) xyzw, coords (N, 3)
    x, y, size and pt3d_68 (N, 68, 3) in the same (pixel) units, depth in ``pt3d_68`` convention.

    Samples with non-finite labels are skipped; at most ``max_samples`` (a seeded random subset)
    are used, plus their mirror images if ``mirror``. Components beyond the rank of the data are
    zero. The basis is scaled so that the coefficients of the labels have unit variance.
    """
    q, c, p = _checked_labels(quats, coords, pt3d_68)
    if len(q) > max_samples:
        keep = np.sort(np.random.default_rng(seed).choice(len(q), max_samples, replace=False))
        q, c, p = q[keep], c[keep], p[keep]
    if mirror:
        q, c, p = _with_mirrored(q, c, p)
    v0, axes = _head_frame(q, c, p)
    centroids = v0.mean(axis=1)
    shapes = (v0 - centroids[:, None, :]).reshape(len(v0), -1)
    mean_shape, directions, variances = _pca(shapes, num_params)
    used = variances > _RELATIVE_EIGEN_FLOOR * max(variances.max(), 1e-30)
    scales = np.where(used, np.sqrt(variances), 0.0)
    coeffs = (shapes - mean_shape) @ directions / np.where(used, scales, 1.0) * used
    placement = _centroid_model(centroids, axes, coeffs)
    mean = mean_shape.reshape(NUM_POINTS, 3) + placement[:, 0]
    shift = placement[:, 1:].T * used[:, None]  # (K, 3): centroid change per unit coefficient
    basis = (directions * scales).T.reshape(num_params, NUM_POINTS, 3) + shift[:, None, :]
    log.info("keypoint model: %d samples, %d of %d components used", len(v0), used.sum(), num_params)
    return KeypointModel(torch.from_numpy(mean), torch.from_numpy(basis))


LABEL_FIELDS = ("quats", "coords", "pt3d_68")


def keypoint_model_from_datasets(
    paths: Sequence[str | os.PathLike], num_params: int = 50, max_samples: int = 20000, seed: int = 0
) -> KeypointModel:
    """:func:`fit_keypoint_model` on the labels of every dataset file that has quats, coords and pt3d_68.

    Files without these fields (2D-only landmarks, no pose) are skipped; none left is an error.
    """
    labels: list[tuple[NDArray, ...]] = []
    for path in paths:
        ds = open_dataset(path, require_images=False)
        if all(name in ds.fields for name in LABEL_FIELDS):
            labels.append(tuple(ds.read_field(name) for name in LABEL_FIELDS))
        else:
            log.info("keypoint model: %s skipped (no %s)", path, " / ".join(LABEL_FIELDS))
    if not labels:
        names = ", ".join(str(p) for p in paths)
        raise OpNetError(f"{names}: no dataset has {', '.join(LABEL_FIELDS)} to fit the keypoint model on")
    quats, coords, points = (np.concatenate(parts) for parts in zip(*labels, strict=True))
    return fit_keypoint_model(quats, coords, points, num_params, max_samples=max_samples, seed=seed)


def keypoint_model_from_face_model(face: FaceModel, num_params: int = 50) -> KeypointModel:
    """The 68 landmarks of a 3D face model (e.g. a 3DDFA file) with its shape then expression basis.

    The first ``num_params`` basis vectors are used (zero-padded if the model has fewer); the
    coefficients keep the face model's own scaling.
    """
    idx = np.asarray(face.landmark_indices)
    bases = np.concatenate([np.asarray(face.shape_basis)[:, idx], np.asarray(face.expression_basis)[:, idx]])
    basis = np.zeros((num_params, NUM_POINTS, 3))
    count = min(num_params, len(bases))
    basis[:count] = bases[:count]
    return KeypointModel(torch.from_numpy(face.landmarks()), torch.from_numpy(basis))


def _least_squares(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Batched min |a x - b| via the normal equations; a tiny ridge zeroes unused (all-zero) columns."""
    gram = a.transpose(1, 2) @ a
    ridge = 1e-10 * gram.diagonal(dim1=1, dim2=2).sum(dim=-1).clamp_min(1e-300)
    eye = torch.eye(gram.shape[-1], dtype=gram.dtype)
    return torch.linalg.solve(gram + ridge[:, None, None] * eye, a.transpose(1, 2) @ b)


@torch.no_grad()
def fit_shape_params(
    model: KeypointModel, quats: ArrayLike, coords: ArrayLike, pt3d_68: ArrayLike
) -> NDArray[np.float64]:
    """Least-squares coefficients (N, K) that best reproduce each label from its own pose.

    Inputs as for :func:`fit_keypoint_model` (all samples must be finite). Depth follows the
    ``pt3d_68`` convention, so the per-sample depth offset does not enter.
    """
    q = torch.as_tensor(canonical_quat(quats), dtype=torch.float64)
    c = torch.as_tensor(np.asarray(coords), dtype=torch.float64)
    target = torch.as_tensor(np.asarray(pt3d_68), dtype=torch.float64)
    mean, basis = model.mean.double(), model.basis.double()
    shapes = torch.cat([mean[None], mean + basis])  # (1 + K, 68, 3)
    out = []
    for lo in range(0, len(q), _FIT_CHUNK):
        qs, cs, ts = q[lo : lo + _FIT_CHUNK], c[lo : lo + _FIT_CHUNK], target[lo : lo + _FIT_CHUNK]
        n, k1 = len(qs), len(shapes)
        posed = pose_keypoints(
            shapes.repeat(n, 1, 1), qs.repeat_interleave(k1, 0), cs.repeat_interleave(k1, 0)
        )
        posed = posed.reshape(n, k1, -1)
        design = (posed[:, 1:] - posed[:, :1]).transpose(1, 2)  # (n, 204, K)
        rhs = (ts.reshape(n, -1) - posed[:, 0])[..., None]
        out.append(_least_squares(design, rhs)[..., 0])
    return torch.cat(out).numpy()
