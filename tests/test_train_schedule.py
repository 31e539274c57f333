"""Learning-rate schedule, SWA window, and how data-parallel processes share an epoch's samples."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from opnet.errors import OpNetError
from opnet.train import MixSampler, TrainConfig, shard_positions
from opnet.train.schedule import (
    decay_epochs,
    epoch_lr_factor,
    lr_factor,
    make_scheduler,
    steps_per_epoch,
    swa_start_epoch,
    warmup_epochs,
)


def test_the_seed_recipe_of_1500_epochs():
    c = TrainConfig(epochs=1500, swa=True)
    assert (warmup_epochs(c), decay_epochs(c), swa_start_epoch(c)) == (75, [750], 1000)
    assert steps_per_epoch(c) == 160
    assert epoch_lr_factor(c, 0, 160) == pytest.approx(1 / 75)
    assert epoch_lr_factor(c, 74, 160) == 1.0
    assert epoch_lr_factor(c, 749, 160) == 1.0
    assert epoch_lr_factor(c, 750, 160) == pytest.approx(0.1)
    assert epoch_lr_factor(c, 1499, 160) == pytest.approx(0.1)


def test_warm_up_is_linear_per_step_then_steps_down():
    factors = [
        lr_factor(s, steps_per_epoch=4, warmup_steps=8, decay_epochs=[3, 5], gamma=0.5) for s in range(24)
    ]
    assert factors[:8] == pytest.approx([(k + 1) / 8 for k in range(8)])
    assert factors[8:12] == [1.0] * 4
    assert factors[12:20] == [0.5] * 8
    assert factors[20:] == [0.25] * 4


def test_the_scheduler_follows_the_pure_function():
    c = TrainConfig(epochs=4, lr=0.01, warmup_fraction=0.25)
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.Adam([param], lr=c.lr)
    scheduler = make_scheduler(optimizer, c, steps=3)
    seen = []
    for _ in range(12):
        seen.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert seen == pytest.approx([0.01 / 3, 0.02 / 3, 0.01] + [0.01] * 3 + [0.001] * 6)


def test_short_runs_still_warm_up_and_average():
    c = TrainConfig(epochs=1)
    assert (warmup_epochs(c), swa_start_epoch(c)) == (1, 0)
    assert warmup_epochs(TrainConfig(epochs=10, warmup_fraction=0.0)) == 0
    with pytest.raises(OpNetError, match="less than one batch"):
        steps_per_epoch(TrainConfig(samples_per_epoch=100, batch_size=64), world_size=2)


@given(st.integers(1, 300), st.integers(1, 16), st.integers(1, 4))
def test_processes_share_each_step_like_one_big_batch(samples, batch, world):
    shards = [shard_positions(samples, batch, r, world) for r in range(world)]
    steps = samples // (batch * world)
    assert all(len(s) == steps * batch for s in shards)
    for step in range(steps):
        together = np.concatenate([s[step * batch : (step + 1) * batch] for s in shards])
        assert together.tolist() == list(range(step * batch * world, (step + 1) * batch * world))
    if world == 1:
        assert shards[0].tolist() == list(range(steps * batch))


def test_a_sharded_sampler_yields_the_keys_of_its_positions():
    whole = MixSampler([0.6, 0.4], [11, 5], seed=3, samples_per_epoch=40, batch_size=4)
    whole.set_epoch(2)
    keys = {k.position: k for k in whole}
    for rank in range(2):
        shard = MixSampler(
            [0.6, 0.4], [11, 5], seed=3, samples_per_epoch=40, rank=rank, world_size=2, batch_size=4
        )
        shard.set_epoch(2)
        mine = list(shard)
        assert len(mine) == len(shard) == 20
        assert all(keys[k.position] == k for k in mine)
        assert [k.position for k in mine[:4]] == [8 * 0 + 4 * rank + i for i in range(4)]
