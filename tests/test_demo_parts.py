"""The demo's parts: its folder rules, the time budget, the settings, the command line's defaults."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import pytest

from opnet.data import open_dataset
from opnet.demo import DemoConfig, dry_run_config, run_demo
from opnet.demo.budget import EPOCH_OVERHEAD_S, LOOP_EFFICIENCY, START_S, planned_epochs
from opnet.demo.config import train_config
from opnet.demo.run import DemoPaths, generate_data, prepare_outdir
from opnet.demo.steps import StepClock
from opnet.errors import OpNetError
from opnet.synth import SynthConfig

TINY = DemoConfig(
    train_samples=16, heldout_samples=8, synth=SynthConfig(image_size=48, samples_per_identity=4)
)


def test_a_new_or_empty_folder_is_used_and_a_full_one_refused(tmp_path):
    prepare_outdir(DemoPaths(tmp_path / "new" / "demo"), overwrite=False)
    assert (tmp_path / "new" / "demo" / "data").is_dir()
    (tmp_path / "empty").mkdir()
    prepare_outdir(DemoPaths(tmp_path / "empty"), overwrite=False)
    with pytest.raises(OpNetError, match="already exists; pass --force"):
        prepare_outdir(DemoPaths(tmp_path / "empty"), overwrite=False)


def test_force_replaces_only_a_demo(tmp_path):
    for name in ("data", "train", "report"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "old.txt").write_text("old")
    prepare_outdir(DemoPaths(tmp_path), overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"] and not any((tmp_path / "data").iterdir())
    (tmp_path / "thesis.tex").write_text("precious")
    with pytest.raises(OpNetError, match="thesis.tex, which is not part of a demo"):
        prepare_outdir(DemoPaths(tmp_path), overwrite=True)
    assert (tmp_path / "thesis.tex").read_text() == "precious"
    (tmp_path / "file").write_text("")
    with pytest.raises(OpNetError, match="not a folder"):
        prepare_outdir(DemoPaths(tmp_path / "file"), overwrite=True)


def test_planned_epochs_fill_the_time_and_no_more():
    config = DemoConfig(samples_per_epoch=1000, min_epochs=2)
    few = planned_epochs(config, 15.0, step_rate=100.0, validation_samples=0, swa_bn_samples=0)
    many = planned_epochs(config, 1000.0, step_rate=100.0, validation_samples=0, swa_bn_samples=0)
    assert few == 2 and many > few  # 15 s hold no epoch of 11 s after the 10 s start: the minimum
    slower = planned_epochs(config, 1000.0, step_rate=50.0, validation_samples=0, swa_bn_samples=0)
    checked = planned_epochs(config, 1000.0, step_rate=100.0, validation_samples=2000, swa_bn_samples=1000)
    assert slower < many and checked < many
    # Each planned epoch (1000 images at the loop's share of 100 images/s, plus 1 s) fits, one more does not.
    epoch_s = 1000 / (LOOP_EFFICIENCY * 100) + EPOCH_OVERHEAD_S
    assert many * epoch_s <= 1000 - START_S < (many + 1) * epoch_s


def test_settings_are_checked_with_the_flag_names():
    with pytest.raises(OpNetError, match="--minutes 0"):
        DemoConfig(minutes=0)
    with pytest.raises(OpNetError, match="--epochs 0"):
        DemoConfig(epochs=0)
    with pytest.raises(OpNetError, match="--seed -1"):
        DemoConfig(seed=-1)
    with pytest.raises(OpNetError, match="train_samples=8"):
        DemoConfig(train_samples=8)


def test_training_config_keeps_opentracks_input_and_outputs():
    config = DemoConfig()
    run = train_config(config, Path("t.h5"), epochs=7)
    assert run.model.input_size == 129 and run.model.uncertainty and run.swa and not run.onnx
    assert (run.epochs, run.max_minutes, run.ds, run.seed) == (7, None, "t.h5", 0)
    assert run.model.width == config.model.width and run.lr == config.lr
    assert config.train_seed != config.heldout_seed
    assert {DemoConfig(seed=s).train_seed for s in range(4)}.isdisjoint(
        {DemoConfig(seed=s).heldout_seed for s in range(4)}
    )


def test_dry_run_is_tiny_and_keeps_the_seed():
    tiny = dry_run_config(DemoConfig(seed=3))
    assert tiny.train_samples <= 16 and tiny.epochs == 1 and tiny.seed == 3 and tiny.synth.image_size <= 64


def test_the_same_seed_gives_the_same_data(tmp_path):
    for name in ("a", "b"):
        paths = DemoPaths(tmp_path / name)
        paths.data.mkdir(parents=True)
        generate_data(TINY, paths, StepClock(), workers=1, progress=False)
    for file in ("train.h5", "heldout.h5"):
        assert (tmp_path / "a" / "data" / file).read_bytes() == (tmp_path / "b" / "data" / file).read_bytes()


def test_a_budget_too_small_to_train_is_an_error_naming_the_flag(tmp_path):
    with pytest.raises(OpNetError, match="--minutes 0.5: .* left for training"):
        run_demo(dataclasses.replace(TINY, minutes=0.5), tmp_path / "demo", workers=1, progress=False)
    with pytest.raises(OpNetError, match="no such dataset file"):
        run_demo(TINY, tmp_path / "other", real_faces=tmp_path / "missing.h5", progress=False)
    assert not (tmp_path / "other").exists()


def test_the_command_line_finds_the_real_faces_next_to_the_checkout(tmp_path, monkeypatch):
    from opnet.cli.demo import DEFAULT_REAL_FACES, real_faces

    checkout = tmp_path / "opnet"
    checkout.mkdir()
    monkeypatch.chdir(checkout)
    args = argparse.Namespace(real_faces=None, no_real_faces=False)
    assert real_faces(args) is None
    (tmp_path / "shared" / "data").mkdir(parents=True)
    (tmp_path / "shared" / "data" / "aflw2kmini.h5").write_bytes(b"")
    assert real_faces(args) == DEFAULT_REAL_FACES
    assert real_faces(argparse.Namespace(real_faces=Path("x.h5"), no_real_faces=False)) == Path("x.h5")
    assert real_faces(argparse.Namespace(real_faces=None, no_real_faces=True)) is None


def test_training_speed_is_measured_on_real_steps_without_touching_a_run(tmp_path):
    import math

    from opnet.train.inputs import prepare_training_data
    from opnet.train.speed import training_step_rate

    paths = DemoPaths(tmp_path)
    paths.data.mkdir(parents=True)
    generate_data(TINY, paths, StepClock(), workers=1, progress=False)
    config = dataclasses.replace(train_config(TINY, paths.train_file, 1), batch_size=4)
    rate = training_step_rate(config, prepare_training_data(config).mix, steps=2)
    assert math.isfinite(rate) and rate > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


def test_a_slow_generation_leaves_the_time_to_training(tmp_path):
    paths = DemoPaths(tmp_path)
    paths.data.mkdir(parents=True)
    config = dataclasses.replace(TINY, epochs=None, minutes=1.0, generate_share=1e-6, min_train_samples=8)
    made = generate_data(config, paths, StepClock(), workers=1, progress=False)
    assert made.train_samples == 8 < TINY.train_samples  # the time was up: two persons, not all
    with open_dataset(paths.train_file) as train, open_dataset(paths.heldout_file) as heldout:
        assert len(train) == 8 and len(heldout) == TINY.heldout_samples
    other = DemoPaths(tmp_path / "fixed")
    other.data.mkdir(parents=True)
    fixed = generate_data(
        dataclasses.replace(config, epochs=1), other, StepClock(), workers=1, progress=False
    )
    assert fixed.train_samples == TINY.train_samples  # a fixed number of epochs: every head
