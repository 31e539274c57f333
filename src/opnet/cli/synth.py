"""``opnet synth OUT.h5 -n N``: a dataset of rendered synthetic heads with exact labels."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("synth", help="render a synthetic dataset of labelled heads", description=__doc__)
    p.add_argument("output", type=Path, help="dataset file to write (.h5)")
    p.add_argument("-n", "--num-samples", type=int, required=True, metavar="N", help="number of samples")
    p.add_argument("--size", type=int, default=256, metavar="PX", help="image side in pixels (default 256)")
    p.add_argument(
        "--seed",
        type=int,
        default=0,
        metavar="S",
        help="random seed; the output depends only on it and the settings, not on --workers (default 0)",
    )
    p.add_argument(
        "--workers",
        type=int,
        metavar="W",
        help="processes rendering in parallel (default: $NUM_WORKERS or all cores)",
    )
    p.add_argument(
        "--per-identity",
        type=int,
        default=8,
        metavar="K",
        help="samples per synthetic person, one sequence each (default 8)",
    )
    p.add_argument(
        "--yaw-max",
        type=float,
        metavar="DEG",
        default=90.0,
        help="yaw uniform in +-this, degrees (default 90)",
    )
    p.add_argument(
        "--pitch-max",
        type=float,
        metavar="DEG",
        default=60.0,
        help="pitch uniform in +-this, degrees (default 60)",
    )
    p.add_argument(
        "--roll-max",
        type=float,
        metavar="DEG",
        default=60.0,
        help="roll uniform in +-this, degrees (default 60)",
    )
    p.add_argument(
        "--pose",
        choices=("uniform", "frontal"),
        default="uniform",
        help="pose distribution: uniform in the ranges, or mostly frontal like photos of people "
        "(default uniform)",
    )
    p.add_argument(
        "--occluders",
        default="none",
        metavar="LIST",
        help="things in front of faces, e.g. glasses,hats,hands or glasses=0.5 (share of persons / samples; "
        "a name alone: glasses 0.3, hats 0.2, hands 0.2); default none",
    )
    p.add_argument(
        "--realism",
        default="none",
        metavar="LIST",
        help="realism levers: all, or some of hair,eyes,skin,light,camera,backgrounds,expressions,body "
        "(default none)",
    )
    p.add_argument("--force", action="store_true", help="overwrite the output if it exists")
    return p


def run(args: argparse.Namespace) -> int:
    from opnet.cli.common import num_workers
    from opnet.synth.config import SynthConfig, parse_occluders, parse_realism
    from opnet.synth.generate import generate_dataset

    config = SynthConfig(
        image_size=args.size,
        yaw_max_deg=args.yaw_max,
        pitch_max_deg=args.pitch_max,
        roll_max_deg=args.roll_max,
        samples_per_identity=args.per_identity,
        pose=args.pose,
        occluders=parse_occluders(args.occluders),
        realism=parse_realism(args.realism),
    )
    workers = args.workers if args.workers is not None else num_workers()
    generate_dataset(
        args.output, args.num_samples, config, seed=args.seed, workers=workers, overwrite=args.force
    )
    return 0
