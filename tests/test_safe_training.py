"""Training with bad input: nothing written before the data are checked, and damaged resume state.

- A start that fails on its data leaves no config.yaml, so the corrected command is not refused.
- A truncated or malicious ``resume.ckpt`` is reported in one line and ``last.ckpt`` stands in for it.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from bad_inputs import (
    PWNED,
    good_dataset,
    malicious_checkpoint,
    run_on_screen,
    truncated_copy,
    zero_length_dataset,
)

from opnet.cli import main
from opnet.models import load_checkpoint

SMALL = ["--batchsize", "4", "--input-size", "64", "--width", "0.25", "--workers", "0", "--no-onnx"]
RUN = ["--epochs", "3", "--samples-per-epoch", "8", *SMALL, "--with-swa"]


def train_cli(*argv: object) -> int:
    return main(["train", *map(str, argv)])


def train_lines(capfd: pytest.CaptureFixture[str], *argv: object) -> tuple[int, list[str]]:
    """(exit code, stderr lines as a terminal shows them, log records included)."""
    code, _, err = run_on_screen("train", list(argv), capfd)
    return code, err


def rows(out: Path) -> list[dict[str, str]]:
    with open(out / "metrics.csv", newline="") as f:
        return list(csv.DictReader(f))


def test_a_refused_start_leaves_nothing_and_the_corrected_command_runs(tmp_path, small_dataset, capfd):
    empty = zero_length_dataset(tmp_path / "empty.h5")
    out = tmp_path / "run"
    code, err = train_lines(capfd, "--ds", empty, "--outdir", out, *SMALL, "--dry-run")
    assert code == 2 and len(err) == 1 and "has no samples" in err[0], err
    assert not out.exists()
    assert train_cli("--ds", small_dataset, "--outdir", out, *SMALL, "--dry-run") == 0
    assert (out / "config.yaml").is_file() and (out / "last.ckpt").is_file()


def test_a_start_that_fails_in_its_first_steps_leaves_nothing(tmp_path, capfd):
    import h5py

    data = good_dataset(tmp_path / "d.h5", count=8)
    with h5py.File(data, "r+") as f:
        for i in range(len(f["images"])):
            f["images"][i] = f["images"][i][:40]  # every image cut off after its header
    out = tmp_path / "run"
    code, err = train_lines(capfd, "--ds", data, "--outdir", out, *SMALL, "--dry-run")
    assert code == 2 and err[-1].startswith("opnet train: error: "), err
    assert not out.exists()


@pytest.fixture
def interrupted_run(tmp_path: Path, small_dataset: Path) -> Path:
    """A run stopped after epoch 1 of 3 (its time budget), with its resume state."""
    out = tmp_path / "run"
    assert train_cli("--ds", small_dataset, "--outdir", out, *RUN, "--max-minutes", "1e-6") == 0
    assert len(rows(out)) == 1 and (out / "resume.ckpt").is_file()
    return out


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["truncated", "malicious"])
def test_a_damaged_resume_state_falls_back_to_last_ckpt(
    interrupted_run, tmp_path, small_dataset, capfd, damage, monkeypatch
):
    out = interrupted_run
    straight = tmp_path / "straight"
    assert train_cli("--ds", small_dataset, "--outdir", straight, *RUN) == 0
    resume = out / "resume.ckpt"
    if damage == "truncated":
        truncated_copy(resume, resume, 0.3)
    else:
        malicious_checkpoint(resume)
    monkeypatch.chdir(tmp_path)
    capfd.readouterr()
    code, err = train_lines(capfd, "--resume", out, "--max-minutes", "60")
    assert code == 0, err
    said = [line for line in err if "resume.ckpt is damaged" in line]
    assert len(said) == 1 and "continuing from last.ckpt (epoch 1)" in said[0], err
    assert not any("weights_only" in line or "Traceback" in line for line in err)
    assert not (tmp_path / PWNED).exists()
    assert [r["epoch"] for r in rows(out)] == ["1", "2", "3"]
    assert [r["lr"] for r in rows(out)] == [r["lr"] for r in rows(straight)]  # the schedule went on
    assert load_checkpoint(out / "last.ckpt")[1]["epoch"] == 3


def test_damaged_resume_and_last_checkpoints_are_one_line(interrupted_run, capfd):
    truncated_copy(interrupted_run / "resume.ckpt", interrupted_run / "resume.ckpt", 0.5)
    truncated_copy(interrupted_run / "last.ckpt", interrupted_run / "last.ckpt", 0.5)
    capfd.readouterr()
    code, err = train_lines(capfd, "--resume", interrupted_run)
    assert code == 2 and len(err) == 1 and err[0].startswith("opnet train: error: --resume "), err
    assert "resume.ckpt is damaged" in err[0] and "start the run again with --force" in err[0]
    assert "weights_only" not in err[0]


def test_a_run_started_meanwhile_in_the_same_folder_is_not_replaced(
    tmp_path, small_dataset, capfd, monkeypatch
):
    """Two starts into one new folder: the one that writes config.yaml second fails and removes nothing."""
    import opnet.train.run as run

    out = tmp_path / "run"
    theirs = "written by the other run\n"
    fresh = run.start_fresh

    def other_run_starts_meanwhile(paths, overwrite):  # noqa: ANN001 - start_fresh's signature
        fresh(paths, overwrite)
        (paths.outdir / "config.yaml").write_text(theirs)

    monkeypatch.setattr(run, "start_fresh", other_run_starts_meanwhile)
    code, err = train_lines(capfd, "--ds", small_dataset, "--outdir", out, *SMALL, "--dry-run")
    assert code == 2 and err[-1].startswith("opnet train: error: "), err  # after the start-up notes
    assert f"{out / 'config.yaml'}: already exists" in err[-1] and "--force" in err[-1], err
    assert not [line for line in err[:-1] if "error" in line.lower()], err
    assert sorted(p.name for p in out.iterdir()) == ["config.yaml"]
    assert (out / "config.yaml").read_text() == theirs
