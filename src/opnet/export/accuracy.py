"""What float16/int8 conversion costs: the float32 and the converted model under the evaluation protocol.

Both models run on the same labelled samples with the protocol of :mod:`opnet.evaluate`
(pose filter, the 68-landmark box x 1.1); the table rows are those of ``opnet evaluate``.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from dataclasses import dataclass

from opnet.data import open_dataset
from opnet.evaluate.evaluation import Labels, read_labels, score, summarize
from opnet.evaluate.protocol import FILTER_LIMIT_DEG, dataset_rois, roi_choices
from opnet.evaluate.report import metrics_table
from opnet.evaluate.results import EvaluationSettings, Row
from opnet.evaluate.runner import predict_dataset
from opnet.export.samples import spread_indices
from opnet.runtime import PoseModel

DELTA_METRICS = ("mean_deg", "geodesic_deg", "xy_pct", "size_pct", "nme3d_pct")


@dataclass(frozen=True)
class AccuracyChange:
    """Protocol numbers of each model on ``samples`` samples of ``dataset`` (the float32 model first)."""

    dataset: str
    samples: int
    rows: list[Row]

    def deltas(self) -> dict[str, float]:
        """Each metric of the last model minus the first model's (positive = worse), where both have it."""
        first, last = self.rows[0].metrics, self.rows[-1].metrics
        return {
            key: getattr(last, key) - getattr(first, key)
            for key in DELTA_METRICS
            if getattr(last, key) is not None and getattr(first, key) is not None
        }

    def table(self) -> str:
        change = ", ".join(f"{key} {value:+.3f}" for key, value in self.deltas().items())
        return f"{metrics_table(self.rows)}\nchange: {change}"

    def to_dict(self) -> dict:
        return {
            "dataset": self.dataset,
            "samples": self.samples,
            "rows": [
                {"model": r.model, "roi": r.roi.label, **dataclasses.asdict(r.metrics)} for r in self.rows
            ],
            "change": self.deltas(),
        }


def _subset(labels: Labels, max_samples: int | None) -> Labels:
    if max_samples is None or len(labels.indices) <= max_samples:
        return labels
    keep = spread_indices(len(labels.indices), max_samples)
    values = {f.name: getattr(labels, f.name) for f in dataclasses.fields(labels)}
    return dataclasses.replace(labels, **{name: v[keep] for name, v in values.items() if v is not None})


def compare_accuracy(
    models: Sequence[PoseModel],
    data: str | os.PathLike,
    names: Sequence[str],
    max_samples: int | None = None,
    threads: int | None = None,
    progress: bool = True,
) -> AccuracyChange:
    """Protocol numbers of ``models`` (shown as ``names``) on up to ``max_samples`` samples of ``data``."""
    settings = EvaluationSettings(threads=threads, progress=progress)
    with open_dataset(data) as ds:
        labels, _ = read_labels(ds, FILTER_LIMIT_DEG)
        labels = _subset(labels, max_samples)
        choice = roi_choices(ds)[0]
        rois = dataset_rois(ds, choice.source)[labels.indices]
        preds = predict_dataset(
            ds,
            labels.indices,
            rois,
            choice.expansion,
            models,
            threads=threads,
            progress=progress,
            desc="accuracy",
        )
    rows = []
    for name, pred in zip(names, preds.per_model, strict=True):
        errors = score(pred, labels, rois, preds.image_wh, settings)
        rows.append(Row(name, choice, summarize(errors), errors))
    return AccuracyChange(str(data), len(labels.indices), rows)
