"""``opnet filter IN.h5 -o OUT.h5 --drop-sequences ... --drop-indices ...``: copy without some samples."""

from __future__ import annotations

import argparse
from pathlib import Path

from opnet.cli.common import parse_indices


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "filter", help="copy a dataset file without some sequences or samples", description=__doc__
    )
    p.add_argument("input", help="dataset file")
    p.add_argument("-o", "--output", type=Path, required=True, help="dataset file to write")
    p.add_argument(
        "--drop-sequences",
        type=parse_indices,
        default=[],
        metavar="LIST",
        help="sequences to leave out, e.g. '3 7-9' (a file without sequences: one per sample)",
    )
    p.add_argument(
        "--drop-indices",
        type=parse_indices,
        default=[],
        metavar="LIST",
        help="samples to leave out, e.g. '0 10-19'",
    )
    p.add_argument("--force", action="store_true", help="overwrite the output if it exists")
    return p


def run(args: argparse.Namespace) -> int:
    from opnet.datatools import filter_dataset

    kept = filter_dataset(
        args.input, args.output, args.drop_sequences, args.drop_indices, overwrite=args.force, progress=True
    )
    print(f"wrote {args.output}: {kept} samples")
    return 0
