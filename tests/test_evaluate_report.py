"""Outputs: markdown tables, the JSON schema (round trip, no strings for missing values), CSV, plot."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from test_evaluate_run import QUIET, FakeModel

from opnet.data import open_dataset
from opnet.errors import OpNetError
from opnet.evaluate import EvaluationSettings, StabilitySettings, evaluate_models
from opnet.evaluate.metrics import PoseMetrics
from opnet.evaluate.report import (
    CSV_COLUMNS,
    SCHEMA,
    metrics_from_json,
    text_report,
    write_json,
    write_per_sample_csv,
)

STABILITY = StabilitySettings(shifts_px=(1.0,), scales=(0.98,), noise_stds=(4.0,), noise_draws=2)


@pytest.fixture
def result(small_dataset):
    with open_dataset(small_dataset) as ds:
        return evaluate_models(
            [FakeModel(yaw_gain=2.0), FakeModel(name="other", quat=(0, 0.1, 0, 1))],
            ds,
            EvaluationSettings(
                ensemble=True, stability=STABILITY, comprehensive_roi=True, protocol="opentrack", **QUIET
            ),
        )


def leaves(value, path=""):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from leaves(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from leaves(v, f"{path}[{i}]")
    else:
        yield path, value


def test_json_round_trip_and_schema(result, tmp_path):
    path = write_json(result, tmp_path / "out.json")
    doc = json.loads(path.read_text())
    assert doc["schema"] == SCHEMA and doc["dataset"] == {
        "path": str(result.dataset),
        "samples": 12,
        "evaluated": 12,
        "dropped_by_filter": 0,
        "dropped_not_finite": 0,
        "not_finite": {},
    }
    assert doc["protocol"]["name"] == "opentrack" and doc["protocol"]["face_model"] is None
    assert doc["protocol"]["alignment"] == "none" and doc["protocol"]["fov_deg"] is None
    assert len(doc["protocol"]["roi_choices"]) == 6 and doc["protocol"]["stability"]["noise_draws"] == 2
    assert [m["name"] for m in doc["models"]] == ["fake", "other"]
    assert len(doc["results"]) == 18 and {r["model"] for r in doc["results"]} == {"fake", "other", "ensemble"}
    for entry, row in zip(doc["results"], result.rows, strict=True):
        assert metrics_from_json(entry["metrics"]) == row.metrics
        assert entry["roi"] == {"source": row.roi.source.value, "expansion": row.roi.expansion}
    assert set(doc["stability"]["models"]) == {"fake", "other"}
    assert [s["family"] for s in doc["stability"]["models"]["fake"]] == ["shift", "scale", "noise 4"]
    strings = {p for p, v in leaves(doc) if isinstance(v, str)}
    allowed = ("schema", "path", "alignment", "source", "model", "name", "family")
    assert all(p.rsplit(".", 1)[-1].split("[")[0] in allowed for p in strings), strings
    assert all(v is None or isinstance(v, (int, float, str, bool)) for _, v in leaves(doc))
    assert set(doc["results"][0]["metrics"]) == set(PoseMetrics.__dataclass_fields__)
    with pytest.raises(OpNetError, match="already exists; pass --force"):
        write_json(result, path)
    write_json(result, path, overwrite=True)


def test_text_report_has_a_row_per_model_and_roi(result):
    text = text_report(result)
    lines = text.splitlines()
    assert "12 samples, 12 evaluated, 0 dropped by the pose filter" in lines[0]
    table = [
        line
        for line in lines
        if line.startswith("| fake") or line.startswith("| other") or line.startswith("| ensemble")
    ]
    assert len(table) == 18 + 6  # 18 accuracy rows, 2 models x 3 stability families
    assert "| Model " in text and "Geodesic°" in text and "NME3d%" not in text
    assert "Stability" in text and "noise 4" in text


def test_per_sample_csv(result, tmp_path):
    path = write_per_sample_csv(result, tmp_path / "samples.csv")
    with open(path) as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == CSV_COLUMNS and len(rows) == 18 * 12
    first = result.rows[0]
    got = np.array(
        [[float(r["err_pitch_deg"]), float(r["err_yaw_deg"]), float(r["err_roll_deg"])] for r in rows[:12]]
    )
    assert np.allclose(got, np.rad2deg(first.samples.euler_err), atol=1e-4)
    assert np.isclose(got.mean(), first.metrics.mean_deg, atol=1e-4)
    assert rows[0]["nme3d_pct"] == "" and rows[0]["model"] == "fake" and rows[0]["roi_source"] == "landmarks"


def test_plot_is_written(result, tmp_path):
    import cv2

    from opnet.evaluate.plot import plot_errors

    path = plot_errors(result, tmp_path / "errors.png")
    image = cv2.imread(str(path))
    assert image is not None and image.shape[1] > image.shape[0] > 200
