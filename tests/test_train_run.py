"""``opnet train``: dry runs on tiny files, one observable effect per flag; data preparation of a run."""

from __future__ import annotations

import csv
import dataclasses
import logging
import shlex
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from conftest import random_sample

from opnet.cli import main
from opnet.data import DatasetWriter
from opnet.errors import OpNetError
from opnet.models import load_checkpoint, load_model
from opnet.runtime import load_pose_model
from opnet.train import TrainConfig
from opnet.train.inputs import fit_training_keypoints, prepare_training_data
from opnet.train.module import TrainingDiverged, check_finite
from opnet.train.run import TrainResult, summary

SMALL = "--input-size 64 --width 0.25 --batchsize 4 --workers 0"


def write_dataset(
    path: Path, count: int, per_sequence: int, drop: tuple[str, ...] = (), size: int = 96, seed: int = 0
) -> Path:
    """``count`` random faces in sequences of ``per_sequence``; fields in ``drop`` left out, and with
    "pt3d_68" dropped the landmarks are stored as ``pt2d_68``."""
    rng = np.random.default_rng(seed)
    with DatasetWriter(path) as w:
        for k in range(count):
            if k % per_sequence == 0:
                w.start_sequence()
            sample = random_sample(rng, size)
            if "pt3d_68" in drop:
                sample["pt2d_68"] = sample["pt3d_68"][:, :2]
            w.append({name: value for name, value in sample.items() if name not in drop})
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("train_data")
    return {
        "a": write_dataset(root / "a.h5", 16, 4),
        "b": write_dataset(root / "b.h5", 12, 3, drop=("quats", "coords", "pt3d_68", "shapeparams"), seed=1),
        "c": write_dataset(root / "c.h5", 8, 4, seed=2),
    }


def train_cli(*argv: object) -> int:
    """``opnet train`` in this process; a string argument may hold several space-separated flags."""
    return main(["train", *(word for a in argv for word in (a.split() if isinstance(a, str) else [str(a)]))])


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_dry_run_with_the_original_switches(files, tmp_path):
    out = tmp_path / "run"
    mix = f"{files['a']}+{files['b']}:3"
    flags = (
        "--no-pointhead --no-blurpool --with-nll-loss --save-plot curves.pdf --no-onnx --raug 0 --no-imgaug"
    )
    flags += " --roi-override landmarks --backbone resnet18 --seed 3 --lr 0.01 --ds-weighting --with-swa"
    assert train_cli("--ds", mix, "--outdir", out, "--dry-run", SMALL, flags) == 0
    net, extra = load_checkpoint(out / "last.ckpt")
    assert net.landmark_head is None and net.uncertainty is not None
    assert (net.config.blurpool, net.config.backbone, net.config.input_size) == (False, "resnet18", 64)
    assert extra["train_config"]["seed"] == 3 and extra["epoch"] == 1
    row = read_csv(out / "metrics.csv")[0]
    assert {"train_nll_rot", "train_nll_pos_size", "val_nll_rot"} <= row.keys() and "train_points" not in row
    assert float(row["lr"]) == pytest.approx(0.01) and int(row["samples"]) == 8
    assert (out / "curves.pdf").read_bytes()[:4] == b"%PDF"
    saved = yaml.safe_load((out / "config.yaml").read_text())
    assert saved["onnx"] is False and saved["ds_weighting"] is True and saved["swa"] is True
    assert saved["augment"]["rotation_deg"] == 0.0 and saved["augment"]["intensity"] is False
    assert saved["augment"]["roi_mode"] == "landmarks" and saved["epochs"] == 1
    assert load_model(out / "swa.ckpt").config == net.config


def test_dry_run_defaults_yaml_and_flag_precedence(files, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="opnet")
    run_yaml = tmp_path / "run.yaml"
    run_yaml.write_text(yaml.safe_dump({"seed": 5, "lr": 0.5, "model": {"dropout": 0.25}}))
    out = tmp_path / "run"
    flags = "--dry-run --lr 0.002 --save-plot curves.png"
    data = ("--ds", files["a"], "--val", files["c"])
    assert train_cli(*data, "--outdir", out, "--config", run_yaml, flags, SMALL) == 0
    saved = yaml.safe_load((out / "config.yaml").read_text())
    assert (saved["seed"], saved["lr"]) == (5, 0.002)
    assert (saved["model"]["dropout"], saved["model"]["width"]) == (0.25, 0.25)
    assert saved["onnx"] is True and saved["dataset_files"][str(files["a"])] == str(files["a"].resolve())
    assert saved["val"] == str(files["c"]) and f"--val {files['c']}: 8 samples" in caplog.text
    net = load_model(out / "best.ckpt")
    assert net.landmark_head is not None and net.uncertainty is None and net.config.blurpool
    assert not net.training
    rows = read_csv(out / "metrics.csv")
    assert len(rows) == 1 and "train_points" in rows[0] and "val_mean_deg" in rows[0]
    assert not any(k.startswith("train_nll") for k in rows[0])
    assert 0 <= float(rows[0]["val_mean_deg"]) <= 180 and float(rows[0]["train_total"]) > 0
    assert (out / "curves.png").read_bytes()[:4] == b"\x89PNG" and not (out / "swa.ckpt").exists()
    # Without --no-onnx the final model (here: the last, no SWA) is exported for OpenTrack and checked.
    onnx = load_pose_model(out / "last.onnx")
    assert onnx.input_size == net.config.input_size and onnx.max_batch == 1
    assert (out / "last.export.json").is_file()


def test_augmentation_flags_and_workers_reach_the_batches(files, tmp_path):
    def first_loss(name: str, flags: str = "") -> float:
        assert train_cli("--ds", files["a"], "--outdir", tmp_path / name, "--dry-run", SMALL, flags) == 0
        return float(read_csv(tmp_path / name / "metrics.csv")[0]["train_total"])

    base = first_loss("base")
    assert first_loss("again") == base
    assert first_loss("one_worker", "--workers 1") == base
    for flags in ("--no-imgaug", "--raug 0", "--roi-override landmarks"):
        assert first_loss(flags.split()[0].strip("-"), flags) != base, flags


def test_data_without_3d_landmarks_or_poses_trains_what_it_has(files, tmp_path, caplog):
    out = tmp_path / "run"
    assert train_cli("--ds", files["b"], "--outdir", out, "--dry-run", SMALL) == 0
    assert "without a landmark head" in caplog.text
    assert load_model(out / "last.ckpt").landmark_head is None
    row = read_csv(out / "metrics.csv")[0]
    assert "val_total" in row and "val_mean_deg" not in row and "train_rot" in row
    assert float(row["train_box"]) > 0 and (out / "best.ckpt").is_file()


def test_an_existing_run_is_kept_unless_forced(files, tmp_path, capsys):
    out = tmp_path / "run"
    assert train_cli("--ds", files["c"], "--outdir", out, "--dry-run", SMALL) == 0
    before = (out / "last.ckpt").stat().st_mtime_ns
    assert train_cli("--ds", files["c"], "--outdir", out, "--dry-run", SMALL) == 2
    assert "already holds a run" in capsys.readouterr().err
    assert (out / "last.ckpt").stat().st_mtime_ns == before
    assert train_cli("--ds", files["c"], "--outdir", out, "--dry-run --force --seed 1", SMALL) == 0
    assert yaml.safe_load((out / "config.yaml").read_text())["seed"] == 1


def test_a_diverging_run_names_the_loss_term(files, tmp_path, capsys):
    assert train_cli("--ds", files["a"], "--outdir", tmp_path / "run", "--dry-run --lr 1e30", SMALL) == 2
    err = capsys.readouterr().err
    assert (
        "training diverged in epoch 1, step 2" in err and "loss terms rot=nan" in err and "not finite" in err
    )
    assert not (tmp_path / "run" / "last.ckpt").exists()


def test_the_divergence_check_names_only_the_bad_terms():
    finite = {"rot": torch.tensor(0.5), "xy": torch.tensor(0.1), "total": torch.tensor(0.6)}
    check_finite(finite, epoch=0, step=0)
    with pytest.raises(TrainingDiverged, match=r"epoch 4, step 8: loss term nll_rot=inf is not finite"):
        check_finite(
            {**finite, "nll_rot": torch.tensor(float("inf")), "total": torch.tensor(float("inf"))}, 3, 7
        )


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_asking_for_a_gpu_without_one_is_a_clear_error(files, tmp_path, capsys):
    assert (
        train_cli("--ds", files["a"], "--outdir", tmp_path / "run", "--dry-run --accelerator gpu", SMALL) == 2
    )
    assert "--accelerator gpu" in capsys.readouterr().err


def test_names_need_datadir_and_bad_flags_are_one_line_errors(files, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("DATADIR", raising=False)
    assert train_cli("--ds wflw_lp --outdir", tmp_path / "run", "--dry-run") == 2
    assert "set DATADIR" in capsys.readouterr().err
    assert train_cli("--ds", files["a"], "--outdir", tmp_path / "run", "--epochs 0") == 2
    assert "epochs=0" in capsys.readouterr().err
    assert train_cli("--ds", files["a"]) == 2
    assert "--outdir is required" in capsys.readouterr().err


def test_the_mix_holds_out_whole_sequences_of_the_first_dataset(files):
    config = TrainConfig(ds=f"{files['a']}+{files['b']}:3")
    data = prepare_training_data(config)
    a, b = data.mix.members
    held = set(data.val.rows.tolist())
    assert len(held) in (1, 2, 3, 4) and held.isdisjoint(a.rows.tolist()) and len(held) + len(a.rows) == 16
    assert {i // 4 for i in held}.isdisjoint({i // 4 for i in a.rows.tolist()})
    assert np.allclose(data.mix.frequencies, np.array([len(a.rows), 3.0]) / (len(a.rows) + 3.0))
    assert np.all(data.mix.loss_weights == 1.0) and len(b.rows) == 12
    weighted = prepare_training_data(dataclasses.replace(config, ds_weighting=True)).mix
    assert np.allclose(weighted.frequencies, 0.5) and np.allclose(
        weighted.loss_weights, [1.0, 3.0 / len(a.rows)]
    )


def test_val_data_is_used_whole_and_may_not_be_trained_on(files):
    data = prepare_training_data(TrainConfig(ds=str(files["a"]), val=str(files["c"])))
    assert len(data.val) == 8 and len(data.mix.members[0].rows) == 16
    with pytest.raises(OpNetError, match="also a training dataset"):
        prepare_training_data(TrainConfig(ds=f"{files['c']}+{files['a']}", val=str(files["a"])))


def test_aflw2k3d_in_the_mix_validates_on_its_first_400_samples(tmp_path, files):
    aflw = write_dataset(tmp_path / "aflw.h5", 405, 405, size=32)
    config = TrainConfig(ds=f"{files['a']}+aflw2k3d", dataset_files={"aflw2k3d": str(aflw)})
    data = prepare_training_data(config)
    assert data.val.rows.tolist() == list(range(400)) and data.val.dataset.path == aflw
    assert (
        data.mix.members[1].rows.tolist() == [400, 401, 402, 403, 404] and len(data.mix.members[0].rows) == 16
    )


def test_the_keypoint_model_is_fitted_on_3d_training_labels_only(files):
    data = prepare_training_data(TrainConfig(ds=f"{files['a']}+{files['b']}"))
    keypoints = fit_training_keypoints(data.mix, 8, seed=0)
    assert keypoints is not None and keypoints.num_params == 8
    only_2d = prepare_training_data(TrainConfig(ds=str(files["b"])))
    assert fit_training_keypoints(only_2d.mix, 8, seed=0) is None


@pytest.mark.slow
def test_the_seed_readme_command_runs(tmp_path, monkeypatch):
    from opnet.cli.common import KNOWN_DATASETS

    for k, name in enumerate(("repro_300_wlp", "lapa_megaface_lp", "wflw_lp")):
        drop = ("quats", "coords", "pt3d_68", "shapeparams") if name == "wflw_lp" else ()
        write_dataset(tmp_path / KNOWN_DATASETS[name], 12, 4, drop=drop, seed=k)
    monkeypatch.setenv("DATADIR", str(tmp_path))
    out = tmp_path / "OUT"
    seed_command = (
        '--lr 1e-3 --epochs 1500 --ds "repro_300_wlp+lapa_megaface_lp:20000+wflw_lp" --save-plot train.pdf '
        "--with-swa --with-nll-loss --backbone mobilenetv1 --no-onnx --roi-override original --no-blurpool"
    )
    assert (
        main(
            [
                "train",
                *shlex.split(seed_command),
                "--outdir",
                str(out),
                "--dry-run",
                "--workers",
                "0",
                "--batchsize",
                "8",
            ]
        )
        == 0
    )
    for name in (
        "config.yaml",
        "metrics.csv",
        "last.ckpt",
        "best.ckpt",
        "swa.ckpt",
        "resume.ckpt",
        "train.pdf",
    ):
        assert (out / name).is_file(), name
    config = load_model(out / "swa.ckpt").config
    assert (config.backbone, config.width, config.blurpool, config.uncertainty) == (
        "mobilenetv1",
        1.0,
        False,
        True,
    )
    saved = yaml.safe_load((out / "config.yaml").read_text())
    assert saved["dataset_files"]["wflw_lp"] == str(tmp_path / KNOWN_DATASETS["wflw_lp"])


@pytest.mark.parametrize(
    "epochs, done, stopped, line",
    [
        (5, 5, None, "trained 5 of 5 epochs"),
        (5, 3, "time budget", "trained 3 of 5 epochs (stopped by the time budget)"),
        (8, 12, None, "trained 12 epochs (the plan changed during the run; 8 at the start)"),
    ],
)
def test_summary_counts_the_epochs_the_run_trained(tmp_path, epochs, done, stopped, line):
    result = TrainResult(
        outdir=tmp_path,
        config=TrainConfig(ds="x.h5", epochs=epochs),
        history=[{"epoch": k + 1} for k in range(done)],
        best=None,
        last_checkpoint=tmp_path / "last.ckpt",
        best_checkpoint=tmp_path / "best.ckpt",
        swa_checkpoint=None,
        swa_metrics=None,
        metrics_csv=tmp_path / "metrics.csv",
        plot=None,
        stopped_early=stopped,
    )
    assert summary(result).splitlines()[0] == line
