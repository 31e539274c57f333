"""``opnet join A.h5 B.h5 ... -o C.h5``: concatenate dataset files, keeping sequence boundaries."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "join", help="concatenate dataset files (same fields), keeping sequences", description=__doc__
    )
    p.add_argument("inputs", nargs="+", help="dataset files, in output order")
    p.add_argument("-o", "--output", type=Path, required=True, help="dataset file to write")
    p.add_argument("--force", action="store_true", help="overwrite the output if it exists")
    return p


def run(args: argparse.Namespace) -> int:
    from opnet.datatools import join_datasets

    count = join_datasets(args.inputs, args.output, overwrite=args.force, progress=True)
    print(f"wrote {args.output}: {count} samples from {len(args.inputs)} files")
    return 0
