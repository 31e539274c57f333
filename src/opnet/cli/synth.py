"""``opnet synth OUT.h5 -n N``: a dataset of rendered synthetic heads with exact labels."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from opnet.cli.defaults import defaults_formatter, setting_overrides


def _default_config() -> Any:
    from opnet.synth.config import SynthConfig

    return SynthConfig()


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "synth",
        help="render a synthetic dataset of labelled heads",
        description=__doc__,
        formatter_class=defaults_formatter(_default_config),
    )
    p.add_argument("output", type=Path, help="dataset file to write (.h5)")
    p.add_argument("-n", "--num-samples", type=int, required=True, metavar="N", help="number of samples")
    p.add_argument(
        "--size",
        dest="cfg.image_size",
        type=int,
        default=argparse.SUPPRESS,
        metavar="PX",
        help="image side in pixels (default %(default)s)",
    )
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
        dest="cfg.samples_per_identity",
        type=int,
        default=argparse.SUPPRESS,
        metavar="K",
        help="samples per synthetic person, one sequence each (default %(default)s)",
    )
    for axis in ("yaw", "pitch", "roll"):
        p.add_argument(
            f"--{axis}-max",
            dest=f"cfg.{axis}_max_deg",
            type=float,
            default=argparse.SUPPRESS,
            metavar="DEG",
            help=f"{axis} uniform in +-this, degrees (default %(default)s)",
        )
    p.add_argument(
        "--pose",
        dest="cfg.pose",
        choices=("uniform", "frontal"),
        default=argparse.SUPPRESS,
        help="pose distribution: uniform in the ranges, or mostly frontal like photos of people "
        "(default %(default)s)",
    )
    p.add_argument(
        "--pose-angles",
        dest="cfg.pose_angles",
        choices=("aflw", "hpb"),
        default=argparse.SUPPRESS,
        help="which angles the ranges and --pose apply to: AFLW's pitch, yaw, roll, or heading, pitch, "
        "bank as a neck moves (turn, then nod and tilt; default %(default)s)",
    )
    p.add_argument(
        "--occluders",
        metavar="LIST",
        help="things in front of faces, e.g. glasses,hats,hands or glasses=0.5 (share of persons / samples; "
        "a name alone: glasses 0.3, hats 0.2, hands 0.2); default none",
    )
    p.add_argument(
        "--realism",
        metavar="LIST",
        help="realism levers: all, or some of hair,eyes,skin,light,camera,backgrounds,expressions,body "
        "(default none)",
    )
    p.add_argument("--force", action="store_true", help="overwrite the output if it exists")
    return p


def run(args: argparse.Namespace) -> int:
    import dataclasses

    from opnet.cli.common import num_workers
    from opnet.settings import replace_from_plain
    from opnet.synth.config import SynthConfig, parse_occluders, parse_realism
    from opnet.synth.generate import generate_dataset

    config = replace_from_plain(SynthConfig(), setting_overrides(args), "command line")
    if args.occluders is not None:
        config = dataclasses.replace(config, occluders=parse_occluders(args.occluders))
    if args.realism is not None:
        config = dataclasses.replace(config, realism=parse_realism(args.realism))
    workers = args.workers if args.workers is not None else num_workers()
    generate_dataset(
        args.output, args.num_samples, config, seed=args.seed, workers=workers, overwrite=args.force
    )
    return 0
