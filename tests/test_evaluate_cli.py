"""``opnet evaluate`` through the command line: bad input gives one line and exit 2; the real model."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from conftest import AFLW_MINI, POSE_MODEL, needs_shared, one_line_error, random_sample, run_cli
from test_runtime_onnx import IDENTITY_OUTPUTS, constant, make_pose_onnx

from opnet.data import DatasetWriter, open_dataset
from opnet.evaluate import EvaluationSettings, evaluate_models, metrics
from opnet.geometry import roi_from_points
from opnet.runtime import load_pose_model


@pytest.fixture
def onnx_model(tmp_path):
    return make_pose_onnx(tmp_path / "id.onnx", IDENTITY_OUTPUTS, size=32)


def test_evaluates_an_onnx_model_and_writes_outputs(onnx_model, small_dataset, tmp_path, capsys):
    out_json, out_csv = tmp_path / "r.json", tmp_path / "r.csv"
    code, out, err = run_cli(
        "evaluate",
        [
            onnx_model,
            onnx_model,
            "--data",
            small_dataset,
            "--ensemble",
            "--json",
            out_json,
            "--per-sample",
            out_csv,
            "--threads",
            "1",
            "-v",
        ],
        capsys,
    )
    assert code == 0, err
    assert "model_version 4" in out and "| id.onnx#2 " in out and "| ensemble " in out
    doc = json.loads(out_json.read_text())
    assert [r["model"] for r in doc["results"]] == ["id.onnx", "id.onnx#2", "ensemble"]
    assert len(list(csv.DictReader(out_csv.open()))) == 3 * 12
    code, _, err = run_cli("evaluate", [onnx_model, "--data", small_dataset, "--json", out_json], capsys)
    assert one_line_error("evaluate", code, err, "r.json: already exists; pass --force")


def test_bad_inputs_give_one_line_errors(onnx_model, small_dataset, tmp_path, capsys, monkeypatch):
    unknown = make_pose_onnx(tmp_path / "unknown.onnx", {"logits": constant([1.0, 2.0])})
    code, _, err = run_cli("evaluate", [unknown, "--data", small_dataset], capsys)
    assert one_line_error("evaluate", code, err, "unknown.onnx", "no output named quat")
    no_quats = tmp_path / "no-quats.h5"
    with DatasetWriter(no_quats) as w:
        w.append({k: v for k, v in random_sample(np.random.default_rng(0)).items() if k != "quats"})
    code, _, err = run_cli("evaluate", [onnx_model, "--data", no_quats], capsys)
    assert one_line_error("evaluate", code, err, "no-quats.h5", "'quats'")
    code, _, err = run_cli("evaluate", [onnx_model, "--data", "aflw2k4d"], capsys)
    assert one_line_error("evaluate", code, err, "--data aflw2k4d: no such file, and not a dataset name")
    monkeypatch.delenv("DATADIR", raising=False)
    code, _, err = run_cli("evaluate", [onnx_model, "--data", "biwi"], capsys)
    assert one_line_error("evaluate", code, err, "--data biwi: set DATADIR")
    code, _, err = run_cli("evaluate", [tmp_path / "model.pt", "--data", small_dataset], capsys)
    assert one_line_error("evaluate", code, err, "model.pt: no such model file")
    code, _, err = run_cli(
        "evaluate",
        [onnx_model, "--data", small_dataset, "--comprehensive-roi", "--roi-expansion", "1.2"],
        capsys,
    )
    assert one_line_error("evaluate", code, err, "--comprehensive-roi")
    code, _, err = run_cli("evaluate", [onnx_model, "--data", small_dataset, "--fov", "60"], capsys)
    assert one_line_error("evaluate", code, err, "--fov only applies with --alignment perspective")


def test_dataset_names_resolve_through_datadir(onnx_model, small_dataset, capsys, monkeypatch):
    monkeypatch.setenv("DATADIR", str(small_dataset.parent))
    small_dataset.rename(small_dataset.parent / "aflw2k.h5")
    code, out, err = run_cli("evaluate", [onnx_model, "--data", "aflw2k3d", "--threads", "1"], capsys)
    assert code == 0, err
    assert "aflw2k.h5: 12 samples, 12 evaluated" in out


@needs_shared(POSE_MODEL)
@needs_shared(AFLW_MINI)
def test_real_model_on_real_aflw_samples(tmp_path, capsys):
    out_json, out_csv, out_png = tmp_path / "r.json", tmp_path / "r.csv", tmp_path / "r.png"
    code, out, err = run_cli(
        "evaluate",
        [POSE_MODEL, "--data", AFLW_MINI, "--json", out_json, "--per-sample", out_csv, "--plot", out_png],
        capsys,
    )
    assert code == 0, err
    doc = json.loads(out_json.read_text())
    assert doc["dataset"]["evaluated"] == 16 and doc["dataset"]["dropped_by_filter"] == 0
    m = doc["results"][0]["metrics"]
    # Published full-set figures: mean 3.1 deg, geodesic 5.1-5.2 deg; 16 samples scatter by about +-1 deg.
    assert 2.0 < m["mean_deg"] < 5.0 and 3.5 < m["geodesic_deg"] < 8.5
    assert max(m["pitch_deg"], m["yaw_deg"], m["roll_deg"]) < 6.0 and m["xy_pct"] < 8 and m["size_pct"] < 10
    assert m["nme3d_pct"] is None and f"{m['mean_deg']:.2f}" in out
    rows = list(csv.DictReader(out_csv.open()))
    err_mean = np.mean([[float(r[f"err_{a}_deg"]) for a in ("pitch", "yaw", "roll")] for r in rows], axis=0)
    assert np.allclose(err_mean, [m["pitch_deg"], m["yaw_deg"], m["roll_deg"]], atol=1e-3)
    assert out_png.stat().st_size > 10_000


@needs_shared(POSE_MODEL)
@needs_shared(AFLW_MINI)
def test_real_model_results_are_consistent():
    model = load_pose_model(POSE_MODEL)
    with open_dataset(AFLW_MINI) as ds:
        result = evaluate_models(
            [model],
            ds,
            EvaluationSettings(comprehensive_roi=True, ensemble=True, protocol="opentrack", progress=False),
        )
    rows = {(r.model, r.roi.label): r for r in result.rows}
    assert len(rows) == 12
    for (name, label), row in rows.items():
        e = row.samples
        assert np.allclose(e.euler_err, metrics.euler_errors(-e.pred_quat, e.true_quat))
        assert row.metrics.mean_deg == pytest.approx(np.rad2deg(e.euler_err).mean())
        if name == "ensemble":
            assert row.metrics.mean_deg == pytest.approx(rows[(model.name, label)].metrics.mean_deg, abs=1e-9)
    # The original stored the landmark box of the raw (pixel-centre) landmarks as the ROI: read in
    # OpNet's pixel-corner convention, the stored ROI sits half a pixel up-left of the landmark box.
    with open_dataset(AFLW_MINI) as ds:
        boxes = roi_from_points(ds.read_field("pt3d_68"))
        assert np.allclose(ds.read_field("rois") + 0.5, boxes, atol=1e-4)
    for e in ("1.0", "1.1", "1.2"):
        stored, landmarks = (
            rows[(model.name, f"stored x{e}")].metrics,
            rows[(model.name, f"landmarks x{e}")].metrics,
        )
        assert abs(stored.mean_deg - landmarks.mean_deg) < 0.5
