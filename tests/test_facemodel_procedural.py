"""The procedural head: a closed, consistently oriented, symmetric mesh in the face-model units."""

from __future__ import annotations

import numpy as np
import pytest

from opnet.facemodel import EYE_CORNERS, HEAD_CENTRE, FaceModel
from opnet.facemodel.procedural import LANDMARK_TEMPLATE, procedural_face_model, procedural_head
from opnet.geometry import IBUG68_MIRROR

MIRROR_X = np.array([-1.0, 1.0, 1.0])


@pytest.fixture(scope="module")
def head():
    return procedural_head()


def _directed_edges(triangles: np.ndarray) -> np.ndarray:
    t = np.asarray(triangles)
    return np.concatenate([t[:, [0, 1]], t[:, [1, 2]], t[:, [2, 0]]])


def test_it_is_a_face_model_with_consistent_shapes(head):
    model = procedural_face_model()
    assert isinstance(model, FaceModel)
    v = model.num_vertices
    assert model.mean.shape == (v, 3) and model.mean.dtype == np.float32
    assert model.triangles.min() == 0 and model.triangles.max() == v - 1
    assert model.shape_basis.shape[1:] == (v, 3) and len(model.shape_basis) >= 20
    assert model.expression_basis.shape == (0, v, 3)
    assert model.landmark_indices.shape == (68,)
    assert len(set(model.landmark_indices.tolist())) == 68


def test_mesh_is_closed_and_oriented_outwards(head):
    model = head.model
    edges = _directed_edges(model.triangles)
    # Closed and consistently oriented: every directed edge once, and its reverse once.
    keys = edges[:, 0] * model.num_vertices + edges[:, 1]
    reverse = edges[:, 1] * model.num_vertices + edges[:, 0]
    assert len(np.unique(keys)) == len(keys)
    assert np.array_equal(np.sort(keys), np.sort(reverse))
    num_edges = len(edges) // 2
    assert model.num_vertices - num_edges + len(model.triangles) == 2  # a sphere
    v = model.mean.astype(np.float64)
    a, b, c = (v[model.triangles[:, k]] for k in range(3))
    assert np.einsum("ij,ij->i", a, np.cross(b, c)).sum() / 6 > 3.0  # positive volume: normals point out


def test_no_folded_triangles_for_random_shapes(head, rng):
    model = head.model
    for _ in range(3):
        v = model.vertices(np.clip(rng.standard_normal(len(model.shape_basis)), -2.5, 2.5))
        a, b, c = (v[model.triangles[:, k]] for k in range(3))
        normals = np.cross(b - a, c - a)
        m = model.mean.astype(np.float64)
        mean_normals = np.cross(
            m[model.triangles[:, 1]] - m[model.triangles[:, 0]],
            m[model.triangles[:, 2]] - m[model.triangles[:, 0]],
        )
        assert np.mean(np.einsum("ij,ij->i", normals, mean_normals) > 0) > 0.999


def test_mean_mesh_and_landmarks_are_mirror_symmetric(head):
    model, mirror = head.model, head.mirror
    np.testing.assert_allclose(model.mean[mirror] * MIRROR_X, model.mean, atol=1e-6)
    assert np.array_equal(mirror[mirror], np.arange(model.num_vertices))
    # Mirrored triangles are triangles of the mesh (with the opposite winding).
    mirrored = {tuple(np.roll(t, -np.argmin(t))) for t in mirror[model.triangles][:, ::-1]}
    assert mirrored == {tuple(np.roll(t, -np.argmin(t))) for t in model.triangles}
    assert np.array_equal(mirror[model.landmark_indices], model.landmark_indices[IBUG68_MIRROR])


def test_landmarks_sit_on_the_features_in_head_units(head):
    lm = head.model.landmarks()
    # Head centre label between the eyes, at the depth of the eye corners.
    np.testing.assert_allclose(lm[list(EYE_CORNERS)].mean(axis=0), HEAD_CENTRE, atol=0.06)
    # x right, y down, the face looking along -z: the person's right side is at image left.
    assert lm[0, 0] < -0.5 and lm[16, 0] > 0.5 and lm[36, 0] < lm[39, 0] < 0 < lm[42, 0] < lm[45, 0]
    assert lm[19, 1] < lm[37, 1] < lm[30, 1] < lm[51, 1] < lm[57, 1] < lm[8, 1]
    assert lm[30, 2] < lm[27, 2] < lm[39, 2]  # nose tip in front of the bridge, in front of the eyes
    assert np.linalg.norm(lm - LANDMARK_TEMPLATE, axis=1).mean() < 0.04


def test_head_proportions_match_the_label_units(head):
    v = head.model.mean
    width = np.ptp(v[:, 0])
    assert 1.4 < width < 1.9  # across the ears
    assert 2.0 < np.ptp(v[:, 1]) < 2.5  # crown to chin
    face_front = v[np.abs(v[:, 0]) < 0.3]
    assert face_front[:, 2].min() == pytest.approx(-1.31, abs=0.05)  # the nose tip


def test_shape_basis_moves_landmarks_by_plausible_amounts(head):
    model = head.model
    moves = np.linalg.norm(model.shape_basis[:, model.landmark_indices], axis=-1).max(axis=1)
    assert np.all(moves < 0.08) and np.all(np.linalg.norm(model.shape_basis, axis=-1).max(axis=1) > 0.005)
