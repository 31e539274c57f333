"""``opnet export`` on the command line: the files it writes, its report, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import one_line_error, random_sample, run_cli, small_net

from opnet.cli import main
from opnet.cli.export import default_output
from opnet.data import DatasetWriter
from opnet.models import save_checkpoint
from opnet.runtime import load_pose_model


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return save_checkpoint(tmp_path_factory.mktemp("run") / "best.ckpt", small_net(seed=8))


def test_default_output_names():
    run = Path("run")
    assert default_output(run / "best.ckpt", False, "float32") == run / "best.onnx"
    assert default_output(run / "best.ckpt", False, "int8") == run / "best-int8.onnx"
    assert default_output(run / "swa.pt", True, "float16") == run / "swa-full-fp16.onnx"


def test_export_writes_the_model_next_to_the_checkpoint_and_a_log(checkpoint, crops_data, capsys):
    code, out, err = run_cli("export", [checkpoint, "--data", crops_data, "--threads", "1"], capsys)
    assert code == 0, err
    model_path = checkpoint.with_name("best.onnx")
    assert f"wrote {model_path}" in out and "OpenTrack contract, model_version 4" in out and "| quat |" in out
    model = load_pose_model(model_path, threads=1)
    assert model.max_batch == 1 and model.input_size == 129
    log = json.loads(checkpoint.with_name("best.export.json").read_text())
    assert log["source"] == str(checkpoint) and log["config"]["width"] == 0.25
    assert log["precision"] == "float32"
    code, _, err = run_cli("export", [checkpoint, "--data", crops_data], capsys)
    assert one_line_error("export", code, err, "best.onnx: already exists; pass --force")


def test_int8_export_prints_the_accuracy_change(checkpoint, crops_data, tmp_path, capsys):
    out_path = tmp_path / "q.onnx"
    code, out, err = run_cli(
        "export",
        [
            checkpoint,
            "--quantize",
            "int8",
            "--data",
            crops_data,
            "--num-calibration",
            "8",
            "-o",
            out_path,
            "--threads",
            "1",
        ],
        capsys,
    )
    assert code == 0, err
    assert "| float32 " in out and "| int8 " in out and "also the calibration data" in out
    assert (tmp_path / "q.export.json").is_file()


def test_bad_arguments_give_one_line_errors(checkpoint, crops_data, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["export", str(checkpoint), "--quantize", "int8", "--fp16"])
    assert exit_info.value.code == 2 and "not allowed with argument" in capsys.readouterr().err
    code, _, err = run_cli("export", [checkpoint, "-o", tmp_path / "model.txt"], capsys)
    assert one_line_error("export", code, err, "model.txt", "ending in .onnx")
    not_a_checkpoint = tmp_path / "model.ckpt"
    not_a_checkpoint.write_text("hello")
    code, _, err = run_cli("export", [not_a_checkpoint, "--data", crops_data], capsys)
    assert one_line_error("export", code, err, "model.ckpt: not a readable PyTorch checkpoint")
    code, _, err = run_cli(
        "export", [checkpoint, "--data", tmp_path / "none.h5", "-o", tmp_path / "x.onnx"], capsys
    )
    assert one_line_error("export", code, err, "--data", "none.h5", "no such file")
    unlabelled = tmp_path / "unlabelled.h5"
    with DatasetWriter(unlabelled) as writer:
        writer.append({k: v for k, v in random_sample(np.random.default_rng(0)).items() if k != "quats"})
    code, _, err = run_cli(
        "export",
        [
            checkpoint,
            "--fp16",
            "--data",
            crops_data,
            "--eval",
            unlabelled,
            "-o",
            tmp_path / "x.onnx",
            "--threads",
            "1",
        ],
        capsys,
    )
    assert one_line_error("export", code, err, "unlabelled.h5", "'quats'")
    assert not (tmp_path / "x.onnx").exists()
