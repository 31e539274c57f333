"""``prepare aflw2k3d``: layout of the original's file, label formulas, order, workers, head boxes."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from conftest import AFLW_MINI, needs_shared
from prepare_fixtures import aflw_members, bfm_pickle, mat_bytes, random_fit, threeddfa_landmarks, write_zip
from scipy.spatial.transform import Rotation

from opnet.data import open_dataset
from opnet.facemodel.bfm import load_3ddfa
from opnet.geometry import quat_to_euler
from opnet.parallel import ordered_map
from opnet.prepare import Aflw2k3d, run_conversion, runner

WIDTH, HEIGHT = 450, 420


@pytest.fixture
def fits(rng):
    return {f"image{i:05d}": random_fit(rng, WIDTH, HEIGHT) for i in (3, 17, 2, 40, 8)}


@pytest.fixture
def aflw_zip(tmp_path, rng, fits):
    members = aflw_members(rng, fits, WIDTH, HEIGHT)
    return write_zip(tmp_path / "AFLW2000-3D.zip", members), members


def _expected(fit: dict) -> dict[str, np.ndarray]:
    """Labels of one .mat file by REFERENCE.md §1-§3, written out here, in OpNet's pixel corners
    (the files centre pixel i at i, docs/format.md)."""
    pitch, yaw, roll, tx, ty, _, scale = fit["Pose_Para"][0]
    rot = Rotation.from_euler("XYZ", [-pitch, yaw, roll])
    size = 0.5 * scale / 224 * WIDTH * 1e5
    centre = np.array([tx, HEIGHT - ty]) + (rot.as_matrix() @ [0, -0.26, -0.9] * size)[:2] + 0.5
    pts = fit["pt3d_68"].T.copy()
    pts[:, 2] -= pts[[36, 39, 42, 45], 2].mean()
    pts[:, 2] *= -1
    pts[:, :2] += 0.5
    return {
        "quat": rot.as_quat(),
        "coords": np.array([*centre, size]),
        "pt3d_68": pts,
        "rois": np.array([pts[:, 0].min(), pts[:, 1].min(), pts[:, 0].max(), pts[:, 1].max()]),
        "shapeparams": np.concatenate([fit["Shape_Para"][:40, 0] / 2e6, fit["Exp_Para"][:10, 0] / 5]),
    }


def test_labels_follow_the_reference_formulas(tmp_path, aflw_zip, fits):
    archive, members = aflw_zip
    summary = run_conversion(Aflw2k3d(), archive, tmp_path / "aflw.h5")
    assert summary.written == 5 and not summary.skipped
    with open_dataset(tmp_path / "aflw.h5") as ds:
        assert ds.sequence_starts is None
        for i, stem in enumerate(sorted(fits)):
            want = _expected(fits[stem])
            assert ds.read_image_bytes(i) == members[f"AFLW2000/{stem}.jpg"]
            q = ds.read_field("quats", [i])[0]
            assert q[3] >= 0 and abs(np.dot(q, want["quat"])) == pytest.approx(1.0, abs=1e-6)
            for name in ("coords", "pt3d_68", "rois", "shapeparams"):
                np.testing.assert_allclose(
                    ds.read_field(name, [i])[0], want[name], rtol=1e-6, atol=1e-4, err_msg=name
                )


def test_a_known_rotation_and_its_euler_angles_come_back(tmp_path, rng):
    """A .mat written from a rotation matrix (angles by the evaluation's decomposition) gives that
    rotation back, and the angles decode as written."""
    fits, rotations = {}, []
    for i in range(6):
        rot = Rotation.from_euler("ZYX", rng.uniform([-1, -1.4, -1], [1, 1.4, 1]))
        flipped = np.diag([1, 1, -1]) @ rot.as_matrix() @ np.diag([1, 1, -1])
        pitch, yaw, roll = Rotation.from_matrix(flipped).as_euler("XYZ") * [1, -1, 1]
        fit = random_fit(rng, WIDTH, HEIGHT)
        fit["Pose_Para"][0, :3] = [pitch, yaw, roll]
        fits[f"image{i:05d}"] = fit
        rotations.append(rot)
    write_zip(tmp_path / "a.zip", aflw_members(rng, fits, WIDTH, HEIGHT))
    run_conversion(Aflw2k3d(), tmp_path / "a.zip", tmp_path / "a.h5")
    with open_dataset(tmp_path / "a.h5") as ds:
        quats = ds.read_field("quats").astype(np.float64)
    for q, rot, fit in zip(quats, rotations, [fits[k] for k in sorted(fits)], strict=True):
        assert (Rotation.from_quat(q) * rot.inv()).magnitude() < 1e-6
        np.testing.assert_allclose(quat_to_euler(q), fit["Pose_Para"][0, :3], atol=1e-6)


@needs_shared(AFLW_MINI)
def test_layout_is_exactly_that_of_the_original_file(tmp_path, aflw_zip):
    run_conversion(Aflw2k3d(), aflw_zip[0], tmp_path / "aflw.h5")
    with h5py.File(AFLW_MINI, "r") as real, h5py.File(tmp_path / "aflw.h5", "r") as ours:
        assert sorted(ours) == sorted(real)
        for name in real:
            assert ours[name].dtype == real[name].dtype, name
            assert h5py.check_vlen_dtype(ours[name].dtype) == h5py.check_vlen_dtype(real[name].dtype), name
            assert ours[name].shape[1:] == real[name].shape[1:], name
            assert dict(ours[name].attrs) == dict(real[name].attrs), name
            assert {k: type(v) for k, v in ours[name].attrs.items()} == {
                k: type(v) for k, v in real[name].attrs.items()
            }, name
        assert dict(ours.attrs) == dict(real.attrs)


@needs_shared(AFLW_MINI)
def test_real_labels_are_consistent_as_our_formulas_assume():
    """In the real file, landmarks brought back into the head frame by quats and coords agree across
    people (the z flip, rotation and centre conventions fit together), and the stored rois are the box
    of the stored landmarks (both read as stored, with h5py)."""
    with h5py.File(AFLW_MINI, "r") as f:
        pts, coords = f["pt3d_68"][...].astype(np.float64), f["coords"][...].astype(np.float64)
        rot = Rotation.from_quat(f["quats"][...].astype(np.float64)).as_matrix()
        rois = f["rois"][...]
    centred = pts - np.concatenate([coords[:, :2], np.zeros((len(pts), 1))], axis=1)[:, None]
    local = np.einsum("nji,nkj->nki", rot, centred) / coords[:, 2, None, None]
    assert np.abs(local - local.mean(axis=0)).max() < 0.25
    mean = local.mean(axis=0)
    assert mean[36, 0] < -0.3 and mean[45, 0] > 0.3 and mean[30, 2] < -0.3  # right eye left, nose forward
    np.testing.assert_allclose(mean[[36, 39, 42, 45], 1].mean(), 0.0, atol=0.05)  # centre at eye level
    np.testing.assert_allclose(rois[:, :2], pts[:, :, :2].min(axis=1), atol=1e-4)
    np.testing.assert_allclose(rois[:, 2:], pts[:, :, :2].max(axis=1), atol=1e-4)
    np.testing.assert_allclose(pts[:, [36, 39, 42, 45], 2].mean(axis=1), 0.0, atol=1e-3)


def test_output_is_identical_for_any_number_of_workers(tmp_path, rng, monkeypatch):
    fits = {f"image{i:05d}": random_fit(rng, 80, 60) for i in range(140)}
    write_zip(tmp_path / "a.zip", aflw_members(rng, fits, 80, 60))
    pooled = []
    monkeypatch.setattr(runner, "ordered_map", lambda *a, **k: pooled.append(a[2]) or ordered_map(*a, **k))
    run_conversion(Aflw2k3d(), tmp_path / "a.zip", tmp_path / "one.h5", workers=1)
    run_conversion(Aflw2k3d(), tmp_path / "a.zip", tmp_path / "two.h5", workers=2)
    assert pooled == [2]
    with h5py.File(tmp_path / "one.h5", "r") as a, h5py.File(tmp_path / "two.h5", "r") as b:
        assert len(a["quats"]) == 140
        for name in a:
            for x, y in zip(a[name][...], b[name][...], strict=True):
                assert np.array_equal(x, y), name


def test_limit_and_the_original_order(tmp_path, aflw_zip, fits):
    archive, members = aflw_zip
    run_conversion(Aflw2k3d(order="original"), archive, tmp_path / "o.h5", limit=3)
    names = sorted(fits)
    np.random.RandomState(123).shuffle(names)
    with open_dataset(tmp_path / "o.h5") as ds:
        assert len(ds) == 3
        assert [ds.read_image_bytes(i) for i in range(3)] == [members[f"AFLW2000/{n}.jpg"] for n in names[:3]]


def test_head_box_from_the_face_model(tmp_path, aflw_zip, fits, rng):
    raw = bfm_pickle(tmp_path / "bfm.pkl", rng)
    run_conversion(
        Aflw2k3d(roi="head", face_model=load_3ddfa(tmp_path / "bfm.pkl")), aflw_zip[0], tmp_path / "h.h5"
    )
    with open_dataset(tmp_path / "h.h5") as ds:
        rois = ds.read_field("rois")
    for roi, stem in zip(rois, sorted(fits), strict=True):
        fit = fits[stem]
        mesh_raw = dict(raw, keypoints=np.arange(len(raw["u"])))  # every vertex as a "landmark"
        mesh = threeddfa_landmarks(mesh_raw, fit, HEIGHT)
        tx, ty, scale = fit["Pose_Para"][0, [3, 4, 6]]
        radius = scale * 1e5
        lo = np.minimum(mesh[:, :2].min(axis=0), [tx - radius, HEIGHT - ty - radius])
        hi = np.maximum(mesh[:, :2].max(axis=0), [tx + radius, HEIGHT - ty + radius])
        np.testing.assert_allclose(roi, np.array([*lo, *hi]) + 0.5, atol=1e-3)


def test_broken_samples_are_skipped_and_counted(tmp_path, rng, fits):
    members = aflw_members(rng, fits, WIDTH, HEIGHT)
    del members["AFLW2000/image00002.jpg"]
    members["AFLW2000/image00003.mat"] = mat_bytes(Pose_Para=np.zeros((1, 7)))
    write_zip(tmp_path / "a.zip", members)
    summary = run_conversion(Aflw2k3d(), tmp_path / "a.zip", tmp_path / "a.h5")
    assert summary.written == 3
    assert summary.skipped == {"no .jpg next to the .mat file": 1, "bad .mat file (no Shape_Para)": 1}
    assert "skipped 2 samples" in summary.format()
