"""Sampler and loaders are pure functions of (seed, epoch, position): workers and resuming change nothing."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pytest
import torch
from conftest import random_sample

from opnet.augment import AugmentConfig
from opnet.data import DatasetWriter
from opnet.targets import PoseBatch, PoseTargets
from opnet.train import MixSampler, MixSource, build_mix, make_train_loader


def test_plans_are_reproducible_and_differ_between_epochs_and_seeds():
    a = MixSampler([0.7, 0.3], [13, 5], seed=1)
    b = MixSampler([0.7, 0.3], [13, 5], seed=1)
    assert all(np.array_equal(x, y) for x, y in zip(a.plan(3), b.plan(3), strict=True))
    assert not np.array_equal(a.plan(3)[1], a.plan(4)[1])
    assert not np.array_equal(a.plan(3)[1], MixSampler([0.7, 0.3], [13, 5], seed=2).plan(3)[1])


def test_resuming_at_epoch_k_gives_the_uninterrupted_keys():
    running = MixSampler([0.5, 0.5], [7, 3], seed=5, samples_per_epoch=64)
    history = []
    for epoch in range(5):
        running.set_epoch(epoch)
        history.append(list(running))
    resumed = MixSampler([0.5, 0.5], [7, 3], seed=5, samples_per_epoch=64)
    resumed.set_epoch(3)
    assert list(resumed) == history[3]
    assert [k.position for k in history[2]] == list(range(64)) and {k.epoch for k in history[2]} == {2}


def test_each_dataset_is_drawn_in_passes_without_repeats():
    sampler = MixSampler([0.8, 0.2], [37, 11], seed=0, samples_per_epoch=50)
    drawn = {0: [], 1: []}
    for epoch in range(6):
        members, items = sampler.plan(epoch)
        for m in (0, 1):
            drawn[m] += items[members == m].tolist()
    for m, size in ((0, 37), (1, 11)):
        full_passes = len(drawn[m]) // size
        assert full_passes >= 2
        for p in range(full_passes):
            assert sorted(drawn[m][p * size : (p + 1) * size]) == list(range(size))


@pytest.fixture(scope="module")
def mix(tmp_path_factory):
    rng = np.random.default_rng(0)
    paths = []
    for name, count in (("a", 9), ("b", 4)):
        path = tmp_path_factory.mktemp("data") / f"{name}.h5"
        with DatasetWriter(path) as w:
            for _ in range(count):
                w.append(random_sample(rng, size=160))
        paths.append(path)
    return build_mix([MixSource("a", paths[0], 3.0), MixSource("b", paths[1], 1.0)])


def epoch_batches(mix, workers: int, epoch: int) -> list[PoseBatch]:
    loader = make_train_loader(
        mix, AugmentConfig(), batch_size=8, seed=11, workers=workers, samples_per_epoch=24
    )
    loader.sampler.set_epoch(epoch)
    return list(loader)


def same_batches(a: list[PoseBatch], b: list[PoseBatch]) -> bool:
    def same(x: PoseBatch, y: PoseBatch) -> bool:
        return torch.equal(x.image, y.image) and all(
            torch.equal(getattr(x.targets, f.name), getattr(y.targets, f.name)) for f in fields(PoseTargets)
        )

    return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))


def test_batches_are_identical_for_0_1_and_2_workers(mix):
    serial = epoch_batches(mix, 0, epoch=1)
    assert len(serial) == 3 and serial[0].image.shape == (8, 1, 129, 129)
    assert same_batches(serial, epoch_batches(mix, 1, epoch=1))
    assert same_batches(serial, epoch_batches(mix, 2, epoch=1))
    assert not same_batches(serial, epoch_batches(mix, 0, epoch=2))


def test_a_resumed_loader_repeats_the_uninterrupted_epoch(mix):
    loader = make_train_loader(mix, AugmentConfig(), batch_size=8, seed=11, workers=0, samples_per_epoch=24)
    uninterrupted = []
    for epoch in range(3):
        loader.sampler.set_epoch(epoch)
        uninterrupted.append(list(loader))
    assert same_batches(uninterrupted[2], epoch_batches(mix, 0, epoch=2))
    assert not same_batches(uninterrupted[1], uninterrupted[2])


def test_a_sample_does_not_depend_on_the_batch_it_lands_in(mix):
    from opnet.train import SampleKey
    from opnet.train.data import MixDataset

    samples = MixDataset(mix, AugmentConfig(), seed=4)
    keys = [SampleKey(2, 7, 1, 3), SampleKey(2, 8, 0, 5), SampleKey(2, 9, 1, 0), SampleKey(2, 10, 0, 8)]
    together = samples.__getitems__(keys)
    for i, key in enumerate(keys):
        alone = samples[key]
        assert torch.equal(together.image[i], alone.image[0])
        assert torch.equal(together.targets.points[i], alone.targets.points[0])
        assert torch.equal(together.targets.quat[i], alone.targets.quat[0])
