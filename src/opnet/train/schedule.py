"""The learning-rate schedule and the SWA window as pure functions of the step / epoch.

The original (``train_poseestimator.py``): Adam, linear warm-up over the first epochs/20 epochs,
then the rate times 0.1 after half of the epochs; SWA over the epochs after 2/3 of the run.
OpNet warms up per step instead of per epoch (no jump at each epoch start).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

from torch.optim import Optimizer
from torch.optim.lr_scheduler import LambdaLR

from opnet.errors import OpNetError
from opnet.train.config import TrainConfig


def steps_per_epoch(config: TrainConfig, world_size: int = 1) -> int:
    """Optimizer steps in an epoch: samples_per_epoch // (batch_size * processes)."""
    steps = config.samples_per_epoch // (config.batch_size * world_size)
    if steps < 1:
        raise OpNetError(
            f"samples_per_epoch={config.samples_per_epoch} is less than one batch of {config.batch_size} "
            f"on each of {world_size} processes"
        )
    return steps


def warmup_epochs(config: TrainConfig) -> int:
    """Epochs of linear warm-up: the fraction of the run rounded, at least 1 (0 when the fraction is 0)."""
    return max(1, round(config.warmup_fraction * config.epochs)) if config.warmup_fraction > 0 else 0


def decay_epochs(config: TrainConfig) -> list[int]:
    """Epochs from which the rate is multiplied by ``lr_decay_factor`` once more (after the warm-up)."""
    return sorted(max(warmup_epochs(config), round(f * config.epochs)) for f in config.lr_decay_fractions)


def lr_factor(
    step: int, steps_per_epoch: int, warmup_steps: int, decay_epochs: list[int], gamma: float
) -> float:
    """Multiplier of the base rate at optimizer step ``step`` (0-based)."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    epoch = step // steps_per_epoch
    return gamma ** sum(epoch >= d for d in decay_epochs)


def epoch_lr_factor(config: TrainConfig, epoch: int, steps: int) -> float:
    """The multiplier at the last step of ``epoch`` (what the metrics and the plot show)."""
    return lr_factor(
        (epoch + 1) * steps - 1,
        steps,
        warmup_epochs(config) * steps,
        decay_epochs(config),
        config.lr_decay_factor,
    )


def step_lr_factor(config: TrainConfig, steps: int) -> Callable[[int], float]:
    """The multiplier of the base rate as a function of the optimizer step, for ``steps`` steps per epoch."""
    return functools.partial(
        lr_factor,
        steps_per_epoch=steps,
        warmup_steps=warmup_epochs(config) * steps,
        decay_epochs=decay_epochs(config),
        gamma=config.lr_decay_factor,
    )


def make_scheduler(optimizer: Optimizer, config: TrainConfig, steps: int) -> LambdaLR:
    """A per-step LambdaLR following :func:`lr_factor` (its state is just the step count)."""
    return LambdaLR(optimizer, step_lr_factor(config, steps))


def swa_start_epoch(config: TrainConfig) -> int:
    """First epoch whose weights enter the SWA average (epochs >= this are averaged)."""
    return math.floor(config.swa_start_fraction * config.epochs + 1e-9)
