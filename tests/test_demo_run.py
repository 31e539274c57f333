"""``opnet demo --dry-run``: every step runs on tiny data; the report, the printed table and the ONNX file."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pytest
from conftest import AFLW_MINI

from opnet.cli import main
from opnet.data import open_dataset
from opnet.export.contract import check_file, check_values
from opnet.export.outputs import CONTRACT_OUTPUTS, SAMPLE_SHAPES
from opnet.export.samples import dataset_inputs
from opnet.export.verify import onnx_outputs
from opnet.runtime import load_pose_model

pytestmark = pytest.mark.slow

REAL_FACES = AFLW_MINI if AFLW_MINI.is_file() else None
METRICS_KEYS = {
    "schema",
    "settings",
    "machine",
    "seconds",
    "training",
    "model",
    "mean_mae_deg",
    "evaluations",
    "files",
}


@pytest.fixture(scope="module")
def dry_run(tmp_path_factory) -> tuple[Path, str]:
    """(demo folder, printed output) of one dry run, with the real faces when ../shared has them."""
    outdir = tmp_path_factory.mktemp("demo") / "out"
    real = ["--real-faces", str(REAL_FACES)] if REAL_FACES else ["--no-real-faces"]
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(["demo", "--dry-run", "--outdir", str(outdir), "--workers", "1", *real]) == 0
    return outdir, printed.getvalue()


def test_the_report_folder_holds_every_file(dry_run):
    outdir, _ = dry_run
    report = outdir / "report"
    assert sorted(p.name for p in report.iterdir()) == [
        "metrics.json",
        "predictions.png",
        "results.md",
        "training.png",
    ]
    assert not [p for p in outdir.iterdir() if p.name.startswith(".")]  # no temporary folder left
    metrics = json.loads((report / "metrics.json").read_text())
    assert set(metrics) == METRICS_KEYS and metrics["schema"] == "opnet-demo/1"
    for name, relative in metrics["files"].items():
        assert (outdir / relative).is_file(), name
    assert set(metrics["seconds"]) == {"generate", "train", "export", "evaluate", "report", "total"}
    assert metrics["seconds"]["total"] >= sum(v for k, v in metrics["seconds"].items() if k != "total")
    assert metrics["training"]["epochs_completed"] == 1 and metrics["training"]["images_trained"] == 16
    assert metrics["training"]["last_epoch_images"] == 16  # a whole epoch: not stopped at a deadline


def test_metrics_agree_with_the_evaluations_and_the_settings(dry_run):
    outdir, _ = dry_run
    metrics = json.loads((outdir / "report" / "metrics.json").read_text())
    synthetic = metrics["evaluations"]["synthetic"]
    assert synthetic["schema"] == "opnet-evaluation/1"
    assert synthetic["dataset"]["samples"] == metrics["settings"]["demo"]["heldout_samples"] == 8
    assert metrics["mean_mae_deg"]["synthetic"] == synthetic["results"][0]["metrics"]["mean_deg"]
    assert metrics["settings"]["training"]["model"]["uncertainty"] is True
    real = metrics["evaluations"]["real_faces"]
    if REAL_FACES is None:
        assert real is None and metrics["mean_mae_deg"]["real_faces"] is None
    else:
        assert real["dataset"]["evaluated"] == 16
        assert metrics["mean_mae_deg"]["real_faces"] == real["results"][0]["metrics"]["mean_deg"]


def test_the_printed_table_has_a_row_per_dataset(dry_run):
    outdir, printed = dry_run
    lines = printed.splitlines()
    header = next(line for line in lines if line.startswith("| Data"))
    assert "Mean°" in header and "Geodesic°" in header
    rows = [line for line in lines if line.startswith("| ") and line is not header]
    assert rows[0].startswith("| held-out synthetic heads (8)")
    assert len(rows) == (2 if REAL_FACES else 1)
    metrics = json.loads((outdir / "report" / "metrics.json").read_text())
    assert f"{metrics['mean_mae_deg']['synthetic']:.2f}" in rows[0]
    assert (outdir / "report" / "results.md").read_text().strip() == printed.strip()


def test_the_exported_model_keeps_opentracks_contract(dry_run):
    outdir, _ = dry_run
    metrics = json.loads((outdir / "report" / "metrics.json").read_text())
    path = outdir / metrics["model"]["evaluated"]
    model = load_pose_model(path, threads=1)
    assert model.input_size == 129 and model.max_batch == 1
    check_file(path, {name: SAMPLE_SHAPES[name] for name in CONTRACT_OUTPUTS}, 129, full=False)
    check_values(path, onnx_outputs(path, dataset_inputs(outdir / "data" / "heldout.h5", 4, 129), threads=1))


def test_training_and_heldout_sets_share_no_image(dry_run):
    outdir, _ = dry_run
    with open_dataset(outdir / "data" / "train.h5") as a, open_dataset(outdir / "data" / "heldout.h5") as b:
        train = {bytes(a.read_image_bytes(i)) for i in range(len(a))}
        heldout = {bytes(b.read_image_bytes(i)) for i in range(len(b))}
        assert len(train) == 16 and not train & heldout
        assert not np.allclose(a.read_field("quats")[:8], b.read_field("quats"))
