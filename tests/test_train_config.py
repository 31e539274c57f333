"""The run config: validation, plain values / YAML round trip, precedence of YAML and flags, resume checks."""

from __future__ import annotations

import argparse

import pytest
import yaml

from opnet.augment import RoiMode
from opnet.cli.train import add_parser, setting_overrides
from opnet.errors import OpNetError
from opnet.models import backbone_names
from opnet.normalization import INPUT_NORMS
from opnet.settings import from_plain, replace_from_plain
from opnet.train import TrainConfig, read_config_file, write_config_file
from opnet.train.config import ACCELERATORS, PRECISIONS, RECIPES, changed_settings
from opnet.train.recipes import DEFAULT_RECIPE, resolve_config


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers())
    return parser.parse_args(["train", *argv])


def test_defaults_follow_the_original_recipe():
    c = TrainConfig()
    assert (c.lr, c.batch_size, c.samples_per_epoch, c.grad_clip, c.augment.rotation_deg) == (
        1e-3,
        64,
        10240,
        0.1,
        30.0,
    )
    assert c.model.blurpool and c.model.landmarks and not c.model.uncertainty and not c.swa and c.onnx
    assert c.augment.roi_mode == RoiMode.ORIGINAL and c.augment.out_size == c.model.input_size == 129


def test_yaml_round_trip_is_exact(tmp_path):
    config = replace_from_plain(
        TrainConfig(),
        {
            "ds": "a+b:3",
            "model": {"width": 0.5, "input_size": 65},
            "augment": {"roi_mode": "landmarks"},
            "lr_decay_fractions": [0.5, 0.75],
            "dataset_files": {"a": "/x/a.h5"},
        },
        "test",
    )
    path = write_config_file(config, tmp_path / "config.yaml")
    assert from_plain(TrainConfig, read_config_file(path), str(path)) == config
    assert config.augment.out_size == 65 and config.augment.roi_mode is RoiMode.LANDMARKS
    assert yaml.safe_load(path.read_text())["augment"]["noise"] == [[4.0, 0.5], [16.0, 0.1]]


def test_only_the_flags_given_override_the_yaml(tmp_path):
    run_yaml = tmp_path / "run.yaml"
    run_yaml.write_text("epochs: 7\nlr: 0.01\nmodel:\n  width: 0.25\n  blurpool: false\n")
    args = parse("--lr", "0.002", "--no-pointhead", "--with-nll-loss", "--raug", "0")
    overrides = setting_overrides(args)
    assert overrides == {
        "lr": 0.002,
        "model": {"landmarks": False, "uncertainty": True},
        "augment": {"rotation_deg": 0.0},
    }
    config = replace_from_plain(
        replace_from_plain(TrainConfig(), read_config_file(run_yaml), "run.yaml"), overrides, "command line"
    )
    assert (config.epochs, config.lr, config.model.width, config.model.blurpool) == (7, 0.002, 0.25, False)
    assert not config.model.landmarks and config.model.uncertainty and config.augment.rotation_deg == 0.0
    assert config.batch_size == 64


def test_every_setting_flag_maps_to_a_setting():
    args = parse(
        "--ds",
        "a",
        "--val",
        "b",
        "--ds-weighting",
        "--samples-per-epoch",
        "64",
        "--no-imgaug",
        "--raug",
        "5",
        "--roi-override",
        "extent_to_forehead",
        "--backbone",
        "resnet18",
        "--width",
        "0.5",
        "--input-size",
        "65",
        "--input-norm",
        "div255",
        "--no-blurpool",
        "--no-pointhead",
        "--with-nll-loss",
        "--epochs",
        "3",
        "--lr",
        "0.1",
        "--batchsize",
        "8",
        "--with-swa",
        "--seed",
        "4",
        "--max-minutes",
        "2",
        "--accelerator",
        "cpu",
        "--devices",
        "2",
        "--num-nodes",
        "3",
        "--precision",
        "32-true",
        "--save-plot",
        "c.png",
        "--no-onnx",
    )
    c = replace_from_plain(TrainConfig(), setting_overrides(args), "command line")
    assert (
        c.ds,
        c.val,
        c.ds_weighting,
        c.samples_per_epoch,
        c.epochs,
        c.lr,
        c.batch_size,
        c.swa,
        c.seed,
    ) == ("a", "b", True, 64, 3, 0.1, 8, True, 4)
    assert (c.max_minutes, c.accelerator, c.devices, c.num_nodes, c.precision, c.save_plot, c.onnx) == (
        2.0,
        "cpu",
        2,
        3,
        "32-true",
        "c.png",
        False,
    )
    assert (
        c.model.backbone,
        c.model.width,
        c.model.input_size,
        c.model.blurpool,
        c.model.landmarks,
        c.model.uncertainty,
    ) == ("resnet18", 0.5, 65, False, False, True)
    assert c.model.input_norm == "div255"
    assert (c.augment.intensity, c.augment.rotation_deg, c.augment.roi_mode) == (
        False,
        5.0,
        RoiMode.EXTENT_TO_FOREHEAD,
    )
    assert setting_overrides(parse("--blurpool")) == {"model": {"blurpool": True}}
    assert setting_overrides(parse("--outdir", "x", "--workers", "2", "--dry-run", "--force")) == {}


def test_the_help_shows_the_settings_defaults_and_choices():
    parser = argparse.ArgumentParser()
    train = add_parser(parser.add_subparsers())
    text = " ".join(train.format_help().split())
    defaults = resolve_config(DEFAULT_RECIPE)  # a run given no flags
    for name, shown in [
        ("--samples-per-epoch N", defaults.samples_per_epoch),
        ("--raug DEG", f"{defaults.augment.rotation_deg:g}"),
        ("--width W", f"{defaults.model.width:g}"),
        ("--input-size PX", defaults.model.input_size),
        ("--epochs N", defaults.epochs),
        ("--lr LR", f"{defaults.lr:g}"),
        ("--seed S", defaults.seed),
        ("--num-nodes M", defaults.num_nodes),
    ]:
        assert f"(default {shown}" in text.rsplit(name, 1)[1].split(" --", 1)[0], name
    assert f"{', '.join(backbone_names())} (default {defaults.model.backbone})" in text
    assert f"{', '.join(INPUT_NORMS)} (default {defaults.model.input_norm};" in text
    assert f"{', '.join(m.value for m in RoiMode)} (default {defaults.augment.roi_mode.value})" in text
    assert f"{', '.join(ACCELERATORS)} (default {defaults.accelerator})" in text
    assert f"{', '.join(PRECISIONS)} (default {defaults.precision};" in text
    assert f"{', '.join(RECIPES)} (default {DEFAULT_RECIPE};" in text
    with pytest.raises(SystemExit):
        parse("--backbone", "vgg")


@pytest.mark.parametrize(
    "values, message",
    [
        ({"epochs": 0}, "epochs=0"),
        ({"lr": -1.0}, "lr=-1.0"),
        ({"samples_per_epoch": 10, "batch_size": 64}, "samples_per_epoch=10"),
        ({"save_plot": "curves.svg"}, "save_plot"),
        ({"accelerator": "tpu"}, "accelerator"),
        ({"model": {"width": 0.0}}, "width"),
        ({"model": {"backbone": "vgg"}}, "vgg"),
        ({"augment": {"flip_prob": 2.0}}, "flip_prob"),
        ({"augment": {"roi_mode": "face"}}, "augment.roi_mode: 'face' is not one of original"),
        ({"epochs": "ten"}, "src: epochs: 'ten' should be an int"),
        ({"epochs": True}, "src: epochs: True should be an int"),
        ({"lr_decay_fractions": 0.5}, "lr_decay_fractions: 0.5 should be a list"),
        ({"model": {"depth": 3}}, "src: unknown setting(s) model.depth"),
        ({"optimizer": "sgd"}, "unknown setting(s) optimizer"),
        ({"model": 3}, "model should be a mapping"),
    ],
)
def test_bad_settings_name_the_setting(values, message):
    with pytest.raises(OpNetError) as e:
        replace_from_plain(TrainConfig(), values, "src")
    assert message in str(e.value)


def test_integers_are_accepted_for_floats_and_nulls_for_optional_settings():
    c = from_plain(TrainConfig, {"lr": 1, "max_minutes": None, "val": None, "model": {"width": 1}}, "x")
    assert isinstance(c.lr, float) and isinstance(c.model.width, float) and c.max_minutes is None


def test_a_broken_yaml_file_is_a_one_line_error(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("epochs: [1\n")
    with pytest.raises(OpNetError, match="not valid YAML"):
        read_config_file(bad)
    bad.write_text("- 1\n- 2\n")
    with pytest.raises(OpNetError, match="expected a mapping"):
        read_config_file(bad)


def test_resume_may_change_only_where_and_how_long_it_runs():
    saved = TrainConfig(ds="a", epochs=10)
    assert changed_settings(saved, replace_from_plain(saved, {"max_minutes": 5, "devices": 2}, "x")) == []
    changed = replace_from_plain(
        saved, {"lr": 0.1, "model": {"width": 0.5}, "dataset_files": {"a": "/y"}}, "x"
    )
    assert changed_settings(saved, changed) == ["dataset_files", "lr", "model.width"]
