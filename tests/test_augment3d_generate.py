"""``opnet augment3d`` on whole files: layout, sequences, reproducibility, fit modes, CLI errors."""

from __future__ import annotations

import pickle
from pathlib import Path

import h5py
import numpy as np
import pytest
from conftest import one_line_error, run_cli
from test_augment3d_scene import photo_of, true_pt3d

from opnet.augment3d import AugmentConfig, FitMode, augment_dataset
from opnet.augment3d.generate import face_assets
from opnet.augment3d.head import head_mesh, is_closed
from opnet.cli import main
from opnet.data import DatasetWriter, open_dataset
from opnet.errors import OpNetError
from opnet.facemodel import landmarks_to_label, project
from opnet.facemodel.bfm import load_3ddfa
from opnet.geometry import euler_to_quat, quat_to_hpb, roi_from_points
from opnet.synth import SynthConfig, generate_dataset
from opnet.synth.person import sample_person, scene_assets

FAST = AugmentConfig(yaw_step_deg=20.0, prob_closed_eyes=0.5, prob_spotlight=0.2)
STANDARD_FIELDS = {"images", "quats", "coords", "pt3d_68", "rois"}


@pytest.fixture(scope="module")
def frontal(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("a3d") / "frontal.h5"
    config = SynthConfig(
        image_size=96, yaw_max_deg=20, pitch_max_deg=10, roll_max_deg=10, samples_per_identity=1
    )
    generate_dataset(path, 3, config, seed=4, workers=1, progress=False)
    return path


@pytest.fixture(scope="module")
def augmented(frontal, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("a3d") / "out.h5"
    augment_dataset(frontal, out, FAST, seed=1, progress=False)
    return out


def bins(heading_rad: float, step: float) -> int:
    return max(1, round((90 - abs(np.rad2deg(heading_rad))) / step))


def test_one_sequence_per_face_source_first_then_a_view_per_bin(frontal, augmented):
    source, out = open_dataset(frontal), open_dataset(augmented)
    assert set(out.fields) == STANDARD_FIELDS
    sequences = out.sequences
    assert len(sequences) == len(source)
    quats = out.read_field("quats")
    for k, (start, end) in enumerate(sequences):
        heading = quat_to_hpb(source.read_field("quats")[k])[0]
        assert end - start == 1 + bins(heading, FAST.yaw_step_deg)
        assert out.read_image_bytes(start) == source.read_image_bytes(k)
        for name in ("quats", "coords", "pt3d_68", "rois"):
            np.testing.assert_allclose(out.read_field(name)[start], source.read_field(name)[k], atol=1e-4)
        headings = np.rad2deg(np.abs(quat_to_hpb(quats[start + 1 : end])[:, 0]))
        assert np.all(np.diff(headings) > 0) and headings[-1] <= 90.0
    np.testing.assert_allclose(np.linalg.norm(quats, axis=1), 1.0, atol=1e-6)
    assert np.all(quats[:, 3] >= 0)
    points = out.read_field("pt3d_68")
    np.testing.assert_allclose(out.read_field("rois"), roi_from_points(points), atol=1e-3)
    np.testing.assert_allclose(points[:, [36, 39, 42, 45], 2].mean(axis=1), 0.0, atol=1e-3)


def test_same_seed_same_file_other_seed_other_views(frontal, augmented, tmp_path):
    again, other = tmp_path / "again.h5", tmp_path / "other.h5"
    augment_dataset(frontal, again, FAST, seed=1, progress=False)
    augment_dataset(frontal, other, FAST, seed=2, progress=False)
    a, b, c = (open_dataset(p) for p in (augmented, again, other))
    np.testing.assert_array_equal(a.read_field("quats"), b.read_field("quats"))
    assert all(a.read_image_bytes(i) == b.read_image_bytes(i) for i in range(len(a)))
    assert not np.array_equal(a.read_field("quats")[1:4], c.read_field("quats")[1:4])


@pytest.mark.slow
def test_workers_do_not_change_the_output(frontal, augmented, tmp_path):
    parallel = tmp_path / "parallel.h5"
    augment_dataset(frontal, parallel, FAST, seed=1, workers=2, progress=False)
    a, b = open_dataset(augmented), open_dataset(parallel)
    np.testing.assert_array_equal(a.sequence_starts, b.sequence_starts)
    assert all(a.read_image_bytes(i) == b.read_image_bytes(i) for i in range(len(a)))


def test_limit_and_max_residual(frontal, tmp_path):
    summary = augment_dataset(frontal, tmp_path / "two.h5", FAST, limit=2, progress=False)
    assert (summary.faces, summary.kept) == (2, 2) and len(open_dataset(tmp_path / "two.h5").sequences) == 2
    residuals = summary.residuals
    threshold = float(np.mean(residuals))
    strict = augment_dataset(
        frontal,
        tmp_path / "strict.h5",
        AugmentConfig(yaw_step_deg=30, max_residual_pct=threshold),
        limit=2,
        progress=False,
    )
    assert strict.dropped == sum(r > threshold for r in residuals) and strict.kept == 2 - strict.dropped
    with pytest.raises(OpNetError, match="max-residual"):
        augment_dataset(frontal, tmp_path / "none.h5", AugmentConfig(max_residual_pct=1e-9), progress=False)
    assert not (tmp_path / "none.h5").exists() and not list(tmp_path.glob(".none.h5*"))


def test_pseudo_labels_only_start_a_full_fit(frontal, tmp_path):
    marked = tmp_path / "marked.h5"
    ds = open_dataset(frontal)
    specs = dict(ds.fields)
    specs["quats"] = type(specs["quats"])(
        "quats",
        specs["quats"].category,
        (4,),
        specs["quats"].dtype,
        {**specs["quats"].attrs, "pseudo_label": np.bool_(True)},
    )
    with DatasetWriter(marked, specs=specs, raw_coordinates=True) as w:
        for i in range(len(ds)):
            w.append(
                {
                    name: (
                        ds.read_image_bytes(i) if name == "images" else ds.read_field(name, [i], raw=True)[0]
                    )
                    for name in specs
                }
            )
    from opnet.augment3d.inputs import resolve_mode

    model = face_assets(None)[0]
    assert resolve_mode(open_dataset(marked), model, FitMode.AUTO) == FitMode.FULL
    assert resolve_mode(open_dataset(frontal), model, FitMode.AUTO) == FitMode.SHAPE
    summary = augment_dataset(
        marked, tmp_path / "full.h5", AugmentConfig(yaw_step_deg=45), limit=1, progress=False
    )
    assert summary.kept == 1 and summary.residuals[0] < 2.0


def face_only_pickle(path: Path) -> None:
    """The procedural head's front half in 3DDFA's pickle format: an open, face-only mesh whose
    first 25 shape components are the procedural ones (shapeparams = its coefficients)."""
    model = face_assets(None)[0]
    keep = model.mean[:, 2] < -0.1
    index = np.full(model.num_vertices, -1)
    index[keep] = np.arange(keep.sum())
    tri = model.triangles[np.all(keep[model.triangles], axis=1)]
    flip = np.array([1.0, -1.0, -1.0])
    w_shp = np.zeros((3 * keep.sum(), 40))
    w_shp[:, :25] = (model.shape_basis[:, keep] * flip / 20.0).reshape(25, -1).T
    landmarks = index[model.landmark_indices]
    raw = {
        "u": (model.mean[keep] * flip * 1e5).reshape(-1, 1).astype(np.float32),
        "w_shp": w_shp.astype(np.float32),
        "w_exp": np.zeros((3 * keep.sum(), 10), np.float32),
        "tri": index[tri].T.astype(np.int32),
        "keypoints": (3 * landmarks[:, None] + np.arange(3)).ravel().astype(np.int64),
    }
    path.write_bytes(pickle.dumps(raw, protocol=2))


def test_a_3ddfa_model_is_closed_with_a_skull_and_takes_shapeparams(tmp_path):
    face_only_pickle(tmp_path / "bfm.pkl")
    model = load_3ddfa(tmp_path / "bfm.pkl")
    mesh = head_mesh(model)
    assert not is_closed(model.triangles) and len(mesh.extra) > 0
    assert is_closed(mesh.triangles[len(model.triangles) :] - model.num_vertices)
    source = tmp_path / "labelled.h5"
    with DatasetWriter(source) as w:
        for seed in range(2):
            person = sample_person(np.random.default_rng(seed), scene_assets())
            quat, coords = euler_to_quat(np.deg2rad([5.0, 10.0 * seed, 0.0])), np.array([80.0, 80.0, 40.0])
            params = np.concatenate([person.shape, np.zeros(25)]).astype(np.float32)
            w.start_sequence()
            w.append(
                {
                    "images": photo_of(person, quat, coords),
                    "quats": quat,
                    "coords": coords,
                    "pt3d_68": true_pt3d(person, quat, coords),
                    "shapeparams": params,
                }
            )
    out = tmp_path / "bfm-out.h5"
    assert (
        main(
            [
                "augment3d",
                str(source),
                str(out),
                "--face-model",
                str(tmp_path / "bfm.pkl"),
                "--yaw-step",
                "30",
                "--prob-closed-eyes",
                "0",
                "--workers",
                "1",
            ]
        )
        == 0
    )
    ds = open_dataset(out)
    assert set(ds.fields) == STANDARD_FIELDS | {"shapeparams"} and len(ds.sequences) == 2
    shapeparams = ds.read_field("shapeparams")
    for i in range(len(ds)):
        params = shapeparams[i].astype(np.float64)
        expected = landmarks_to_label(
            project(
                model.landmarks(params[:40], params[40:]),
                ds.read_field("quats")[i],
                ds.read_field("coords")[i],
            )
        )
        np.testing.assert_allclose(ds.read_field("pt3d_68")[i], expected, atol=0.05)


def test_cli_writes_a_file_that_show_draws(frontal, tmp_path, capsys):
    out = tmp_path / "cli.h5"
    code, _, _ = run_cli(
        "augment3d", [frontal, out, "--yaw-step", "30", "--limit", "1", "--workers", "1"], capsys
    )
    assert code == 0 and len(open_dataset(out).sequences) == 1
    code, _, err = run_cli("augment3d", [frontal, out, "--workers", "1"], capsys)
    assert one_line_error("augment3d", code, err, "cli.h5", "--force")
    assert main(["show", str(out), "-o", str(tmp_path / "grid.png")]) == 0


@pytest.mark.parametrize(
    "args, message",
    [
        (["--yaw-step", "0"], "--yaw-step 0"),
        (["--yaw-step", "120"], "--yaw-step 120"),
        (["--prob-closed-eyes", "1.5"], "--prob-closed-eyes"),
        (["--fit", "labels"], "shapeparams"),
        (["--face-model", "missing.pkl"], "no such file"),
        (["--limit", "0"], "--limit 0"),
    ],
)
def test_cli_errors_name_the_flag(frontal, tmp_path, capsys, args, message):
    code, _, err = run_cli("augment3d", [frontal, tmp_path / "x.h5", "--workers", "1", *args], capsys)
    assert one_line_error("augment3d", code, err, message)
    assert not (tmp_path / "x.h5").exists()


def test_cli_needs_landmarks_to_fit(frontal, tmp_path, capsys):
    bare = tmp_path / "bare.h5"
    ds = open_dataset(frontal)
    with DatasetWriter(bare) as w:
        for i in range(len(ds)):
            w.append({"images": ds.read_image_bytes(i), "rois": ds.read_field("rois")[i]})
    code, _, err = run_cli("augment3d", [bare, tmp_path / "y.h5", "--workers", "1"], capsys)
    assert one_line_error("augment3d", code, err, "landmarks")
    with h5py.File(bare, "r") as f:
        assert "quats" not in f


def test_landmark_only_files_are_fitted_and_broken_samples_dropped(frontal, tmp_path, caplog):
    """A WFLW-like file (pt2d_68 and rois only): full fits; a sample with NaN landmarks is dropped."""
    source = open_dataset(frontal)
    path = tmp_path / "landmarks.h5"
    with DatasetWriter(path) as w:
        for i in range(len(source)):
            points = source.read_field("pt2d_68")[i]
            if i == 1:
                points = np.full_like(points, np.nan)
            w.append(
                {
                    "images": source.read_image_bytes(i),
                    "pt2d_68": points,
                    "rois": source.read_field("rois")[i],
                }
            )
    from opnet.augment3d.inputs import resolve_mode

    assert resolve_mode(open_dataset(path), face_assets(None)[0], FitMode.AUTO) == FitMode.FULL
    summary = augment_dataset(path, tmp_path / "out.h5", AugmentConfig(yaw_step_deg=45), progress=False)
    assert (summary.kept, summary.dropped) == (2, 1)
    assert any("1 faces dropped" in line for line in summary.lines(None))
    out = open_dataset(tmp_path / "out.h5")
    first = out.sequences[1][0]
    assert out.read_image_bytes(first) == source.read_image_bytes(2)
    fitted = out.read_field("pt3d_68")[first][:, :2]
    assert np.abs(fitted - source.read_field("pt2d_68")[2]).mean() < 0.02 * 96
