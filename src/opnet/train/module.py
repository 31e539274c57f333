"""The Lightning module: one training step (network, losses, NaN check), gradient clipping, validation."""

from __future__ import annotations

import math

import lightning.pytorch as pl
import numpy as np
import torch
from lightning.pytorch.utilities.types import OptimizerLRSchedulerConfig
from torch import Tensor

from opnet.errors import OpNetError
from opnet.losses import PoseLoss
from opnet.models import PoseNet, PoseNetOutput
from opnet.targets import PoseBatch
from opnet.train.config import TrainConfig
from opnet.train.schedule import make_scheduler, steps_per_epoch
from opnet.train.validation import ValidationAccumulator

_STREAM_TORCH = 3
"""Seed stream of torch's generator (dropout); streams 0-2 and 4 belong to the sampler."""


class TrainingDiverged(OpNetError):
    """A loss term became NaN or infinite: the run stops (the last checkpoint is still usable)."""


def check_finite(losses: dict[str, Tensor], epoch: int, step: int) -> None:
    """Raises :class:`TrainingDiverged` naming the loss terms that are not finite (one sync per call).

    ``epoch`` and ``step`` are 0-based; the message counts from 1 like the progress output.
    """
    if bool(torch.isfinite(torch.stack([v.detach() for v in losses.values()])).all()):
        return
    bad = [f"{name}={float(v):g}" for name, v in losses.items() if name != "total" and not torch.isfinite(v)]
    terms = f"loss terms {', '.join(bad)} are" if len(bad) > 1 else f"loss term {(bad or ['total'])[0]} is"
    raise TrainingDiverged(
        f"training diverged in epoch {epoch + 1}, step {step + 1}: {terms} not finite; "
        "stopped (the checkpoints are from earlier epochs; try a lower --lr)"
    )


def step_seed(seed: int, epoch: int, step: int, rank: int = 0) -> int:
    """The seed of torch's generator (dropout) for one training step of one process.

    Seeding every step makes the dropout masks independent of whatever else draws from torch's
    generator (e.g. each new DataLoader iterator does), so a resumed run repeats them exactly.
    """
    return int(np.random.SeedSequence([seed, _STREAM_TORCH, epoch, step, rank]).generate_state(1)[0])


class PoseTrainingModule(pl.LightningModule):
    """Trains ``net`` with :class:`opnet.losses.PoseLoss`; keeps the epoch's mean loss terms and the
    validation numbers (:class:`ValidationAccumulator`) for the callbacks to record."""

    def __init__(self, config: TrainConfig, net: PoseNet):
        super().__init__()
        self.config = config
        self.net = net
        self.criterion = PoseLoss(config.loss, config.model)
        self.validation = ValidationAccumulator()
        self.val_metrics: dict[str, float] = {}
        self._sums: dict[str, Tensor] = {}
        self._steps = 0

    def forward(self, image: Tensor) -> PoseNetOutput:
        return self.net(image)

    @property
    def steps(self) -> int:
        """Training steps of this epoch so far (fewer than planned in an epoch stopped part-way)."""
        return self._steps

    def on_train_epoch_start(self) -> None:
        self._sums, self._steps = {}, 0

    def training_step(self, batch: PoseBatch, batch_idx: int) -> Tensor:
        torch.manual_seed(step_seed(self.config.seed, self.current_epoch, batch_idx, self.global_rank))
        losses = self.criterion(self.net(batch.image), batch.targets)
        check_finite(losses, self.current_epoch, batch_idx)
        for name, value in losses.items():
            self._sums[name] = self._sums.get(name, 0.0) + value.detach()
        self._steps += 1
        return losses["total"]

    def configure_gradient_clipping(
        self,
        optimizer: torch.optim.Optimizer,
        gradient_clip_val: float | None = None,
        gradient_clip_algorithm: str | None = None,
    ) -> None:
        """Clips to infinity norm ``grad_clip`` (the original's: no gradient entry above 0.1)."""
        limit = self.config.grad_clip if self.config.grad_clip > 0 else math.inf
        norm = torch.nn.utils.clip_grad_norm_(self.net.parameters(), limit, norm_type=math.inf)
        self._sums["grad_norm"] = self._sums.get("grad_norm", 0.0) + norm.detach()

    def epoch_train_means(self) -> dict[str, Tensor]:
        """``train_<term>`` means of this epoch's steps (and ``grad_norm``, the mean infinity norm
        before clipping), as tensors on this process's device."""
        return {
            (k if k == "grad_norm" else f"train_{k}"): torch.as_tensor(v, device=self.device)
            / max(1, self._steps)
            for k, v in self._sums.items()
        }

    def on_validation_epoch_start(self) -> None:
        self.validation.reset()

    def validation_step(self, batch: PoseBatch, batch_idx: int) -> None:
        output = self.net(batch.image)
        self.validation.add(output, batch.targets, self.criterion(output, batch.targets))

    def on_validation_epoch_end(self) -> None:
        self.val_metrics = self.validation.result()

    def configure_optimizers(self) -> OptimizerLRSchedulerConfig:
        optimizer = torch.optim.Adam(self.net.parameters(), lr=self.config.lr)
        scheduler = make_scheduler(
            optimizer, self.config, steps_per_epoch(self.config, self.trainer.world_size)
        )
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}
