"""Re-planning the demo's training after every epoch: the planning logic on simulated epoch times,
and a tiny real run that follows re-plans (learning rate, weight average, epoch limit)."""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Callable
from pathlib import Path

import lightning.pytorch as pl
import pytest

from opnet.demo import DemoConfig
from opnet.demo.budget import (
    EpochPlan,
    PlanUpdate,
    epochs_that_fit,
    finish_s,
    forecast_epoch_s,
    replan,
)
from opnet.demo.config import train_config
from opnet.synth import SynthConfig

BASE = train_config(DemoConfig(), Path("t.h5"), epochs=10)  # decay at 0.7, averaging from 0.75
END_S = 5.0


def simulate(
    initial_epochs: int, budget_s: float, epoch_time: Callable[[int, float], float]
) -> tuple[list[EpochPlan], float]:
    """Runs the demo's planning on simulated epochs: ``epoch_time(k, t)`` seconds for epoch k started
    at t; an averaged epoch that would end later than ``END_S`` before the budget stops there, and
    the run with it (as :class:`opnet.demo.replan.Replanner` does). Returns the plan in force during
    each epoch that ran (and after the last) and the end time."""
    plan = EpochPlan.of(initial_epochs, BASE)
    now, times, followed = 0.0, [], []
    for k in itertools.count():
        if k >= plan.epochs:
            break
        followed.append(plan)
        full = epoch_time(k, now)
        cut = k >= plan.swa_start and now + full > budget_s - END_S
        times.append(max(0.0, budget_s - END_S - now) if cut else full)
        now += times[-1]
        fit = 0 if cut else epochs_that_fit(budget_s - now, forecast_epoch_s(times), END_S)
        plan = replan(plan, k + 1, k + 1 + fit, BASE)
    return followed + [plan], now + END_S


def lr_decays_per_epoch(followed: list[EpochPlan]) -> list[int]:
    """How many times the rate had been decayed in each epoch, under the plan in force then."""
    return [sum(k >= d for d in plan.decay_epochs) for k, plan in enumerate(followed[:-1])]


def averaged_epochs(followed: list[EpochPlan]) -> list[int]:
    """The epochs that entered the average (each decided under the plan in force at its end)."""
    return [k for k, plan in enumerate(followed[:-1]) if k >= plan.swa_start]


def test_a_slow_start_costs_only_the_time_it_lost():
    busy = lambda k, t: 20.0 if t < 240.0 else 10.0  # noqa: E731 - the first 4 minutes at half speed
    followed, end = simulate(initial_epochs=3, budget_s=480.0, epoch_time=busy)
    ran = len(followed) - 1
    assert followed[0].epochs == 3 and ran >= 35  # 12 slow epochs, then (240 - 5) / 10 -> 23 fast ones
    assert end <= 480.0
    decays = lr_decays_per_epoch(followed)
    assert decays == sorted(decays) and decays[-1] == 1  # decayed once, never raised again
    assert 0.6 * ran <= decays.index(1) <= 0.8 * ran
    averaged = averaged_epochs(followed)
    assert averaged == list(range(averaged[0], ran)) and 0.15 * ran <= len(averaged) <= 0.35 * ran


def test_a_machine_that_slows_down_ends_the_run_sooner_and_still_averages():
    load = lambda k, t: 10.0 if t < 200.0 else 30.0  # noqa: E731
    followed, end = simulate(initial_epochs=40, budget_s=480.0, epoch_time=load)
    ran = len(followed) - 1
    assert ran < 40 and end <= 480.0 + 30.0  # at most the one epoch that was already running
    assert lr_decays_per_epoch(followed)[-1] == 1 and len(averaged_epochs(followed)) >= 1


def test_a_steady_machine_keeps_the_plan():
    followed, end = simulate(initial_epochs=20, budget_s=20 * 10.0 + END_S, epoch_time=lambda k, t: 10.0)
    assert {plan.epochs for plan in followed} == {20} and math.isclose(end, 205.0)


def test_replanning_moves_only_phases_still_ahead():
    plan = EpochPlan.of(20, BASE)
    assert (plan.warmup, plan.decay_epochs, plan.swa_start) == (1, (14,), 15)
    longer = replan(plan, 5, 40, BASE)
    assert (longer.epochs, longer.decay_epochs, longer.swa_start) == (40, (28,), 30)
    after_decay = replan(plan, 16, 40, BASE)  # decayed at 14 and averaging since 15: both stay
    assert (after_decay.epochs, after_decay.decay_epochs, after_decay.swa_start) == (40, (14,), 15)
    shorter = replan(plan, 12, 13, BASE)  # the phases would fall before the next epoch: they start with it
    assert (shorter.epochs, shorter.decay_epochs, shorter.swa_start) == (13, (12,), 12)
    out_of_time = replan(plan, 12, 12, BASE)  # one more epoch, to have an average at all
    assert (out_of_time.epochs, out_of_time.swa_start) == (13, 12)
    assert replan(plan, 18, 10, BASE).epochs == 18  # never ends before what is done


def test_a_plan_becomes_a_training_config_with_exactly_its_epochs():
    for epochs, done, new in itertools.product((3, 7, 26, 61), (1, 2, 5, 20), (1, 4, 9, 33, 90)):
        plan = replan(EpochPlan.of(epochs, BASE), done, new, BASE)
        config = plan.train_config(BASE)
        assert EpochPlan.of(plan.epochs, config) == plan


def test_epoch_forecast_and_the_end_of_the_run():
    assert forecast_epoch_s([30.0, 10.0, 11.0, 12.0]) == pytest.approx(11.0)
    assert epochs_that_fit(100.0, 10.0, 5.0) == 10  # 9.5 fit: the last one is cut short
    assert epochs_that_fit(97.0, 10.0, 5.0) == 9 and epochs_that_fit(3.0, 10.0, 5.0) == 0
    assert finish_s(9.0, 2.0, swa_bn_samples=4096, samples_per_epoch=4096) == pytest.approx(3.0 + 2.0 + 1.0)
    assert PlanUpdate(0, EpochPlan.of(10, BASE), 1.0, 2.0).plan.describe(0.1) == (
        "10 epochs (lr x0.1 from epoch 8, averaged from 8)"
    )


class Ticker(pl.Callback):
    """Simulated time for a real run (``clock()`` reads it): each training step takes 1 s, each
    validation 0.5 s."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        self.now += 1.0

    def on_validation_epoch_end(self, trainer, pl_module) -> None:
        self.now += 0.5


class RateLog(pl.Callback):
    """The learning rate of every training step."""

    def __init__(self) -> None:
        self.rates: list[float] = []

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        self.rates.append(trainer.optimizers[0].param_groups[0]["lr"])


@pytest.mark.slow
def test_a_training_run_follows_its_replans_and_stops_its_last_epoch_at_the_deadline(tmp_path):
    from opnet.demo.replan import Replanner
    from opnet.demo.report import training_line
    from opnet.demo.result import DemoResult
    from opnet.demo.run import DemoPaths, generate_data
    from opnet.demo.steps import StepClock
    from opnet.train import train

    demo = DemoConfig(
        train_samples=16, heldout_samples=8, synth=SynthConfig(image_size=48, samples_per_identity=4)
    )
    paths = DemoPaths(tmp_path)
    paths.data.mkdir(parents=True)
    generate_data(demo, paths, StepClock(), workers=1, progress=False)
    base = dataclasses.replace(
        train_config(demo, paths.train_file, 2), batch_size=4, samples_per_epoch=8, swa_bn_samples=8
    )
    plan = EpochPlan.of(2, base)
    # Epochs of 2 steps and a validation: 2.5 s. The end of the run needs 2.2 s (batch-norm pass
    # 0.7 s, validation 0.5 s, 1 s more), an epoch's validation and checkpoints 1.5 s. A deadline
    # of 17 s holds 5 whole epochs (12.5 s) and one step of a sixth, which stops at 13.3 s.
    ticker = Ticker()
    replanner = Replanner(plan, base, 17.0, PlanUpdate(0, plan, 3.0, 17.0), clock=ticker)
    log = RateLog()
    result = train(
        plan.train_config(base), tmp_path / "run", progress=False, callbacks=[ticker, replanner, log]
    )
    final = replanner.plan
    assert final.epochs == 6 and result.epochs_completed == 6 and result.swa_checkpoint is not None
    assert [u.plan.epochs for u in replanner.updates] == [2, 6, 6, 6, 6, 6, 6]
    assert replanner.cut == (6, 1) and [row["samples"] for row in result.history] == [8] * 5 + [4]
    demo_result = DemoResult(paths, demo, result, Path("swa.onnx"), [], {}, 0.0, tuple(replanner.updates))
    assert "the last one stopped at the deadline after 4 images; 44 images" in training_line(demo_result)
    assert ticker.now == 14.0  # the cut epoch's step and validation: 2.2 s left for the end
    expected = [base.lr * (0.1 if k >= final.decay_epochs[0] else 1.0) for k in range(6) for _ in range(2)]
    assert log.rates[2:] == pytest.approx(expected[2:11])  # after the warm-up epoch, 11 steps in all
    assert [row["lr"] for row in result.history] == pytest.approx(expected[1::2])
    assert result.history[-1]["swa_epochs"] == 6 - final.swa_start
