"""The Lightning data module: the run's training and validation loaders, sharded by process."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice
from typing import cast

import lightning.pytorch as pl
from torch import Tensor
from torch.utils.data import DataLoader

from opnet.normalization import InputNorm
from opnet.train.config import TrainConfig
from opnet.train.inputs import TrainingData
from opnet.train.loader import make_eval_loader, make_train_loader
from opnet.train.sampler import MixSampler

VAL_WORKERS = 2
"""At most this many worker processes prepare validation crops (no augmentation: cheap)."""


class PoseDataModule(pl.LightningDataModule):
    """Training batches of the mix (each data-parallel process draws its share of every step,
    :func:`opnet.train.sampler.shard_positions`; Lightning's own sampler replacement must be off)
    and validation batches of the whole validation set in every process."""

    def __init__(self, data: TrainingData, config: TrainConfig, workers: int, pin_memory: bool):
        super().__init__()
        self.data = data
        self.config = config
        self.workers = workers
        self.pin_memory = pin_memory
        self._train: DataLoader | None = None

    def train_dataloader(self) -> DataLoader:
        c = self.config
        trainer = self.trainer
        assert trainer is not None  # Lightning attaches the trainer before it asks for loaders
        self._train = make_train_loader(
            self.data.mix,
            c.augment,
            c.batch_size,
            c.seed,
            self.workers,
            self.pin_memory,
            c.samples_per_epoch,
            trainer.global_rank,
            trainer.world_size,
            InputNorm(c.model.input_norm),
        )
        # Lightning creates the first iterator of a resumed run before it calls set_epoch: start at
        # the epoch that comes next (the count Lightning passes to set_epoch), not at 0.
        epochs_done = trainer.fit_loop.epoch_progress.current.processed  # type: ignore[attr-defined]
        cast(MixSampler, self._train.sampler).set_epoch(epochs_done)
        return self._train

    def val_dataloader(self) -> DataLoader:
        return make_eval_loader(
            self.data.val, self.config.batch_size, min(self.workers, VAL_WORKERS), self.pin_memory
        )

    def training_images(self, epoch: int, max_batches: int) -> Iterator[Tensor]:
        """Input images of the first ``max_batches`` training batches of ``epoch`` (batch-norm updates)."""
        loader = self._train if self._train is not None else self.train_dataloader()
        cast(MixSampler, loader.sampler).set_epoch(epoch)
        return (batch.image for batch in islice(loader, max_batches))
