"""``opnet split IN.h5 -o A.h5 B.h5 --fractions 0.9 0.1``: split a dataset by whole sequences.

No sequence (person, video, source face) ends up in two parts. Sequences are assigned in a random
order fixed by ``--seed``; each part keeps the original order. A file without sequences splits by
sample.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def _count(text: str) -> int | None:
    if text == "rest":
        return None
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a number of samples or 'rest'") from None


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "split",
        help="split a dataset file by sequences (no person in two parts)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("input", help="dataset file")
    p.add_argument(
        "-o",
        "--output",
        "--outputs",
        dest="outputs",
        type=Path,
        nargs="+",
        required=True,
        metavar="FILE",
        help="one dataset file per part",
    )
    sizes = p.add_mutually_exclusive_group(required=True)
    sizes.add_argument(
        "--fractions", type=float, nargs="+", help="share of the samples per part, summing to 1"
    )
    sizes.add_argument(
        "--counts", type=_count, nargs="+", metavar="N|rest", help="samples per part; one part may be 'rest'"
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the assignment (default 0)")
    p.add_argument("--force", action="store_true", help="overwrite outputs that exist")
    return p


def run(args: argparse.Namespace) -> int:
    from opnet.datatools import split_dataset

    written = split_dataset(
        args.input,
        args.outputs,
        fractions=args.fractions,
        counts=args.counts,
        seed=args.seed,
        overwrite=args.force,
        progress=True,
    )
    for output, count in zip(args.outputs, written, strict=True):
        print(f"wrote {output}: {count} samples")
    return 0
