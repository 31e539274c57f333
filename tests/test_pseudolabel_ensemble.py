"""``opnet pseudolabel``: an ensemble's averaged pose written into a copy of a landmark-only file."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import AFLW_MINI, POSE_MODEL, needs_shared, random_sample
from test_runtime_onnx import IDENTITY_OUTPUTS, constant, make_pose_onnx

from opnet.augment3d.inputs import has_pseudo_labels
from opnet.cli import main
from opnet.data import DatasetWriter, open_dataset
from opnet.evaluate.ensemble import average_rotations
from opnet.evaluate.pseudolabel import pseudolabel_dataset
from opnet.geometry import euler_to_quat, geodesic_distance, roi_from_points
from opnet.preprocess import patch_around

Q1 = euler_to_quat(np.deg2rad([10.0, 30.0, 0.0]))
Q2 = euler_to_quat(np.deg2rad([-10.0, 50.0, 20.0]))


@pytest.fixture
def landmarks_only(tmp_path, rng):
    path = tmp_path / "lapa.h5"
    with DatasetWriter(path) as w:
        for k in range(5):
            if k in (0, 3):
                w.start_sequence()
            sample = random_sample(rng)
            w.append(
                {"images": sample["images"], "pt2d_68": sample["pt3d_68"][:, :2], "rois": sample["rois"]}
            )
    return path


@pytest.fixture
def two_models(tmp_path):
    a = make_pose_onnx(
        tmp_path / "a.onnx", {**IDENTITY_OUTPUTS, "quat": constant(Q1), "pos_size": constant([0.1, 0.0, 0.6])}
    )
    b = make_pose_onnx(
        tmp_path / "b.onnx",
        {**IDENTITY_OUTPUTS, "quat": constant(-Q2), "pos_size": constant([-0.1, 0.2, 0.8])},
    )
    return a, b


def test_rotations_averaged_as_rotations_positions_as_means(landmarks_only, two_models, tmp_path):
    out = tmp_path / "labelled.h5"
    result = pseudolabel_dataset(landmarks_only, out, two_models, threads=1, progress=False)
    assert result.mae_deg is None
    ds, source = open_dataset(out), open_dataset(landmarks_only)
    expected = average_rotations(np.stack([np.tile(Q1, (5, 1)), np.tile(Q2, (5, 1))]))
    assert np.all(geodesic_distance(ds.read_field("quats"), expected) < 1e-5)
    patches = [patch_around(roi, 1.1) for roi in roi_from_points(source.read_field("pt2d_68"))]
    centre = np.array([p.to_image([0.0, 0.1]) for p in patches])
    # (the patch actually cut is snapped to whole pixels of the network input: hundredths of a pixel)
    np.testing.assert_allclose(ds.read_field("coords")[:, :2], centre, atol=0.05)
    np.testing.assert_allclose(ds.read_field("coords")[:, 2], [0.7 * p.half for p in patches], rtol=1e-2)
    assert has_pseudo_labels(ds) and ds.fields["quats"].attrs["models"] == "a.onnx,b.onnx"
    np.testing.assert_array_equal(ds.sequence_starts, source.sequence_starts)
    for name in ("pt2d_68", "rois"):
        np.testing.assert_array_equal(ds.read_field(name, raw=True), source.read_field(name, raw=True))
    assert all(ds.read_image_bytes(i) == source.read_image_bytes(i) for i in range(len(ds)))


def test_existing_labels_are_kept_unless_replaced(landmarks_only, two_models, tmp_path, capsys, caplog):
    first = tmp_path / "first.h5"
    pseudolabel_dataset(landmarks_only, first, two_models[:1], threads=1, progress=False)
    args = [
        "pseudolabel",
        str(first),
        "--model",
        str(two_models[1]),
        "-o",
        str(tmp_path / "second.h5"),
        "--threads",
        "1",
    ]
    assert main(args) == 2 and "--replace-labels" in capsys.readouterr().err
    with caplog.at_level("INFO"):
        assert main([*args, "--replace-labels"]) == 0
    ds = open_dataset(tmp_path / "second.h5")
    assert np.all(geodesic_distance(ds.read_field("quats"), Q2) < 1e-5)
    assert "MAE" in caplog.text


def test_cli_needs_a_face_box(tmp_path, two_models, capsys, rng):
    path = tmp_path / "bare.h5"
    with DatasetWriter(path) as w:
        w.append({"images": random_sample(rng)["images"], "shapeparams": np.zeros(50, np.float32)})
    assert main(["pseudolabel", str(path), "--model", str(two_models[0]), "-o", str(tmp_path / "o.h5")]) == 2
    assert "rois" in capsys.readouterr().err


@needs_shared(POSE_MODEL)
@needs_shared(AFLW_MINI)
def test_released_model_pseudo_labels_are_close_to_aflw_labels(tmp_path):
    result = pseudolabel_dataset(
        AFLW_MINI, tmp_path / "aflw.h5", [POSE_MODEL], replace_labels=True, threads=2, progress=False
    )
    assert result.mae_deg is not None and result.mae_deg.mean() < 6.0
    ds = open_dataset(tmp_path / "aflw.h5")
    assert len(ds) == 16 and has_pseudo_labels(ds)
