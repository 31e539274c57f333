"""Training speed on CPU: the model step alone, and the whole loop with the input pipeline and workers.

    PYTHONPATH=src python bench/train.py [--batches 64 128] [--steps 5] [--workers 0 2] [--threads N]
                                         [--data FILE.h5]

For each network (narrow and full MobileNetV1, ResNet-18; 129x129 input, landmarks and NLL
uncertainty on, as in the seed recipe) and batch size:

1. model step: what the loop does per batch without data loading (forward, losses, backward,
   infinity-norm clipping, Adam) on a fixed training batch, median of ``--steps`` steps;
2. whole loop: ``opnet.train.train`` (Lightning, the input pipeline with full augmentation,
   validation excluded) for a warm-up epoch and a timed epoch of ``--steps`` steps each; images/s
   of the timed epoch's training time, once for each number of data-loader processes in
   ``--workers`` (0: batches are made in the training process; default 0 and one per core).

The data: synthetic heads (``opnet.synth``, 256x256 JPEG) made once in a temporary folder, or
``--data FILE.h5``.
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
from pathlib import Path

import torch

from opnet.augment import AugmentConfig
from opnet.models import ModelConfig
from opnet.synth.config import SynthConfig
from opnet.synth.generate import generate_dataset
from opnet.train import MixSource, TrainConfig, build_mix, train
from opnet.train.speed import training_step_rate

CASES = (("mobilenetv1", 0.5), ("mobilenetv1", 1.0), ("resnet18", 1.0))


def model_step_rate(config: TrainConfig, data: Path, steps: int) -> float:
    """Images/s of the training step alone (median step time) on one fixed augmented batch."""
    return training_step_rate(
        config, build_mix([MixSource("bench", data)]), steps, include_data=False, warmup=1
    )


def loop_rate(config: TrainConfig, outdir: Path, workers: int, threads: int | None) -> float:
    """Images/s of the second epoch of a real run (training time of the epoch, without validation)."""
    result = train(config, outdir, overwrite=True, workers=workers, threads=threads, progress=False)
    return result.history[-1]["images_per_s"]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--batches", type=int, nargs="+", default=[64, 128])
    parser.add_argument("--steps", type=int, default=5, help="timed steps per measurement")
    parser.add_argument("--workers", type=int, nargs="+", default=[0, len(os.sched_getaffinity(0))])
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    parser.add_argument("--data", type=Path, help="a dataset file instead of generated heads")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    for name in ("lightning.pytorch", "lightning.fabric", "opnet"):
        logging.getLogger(name).setLevel(logging.WARNING)
    if args.threads:
        torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        data = args.data
        if data is None:
            data = Path(tmp) / "heads.h5"
            generate_dataset(
                data, 320, SynthConfig(), seed=0, workers=len(os.sched_getaffinity(0)), progress=False
            )
        print(
            f"CPU, {torch.get_num_threads()} torch threads, data {data.name}; loop img/s with W data workers"
        )
        loops = "".join(f"{f'loop W={w}':>12}" for w in args.workers)
        print(f"{'network':<20}{'batch':>6}{'step/s':>9}{'img/s':>9}{loops}")
        for backbone, width in CASES:
            for batch in args.batches:
                config = TrainConfig(
                    ds=str(data),
                    epochs=2,
                    batch_size=batch,
                    samples_per_epoch=batch * args.steps,
                    model=ModelConfig(backbone=backbone, width=width, uncertainty=True),
                    augment=AugmentConfig(),
                )
                alone = model_step_rate(config, data, args.steps)
                loops = "".join(
                    f"{loop_rate(config, Path(tmp) / 'run', w, args.threads):>12.0f}" for w in args.workers
                )
                name = f"{backbone} {width:g}"
                print(f"{name:<20}{batch:>6}{alone / batch:>9.2f}{alone:>9.0f}{loops}", flush=True)


if __name__ == "__main__":
    main()
