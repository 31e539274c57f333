"""Which samples an epoch holds: a pure function of (seed, epoch, position), resumable and worker-independent.

Sample k of epoch e draws its dataset from the mix frequencies (one generator per (seed, e)).
Within a dataset, samples come in random passes without repetition (one permutation per
(seed, dataset, pass)), continuing across epochs, so each sample is seen once per pass as with the
original's per-dataset random sampler. Augmentation draws from a generator seeded by
(seed, e, k) (:func:`augment_rng`), and what a batch shares from one seeded by (seed, e, first
position of the batch) (:func:`batch_rng`), so nothing depends on workers, batch order or on
where a run was interrupted.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray
from torch.utils.data import Sampler

SAMPLES_PER_EPOCH = 10240
"""The original's "epoch": 10 * 1024 samples."""

_STREAM_DATASETS, _STREAM_ORDER, _STREAM_AUGMENT, _STREAM_BATCH = 0, 1, 2, 4


class SampleKey(NamedTuple):
    """Sample ``position`` of ``epoch``: item ``item`` (index into the rows) of mix member ``member``."""

    epoch: int
    position: int
    member: int
    item: int


def augment_rng(seed: int, epoch: int, position: int) -> np.random.Generator:
    """The generator the augmentation of sample ``position`` of ``epoch`` draws from."""
    return np.random.default_rng([seed, _STREAM_AUGMENT, epoch, position])


def batch_rng(seed: int, epoch: int, first_position: int) -> np.random.Generator:
    """The generator of what the batch starting at ``first_position`` of ``epoch`` shares (the
    original's per-batch choice of intensity operations)."""
    return np.random.default_rng([seed, _STREAM_BATCH, epoch, first_position])


def shard_positions(
    samples_per_epoch: int, batch_size: int, rank: int = 0, world_size: int = 1
) -> NDArray[np.int64]:
    """Positions of an epoch that process ``rank`` of ``world_size`` trains on, in its batch order.

    Step s of the epoch covers positions s*W*B .. (s+1)*W*B - 1 (W processes, B samples each);
    process r takes the r-th block of B of them. So the processes of a step together see exactly
    the samples of one batch of W*B in a single process, and an incomplete last step is dropped.
    """
    if not 0 <= rank < world_size or batch_size < 1:
        raise ValueError(
            f"shard_positions: need 0 <= rank < world_size and batch_size >= 1, got {rank}, "
            f"{world_size}, {batch_size}"
        )
    per_step = batch_size * world_size
    steps = samples_per_epoch // per_step
    first = np.arange(steps, dtype=np.int64)[:, None] * per_step + rank * batch_size
    return (first + np.arange(batch_size, dtype=np.int64)[None, :]).ravel()


def draw_members(
    frequencies: Sequence[float] | NDArray[np.floating], seed: int, epoch: int, length: int
) -> NDArray[np.int64]:
    """(length,) the mix member each sample of ``epoch`` comes from."""
    rng = np.random.default_rng([seed, _STREAM_DATASETS, epoch])
    return rng.choice(len(frequencies), size=length, p=np.asarray(frequencies, dtype=np.float64))


class MixSampler(Sampler[SampleKey]):
    """Yields the :class:`SampleKey` of each sample of the epoch set by ``set_epoch`` (Lightning calls it).

    With ``world_size`` > 1 (data-parallel training) it yields only the share of process ``rank``
    (:func:`shard_positions` with ``batch_size`` per process); keys keep their epoch positions, so
    every sample is augmented exactly as in a single process.
    """

    def __init__(
        self,
        frequencies: Sequence[float] | NDArray[np.floating],
        sizes: Sequence[int] | NDArray[np.integer],
        seed: int,
        samples_per_epoch: int = SAMPLES_PER_EPOCH,
        rank: int = 0,
        world_size: int = 1,
        batch_size: int = 1,
    ):
        if len(frequencies) != len(sizes) or min(sizes) < 1 or seed < 0:
            raise ValueError("MixSampler needs one frequency and a positive size per member, and a seed >= 0")
        self.frequencies = np.asarray(frequencies, dtype=np.float64)
        self.sizes = np.asarray(sizes, dtype=np.int64)
        self.seed = int(seed)
        self.samples_per_epoch = int(samples_per_epoch)
        self.epoch = 0
        self.positions = shard_positions(self.samples_per_epoch, batch_size, rank, world_size)
        self._counts: list[NDArray[np.int64]] = []  # per epoch: samples drawn from each member
        self._permutations: dict[tuple[int, int], NDArray[np.int64]] = {}

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.positions)

    def _drawn_before(self, epoch: int) -> NDArray[np.int64]:
        """(M,) samples drawn from each member in epochs 0..epoch-1."""
        while len(self._counts) < epoch:
            members = draw_members(self.frequencies, self.seed, len(self._counts), self.samples_per_epoch)
            self._counts.append(np.bincount(members, minlength=len(self.sizes)))
        return (
            np.sum(self._counts[:epoch], axis=0, dtype=np.int64)
            if epoch
            else np.zeros(len(self.sizes), np.int64)
        )

    def _permutation(self, member: int, cycle: int) -> NDArray[np.int64]:
        key = (member, cycle)
        if key not in self._permutations:
            if len(self._permutations) > 4 * len(self.sizes):
                self._permutations.clear()
            rng = np.random.default_rng([self.seed, _STREAM_ORDER, member, cycle])
            self._permutations[key] = rng.permutation(self.sizes[member])
        return self._permutations[key]

    def plan(self, epoch: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """(members, items), each (samples_per_epoch,), of ``epoch``."""
        members = draw_members(self.frequencies, self.seed, epoch, self.samples_per_epoch)
        items = np.empty_like(members)
        start = self._drawn_before(epoch)
        for m in range(len(self.sizes)):
            where = np.flatnonzero(members == m)
            draws = start[m] + np.arange(len(where))
            cycles, offsets = np.divmod(draws, self.sizes[m])
            for cycle in np.unique(cycles):
                sel = cycles == cycle
                items[where[sel]] = self._permutation(m, int(cycle))[offsets[sel]]
        return members, items

    def __iter__(self) -> Iterator[SampleKey]:
        epoch = self.epoch
        members, items = self.plan(epoch)
        for k in self.positions.tolist():
            yield SampleKey(epoch, k, int(members[k]), int(items[k]))
