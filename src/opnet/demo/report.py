"""The demo's report folder and its printed summary.

``OUTDIR/report/``: ``metrics.json`` (schema ``opnet-demo/1``, keys in docs/demo.md), ``results.md``
(what the command prints), ``training.png`` (the training curves) and ``predictions.png``
(:mod:`opnet.demo.pictures`). The folder is written under a temporary name and renamed at the end.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from pathlib import Path
from typing import Any

import torch

from opnet.demo.budget import PlanUpdate
from opnet.demo.config import TRAINING_PLOT
from opnet.demo.pictures import predictions_grid
from opnet.demo.result import DemoResult
from opnet.demo.steps import STEPS, StepClock
from opnet.evaluate.report import metrics_table, result_to_json
from opnet.fileio import atomic_output
from opnet.settings import to_plain
from opnet.train import TrainConfig
from opnet.train.schedule import steps_per_epoch
from opnet.viz.grid import save_picture

SCHEMA = "opnet-demo/1"
REPORT_FILES = {
    "metrics": "metrics.json",
    "results": "results.md",
    "training_curves": "training.png",
    "predictions": "predictions.png",
}
SHORT_NAMES = {"synthetic": "held-out", "real_faces": "real"}


def _relative(result: DemoResult, path: Path | None) -> str | None:
    return None if path is None else os.path.relpath(path, result.paths.outdir)


def _training(result: DemoResult) -> dict[str, Any]:
    run = result.training
    best = run.best or {}
    images = int(sum(row["samples"] for row in run.history))
    return {
        "epochs_planned": result.plans[0].plan.epochs if result.plans else run.config.epochs,
        "epochs_completed": run.epochs_completed,
        "stopped_early": run.stopped_early,
        "images_trained": images,
        "last_epoch_images": int(run.history[-1]["samples"]) if run.history else 0,
        "images_per_s": images / sum(row["train_s"] for row in run.history),
        "best_epoch": int(best["epoch"]) if "epoch" in best else None,
        "best_validation_mean_deg": best.get("val_mean_deg"),
        "swa_validation_mean_deg": (run.swa_metrics or {}).get("val_mean_deg"),
        "plans": [_plan_json(update) for update in result.plans],
    }


def _final_training_config(result: DemoResult) -> TrainConfig:
    """The training config the run ended with (its last plan)."""
    config = result.training.config
    return result.plans[-1].plan.train_config(config) if result.plans else config


def _plan_json(update: PlanUpdate) -> dict[str, Any]:
    plan = update.plan
    return {
        "after_epoch": update.after_epoch,
        "epochs": plan.epochs,
        "lr_decay_from_epoch": [d + 1 for d in plan.decay_epochs],
        "averaged_from_epoch": plan.swa_start + 1,
        "epoch_s": update.epoch_s,
        "seconds_left": update.seconds_left,
    }


def training_line(result: DemoResult) -> str:
    """What was trained, and how the plan changed on the way."""
    run = result.training
    training = _training(result)
    changes = sum(a.plan != b.plan for a, b in zip(result.plans, result.plans[1:], strict=False))
    plan = (
        f"planned {training['epochs_planned']} at the start, re-planned {changes} times; "
        if result.plans
        else ""
    )
    if training["last_epoch_images"] < steps_per_epoch(run.config) * run.config.batch_size:
        plan += f"the last one stopped at the deadline after {training['last_epoch_images']} images; "
    return (
        f"Trained MobileNetV1 x{run.config.model.width:g} for {run.epochs_completed} epochs "
        f"({plan}{training['images_trained']} images, {training['images_per_s']:.0f} images/s) on "
        f"{result.config.train_samples} synthetic heads; evaluated {result.model} (OpenTrack's format):"
    )


def _files(result: DemoResult) -> dict[str, str | None]:
    run = result.training
    files = {
        "train_data": result.paths.train_file,
        "heldout_data": result.paths.heldout_file,
        "model_onnx": result.model,
        "checkpoint": run.swa_checkpoint or run.last_checkpoint,
        "training_metrics": run.metrics_csv,
        "training_config": run.outdir / "config.yaml",
    }
    files |= {name: result.paths.report / file for name, file in REPORT_FILES.items()}
    return {name: _relative(result, path) for name, path in files.items()}


def demo_json(result: DemoResult) -> dict[str, Any]:
    """The metrics.json document (docs/demo.md describes every key)."""
    evaluations = {e.key: e.result for e in result.evaluations}
    return {
        "schema": SCHEMA,
        "settings": {"demo": to_plain(result.config), "training": to_plain(_final_training_config(result))},
        "machine": {
            "cpu_cores": len(os.sched_getaffinity(0)),
            "torch_threads": torch.get_num_threads(),
            "load_average": list(os.getloadavg()),
        },
        "seconds": {**{step: result.seconds.get(step) for step in STEPS}, "total": result.total_s},
        "training": _training(result),
        "model": {"evaluated": _relative(result, result.model), "format": "onnx (OpenTrack's contract)"},
        "mean_mae_deg": {
            key: evaluations[key].rows[0].metrics.mean_deg if key in evaluations else None
            for key in ("synthetic", "real_faces")
        },
        "evaluations": {
            key: result_to_json(evaluations[key]) if key in evaluations else None
            for key in ("synthetic", "real_faces")
        },
        "files": _files(result),
    }


def results_table(result: DemoResult) -> str:
    """One markdown row per evaluated dataset (the evaluation protocol's columns)."""
    rows = [dataclasses.replace(e.result.rows[0], model=e.label) for e in result.evaluations]
    return metrics_table(rows, first_column="Data")


def summary_text(result: DemoResult) -> str:
    """What ``opnet demo`` prints at the end: time, what was trained, the table, where the files are."""
    steps = ", ".join(f"{step} {result.seconds[step] / 60:.1f}" for step in STEPS if step in result.seconds)
    cores = len(os.sched_getaffinity(0))
    return "\n".join(
        [
            f"OpNet demo: {result.total_s / 60:.1f} min in all ({steps} min) on {cores} CPU cores",
            training_line(result),
            "",
            results_table(result),
            "",
            f"Report: {result.paths.report}/ ({', '.join(REPORT_FILES.values())})",
        ]
    )


def write_report(result: DemoResult, clock: StepClock) -> DemoResult:
    """Writes the report folder (atomically) and returns ``result`` with the report's time and the total."""
    with atomic_output(result.paths.report, overwrite=True) as folder:
        folder.mkdir()
        with clock.step("report", f"metrics, curves and predictions into {result.paths.report}"):
            shutil.copyfile(result.paths.run / TRAINING_PLOT, folder / REPORT_FILES["training_curves"])
            named = [(SHORT_NAMES[e.key], e.result) for e in result.evaluations]
            grid = predictions_grid(named, result.config.grid_samples)
            save_picture(grid, folder / REPORT_FILES["predictions"])
        result = dataclasses.replace(result, seconds=dict(clock.seconds), total_s=clock.elapsed_s)
        (folder / REPORT_FILES["results"]).write_text(summary_text(result) + "\n", encoding="utf-8")
        document = json.dumps(demo_json(result), indent=2, allow_nan=False)
        (folder / REPORT_FILES["metrics"]).write_text(document + "\n", encoding="utf-8")
    return result
