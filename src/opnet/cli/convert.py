"""``opnet convert ORIG.ckpt -o net.ckpt``: a checkpoint of the original research code -> an OpNet one.

Reads the paper's released checkpoints (the ``paper`` branch's bare state_dict: the network is
inferred from its keys and shapes) and the ``master`` branch's files (its config is checked), and
writes a self-describing OpNet checkpoint that computes the same outputs. It prints what it
inferred. ``opnet evaluate``, ``export``, ``predict``, ``track``, ``pseudolabel`` and
``train --init`` also take original files directly. See docs/paper-models.md.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "convert",
        help="convert a checkpoint of the original code (the paper's models) to an OpNet checkpoint",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("checkpoint", type=Path, metavar="ORIG.ckpt", help="original-code checkpoint (.ckpt/.pt)")
    p.add_argument(
        "-o", "--output", type=Path, metavar="OUT.ckpt", help="OpNet checkpoint (default: ORIG-opnet.ckpt)"
    )
    p.add_argument("--force", action="store_true", help="overwrite the output if it exists")
    return p


def run(args: argparse.Namespace) -> int:
    from opnet.models import convert_original_checkpoint

    output = args.output or args.checkpoint.with_name(f"{args.checkpoint.stem}-opnet.ckpt")
    spec = convert_original_checkpoint(args.checkpoint, output, overwrite=args.force)
    print(f"{args.checkpoint}: {spec.describe()}")
    for note in spec.notes:
        print(f"  {note}")
    print(f"wrote {output} (style {spec.config.style}, input_norm {spec.config.input_norm})")
    return 0
