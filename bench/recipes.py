"""The ``paper`` and ``opnet`` training recipes side by side on synthetic heads (whole persons held out).

    PYTHONPATH=src python bench/recipes.py [--train 3000] [--heldout 600] [--size 160] [--epochs 10]
        [--samples-per-epoch 1920] [--batch-size 32] [--lr 1e-3] [--width 0.25] [--input-size 129]
        [--seeds 0 1 2] [--threads 2]
        [--outdir DIR]

Generates a training file and a held-out file of synthetic heads (``opnet.synth``; different seeds,
so no person is in both), then trains MobileNetV1 (``--width``) with each recipe for the same number
of steps and each seed: the seed README's settings otherwise (uncertainty outputs with the NLL
losses, SWA over the last third, --roi-override original, 129 px input, no BlurPool), validating on
whole persons held out of the training file. The SWA network of each run is evaluated on the
held-out file under the evaluation protocol (68-landmark box x 1.1, the model's own input
normalisation). Prints one row per run and the mean and standard deviation per recipe, with the
machine load. Fixed numbers of steps, so the results do not depend on the load (only the times do).
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import tempfile
import time
from pathlib import Path

import torch

from opnet.data import open_dataset
from opnet.evaluate.evaluation import evaluate_models
from opnet.evaluate.results import EvaluationSettings
from opnet.runtime import load_pose_model
from opnet.synth.config import SynthConfig
from opnet.synth.generate import generate_dataset
from opnet.train import train
from opnet.train.recipes import resolve_config


def run_config(recipe: str, data: Path, args: argparse.Namespace, seed: int):
    """The seed README's command on ``data`` with ``recipe``, scaled down to ``args``."""
    settings = {
        "ds": str(data),
        "seed": seed,
        "epochs": args.epochs,
        "samples_per_epoch": args.samples_per_epoch,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "swa": True,
        "onnx": False,
        "accelerator": "cpu",
        "model": {
            "width": args.width,
            "input_size": args.input_size,
            "uncertainty": True,
            "blurpool": False,
        },
    }
    return resolve_config(recipe, (settings, "bench"))


def evaluate(checkpoint: Path, heldout: Path, threads: int) -> tuple[float, float]:
    """(mean MAE, geodesic error) in degrees of a checkpoint on the held-out heads (the protocol)."""
    model = load_pose_model(checkpoint, threads)
    with open_dataset(heldout) as ds:
        result = evaluate_models([model], ds, EvaluationSettings(threads=threads, progress=False))
    metrics = result.rows[0].metrics
    return metrics.mean_deg, metrics.geodesic_deg


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--train", type=int, default=3000, help="synthetic heads to train on")
    parser.add_argument("--heldout", type=int, default=600, help="synthetic heads to test on")
    parser.add_argument("--size", type=int, default=160, help="image side of the synthetic heads")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--samples-per-epoch", type=int, default=1920)
    parser.add_argument("--batch-size", type=int, default=32, help="the seed command's 32")
    parser.add_argument("--lr", type=float, default=1e-3, help="the seed command's 1e-3")
    parser.add_argument("--width", type=float, default=0.25)
    parser.add_argument("--input-size", type=int, default=129, help="network input side in pixels")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--recipes", nargs="+", default=["paper", "opnet"])
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument(
        "--outdir", type=Path, help="keep the data and runs here (default: a temporary folder)"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    for name in ("lightning.pytorch", "lightning.fabric"):
        logging.getLogger(name).setLevel(logging.ERROR)
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        root = args.outdir or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        synth = SynthConfig(image_size=args.size)
        data, heldout = root / "train.h5", root / "heldout.h5"
        for path, count, seed in ((data, args.train, 100), (heldout, args.heldout, 101)):
            if not path.exists():
                generate_dataset(path, count, synth, seed=seed, workers=args.threads, progress=False)
        print(
            f"{args.train} training / {args.heldout} held-out synthetic heads ({args.size} px); "
            f"MobileNetV1 x{args.width} at {args.input_size} px, {args.epochs} epochs of "
            f"{args.samples_per_epoch} samples "
            f"({args.epochs * args.samples_per_epoch // args.batch_size} steps of {args.batch_size}, "
            f"lr {args.lr:g}), {args.threads} threads"
        )
        print(f"{'recipe':<8}{'seed':>5}{'Mean°':>8}{'Geodesic°':>11}{'val Mean°':>11}{'minutes':>9}")
        results: dict[str, list[tuple[float, float]]] = {r: [] for r in args.recipes}
        for seed in args.seeds:
            for recipe in args.recipes:
                config = run_config(recipe, data, args, seed)
                started = time.monotonic()
                run = train(
                    config, root / f"{recipe}-{seed}", overwrite=True, threads=args.threads, progress=False
                )
                minutes = (time.monotonic() - started) / 60
                assert run.swa_checkpoint is not None and run.swa_metrics is not None
                mean, geodesic = evaluate(run.swa_checkpoint, heldout, args.threads)
                results[recipe].append((mean, geodesic))
                val = run.swa_metrics.get("val_mean_deg", float("nan"))
                print(
                    f"{recipe:<8}{seed:>5}{mean:>8.2f}{geodesic:>11.2f}{val:>11.2f}{minutes:>9.1f}",
                    flush=True,
                )
        for recipe, rows in results.items():
            means, geodesics = zip(*rows, strict=True)
            sd = statistics.stdev(means) if len(means) > 1 else 0.0
            print(
                f"{recipe}: Mean° {statistics.mean(means):.2f} ± {sd:.2f}, "
                f"Geodesic° {statistics.mean(geodesics):.2f} (seeds {', '.join(map(str, args.seeds))})"
            )
        print("load average (1, 5, 15 min):", " ".join(f"{v:.2f}" for v in os.getloadavg()))


if __name__ == "__main__":
    main()
