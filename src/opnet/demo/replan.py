"""Re-planning a training run after every epoch, so that it ends by a deadline however fast the machine is.

:class:`Replanner` is a Lightning callback for :func:`opnet.train.train` (``callbacks=``). After each
epoch it forecasts the epoch time from the last epochs, sizes the rest of the run
(:func:`opnet.demo.budget.replan`) and, when the plan changes, makes the running training follow it
(:func:`apply_plan`): Lightning's epoch limit, the learning-rate schedule from the next step on, the
weight average's first epoch, and the config that the log lines, metrics and checkpoints record.
An averaged epoch that would run past the deadline (the last one, planned because part of it fits,
or any one on a machine that slowed down) stops part-way, in time for its validation and the end of
the run.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import lightning.pytorch as pl
from torch.optim.lr_scheduler import LambdaLR

from opnet.demo.budget import (
    EPOCH_OVERHEAD_S,
    EpochPlan,
    PlanUpdate,
    epochs_that_fit,
    finish_s,
    forecast_epoch_s,
    replan,
)
from opnet.train import TrainConfig
from opnet.train.callbacks import RunRecorder
from opnet.train.module import PoseTrainingModule
from opnet.train.schedule import step_lr_factor, steps_per_epoch, swa_start_epoch
from opnet.train.swa import SwaCallback

log = logging.getLogger(__name__)


def apply_plan(trainer: pl.Trainer, config: TrainConfig) -> None:
    """Makes the running training follow ``config`` (a re-planned :meth:`EpochPlan.train_config`)."""
    trainer.fit_loop.max_epochs = config.epochs
    module = trainer.lightning_module
    assert isinstance(module, PoseTrainingModule)
    module.config = config
    scheduler = trainer.lr_scheduler_configs[0].scheduler
    assert isinstance(scheduler, LambdaLR)  # opnet.train.schedule.make_scheduler's
    factor = step_lr_factor(config, steps_per_epoch(config, trainer.world_size))
    scheduler.lr_lambdas = [factor] * len(scheduler.optimizer.param_groups)
    # The rate of the next step was set by the last step of the old plan: set it by the new one.
    for group, base in zip(scheduler.optimizer.param_groups, scheduler.base_lrs, strict=True):
        group["lr"] = base * factor(scheduler.last_epoch)
    for callback in trainer.callbacks:  # type: ignore[attr-defined]
        if isinstance(callback, SwaCallback):
            callback.config, callback.start = config, swa_start_epoch(config)
        elif isinstance(callback, RunRecorder):
            callback.config = config


class Replanner(pl.Callback):
    """Keeps a run to ``deadline`` (``clock()`` seconds, time.monotonic by default): after every
    epoch, as many more epochs as the forecast epoch time fits, keeping time for the end of the run;
    an averaged epoch stops after the step that reaches the time its validation and the end of the
    run need (measured on the epochs before).

    ``plan`` is the run's plan at the start and ``config`` its training config (the phases'
    fractions). ``updates`` records every plan, the first one included; ``cut`` the epoch that
    stopped part-way and its training steps (1-based epoch), or None.
    """

    def __init__(
        self,
        plan: EpochPlan,
        config: TrainConfig,
        deadline: float,
        first: PlanUpdate,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.plan = plan
        self.config = config
        self.deadline = deadline
        self.clock = clock
        self.updates = [first]
        self.epoch_s: list[float] = []
        self.cut: tuple[int, int] | None = None
        self._last_end: float | None = None
        self._epoch_start = self._train_end = 0.0
        self._stop_at: float | None = None

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._epoch_start = self._train_end = self.clock()
        if self._last_end is None:
            self._last_end = self._epoch_start

    def on_train_batch_end(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        averaged = trainer.current_epoch >= self.plan.swa_start
        if self._stop_at is None or not averaged or trainer.should_stop or self.clock() < self._stop_at:
            return
        trainer.should_stop = True
        self.cut = (trainer.current_epoch + 1, batch_idx + 1)
        log.info(
            "epoch %d stops after %d of %d steps: the time is up",
            trainer.current_epoch + 1,
            batch_idx + 1,
            trainer.num_training_batches,
        )

    def on_validation_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._train_end = self.clock()

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        now = self.clock()
        assert self._last_end is not None
        self.epoch_s.append(now - self._last_end)
        self._last_end = now
        train_s = max(0.0, self._train_end - self._epoch_start) or self.epoch_s[-1]
        validation_s = max(0.0, now - self._train_end)
        end_s = finish_s(
            train_s,
            validation_s,
            self.config.swa_bn_samples if self.config.swa else 0,
            self.config.samples_per_epoch,
        )
        tail_s = validation_s + EPOCH_OVERHEAD_S
        self._stop_at = self.deadline - end_s - tail_s
        epoch_s = forecast_epoch_s(self.epoch_s)
        left = self.deadline - now
        done = trainer.current_epoch + 1
        more = 0 if trainer.should_stop else epochs_that_fit(left, epoch_s, end_s, tail_s)
        plan = replan(self.plan, done, done + more, self.config)
        self.updates.append(PlanUpdate(done, plan, epoch_s, left))
        if plan != self.plan:
            log.info(
                "re-planned after epoch %d (%.1f s per epoch, %.1f min left): %s",
                done,
                epoch_s,
                left / 60,
                plan.describe(self.config.lr_decay_factor),
            )
            self.plan = plan
            apply_plan(trainer, plan.train_config(self.config))
