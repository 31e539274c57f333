"""DataLoaders: training batches from the mix (augmented, resumable), validation batches (fixed crops)."""

from __future__ import annotations

from typing import Any

import cv2
import torch
from torch.utils.data import DataLoader, Dataset

from opnet.augment import AugmentConfig
from opnet.normalization import InputNorm
from opnet.targets import PoseBatch
from opnet.train.data import EvalDataset, MixDataset
from opnet.train.mixing import DatasetMix
from opnet.train.sampler import SAMPLES_PER_EPOCH, MixSampler


def as_batch(batch: Any) -> PoseBatch:
    """The collate function: the datasets already return whole :class:`PoseBatch` es (``__getitems__``)."""
    return batch


def worker_init(worker_id: int) -> None:
    """Data workers run single-threaded OpenCV and torch: parallelism comes from the workers themselves."""
    cv2.setNumThreads(1)
    torch.set_num_threads(1)


def _loader(dataset: Dataset, batch_size: int, workers: int, pin_memory: bool, **kwargs: Any) -> DataLoader:
    """A DataLoader whose worker processes are forked from this one.

    OpenCV's thread pool does not survive a fork (a worker can hang in it for good), so with
    worker processes this process is switched to single-threaded OpenCV: its image work is done by
    the workers anyway.
    """
    if workers > 0:
        cv2.setNumThreads(1)
    return DataLoader(
        dataset,
        batch_size=batch_size,
        num_workers=workers,
        collate_fn=as_batch,
        pin_memory=pin_memory,
        worker_init_fn=worker_init if workers else None,
        persistent_workers=workers > 0,
        **kwargs,
    )


def make_train_loader(
    mix: DatasetMix,
    config: AugmentConfig,
    batch_size: int,
    seed: int,
    workers: int,
    pin_memory: bool = False,
    samples_per_epoch: int = SAMPLES_PER_EPOCH,
    rank: int = 0,
    world_size: int = 1,
    norm: InputNorm = InputNorm.OPENTRACK,
) -> DataLoader:
    """Augmented training batches of ``mix``; ``loader.sampler.set_epoch(e)`` selects the epoch.

    Batch b of epoch e always holds samples b*B .. (b+1)*B-1 of that epoch's plan, whatever
    ``workers`` is; an incomplete last batch is dropped. ``pin_memory``: True when training on CUDA.
    Data-parallel process ``rank`` of ``world_size`` gets its share of each step
    (:func:`opnet.train.sampler.shard_positions`). ``norm``: the network's input normalisation.
    """
    sampler = MixSampler(mix.frequencies, mix.sizes, seed, samples_per_epoch, rank, world_size, batch_size)
    return _loader(
        MixDataset(mix, config, seed, norm), batch_size, workers, pin_memory, sampler=sampler, drop_last=True
    )


def make_eval_loader(
    dataset: EvalDataset, batch_size: int, workers: int, pin_memory: bool = False
) -> DataLoader:
    """Validation batches in dataset order (no augmentation)."""
    return _loader(dataset, batch_size, workers, pin_memory, shuffle=False)
