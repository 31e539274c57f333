"""Resuming gives the uninterrupted run's result bit for bit; an interrupted run leaves usable files."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from opnet.cli import main
from opnet.models import load_checkpoint, load_model

SMALL = ["--batchsize", "4", "--input-size", "64", "--width", "0.25", "--workers", "0"]
RUN = ["--epochs", "3", "--samples-per-epoch", "8", *SMALL, "--with-swa", "--with-nll-loss"]
TIMING = {"train_s", "images_per_s", "elapsed_s"}


def train_cli(*argv: object) -> int:
    return main(["train", *map(str, argv)])


def metrics(out: Path) -> list[dict[str, str]]:
    with open(out / "metrics.csv", newline="") as f:
        return [{k: v for k, v in row.items() if k not in TIMING} for row in csv.DictReader(f)]


def same_weights(a: Path, b: Path) -> bool:
    sa, sb = load_model(a).state_dict(), load_model(b).state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_stopping_and_resuming_equals_the_uninterrupted_run(small_dataset, tmp_path, capsys):
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    assert train_cli("--ds", small_dataset, "--outdir", straight, *RUN) == 0
    assert train_cli("--ds", small_dataset, "--outdir", resumed, *RUN, "--max-minutes", "1e-6") == 0
    assert len(metrics(resumed)) == 1 and not (resumed / "swa.ckpt").exists()
    assert train_cli("--resume", resumed, "--lr", "0.1") == 2
    assert "keeps the run's settings" in capsys.readouterr().err
    assert train_cli("--resume", resumed / "last.ckpt", "--max-minutes", "60") == 0
    for name in ("last.ckpt", "best.ckpt", "swa.ckpt"):
        assert same_weights(straight / name, resumed / name), name
    assert metrics(straight) == metrics(resumed) and [r["epoch"] for r in metrics(resumed)] == ["1", "2", "3"]
    assert {r["samples"] for r in metrics(resumed)} == {"8"}
    _, extra = load_checkpoint(resumed / "swa.ckpt")
    assert extra["epochs_averaged"] == 1 and extra["metrics"]["val_mean_deg"] > 0


def test_a_different_seed_gives_different_weights(small_dataset, tmp_path):
    runs = []
    for seed in ("1", "2"):
        out = tmp_path / seed
        assert train_cli("--ds", small_dataset, "--outdir", out, *RUN, "--seed", seed, "--dry-run") == 0
        runs.append(out / "last.ckpt")
    assert not same_weights(*runs)


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_killed_run_leaves_a_loadable_checkpoint_and_resumes(small_dataset, tmp_path, sig):
    out = tmp_path / "run"
    argv = ["--ds", str(small_dataset), "--outdir", str(out), "--epochs", "50", "--samples-per-epoch", "96"]
    argv += [
        "--batchsize",
        "4",
        "--input-size",
        "64",
        "--width",
        "0.25",
        "--workers",
        "1",
    ]  # a worker to stop too
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    process = subprocess.Popen(
        [sys.executable, "-m", "opnet", "train", *argv],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not (out / "resume.ckpt").exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    process.send_signal(sig)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 130, output
    assert "continue with: opnet train --resume" in output
    done = len(metrics(out))
    assert 1 <= done < 50
    _, extra = load_checkpoint(out / "last.ckpt")
    assert extra["epoch"] == done and load_model(out / "last.ckpt").config.width == 0.25
    assert train_cli("--resume", out, "--max-minutes", "1e-6") == 0
    assert [int(r["epoch"]) for r in metrics(out)] == list(range(1, done + 2))
    assert load_checkpoint(out / "last.ckpt")[1]["epoch"] == done + 1


def test_ctrl_c_becomes_a_stop_after_the_step_only_where_lightning_listens_for_sigterm():
    from opnet.train.interrupt import stop_after_step

    received = []
    old_term = signal.signal(signal.SIGTERM, lambda signum, frame: received.append(signum))
    # Python's own Ctrl-C handler, whatever an earlier test in this worker left installed
    old_int = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with stop_after_step():
            os.kill(os.getpid(), signal.SIGINT)  # the first: a SIGTERM, handled between steps
            time.sleep(0.05)
            assert received == [signal.SIGTERM]
            with pytest.raises(KeyboardInterrupt):  # the second: at once
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.05)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        with pytest.raises(KeyboardInterrupt), stop_after_step():  # nobody listens for SIGTERM
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored by the block
    finally:
        signal.signal(signal.SIGTERM, old_term)
        signal.signal(signal.SIGINT, old_int)
