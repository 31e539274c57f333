"""``opnet pseudolabel IN.h5 --model M... -o OUT.h5``: label a landmark-only dataset with an ensemble's pose.

Each model runs on every face crop (the evaluation protocol's: a square of the face box x 1.1);
rotations are averaged as rotations, head centres and sizes as means. The output is a copy of
the input with 'quats' (marked as pseudo-labels) and 'coords' added, the starting point of
'opnet augment3d --fit full' for datasets like WFLW and LaPa. See docs/augment3d.md.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

log = logging.getLogger(__name__)


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "pseudolabel",
        help="add an ensemble's head poses to a landmark-only dataset",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("input", type=Path, help="dataset file (.h5)")
    p.add_argument(
        "--model", nargs="+", required=True, type=Path, metavar="M", help="pose model files (.onnx, ...)"
    )
    p.add_argument("-o", "--output", required=True, type=Path, help="dataset file to write (.h5)")
    p.add_argument(
        "--roi",
        choices=("auto", "stored", "landmarks"),
        default="auto",
        help="face box: the file's 'rois' or the 68-landmark box (default auto: landmarks if present)",
    )
    p.add_argument(
        "--roi-expansion",
        type=float,
        default=1.1,
        help="crop side = max(w, h) of the box x this (default 1.1)",
    )
    p.add_argument(
        "--replace-labels",
        action="store_true",
        help="replace the file's quats/coords (and print the pseudo-labels' errors against them)",
    )
    p.add_argument("--batch-size", type=int, default=64, help="samples per inference batch (default 64)")
    p.add_argument("--threads", type=int, help="CPU threads (default: $NUM_WORKERS or all cores)")
    p.add_argument("--force", action="store_true", help="overwrite the output if it exists")
    return p


def run(args: argparse.Namespace) -> int:
    from opnet.cli.common import num_workers
    from opnet.errors import OpNetError
    from opnet.evaluate.pseudolabel import pseudolabel_dataset

    if args.roi_expansion <= 0 or args.batch_size < 1:
        raise OpNetError("--roi-expansion and --batch-size must be positive")
    threads = args.threads if args.threads is not None else num_workers()
    result = pseudolabel_dataset(
        args.input,
        args.output,
        args.model,
        roi=args.roi,
        expansion=args.roi_expansion,
        replace_labels=args.replace_labels,
        threads=max(threads, 1),
        batch_size=args.batch_size,
        overwrite=args.force,
    )
    if result.mae_deg is not None:
        pitch, yaw, roll = result.mae_deg
        log.info(
            "pseudo-labels against the replaced labels: MAE pitch %.2f, yaw %.2f, roll %.2f, mean %.2f deg",
            pitch,
            yaw,
            roll,
            result.mae_deg.mean(),
        )
    log.info("wrote %s", args.output)
    return 0
