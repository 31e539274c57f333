"""Checkpoints are pose models: opnet evaluate/predict open them like ONNX files and give the same numbers
as their exports (the --full export within float rounding; the OpenTrack export the same pose numbers)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import small_net

import opnet
from opnet.cli import main
from opnet.data import open_dataset
from opnet.errors import OpNetError
from opnet.evaluate import EvaluationSettings, evaluate_models
from opnet.export import ExportOptions, export_model
from opnet.models import save_checkpoint
from opnet.runtime import load_pose_model, model_suffixes, predict_face
from opnet.runtime.checkpoint_model import CheckpointPoseModel

POSE_METRICS = ("pitch_deg", "yaw_deg", "roll_deg", "mean_deg", "geodesic_deg", "xy_pct", "size_pct")


@pytest.fixture(scope="module")
def files(tmp_path_factory, crops_data):
    """An untrained checkpoint and its two float32 exports."""
    folder = tmp_path_factory.mktemp("models")
    net = small_net(seed=7)
    ckpt = save_checkpoint(folder / "last.ckpt", net)
    opts = dict(data=crops_data, num_validation=4, progress=False, threads=1)
    full = export_model(net, folder / "full.onnx", ExportOptions(full=True, **opts)).path
    contract = export_model(net, folder / "contract.onnx", ExportOptions(**opts)).path
    return ckpt, full, contract


def test_checkpoint_and_its_exports_give_the_same_evaluation(files, crops_data):
    models = [load_pose_model(path, threads=1) for path in files]
    assert isinstance(models[0], CheckpointPoseModel) and models[0].has_points and models[0].max_batch is None
    with open_dataset(crops_data) as ds:
        result = evaluate_models(models, ds, EvaluationSettings(batch_size=5, threads=1, progress=False))
    ckpt, full, contract = (asdict(row.metrics) for row in result.rows)
    assert ckpt["samples"] == full["samples"] == contract["samples"] > 0
    for key, value in ckpt.items():
        if value is not None:
            assert full[key] == pytest.approx(value, abs=1e-3), key  # degrees and percent
    assert ckpt["nme3d_pct"] is not None and contract["nme3d_pct"] is None  # landmarks only in --full
    for key in POSE_METRICS:
        assert contract[key] == pytest.approx(full[key], abs=1e-4), key
    per_sample = [row.samples.pred_quat for row in result.rows]
    assert np.abs(per_sample[0] - per_sample[1]).max() < 1e-5


def test_opnet_evaluate_and_predict_accept_a_checkpoint(files, crops_data, tmp_path, capsys):
    ckpt = files[0]
    out = tmp_path / "r.json"
    assert (
        main(["evaluate", str(ckpt), "--data", str(crops_data), "--json", str(out), "--threads", "1", "-v"])
        == 0
    )
    printed = capsys.readouterr().out
    assert "PyTorch checkpoint" in printed and "| last.ckpt " in printed
    assert json.loads(out.read_text())["results"][0]["model"] == "last.ckpt"
    model = load_pose_model(ckpt, threads=1)
    with open_dataset(crops_data) as ds:
        image, box = ds.read_image(0), ds.read_field("rois")[0]
    prediction = predict_face(model, image, box)
    assert prediction.quat.shape == (1, 4) and prediction.points.shape == (1, 68, 3)


def test_run_accepts_any_batch_and_restores_torch_threads(files):
    model = CheckpointPoseModel(files[0], threads=1)
    before = torch.get_num_threads()
    x = np.random.default_rng(0).uniform(-0.5, 0.5, (3, 1, 129, 129)).astype(np.float32)
    outputs = model.run(x)
    assert len(outputs) == 3 and outputs.points.shape == (3, 68, 3) and torch.get_num_threads() == before
    np.testing.assert_allclose(model.run(x[1:2]).quat, outputs.quat[1:2], atol=1e-6)
    with pytest.raises(ValueError, match="expected \\(B, 1, 129, 129\\)"):
        model.run(x[:, :, :64, :64])


def test_bad_checkpoints_give_one_line_errors(tmp_path):
    assert {".onnx", ".ckpt", ".pt"} <= set(model_suffixes())
    junk = tmp_path / "junk.ckpt"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(OpNetError, match="junk.ckpt: not a readable PyTorch checkpoint"):
        load_pose_model(junk)
    with pytest.raises(OpNetError, match="missing.pt: no such model file"):
        load_pose_model(tmp_path / "missing.pt")


def test_checkpoints_are_registered_without_importing_torch():
    code = (
        "import sys, opnet.runtime, opnet.evaluate; "
        "assert '.ckpt' in opnet.runtime.model_suffixes(); assert 'torch' not in sys.modules"
    )
    src = Path(opnet.__file__).parents[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(src), os.environ.get("PYTHONPATH", "")])}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
