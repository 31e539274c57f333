"""Resuming from ``last.ckpt`` when Lightning's ``resume.ckpt`` is damaged (truncated, or unsafe to load).

``last.ckpt`` holds the network of the last completed epoch N (written right after ``resume.ckpt``).
The run continues at epoch N + 1 with those weights, the learning rate where the schedule puts step
N x steps-per-epoch, and the metrics rows of epochs 1..N; the optimizer's moments and an SWA average
begin anew, so the result is close to, but not the same as, an uninterrupted run's.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning.pytorch as pl

from opnet.errors import OpNetError
from opnet.models import PoseNet, load_checkpoint
from opnet.models.torchfile import read_torch_file
from opnet.train.history import Row, read_metrics_csv
from opnet.train.outputs import RunPaths

log = logging.getLogger(__name__)

LIGHTNING_KEYS = ("state_dict", "loops", "optimizer_states", "lr_schedulers", "callbacks")


@dataclass(frozen=True)
class WeightsStart:
    """Continue after epoch ``epoch`` from the weights in ``checkpoint``, with ``history`` so far."""

    checkpoint: Path
    epoch: int
    history: list[Row]


def resume_state_problem(path: Path) -> str | None:
    """Why Lightning's resume file cannot be used (one phrase), or None if it loads as expected."""
    try:
        content = read_torch_file(path)
    except OpNetError as e:
        return str(e).replace(f"{path}: ", "")
    missing = [k for k in LIGHTNING_KEYS if not isinstance(content, dict) or k not in content]
    return f"not a training state (no {', '.join(missing)})" if missing else None


INTEGER_COLUMNS = ("epoch", "samples", "swa_epochs")
"""Metrics columns that hold counts (written as 3, not 3.0)."""


def _counts_as_ints(row: Row) -> Row:
    return {k: int(v) if k in INTEGER_COLUMNS else v for k, v in row.items()}


def weights_start(paths: RunPaths, problem: str) -> WeightsStart:
    """The start from ``last.ckpt`` (saying so), or OpNetError if that file is unusable as well."""
    try:
        _, extra = load_checkpoint(paths.last)
        epoch = int(extra["epoch"])
        history = [_counts_as_ints(row) for row in read_metrics_csv(paths.metrics) if row["epoch"] <= epoch]
    except (OpNetError, KeyError, ValueError, TypeError, OSError) as e:
        raise OpNetError(
            f"--resume {paths.outdir}: {paths.resume.name} is damaged ({problem}) and {paths.last.name} "
            f"cannot stand in for it ({' '.join(str(e).split())}); start the run again with --force"
        ) from None
    if len(history) != epoch:
        raise OpNetError(
            f"--resume {paths.outdir}: {paths.resume.name} is damaged ({problem}) and "
            f"{paths.metrics.name} does not hold epochs 1..{epoch}; start the run again with --force"
        )
    log.warning(
        "%s is damaged (%s); continuing from %s (epoch %d): its weights, a new optimizer state%s",
        paths.resume,
        problem,
        paths.last.name,
        epoch,
        " and a new SWA average" if any(row.get("swa_epochs", 0) for row in history) else "",
    )
    return WeightsStart(paths.last, epoch, history)


def load_start_weights(net: PoseNet, start: WeightsStart) -> None:
    """Puts the checkpoint's weights into ``net`` (same config: the run's own checkpoint)."""
    stored, _ = load_checkpoint(start.checkpoint)
    net.load_state_dict(stored.state_dict())


def skip_completed_epochs(trainer: pl.Trainer, epochs: int) -> None:
    """Sets Lightning's loop counters as if ``epochs`` epochs had run (call before ``trainer.fit``)."""
    progress: Any = trainer.fit_loop.epoch_progress
    for tracker in (progress.total, progress.current):
        tracker.ready = tracker.started = tracker.processed = tracker.completed = epochs


class StartAfterEpoch(pl.Callback):
    """Moves the optimizer step count and the learning-rate schedule to the end of epoch N."""

    def __init__(self, epochs: int):
        self.epochs = epochs

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        steps = self.epochs * int(trainer.num_training_batches)
        progress: Any = trainer.fit_loop.epoch_loop.automatic_optimization.optim_progress
        progress.optimizer.step.total.ready = progress.optimizer.step.total.completed = steps
        trainer.fit_loop.epoch_loop._batches_that_stepped = steps
        for config in trainer.lr_scheduler_configs:
            scheduler: Any = config.scheduler
            scheduler.last_epoch = steps
            lrs = [
                base * factor(steps)
                for base, factor in zip(scheduler.base_lrs, scheduler.lr_lambdas, strict=True)
            ]
            for group, lr in zip(scheduler.optimizer.param_groups, lrs, strict=True):
                group["lr"] = lr
            scheduler._last_lr = lrs
