"""``train(config, outdir)``: one training run, from the dataset spec to the checkpoints, with Lightning.

Lightning runs the loop (devices, data-parallel processes, mixed precision, resuming); OpNet adds the
data (:mod:`opnet.train.inputs`), the module (:mod:`opnet.train.module`) and the callbacks that
record every epoch (:mod:`opnet.train.callbacks`, :mod:`opnet.train.swa`).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import time
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import lightning.pytorch as pl
import torch
from lightning.fabric.utilities.exceptions import MisconfigurationException
from lightning.pytorch.trainer.states import TrainerStatus
from lightning.pytorch.utilities.rank_zero import rank_zero_only

from opnet.errors import OpNetError
from opnet.losses.combine import SHAPEPARAM_TERMS
from opnet.models import KeypointModel, PoseNet, create_model, load_model
from opnet.train.callbacks import EpochHook, EpochProgress, RunRecorder, TimeBudget
from opnet.train.config import TrainConfig, write_config_file
from opnet.train.datamodule import PoseDataModule
from opnet.train.fallback import (
    StartAfterEpoch,
    WeightsStart,
    load_start_weights,
    resume_state_problem,
    skip_completed_epochs,
    weights_start,
)
from opnet.train.history import Row
from opnet.train.init import InitWeights
from opnet.train.inputs import TrainingData, fit_training_keypoints, prepare_training_data
from opnet.train.interrupt import stop_after_step
from opnet.train.module import PoseTrainingModule
from opnet.train.outputs import RunPaths, check_fresh, check_resume, discard_failed_start, start_fresh
from opnet.train.swa import SwaCallback
from opnet.train.validation import score_of

log = logging.getLogger(__name__)

DRY_RUN_STEPS = 2


@dataclass(frozen=True, kw_only=True)
class TrainResult:
    """What a run left in its folder. ``history``: the metrics rows of all epochs so far; ``best``:
    the row of the best validation score; ``swa_metrics``: validation numbers of the SWA model
    when this call made it; ``stopped_early``: why the run ended before its last epoch (the time
    budget), else None."""

    outdir: Path
    config: TrainConfig
    history: list[Row]
    best: Row | None
    last_checkpoint: Path
    best_checkpoint: Path
    swa_checkpoint: Path | None
    swa_metrics: dict[str, float] | None
    metrics_csv: Path
    plot: Path | None
    stopped_early: str | None
    onnx: Path | None = None

    @property
    def epochs_completed(self) -> int:
        return len(self.history)


def is_cpu_run(config: TrainConfig) -> bool:
    return config.accelerator == "cpu" or (config.accelerator == "auto" and not torch.cuda.is_available())


def resolved_precision(config: TrainConfig) -> str:
    """For "auto": full precision on CPU (and MPS), bfloat16 mixed precision on GPUs with it, else float16."""
    if config.precision != "auto":
        return config.precision
    if is_cpu_run(config) or config.accelerator == "mps":
        return "32-true"
    return "bf16-mixed" if torch.cuda.is_bf16_supported() else "16-mixed"


def suggested_workers(config: TrainConfig, cores: int) -> int:
    """Data-loader processes for a run on ``cores`` CPU cores.

    On a GPU: one per core. On a CPU the network takes about 15 times the CPU time of the input
    pipeline, and worker processes compete with torch's threads for the cores (on 2 cores, making
    the batches in the training process was 1.4 to 1.9 times faster than 2 workers,
    bench/train.py): none up to 4 cores, then a quarter of them.
    """
    if not is_cpu_run(config):
        return cores
    return 0 if cores <= 4 else cores // 4


def dry_run_config(config: TrainConfig) -> TrainConfig:
    """One epoch of :data:`DRY_RUN_STEPS` steps (every output is still written)."""
    return dataclasses.replace(config, epochs=1, samples_per_epoch=DRY_RUN_STEPS * config.batch_size)


def _model_config(
    config: TrainConfig, data: TrainingData, resume: bool, init: InitWeights | None = None
) -> tuple[TrainConfig, KeypointModel | None]:
    """The config with the landmark head switched off if no training data has 3D landmarks, and the
    keypoint model (empty when resuming: the weights come from the resume state; the checkpoint's
    with ``init``)."""
    model = config.model
    if not model.landmarks:
        log.info("no landmark head (--no-pointhead)")
        return config, None
    if resume:
        return config, KeypointModel.empty(model.num_shape_params)
    if init is not None and init.config.landmarks:
        return config, init.keypoints()
    keypoints = fit_training_keypoints(data.mix, model.num_shape_params, config.seed)
    if keypoints is None:
        log.warning(
            "no training dataset has 3D landmarks (pt3d_68 with poses): training without a landmark head"
        )
        return dataclasses.replace(config, model=dataclasses.replace(model, landmarks=False)), None
    return without_shapeparams_terms(config), keypoints


def without_shapeparams_terms(config: TrainConfig) -> TrainConfig:
    """The config with the ``shapeparams`` loss terms off (one log line if they were on): they compare
    the keypoint model's coefficients with the datasets' 3DDFA ``shapeparams``, which is meaningful
    only for 3DDFA's basis (the original's network, e.g. through ``--init``), not for a keypoint
    model fitted to the training landmarks."""
    on = {name: w for name in sorted(SHAPEPARAM_TERMS) if (w := getattr(config.loss, name)) > 0}
    if not on:
        return config
    log.info(
        "loss terms %s set to 0: they need 3DDFA's keypoint model (the basis of the shapeparams "
        "labels), and this run's keypoint model is fitted to the training landmarks",
        ", ".join(f"{name}={weight:g}" for name, weight in on.items()),
    )
    return dataclasses.replace(config, loss=dataclasses.replace(config.loss, **dict.fromkeys(on, 0.0)))


def _trainer(config: TrainConfig, callbacks: list[pl.Callback], dry_run: bool) -> pl.Trainer:
    cpu = is_cpu_run(config)
    try:
        return pl.Trainer(
            accelerator=config.accelerator,
            devices=config.devices,
            num_nodes=config.num_nodes,
            precision=resolved_precision(config),
            max_epochs=config.epochs,
            callbacks=callbacks,
            limit_train_batches=DRY_RUN_STEPS if dry_run else None,
            limit_val_batches=DRY_RUN_STEPS if dry_run else None,
            num_sanity_val_steps=0,
            logger=False,
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
            use_distributed_sampler=False,
            deterministic=cpu,
            benchmark=not cpu,
        )
    except MisconfigurationException as e:
        raise OpNetError(f"--accelerator {config.accelerator} --devices {config.devices}: {e}") from None


@contextmanager
def _run_environment(threads: int | None) -> Iterator[None]:
    """Runs with ``threads`` torch threads; puts back the thread count and the deterministic-algorithms
    switch (Lightning sets it for CPU runs) afterwards. Lightning's deprecation warning about torch's
    pytree API (its code, not ours) is silenced while it runs."""
    old_threads, old_deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    if threads:
        torch.set_num_threads(threads)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\)")
            yield
    finally:
        torch.set_num_threads(old_threads)
        torch.use_deterministic_algorithms(old_deterministic)


def _check_folder(config: TrainConfig, paths: RunPaths, resume: bool, overwrite: bool) -> bool | WeightsStart:
    """Checks the run folder (process 0), writing nothing. True: load Lightning's resume state; a
    :class:`WeightsStart`: that state is damaged, continue from ``last.ckpt`` instead."""
    if rank_zero_only.rank != 0:
        load = resume and paths.resume.is_file()
    elif resume:
        load = check_resume(paths, config)
    else:
        check_fresh(paths, overwrite)
        return False
    problem = resume_state_problem(paths.resume) if load else None
    return weights_start(paths, problem) if problem else load


@dataclass(frozen=True)
class _Options:
    """How :func:`train` runs (see its arguments), as opposed to what it computes (the config)."""

    workers: int
    threads: int | None
    dry_run: bool
    progress: bool
    on_epoch_end: EpochHook | None
    started: float
    callbacks: tuple[pl.Callback, ...] = ()


def train(
    config: TrainConfig,
    outdir: str | os.PathLike,
    *,
    resume: bool = False,
    overwrite: bool = False,
    workers: int = 0,
    threads: int | None = None,
    dry_run: bool = False,
    progress: bool = True,
    on_epoch_end: EpochHook | None = None,
    init: InitWeights | None = None,
    callbacks: Sequence[pl.Callback] = (),
) -> TrainResult:
    """Trains a pose network as ``config`` says and writes the run into ``outdir``.

    ``resume``: continue the run in ``outdir`` (same config, except :data:`RESUME_SETTINGS`) from its
    last completed epoch, with the same result as an uninterrupted run; an interrupted epoch is
    repeated from its start. ``overwrite``: replace a run already in ``outdir``. ``workers``: data
    loader processes (see :func:`suggested_workers`); ``threads``: torch threads (None: leave as is).
    ``dry_run``: one epoch of 2 steps and 2 validation batches. ``on_epoch_end(row)`` is called
    with each epoch's metrics row (:mod:`opnet.train.history`). ``init``: start from these weights
    (:func:`opnet.train.init.init_from_checkpoint`, which also sets ``config.model``).
    ``callbacks``: more Lightning callbacks, called after OpNet's own (e.g. to re-plan the run's
    length, opnet.demo.replan). Ctrl-C or SIGTERM end the run with KeyboardInterrupt after the
    current step (a second Ctrl-C at once, :mod:`opnet.train.interrupt`); the files of the last
    completed epoch stay.

    >>> from opnet.models import ModelConfig
    >>> from opnet.synth import SynthConfig, generate_dataset
    >>> generate_dataset("heads.h5", 16, SynthConfig(image_size=64, samples_per_identity=4), progress=False)
    16
    >>> model = ModelConfig(width=0.25, input_size=64, landmarks=False)
    >>> config = TrainConfig(
    ...     ds="heads.h5", epochs=2, batch_size=4, samples_per_epoch=8, model=model, onnx=False
    ... )
    >>> result = train(config, "run", progress=False)  # one person's heads are held out for validation
    >>> result.epochs_completed, result.best_checkpoint.name, "val_mean_deg" in result.best
    (2, 'best.ckpt', True)
    """
    options = _Options(workers, threads, dry_run, progress, on_epoch_end, time.monotonic(), tuple(callbacks))
    config = dry_run_config(config) if dry_run else config
    paths = RunPaths.of(outdir, config)
    checked = _check_folder(config, paths, resume, overwrite)
    load_state, start = checked is True, checked if isinstance(checked, WeightsStart) else None
    data = prepare_training_data(config)
    config, keypoints = _model_config(config, data, load_state or start is not None, init)
    torch.manual_seed(config.seed)
    net = create_model(config.model, keypoints)
    if start is not None:
        load_start_weights(net, start)
    elif init is not None and not load_state:
        init.load_into(net)
    created = not paths.outdir.exists()
    if rank_zero_only.rank == 0:
        if not resume:
            start_fresh(paths, overwrite)  # only now: a run whose data are refused leaves nothing
        write_config_file(config, paths.config, overwrite=resume)
        _describe(config, data, net)
    try:
        with _run_environment(threads):
            result = _fit(config, paths, data, net, load_state, options, start)
    except Exception:
        if rank_zero_only.rank == 0 and not resume and not paths.last.exists():
            discard_failed_start(paths, created)  # e.g. an image that does not decode in the first steps
        raise
    if rank_zero_only.rank == 0:
        if config.onnx:
            result = replace(result, onnx=export_final_model(result, data.val.dataset.path, progress))
        log.info(summary(result))
    return result


def export_final_model(result: TrainResult, check_data: Path, progress: bool = True) -> Path:
    """OpenTrack's ONNX of the final model (the SWA model if the run made one, else the last), next to
    its checkpoint; checked against PyTorch on crops of ``check_data`` (:func:`opnet.export.export_model`)."""
    from opnet.export import ExportOptions, export_model

    source = result.swa_checkpoint or result.last_checkpoint
    path = source.with_suffix(".onnx")
    options = ExportOptions(data=check_data, progress=progress)
    export_model(load_model(source), path, options, overwrite=True, source=str(source))
    return path


def _describe(config: TrainConfig, data: TrainingData, net: PoseNet) -> None:
    weighting = "loss" if config.ds_weighting else "sampling"
    log.info("training mix (%s weighting):\n%s", weighting, data.mix.describe())
    log.info("validation: %s", data.val_description)
    parameters = sum(p.numel() for p in net.parameters())
    log.info("model: %s, width %g, %d parameters", config.model.backbone, config.model.width, parameters)


def _fit(
    config: TrainConfig,
    paths: RunPaths,
    data: TrainingData,
    net: PoseNet,
    load_state: bool,
    options: _Options,
    start: WeightsStart | None = None,
) -> TrainResult:
    swa = SwaCallback(config, paths.swa, DRY_RUN_STEPS if options.dry_run else None) if config.swa else None
    budget = TimeBudget(config.max_minutes, options.started) if config.max_minutes else None
    recorder = RunRecorder(config, paths, swa, options.on_epoch_end)
    bar = EpochProgress(config.batch_size) if options.progress else None
    skip = None
    if start is not None:
        recorder.load_state_dict({"history": start.history, "best": min(start.history, key=score_of)})
        skip = StartAfterEpoch(start.epoch)
    own = [c for c in (skip, bar, swa, recorder, budget) if c is not None]
    trainer = _trainer(config, own + list(options.callbacks), options.dry_run)
    if start is not None:
        skip_completed_epochs(trainer, start.epoch)
    datamodule = PoseDataModule(data, config, options.workers, pin_memory=not is_cpu_run(config))
    try:
        with stop_after_step():
            trainer.fit(
                PoseTrainingModule(config, net),
                datamodule=datamodule,
                ckpt_path=paths.resume if load_state else None,
            )
    except SystemExit:
        if trainer.state.status == TrainerStatus.INTERRUPTED:
            raise KeyboardInterrupt from None
        raise
    return TrainResult(
        outdir=paths.outdir,
        config=config,
        history=recorder.history,
        best=recorder.best,
        last_checkpoint=paths.last,
        best_checkpoint=paths.best,
        swa_checkpoint=paths.swa if swa is not None and paths.swa.is_file() else None,
        swa_metrics=swa.metrics if swa is not None else None,
        metrics_csv=paths.metrics,
        plot=paths.plot,
        stopped_early="time budget" if budget is not None and budget.stopped else None,
    )


def summary(result: TrainResult) -> str:
    """A few lines for people: epochs, the best epoch and its errors, SWA, the files."""
    done, planned = result.epochs_completed, result.config.epochs
    if result.stopped_early:
        first = f"trained {done} of {planned} epochs (stopped by the {result.stopped_early})"
    elif done == planned:
        first = f"trained {done} of {planned} epochs"
    else:
        first = f"trained {done} epochs (the plan changed during the run; {planned} at the start)"
    lines = [first]
    best = result.best
    if best is not None and "val_mean_deg" in best:
        lines.append(
            f"best epoch {int(best['epoch'])}: validation MAE {best['val_mean_deg']:.2f} deg (pitch "
            f"{best['val_pitch_deg']:.2f}, yaw {best['val_yaw_deg']:.2f}, roll {best['val_roll_deg']:.2f}), "
            f"geodesic {best['val_geodesic_deg']:.2f} deg"
        )
    elif best is not None:
        lines.append(f"best epoch {int(best['epoch'])}: validation loss {score_of(best):.4g}")
    if result.swa_metrics and "val_mean_deg" in result.swa_metrics:
        lines.append(f"SWA model: validation MAE {result.swa_metrics['val_mean_deg']:.2f} deg")
    files = [
        result.last_checkpoint,
        result.best_checkpoint,
        result.swa_checkpoint,
        result.metrics_csv,
        result.plot,
        result.onnx,
    ]
    lines.append("wrote " + ", ".join(str(f) for f in files if f is not None and f.exists()))
    return "\n".join(lines)
