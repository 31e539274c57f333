"""Sizing the training run to the time that is left: how many epochs fit.

Training time is modelled from the measured speed of real training steps (each making its own
batch, as the demo trains without data-loader processes): every epoch trains
``samples_per_epoch`` images and validates the held-out persons of the training file; the run
also starts up (Lightning, the keypoint model) and ends with the weight average's batch-norm pass
and validation. The constants were measured on a 2-core machine (docs/demo.md); the training's own
time limit (``TrainConfig.max_minutes``) stops the run at an epoch boundary should the estimate
be too low.
"""

from __future__ import annotations

import math

from opnet.demo.config import DemoConfig

LOOP_EFFICIENCY = 0.93
"""Images/s of the training loop (Lightning, metrics, checkpoints) / images/s of bare steps
(measured on 2 cores: 285 / 305)."""
INFERENCE_SPEEDUP = 3.0
"""Images/s of validation and batch-norm passes (forward only) / images/s of training steps."""
START_S = 10.0
"""Seconds before the first step: data files, keypoint model, Lightning."""
EPOCH_OVERHEAD_S = 1.0
"""Seconds per epoch besides its steps and validation: checkpoints, metrics, the plot now and then."""


def planned_epochs(
    config: DemoConfig, seconds: float, step_rate: float, validation_samples: int, swa_bn_samples: int
) -> int:
    """Epochs of ``config.samples_per_epoch`` images that fit into ``seconds`` of training at
    ``step_rate`` images/s of training steps; at least ``config.min_epochs``."""
    train_rate = LOOP_EFFICIENCY * step_rate
    inference_rate = INFERENCE_SPEEDUP * step_rate
    per_epoch = config.samples_per_epoch / train_rate + validation_samples / inference_rate + EPOCH_OVERHEAD_S
    once = START_S + (swa_bn_samples + validation_samples) / inference_rate
    return max(config.min_epochs, math.floor((seconds - once) / per_epoch))
