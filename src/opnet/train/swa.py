"""Stochastic weight averaging: the mean of the weights after each epoch of the last part of the run.

Batch-norm statistics (``swa_bn``): averaged with the weights, as the original did
(``AveragedModel(use_buffers=True)``), or re-estimated at the end with a pass over training samples
(``torch.optim.swa_utils.update_bn``), because averaged weights change the activations.
"""

from __future__ import annotations

import logging
import math
from itertools import islice
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
from torch.optim.swa_utils import AveragedModel, update_bn

from opnet.models import PoseNet, save_checkpoint
from opnet.settings import to_plain
from opnet.train.config import TrainConfig
from opnet.train.datamodule import PoseDataModule
from opnet.train.module import PoseTrainingModule
from opnet.train.schedule import swa_start_epoch
from opnet.train.validation import evaluate_network

log = logging.getLogger(__name__)


class SwaCallback(pl.Callback):
    """Averages ``module.net`` after every epoch >= :func:`swa_start_epoch`; at the end of training
    re-estimates batch-norm statistics (``swa_bn="reestimate"``), validates and writes ``path``
    (process 0 only).

    Its state (the running average) is part of Lightning's resume checkpoint.
    """

    def __init__(self, config: TrainConfig, path: Path, val_batches: int | None = None):
        self.config = config
        self.path = path
        self.start = swa_start_epoch(config)
        self.val_batches = val_batches
        self.averaged: AveragedModel | None = None
        self.metrics: dict[str, float] | None = None
        self._pending: dict[str, Any] | None = None

    @property
    def epochs_averaged(self) -> int:
        return 0 if self.averaged is None else int(self.averaged.n_averaged)

    def _average_of(self, net: PoseNet) -> AveragedModel:
        if self.averaged is None:
            self.averaged = AveragedModel(net, use_buffers=self.config.swa_bn == "average")
            if self._pending:
                self.averaged.load_state_dict(self._pending)
                self._pending = None
        return self.averaged

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self._pending:
            self._average_of(pl_module.net)

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.current_epoch >= self.start:
            self._average_of(pl_module.net).update_parameters(pl_module.net)

    def state_dict(self) -> dict[str, Any]:
        return {} if self.averaged is None else self.averaged.state_dict()

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self._pending = dict(state_dict) or None

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if not trainer.is_global_zero:
            return
        if self.averaged is None:
            log.info("SWA: no epoch averaged (it starts at epoch %d); no %s", self.start + 1, self.path.name)
            return
        assert isinstance(pl_module, PoseTrainingModule) and isinstance(trainer.datamodule, PoseDataModule)
        if self.config.swa_bn == "reestimate":
            batches = max(1, math.ceil(self.config.swa_bn_samples / self.config.batch_size))
            images = trainer.datamodule.training_images(self.config.epochs, batches)
            update_bn(images, self.averaged, device=pl_module.device)
        net = self.averaged.module
        val = islice(trainer.datamodule.val_dataloader(), self.val_batches)
        self.metrics = evaluate_network(net, val, pl_module.criterion, pl_module.device)
        extra = {
            "train_config": to_plain(self.config),
            "kind": "swa",
            "epochs_averaged": self.epochs_averaged,
            "metrics": self.metrics,
        }
        save_checkpoint(self.path, net, extra, overwrite=True)
        log.info("SWA: averaged %d epochs, wrote %s", self.epochs_averaged, self.path)
