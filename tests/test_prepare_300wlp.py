"""``prepare 300wlp``: sequences per source face, 2D landmarks, pt3d_68 from the face model, subsets."""

from __future__ import annotations

import numpy as np
import pytest
from prepare_fixtures import (
    bfm_pickle,
    image_bytes,
    labels_of,
    mat_bytes,
    random_fit,
    threeddfa_landmarks,
    w300lp_members,
    write_zip,
)

from opnet.data import open_dataset
from opnet.errors import OpNetError
from opnet.facemodel.bfm import load_3ddfa
from opnet.prepare import W300lp, run_conversion

FACES = {
    ("HELEN", "HELEN_232194_1"): (0, 1, 2, 10),
    ("AFW", "AFW_134212_1"): (0, 3),
    ("IBUG", "IBUG_image_003_1"): (0,),
}
"""Source faces and their rotation indices k; k = 10 must sort after k = 2."""


@pytest.fixture
def dataset(tmp_path, rng):
    faces = {key: {k: random_fit(rng) for k in ks} for key, ks in FACES.items()}
    landmarks = {(*key, k): rng.uniform(100, 350, (68, 2)) for key, ks in FACES.items() for k in ks}
    del landmarks[("AFW", "AFW_134212_1", 3)]
    members = w300lp_members(rng, faces, landmarks)
    members["300W_LP/AFW_Flip/AFW_134212_1_0.jpg"] = image_bytes(rng, 450, 450)
    members["300W_LP/AFW_Flip/AFW_134212_1_0.mat"] = mat_bytes(**faces[("AFW", "AFW_134212_1")][0])
    return write_zip(tmp_path / "300W-LP.zip", members), faces, landmarks, members


def _order(faces):
    """(subset, face, k) in the expected output order: by subset, face, then k as a number."""
    return [(s, f, k) for (s, f) in sorted(faces) for k in sorted(faces[(s, f)])]


def test_sequences_labels_and_skips(tmp_path, dataset):
    archive, faces, landmarks, members = dataset
    summary = run_conversion(W300lp(), archive, tmp_path / "lp.h5")
    expected = [key for key in _order(faces) if key in landmarks]
    assert summary.written == len(expected) == 6
    assert summary.skipped == {"no landmark file (landmarks/<subset>/<name>_pts.mat)": 1}
    assert any("no pt3d_68" in note for note in summary.notes)
    with open_dataset(tmp_path / "lp.h5") as ds:
        assert "pt3d_68" not in ds.fields and ds.fields["pt2d_68"].sample_shape == (68, 2)
        np.testing.assert_array_equal(ds.sequence_starts, [0, 1, 5, 6])  # AFW (k=3 skipped), HELEN x4, IBUG
        for i, (subset, face, k) in enumerate(expected):
            fit = faces[(subset, face)][k]
            quat, coords, params = labels_of(fit, 450, 450)
            assert ds.read_image_bytes(i) == members[f"300W_LP/{subset}/{face}_{k}.jpg"]
            assert abs(np.dot(ds.read_field("quats", [i])[0], quat)) == pytest.approx(1, abs=1e-6)
            np.testing.assert_allclose(ds.read_field("coords", [i])[0], coords + [0.5, 0.5, 0], rtol=1e-6)
            np.testing.assert_allclose(ds.read_field("shapeparams", [i])[0], params, rtol=1e-6, atol=1e-7)
            pts = landmarks[(subset, face, k)] + 0.5  # pixel i centred at i + 0.5, docs/format.md
            np.testing.assert_allclose(ds.read_field("pt2d_68", [i])[0], pts, rtol=1e-6)
            box = [*pts.min(axis=0), *pts.max(axis=0)]
            np.testing.assert_allclose(ds.read_field("rois", [i])[0], box, rtol=1e-6)


def test_pt3d_from_the_face_model_is_the_3ddfa_projection(tmp_path, dataset, rng):
    archive, faces, landmarks, _ = dataset
    raw = bfm_pickle(tmp_path / "bfm.pkl", rng)
    summary = run_conversion(W300lp(face_model=load_3ddfa(tmp_path / "bfm.pkl")), archive, tmp_path / "lp.h5")
    assert not summary.notes
    with open_dataset(tmp_path / "lp.h5") as ds:
        pt3d, rois = ds.read_field("pt3d_68"), ds.read_field("rois")
    for points, roi, (subset, face, k) in zip(
        pt3d, rois, [x for x in _order(faces) if x in landmarks], strict=True
    ):
        want = threeddfa_landmarks(raw, faces[(subset, face)][k], 450) + [0.5, 0.5, 0]
        np.testing.assert_allclose(points, want, atol=2e-3)
        np.testing.assert_allclose(roi, [*want[:, :2].min(axis=0), *want[:, :2].max(axis=0)], atol=2e-3)


@pytest.mark.parametrize("subset, ks", [("original", {0}), ("synthetic", {1, 2, 10})])
def test_subsets(tmp_path, dataset, subset, ks):
    archive, faces, landmarks, _ = dataset
    run_conversion(W300lp(subset=subset), archive, tmp_path / "lp.h5")
    expected = [key for key in _order(faces) if key in landmarks and key[2] in ks]
    with open_dataset(tmp_path / "lp.h5") as ds:
        assert len(ds) == len(expected)
        want_pts = np.stack([landmarks[key] for key in expected]) + 0.5
        np.testing.assert_allclose(ds.read_field("pt2d_68"), want_pts, rtol=1e-6)


def test_head_box_needs_the_face_model():
    with pytest.raises(OpNetError, match="--roi head: needs a face model"):
        W300lp(roi="head")
