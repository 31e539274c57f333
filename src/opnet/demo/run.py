"""``run_demo(config, outdir)``: generate -> train -> export -> evaluate -> report, on the CPU.

The folder it fills::

    OUTDIR/data/train.h5, heldout.h5    synthetic heads (other persons in each)
    OUTDIR/train/                       the training run (opnet train's files) and swa.onnx
    OUTDIR/report/                      metrics.json, results.md, training.png, predictions.png

The report folder is written last, under a temporary name, and renamed when complete.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from opnet.data import open_dataset
from opnet.demo.budget import EpochPlan, PlanUpdate, planned_epochs, probe_epoch_s
from opnet.demo.config import DemoConfig, train_config
from opnet.demo.result import DemoPaths, DemoResult, Evaluation
from opnet.demo.steps import StepClock
from opnet.errors import OpNetError
from opnet.evaluate import EvaluationSettings, evaluate_models
from opnet.fileio import check_folder_creatable, remove_path
from opnet.synth import generate_dataset

if TYPE_CHECKING:
    from opnet.demo.replan import Replanner
    from opnet.train import TrainConfig, TrainResult

log = logging.getLogger(__name__)

DEMO_ENTRIES = ("data", "train", "report")
"""What a demo folder holds; ``overwrite`` removes these and refuses a folder with anything else."""
MIN_TRAINING_S = 30.0


def dry_run_config(config: DemoConfig) -> DemoConfig:
    """Tiny data (16 + 8 heads of 64 px), one epoch of 2 steps: every step still runs, in seconds."""
    synth = replace(config.synth, image_size=64, samples_per_identity=4)
    return replace(
        config,
        train_samples=16,
        heldout_samples=8,
        synth=synth,
        epochs=1,
        batch_size=8,
        samples_per_epoch=16,
        min_epochs=1,
        grid_samples=min(config.grid_samples, 4),
    )


def prepare_outdir(paths: DemoPaths, overwrite: bool) -> None:
    """Creates the demo folder; an existing non-empty one is refused unless ``overwrite``, and then
    only its demo entries are removed (a folder holding anything else is refused)."""
    outdir = paths.outdir
    if outdir.exists() and not outdir.is_dir():
        raise OpNetError(f"{outdir}: exists and is not a folder")
    present = (
        sorted(p.name for p in outdir.iterdir() if not p.name.startswith(".")) if outdir.is_dir() else []
    )
    if present and not overwrite:
        raise OpNetError(f"{outdir}: already exists; pass --force to replace the demo in it")
    foreign = [name for name in present if name not in DEMO_ENTRIES]
    if foreign:
        raise OpNetError(
            f"{outdir}: holds {foreign[0]}, which is not part of a demo; choose another --outdir"
        )
    check_folder_creatable(paths.data)
    for name in present:
        remove_path(outdir / name)
    paths.data.mkdir(parents=True, exist_ok=True)


def generate_data(
    config: DemoConfig, paths: DemoPaths, clock: StepClock, workers: int, progress: bool
) -> DemoConfig:
    """The held-out and training sets (different seeds: no synthetic person is in both). Within a
    time budget (no fixed ``epochs``) the training heads stop at ``generate_share`` of it; returns
    ``config`` with the number of training heads made."""
    generate_dataset(
        paths.heldout_file,
        config.heldout_samples,
        config.synth,
        seed=config.heldout_seed,
        workers=workers,
        progress=progress,
    )
    budgeted = config.epochs is None
    made = generate_dataset(
        paths.train_file,
        config.train_samples,
        config.synth,
        seed=config.train_seed,
        workers=workers,
        progress=progress,
        deadline=clock.started + 60.0 * config.minutes * config.generate_share if budgeted else None,
        min_samples=min(config.min_train_samples, config.train_samples),
    )
    return config if made == config.train_samples else replace(config, train_samples=made)


def _planned_training(
    config: DemoConfig, paths: DemoPaths, clock: StepClock, threads: int | None
) -> tuple[TrainConfig, Replanner | None]:
    """The training config and, without ``config.epochs``, the :class:`Replanner` that keeps the run
    to the budget: a first plan from a few timed training steps, re-planned after every epoch."""
    if config.epochs is not None:
        return train_config(config, paths.train_file, config.epochs), None
    from opnet.demo.replan import Replanner
    from opnet.runtime.checkpoint_model import torch_threads
    from opnet.train.inputs import prepare_training_data
    from opnet.train.speed import training_step_rate

    deadline = clock.started + 60.0 * config.minutes - config.reserve_s
    seconds = deadline - time.monotonic()
    if seconds < MIN_TRAINING_S:
        raise OpNetError(
            f"--minutes {config.minutes:g}: {seconds:.0f} s would be left for training after "
            f"generating the data; give more minutes (or --epochs)"
        )
    probe = train_config(config, paths.train_file, 1)
    data = prepare_training_data(probe)
    with torch_threads(threads or len(os.sched_getaffinity(0))):
        rate = training_step_rate(probe, data.mix)
    epochs = planned_epochs(config, seconds, rate, len(data.val), probe.swa_bn_samples)
    base = train_config(config, paths.train_file, epochs)
    plan = EpochPlan.of(epochs, base)
    log.info(
        "      plan: %s of %d images in %.1f min at %.0f images/s (timed training steps); "
        "re-planned after every epoch",
        plan.describe(base.lr_decay_factor),
        config.samples_per_epoch,
        seconds / 60,
        rate,
    )
    first = PlanUpdate(0, plan, probe_epoch_s(config, rate, len(data.val)), seconds)
    return base, Replanner(plan, base, deadline, first)


def train_network(
    config: DemoConfig, paths: DemoPaths, clock: StepClock, threads: int | None, dry_run: bool, progress: bool
) -> tuple[TrainResult, tuple[PlanUpdate, ...]]:
    """Trains on the training set (whole persons of it held out for validation and model choice);
    returns the run and the plans it followed (none with ``config.epochs``)."""
    from opnet.train import train

    run_config, replanner = _planned_training(config, paths, clock, threads)
    result = train(
        run_config,
        paths.run,
        workers=0,
        threads=threads,
        dry_run=dry_run,
        progress=progress,
        callbacks=[replanner] if replanner is not None else [],
    )
    return result, tuple(replanner.updates) if replanner is not None else ()


def evaluate_model(
    model_path: Path, datasets: list[tuple[str, str, Path]], threads: int | None, progress: bool
) -> list[Evaluation]:
    """The model file on each (key, label, file) of ``datasets``, cropped and normalised as OpenTrack
    will run it (the ``opentrack`` protocol: the demo's model is made for the tracker)."""
    from opnet.runtime import load_pose_model

    model = load_pose_model(model_path, threads)
    settings = EvaluationSettings(protocol="opentrack", threads=threads, progress=progress)
    evaluations = []
    for key, label, path in datasets:
        with open_dataset(path) as ds:
            evaluations.append(Evaluation(key, label, evaluate_models([model], ds, settings)))
    return evaluations


def _datasets(config: DemoConfig, paths: DemoPaths, real_faces: Path | None) -> list[tuple[str, str, Path]]:
    synthetic = ("synthetic", f"held-out synthetic heads ({config.heldout_samples})", paths.heldout_file)
    if real_faces is None:
        return [synthetic]
    with open_dataset(real_faces, require_images=False) as ds:
        count = len(ds)
    return [synthetic, ("real_faces", f"{Path(real_faces).stem} ({count} real faces)", Path(real_faces))]


def run_demo(
    config: DemoConfig,
    outdir: str | os.PathLike,
    real_faces: str | os.PathLike | None = None,
    *,
    overwrite: bool = False,
    workers: int | None = None,
    threads: int | None = None,
    dry_run: bool = False,
    progress: bool = True,
) -> DemoResult:
    """Runs the whole demo into ``outdir`` (see the module docstring) and returns what it measured.

    ``real_faces``: a labelled dataset of real faces to evaluate on as well (e.g. aflw2kmini.h5),
    or None. ``workers``: processes generating the data (default: all cores); ``threads``: torch
    and evaluation threads (default: all cores). ``dry_run``: :func:`dry_run_config`.
    ``overwrite``: replace the demo in ``outdir``.
    """
    from opnet.demo.report import write_report
    from opnet.train.run import export_final_model

    clock = StepClock()
    config = dry_run_config(config) if dry_run else config
    paths = DemoPaths(Path(outdir))
    datasets_real = None if real_faces is None else Path(real_faces)
    if datasets_real is not None and not datasets_real.is_file():
        raise OpNetError(f"{datasets_real}: no such dataset file (real faces to evaluate on)")
    if datasets_real is not None:
        open_dataset(datasets_real).close()  # a file that cannot be evaluated is refused before any work
    prepare_outdir(paths, overwrite)
    with clock.step(
        "generate",
        f"{config.train_samples} training + {config.heldout_samples} held-out "
        f"synthetic heads ({config.synth.image_size} px) into {paths.data}",
    ):
        config = generate_data(config, paths, clock, workers or len(os.sched_getaffinity(0)), progress)
    with clock.step("train", f"MobileNetV1 x{config.model.width:g} on the CPU into {paths.run}"):
        training, plans = train_network(config, paths, clock, threads, dry_run, progress)
    with clock.step("export", "the final (weight-averaged) network to OpenTrack's ONNX format"):
        model = export_final_model(training, paths.train_file, progress)
    datasets = _datasets(config, paths, datasets_real)
    with clock.step("evaluate", f"{model} on " + ", ".join(label for _, label, _ in datasets)):
        evaluations = evaluate_model(model, datasets, threads, progress)
    result = DemoResult(paths, config, training, model, evaluations, clock.seconds, 0.0, plans)
    return write_report(result, clock)
