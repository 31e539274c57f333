"""``opnet augment3d IN.h5 OUT.h5``: turn each face of a dataset out to profile in 3D, with exact labels.

A face model is fitted to each photo (or placed by its 3DMM labels), the head is rotated in yaw
bins from the face's own yaw to 90 deg, and the photo is re-rendered as the texture. Each source
face becomes one sequence: the photo first, then its new views. See docs/augment3d.md.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from opnet.cli.defaults import LazyChoices

log = logging.getLogger(__name__)


def _fit_modes() -> Any:
    from opnet.augment3d.inputs import FitMode

    return FitMode


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "augment3d",
        help="expand a dataset to large poses by rotating faces in 3D",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("input", type=Path, help="dataset with 68 landmarks and/or pose + shape labels (.h5)")
    p.add_argument("output", type=Path, help="dataset file to write (.h5)")
    p.add_argument(
        "--face-model",
        type=Path,
        metavar="FILE",
        help="3DDFA face model (bfm_noneck_v3.pkl); default: the built-in procedural head",
    )
    p.add_argument(
        "--yaw-step",
        type=float,
        default=5.0,
        metavar="DEG",
        help="one new view per yaw bin of this width, from the face's |yaw| to 90 (default 5)",
    )
    p.add_argument(
        "--prob-closed-eyes",
        type=float,
        default=0.5,
        metavar="P",
        help="chance that a new view has closed eyes (default 0.5)",
    )
    p.add_argument(
        "--prob-spotlight",
        type=float,
        default=0.001,
        metavar="P",
        help="chance that a new view is lit by a side light (default 0.001)",
    )
    p.add_argument(
        "--fit",
        choices=LazyChoices(_fit_modes),
        metavar="MODE",
        default="auto",
        help="labels: use quats/coords/shapeparams (BFM); shape: keep the labelled pose, fit the shape; "
        "full: fit pose and shape to the 2D landmarks (default auto)",
    )
    p.add_argument(
        "--max-residual",
        type=float,
        metavar="PCT",
        help="drop faces whose landmark fit is worse (RMS, %% of the landmark box)",
    )
    p.add_argument("--limit", type=int, metavar="N", help="only the first N source faces")
    p.add_argument(
        "--seed", type=int, default=0, help="random seed; the output does not depend on --workers (default 0)"
    )
    p.add_argument("--workers", type=int, metavar="W", help="processes (default: $NUM_WORKERS or all cores)")
    p.add_argument("--force", action="store_true", help="overwrite the output if it exists")
    return p


def run(args: argparse.Namespace) -> int:
    from opnet.augment3d import AugmentConfig, FitMode, augment_dataset
    from opnet.cli.common import num_workers
    from opnet.errors import OpNetError

    if args.face_model is not None and not args.face_model.is_file():
        raise OpNetError(f"--face-model {args.face_model}: no such file")
    config = AugmentConfig(
        yaw_step_deg=args.yaw_step,
        prob_closed_eyes=args.prob_closed_eyes,
        prob_spotlight=args.prob_spotlight,
        max_residual_pct=args.max_residual,
        fit=FitMode(args.fit),
    )
    workers = args.workers if args.workers is not None else num_workers()
    summary = augment_dataset(
        args.input,
        args.output,
        config,
        face_model=args.face_model,
        seed=args.seed,
        workers=workers,
        limit=args.limit,
        overwrite=args.force,
    )
    for line in summary.lines(args.max_residual):
        log.info("%s", line)
    log.info("wrote %s", args.output)
    return 0
