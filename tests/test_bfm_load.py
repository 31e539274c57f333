"""The 3DDFA face model (bfm_noneck_v3.pkl format) loaded into our frame and units."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest
from prepare_fixtures import bfm_pickle, labels_of, random_fit, threeddfa_landmarks

from opnet.errors import OpNetError
from opnet.facemodel import landmarks_to_label, project
from opnet.facemodel.bfm import load_3ddfa


@pytest.fixture
def model_file(tmp_path, rng):
    path = tmp_path / "bfm_noneck_v3.pkl"
    return path, bfm_pickle(path, rng)


def test_layout_and_units(model_file):
    path, raw = model_file
    model = load_3ddfa(path)
    vertices = len(raw["u"]) // 3
    assert model.mean.shape == (vertices, 3) and model.shape_basis.shape == (40, vertices, 3)
    assert model.expression_basis.shape == (10, vertices, 3) and model.triangles.shape == (2 * vertices, 3)
    np.testing.assert_array_equal(model.landmark_indices, raw["keypoints"][::3] // 3)
    u = raw["u"].reshape(-1, 3).astype(np.float64)
    np.testing.assert_allclose(model.mean, np.stack([u[:, 0], -u[:, 1], -u[:, 2]], 1) / 1e5, rtol=1e-6)
    w = raw["w_shp"].reshape(vertices, 3, 40)[:, :, 7].astype(np.float64)
    np.testing.assert_allclose(model.shape_basis[7], 20 * w * [1, -1, -1], rtol=1e-6)


@pytest.mark.parametrize("seed", range(4))
def test_projection_with_labels_reproduces_3ddfa(model_file, seed):
    path, raw = model_file
    model = load_3ddfa(path)
    rng = np.random.default_rng(seed)
    fit = random_fit(rng, 448, 448)
    quat, coords, params = labels_of(fit, 448, 448)
    ours = landmarks_to_label(project(model.landmarks(params[:40], params[40:]), quat, coords))
    np.testing.assert_allclose(ours, threeddfa_landmarks(raw, fit, 448), atol=2e-3)


def test_label_size_is_width_over_448_of_the_fit_scale(model_file, rng):
    """The size label keeps the original's 0.5 * scale / 224 * W: for W = 450 the projection is
    450/448 times the 3DDFA one around the model origin (tx, H - ty)."""
    path, raw = model_file
    model = load_3ddfa(path)
    fit = random_fit(rng, 450, 450)
    quat, coords, params = labels_of(fit, 450, 450)
    ours = landmarks_to_label(project(model.landmarks(params[:40], params[40:]), quat, coords))
    reference = threeddfa_landmarks(raw, fit, 450)
    origin = np.array([fit["Pose_Para"][0, 3], 450 - fit["Pose_Para"][0, 4]])
    np.testing.assert_allclose(ours[:, :2] - origin, (reference[:, :2] - origin) * 450 / 448, atol=2e-3)


def test_triangles_face_outwards_whatever_the_stored_order(tmp_path, rng):
    raw = bfm_pickle(tmp_path / "a.pkl", rng)
    reversed_raw = dict(raw, tri=raw["tri"][::-1])
    (tmp_path / "b.pkl").write_bytes(pickle.dumps(reversed_raw))
    a, b = load_3ddfa(tmp_path / "a.pkl"), load_3ddfa(tmp_path / "b.pkl")
    np.testing.assert_array_equal(a.triangles, b.triangles)
    v = a.mean.astype(np.float64)[a.triangles]
    normals = np.cross(v[:, 1] - v[:, 0], v[:, 2] - v[:, 0])
    assert np.einsum("ij,ij->", normals, v[:, 0]) > 0


def test_triangles_from_a_separate_tri_pkl(tmp_path, rng):
    raw = bfm_pickle(tmp_path / "bfm_noneck_v3.pkl", rng, with_tri=False)
    assert load_3ddfa(tmp_path / "bfm_noneck_v3.pkl").triangles.shape == (0, 3)
    tri = rng.integers(0, len(raw["u"]) // 3, (3, 50)).astype(np.int32)
    (tmp_path / "tri.pkl").write_bytes(pickle.dumps(tri))
    assert load_3ddfa(tmp_path / "bfm_noneck_v3.pkl").triangles.shape == (50, 3)


class _Exploit:
    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_pickle_that_runs_code_is_refused(tmp_path):
    marker = tmp_path / "owned"
    (tmp_path / "evil.pkl").write_bytes(pickle.dumps({"u": _Exploit(str(marker))}))
    with pytest.raises(OpNetError, match="not a 3DDFA model pickle"):
        load_3ddfa(tmp_path / "evil.pkl")
    assert not marker.exists()


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda raw: raw.pop("w_exp"), "no 'w_exp'"),
        (lambda raw: raw.update(keypoints=raw["keypoints"][:-3]), "expected 204"),
        (lambda raw: raw.update(keypoints=raw["keypoints"] + 1), "not x, y, z indices"),
        (lambda raw: raw.update(w_shp=raw["w_shp"][:, :12]), "expected"),
    ],
)
def test_malformed_models_are_refused(tmp_path, rng, change, message):
    raw = bfm_pickle(tmp_path / "m.pkl", rng)
    change(raw)
    (tmp_path / "m.pkl").write_bytes(pickle.dumps(raw))
    with pytest.raises(OpNetError, match=message):
        load_3ddfa(tmp_path / "m.pkl")
