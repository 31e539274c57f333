"""Sizing the training run to the time that is left, and re-sizing it after every epoch.

Before training, :func:`planned_epochs` sizes the run from the measured speed of a few real
training steps (each making its own batch, as the demo trains without data-loader processes):
every epoch trains ``samples_per_epoch`` images and validates the held-out persons of the training
file; the run also starts up (Lightning, the keypoint model) and ends with the weight average's
batch-norm pass and validation. A few seconds of steps are a poor forecast of minutes of training
on a machine that is doing other work, so after every epoch :func:`replan` sizes the rest of the
run again from the epoch times measured so far (:func:`epochs_that_fit`): a slow start costs only
the time it lost. The phases of the run (learning-rate decay, weight averaging) keep their
fractions of the new length until they have begun (:class:`EpochPlan`). Whole epochs rarely fill
the time exactly: where at least :data:`LAST_EPOCH_MIN` of one more fits, it is planned too and
ends at the deadline, part-way through (:class:`opnet.demo.replan.Replanner`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

from opnet.demo.config import DemoConfig
from opnet.train import TrainConfig
from opnet.train.schedule import decay_epochs, swa_start_epoch, warmup_epochs

LOOP_EFFICIENCY = 0.93
"""Images/s of the training loop (Lightning, metrics, checkpoints) / images/s of bare steps
(measured on 2 cores: 285 / 305)."""
INFERENCE_SPEEDUP = 3.0
"""Images/s of validation and batch-norm passes (forward only) / images/s of training steps."""
START_S = 10.0
"""Seconds before the first step: data files, keypoint model, Lightning."""
EPOCH_OVERHEAD_S = 1.0
"""Seconds per epoch besides its steps and validation: checkpoints, metrics, the plot now and then."""
RECENT_EPOCHS = 3
"""The next epochs are forecast to take as long as the mean of this many last ones."""
LAST_EPOCH_MIN = 0.25
"""Share of an epoch that must fit for one more (cut short at the deadline) to be planned."""


def probe_epoch_s(config: DemoConfig, step_rate: float, validation_samples: int) -> float:
    """Seconds an epoch is expected to take at ``step_rate`` images/s of training steps: its
    ``config.samples_per_epoch`` training images, the validation of ``validation_samples``, the rest."""
    validation_s = validation_samples / (INFERENCE_SPEEDUP * step_rate)
    return config.samples_per_epoch / (LOOP_EFFICIENCY * step_rate) + validation_s + EPOCH_OVERHEAD_S


def planned_epochs(
    config: DemoConfig, seconds: float, step_rate: float, validation_samples: int, swa_bn_samples: int
) -> int:
    """Epochs of ``config.samples_per_epoch`` images that fit into ``seconds`` of training at
    ``step_rate`` images/s of training steps; at least ``config.min_epochs``."""
    once = START_S + (swa_bn_samples + validation_samples) / (INFERENCE_SPEEDUP * step_rate)
    per_epoch = probe_epoch_s(config, step_rate, validation_samples)
    return max(config.min_epochs, math.floor((seconds - once) / per_epoch))


@dataclass(frozen=True)
class EpochPlan:
    """A training run's length and phases as 0-based epoch indices: ``epochs`` in all, the learning
    rate warmed up over the first ``warmup`` epochs and decayed from each of ``decay_epochs`` on,
    the weights averaged from ``swa_start`` on."""

    epochs: int
    warmup: int
    decay_epochs: tuple[int, ...]
    swa_start: int

    @classmethod
    def of(cls, epochs: int, config: TrainConfig) -> EpochPlan:
        """``config``'s phases (fractions of the run) for a run of ``epochs`` epochs."""
        sized = dataclasses.replace(config, epochs=epochs)
        return cls(epochs, warmup_epochs(sized), tuple(decay_epochs(sized)), swa_start_epoch(sized))

    def train_config(self, config: TrainConfig) -> TrainConfig:
        """``config`` with this plan's length; its phases as the fractions that make exactly these epochs."""
        return dataclasses.replace(
            config,
            epochs=self.epochs,
            warmup_fraction=self.warmup / self.epochs,
            lr_decay_fractions=tuple(min(1.0, d / self.epochs) for d in self.decay_epochs),
            swa_start_fraction=self.swa_start / self.epochs,
        )

    def describe(self, decay_factor: float) -> str:
        """E.g. "26 epochs (lr x0.1 from epoch 19, averaged from 20)" (epochs counted from 1)."""
        phases = [f"lr x{decay_factor:g} from epoch {d + 1}" for d in self.decay_epochs if d < self.epochs]
        phases.append(f"averaged from {self.swa_start + 1}")
        return f"{self.epochs} epochs ({', '.join(phases)})"


@dataclass(frozen=True)
class PlanUpdate:
    """The plan made after ``after_epoch`` epochs (0: before training) from an epoch time of
    ``epoch_s`` seconds with ``seconds_left`` until the deadline."""

    after_epoch: int
    plan: EpochPlan
    epoch_s: float
    seconds_left: float


def replan(plan: EpochPlan, done: int, epochs: int, config: TrainConfig) -> EpochPlan:
    """The plan after ``done`` epochs for a run of ``epochs`` epochs in all.

    Phases still ahead take their fractions (``config``'s) of the new length but never start before
    the next epoch; phases that have begun stay as they were: the learning rate is never raised
    again and the average keeps its epochs. A warm-up still going on takes its share of the new
    length (at least the epochs it has had). At least one epoch is averaged, so
    the run may end one epoch later than ``epochs`` asks; it never ends before ``done``.
    """
    target = EpochPlan.of(max(epochs, done, 1), config)
    warmup = plan.warmup if plan.warmup <= done else max(done, target.warmup)
    decays = tuple(
        old if old < done else max(done, new, warmup)
        for old, new in zip(plan.decay_epochs, target.decay_epochs, strict=True)
    )
    swa_start = plan.swa_start if plan.swa_start < done else max(done, target.swa_start)
    return EpochPlan(max(target.epochs, done, swa_start + 1), warmup, decays, swa_start)


def forecast_epoch_s(epoch_s: Sequence[float]) -> float:
    """Seconds the next epochs are expected to take: the mean of the last :data:`RECENT_EPOCHS` epochs."""
    recent = list(epoch_s)[-RECENT_EPOCHS:]
    return sum(recent) / len(recent)


def finish_s(train_s: float, validation_s: float, swa_bn_samples: int, samples_per_epoch: int) -> float:
    """Seconds the run needs after its last epoch: the weight average's batch-norm pass over
    ``swa_bn_samples`` images (forward only), its validation and saving; from an epoch's measured
    ``train_s`` (its training steps) and ``validation_s``."""
    bn_pass = train_s * swa_bn_samples / samples_per_epoch / INFERENCE_SPEEDUP
    return bn_pass + validation_s + EPOCH_OVERHEAD_S


def epochs_that_fit(seconds_left: float, epoch_s: float, end_s: float, tail_s: float = 0.0) -> int:
    """More epochs of ``epoch_s`` seconds (``tail_s`` of them after the training steps: validation,
    checkpoints) for ``seconds_left``, keeping ``end_s`` for the end: the whole ones that fit, and
    one more where its steps can run for at least :data:`LAST_EPOCH_MIN` of an epoch's before its
    tail and the end (the run cuts it short at the deadline)."""
    epoch_s = max(epoch_s, 1e-9)
    room = max(0.0, seconds_left - end_s)
    whole = math.floor(room / epoch_s)
    steps_s = room - whole * epoch_s - tail_s
    return whole + int(steps_s >= LAST_EPOCH_MIN * max(epoch_s - tail_s, 1e-9))
