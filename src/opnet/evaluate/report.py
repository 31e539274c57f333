"""The outputs of an evaluation: GitHub-markdown tables, JSON (schema in docs/evaluation.md),
per-sample CSV."""

from __future__ import annotations

import csv
import json
import math
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from opnet.evaluate.metrics import PoseMetrics
from opnet.evaluate.protocol import RoiChoice
from opnet.evaluate.results import EvaluationResult, Row
from opnet.fileio import atomic_output
from opnet.geometry import quat_to_euler
from opnet.settings import to_plain

SCHEMA = "opnet-evaluation/1"

_METRIC_COLUMNS = [
    ("Pitch°", "pitch_deg"),
    ("Yaw°", "yaw_deg"),
    ("Roll°", "roll_deg"),
    ("Mean°", "mean_deg"),
    ("Geodesic°", "geodesic_deg"),
    ("XY%", "xy_pct"),
    ("S%", "size_pct"),
]
_NME_COLUMNS = [
    ("NME3d%", "nme3d_pct"),
    ("NME2d% 0-30", "nme2d_0_30_pct"),
    ("NME2d% 30-60", "nme2d_30_60_pct"),
    ("NME2d% 60-90", "nme2d_60_90_pct"),
    ("NME2d% avg", "nme2d_avg_pct"),
]
_SPREAD_COLUMNS = [
    ("Pitch°", "pitch_deg"),
    ("Yaw°", "yaw_deg"),
    ("Roll°", "roll_deg"),
    ("Geodesic°", "geodesic_deg"),
    ("XY%", "xy_pct"),
    ("S%", "size_pct"),
]


def _fmt(value: float | None) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{value:.2f}"


def _markdown(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]

    def line(cells: list[str]) -> str:
        return (
            "| "
            + " | ".join(
                c.rjust(w) if i > 1 else c.ljust(w)
                for i, (c, w) in enumerate(zip(cells, widths, strict=True))
            )
            + " |"
        )

    rule = (
        "|" + "|".join(("-" * (w + 1) + ":") if i > 1 else "-" * (w + 2) for i, w in enumerate(widths)) + "|"
    )
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def metrics_table(rows: list[Row], first_column: str = "Model") -> str:
    """One markdown row per model and ROI choice; landmark columns only if some row has them.

    ``first_column``: the header of the column of ``Row.model`` (e.g. "Data" for rows that differ by dataset).
    """
    columns = _METRIC_COLUMNS + (
        _NME_COLUMNS if any(r.metrics.nme2d_avg_pct is not None for r in rows) else []
    )
    body = [[r.model, r.roi.label, *(_fmt(getattr(r.metrics, key)) for _, key in columns)] for r in rows]
    return _markdown([first_column, "ROI", *(name for name, _ in columns)], body)


def stability_table(result: EvaluationResult) -> str:
    """One markdown row per model and perturbation family."""
    body = [
        [model, s.family, str(s.variants), *(_fmt(getattr(s, key)) for _, key in _SPREAD_COLUMNS)]
        for model, spreads in (result.stability or {}).items()
        for s in spreads
    ]
    return _markdown(["Model", "Perturbation", "Variants", *(name for name, _ in _SPREAD_COLUMNS)], body)


_PROTOCOLS = {
    "original": "original (its crop; models without a normalisation of their own get u8 / 256 - 0.5)",
    "opentrack": "opentrack (OpenTrack's crop and brightness normalisation)",
}


def text_report(result: EvaluationResult) -> str:
    """What ``opnet evaluate`` prints: the counts, the protocol, the tables."""
    s = result.settings
    limit = (
        "no pose filter"
        if s.filter_limit_deg is None
        else f"|pitch|, |yaw|, |roll| < {s.filter_limit_deg:g}°"
    )
    align = {
        "none": "none",
        "opal23": "OPAL23 per-person Karcher mean",
        "perspective": f"perspective (horizontal FOV {s.fov_deg:g}°)",
    }[s.alignment]
    dropped = f"{result.dropped_samples} dropped by the pose filter ({limit})"
    if result.dropped_not_finite:
        fields = ", ".join(f"{name}: {count}" for name, count in result.not_finite.items())
        dropped += f", {result.dropped_not_finite} dropped for labels that are not finite ({fields})"
    lines = [
        f"{result.dataset}: {result.total_samples} samples, {result.kept_samples} evaluated, {dropped}",
        f"protocol: {_PROTOCOLS[s.protocol]}; alignment: {align}",
        "",
        metrics_table(result.rows),
    ]
    if result.stability:
        lines += [
            "",
            f"Stability (spread of predictions, {result.roi_choices[0].label}):",
            stability_table(result),
        ]
    return "\n".join(lines)


def _clean(value: Any) -> Any:
    """JSON-safe: non-finite floats -> None, numpy scalars -> Python numbers, recursively."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def _roi_json(choice: RoiChoice) -> dict[str, Any]:
    return {"source": choice.source.value, "expansion": choice.expansion}


def result_to_json(result: EvaluationResult) -> dict[str, Any]:
    """The JSON document of docs/evaluation.md: numbers or null, never strings for missing values."""
    s = result.settings
    stability = None
    if result.stability is not None:
        stability = {
            "roi": _roi_json(result.roi_choices[0]),
            "models": {m: [asdict(x) for x in spreads] for m, spreads in result.stability.items()},
        }
    return _clean(
        {
            "schema": SCHEMA,
            "dataset": {
                "path": str(result.dataset),
                "samples": result.total_samples,
                "evaluated": result.kept_samples,
                "dropped_by_filter": result.dropped_samples,
                "dropped_not_finite": result.dropped_not_finite,
                "not_finite": dict(result.not_finite),
            },
            "protocol": {
                "name": str(s.protocol),
                "face_model": None if s.face_model is None else str(s.face_model),
                "filter_limit_deg": s.filter_limit_deg,
                "alignment": s.alignment,
                "fov_deg": s.fov_deg if s.alignment == "perspective" else None,
                "roi_choices": [_roi_json(c) for c in result.roi_choices],
                "ensemble": s.ensemble,
                "stability": None if s.stability is None else to_plain(s.stability),
            },
            "models": [asdict(m) for m in result.models],
            "results": [
                {"model": r.model, "roi": _roi_json(r.roi), "metrics": asdict(r.metrics)} for r in result.rows
            ],
            "stability": stability,
        }
    )


def metrics_from_json(entry: dict[str, Any]) -> PoseMetrics:
    """A ``results[i].metrics`` object of the JSON document back as :class:`PoseMetrics`."""
    return PoseMetrics(**entry)


def write_json(result: EvaluationResult, path: str | os.PathLike, overwrite: bool = False) -> Path:
    """Writes :func:`result_to_json` atomically."""
    with atomic_output(path, overwrite) as tmp:
        tmp.write_text(json.dumps(result_to_json(result), indent=2, allow_nan=False) + "\n")
    return Path(path)


CSV_COLUMNS = [
    "model",
    "roi_source",
    "roi_expansion",
    "index",
    "true_pitch_deg",
    "true_yaw_deg",
    "true_roll_deg",
    "pred_pitch_deg",
    "pred_yaw_deg",
    "pred_roll_deg",
    "err_pitch_deg",
    "err_yaw_deg",
    "err_roll_deg",
    "err_mean_deg",
    "geodesic_deg",
    "xy_pct",
    "size_pct",
    "nme3d_pct",
    "nme2d_pct",
]


def _csv_rows(row: Row) -> list[list[Any]]:
    e = row.samples
    true, pred = np.rad2deg(quat_to_euler(e.true_quat)), np.rad2deg(quat_to_euler(e.pred_quat))
    err = np.rad2deg(e.euler_err)
    nan = np.full(len(e.indices), np.nan)
    xy = nan if e.position_err is None else 100 * np.hypot(e.position_err[:, 0], e.position_err[:, 1])
    size = nan if e.position_err is None else 100 * e.position_err[:, 2]
    nme3d = nan if e.nme3d is None else 100 * e.nme3d
    nme2d = nan if e.nme2d is None else 100 * e.nme2d
    extra = np.column_stack(
        [true, pred, err, err.mean(axis=1), np.rad2deg(e.geodesic_err), xy, size, nme3d, nme2d]
    )
    return [
        [
            row.model,
            row.roi.source.value,
            row.roi.expansion,
            int(i),
            *("" if not math.isfinite(v) else f"{v:.4f}" for v in values),
        ]
        for i, values in zip(e.indices, extra, strict=True)
    ]


def write_per_sample_csv(result: EvaluationResult, path: str | os.PathLike, overwrite: bool = False) -> Path:
    """One line per model, ROI choice and sample; empty cells where a value does not exist."""
    with atomic_output(path, overwrite) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(CSV_COLUMNS)
        for row in result.rows:
            writer.writerows(_csv_rows(row))
    return Path(path)
