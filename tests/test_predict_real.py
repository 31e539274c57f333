"""opnet predict with OpenTrack's released models on real AFLW2000-3D faces (skipped without ../shared)."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from conftest import AFLW_MINI, LOCALIZER_MODEL, POSE_MODEL, needs_shared

from opnet.cli import main
from opnet.data import open_dataset
from opnet.evaluate import EvaluationSettings, evaluate_models, metrics
from opnet.evaluate.runner import predict_dataset
from opnet.geometry import quat_to_euler, roi_from_points
from opnet.preprocess import patch_around
from opnet.runtime import concatenate, load_pose_model, predict_patch
from opnet.runtime.faces import estimate_faces
from opnet.runtime.localizer import Localizer

pytestmark = [needs_shared(AFLW_MINI), needs_shared(POSE_MODEL), needs_shared(LOCALIZER_MODEL)]


def test_single_face_path_with_the_evaluation_crop_reproduces_opnet_evaluate():
    model = load_pose_model(POSE_MODEL, threads=1)
    with open_dataset(AFLW_MINI) as ds:
        rois = roi_from_points(ds.read_field("pt3d_68"))
        single = concatenate(
            [predict_patch(model, ds.read_image(i), patch_around(rois[i], 1.1)) for i in range(len(ds))]
        )
        runner = predict_dataset(ds, range(len(ds)), rois, 1.1, [model], threads=2, progress=False).per_model[
            0
        ]
        (row,) = evaluate_models(
            [model], ds, EvaluationSettings(protocol="opentrack", progress=False, threads=2)
        ).rows
        true_quat = ds.read_field("quats")
    for name in ("quat", "coords", "box", "rotaxis_scales_tril", "coords_scales_tril"):
        assert np.array_equal(getattr(single, name), getattr(runner, name)), name
    errors = np.rad2deg(metrics.euler_errors(single.quat, true_quat))
    assert row.metrics.samples == 16
    assert [row.metrics.pitch_deg, row.metrics.yaw_deg, row.metrics.roll_deg] == pytest.approx(
        errors.mean(axis=0), abs=1e-9
    )
    geodesic = np.rad2deg(metrics.geodesic_errors(single.quat, true_quat))
    assert row.metrics.geodesic_deg == pytest.approx(geodesic.mean(), abs=1e-9)


def test_predict_on_a_jpeg_file_finds_the_face_and_its_pose(tmp_path, capsys):
    with open_dataset(AFLW_MINI, color=True) as ds:
        image = cv2.cvtColor(ds.read_image(2), cv2.COLOR_RGB2BGR)
        pitch, yaw, roll = np.rad2deg(quat_to_euler(ds.read_field("quats")[2]))
        coords = ds.read_field("coords")[2]
    path = tmp_path / "aflw-2.jpg"
    cv2.imwrite(str(path), image, [cv2.IMWRITE_JPEG_QUALITY, 95])
    code = main(
        [
            "predict",
            str(path),
            "--model",
            str(POSE_MODEL),
            "--detector",
            "localizer",
            "--localizer",
            str(LOCALIZER_MODEL),
            "--json",
            "--outdir",
            str(tmp_path / "out"),
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    (face,) = json.loads(out)["images"][0]["faces"]
    # a near-frontal face (yaw -2.6, pitch -3.6 deg): the released model is within a few degrees
    assert [face["yaw_deg"], face["pitch_deg"], face["roll_deg"]] == pytest.approx(
        [yaw, pitch, roll], abs=6.0
    )
    assert np.hypot(*(np.array(face["centre_px"]) - coords[:2])) < 0.1 * coords[2]
    assert face["size_px"] == pytest.approx(coords[2], rel=0.15)
    assert 0 < face["rotation_std_deg"] < 10 and face["score"] > 0.5
    gray = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2GRAY)
    (again,) = estimate_faces(load_pose_model(POSE_MODEL, 1), Localizer(LOCALIZER_MODEL), gray)
    assert again.quat.tolist() == face["quat_xyzw"]  # the command is the library
    assert (tmp_path / "out" / "aflw-2.jpg").is_file()
