"""``opnet show FILE.h5``: a picture of samples with ROI, landmarks, head centre/size and pose axes."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from opnet.cli.common import parse_indices
from opnet.cli.defaults import LazyChoices


def _roi_modes() -> Any:
    from opnet.augment import RoiMode

    return RoiMode


log = logging.getLogger(__name__)


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("show", help="draw a grid of samples with their labels", description=__doc__)
    p.add_argument("file", help="dataset file (.h5)")
    p.add_argument(
        "-o",
        "--output",
        type=Path,
        help="picture to write (.png, .jpg, .pdf); "
        "default: FILE's name with '-grid.png' in the current folder",
    )
    p.add_argument(
        "--indices", type=parse_indices, help="samples to draw, e.g. '0 3 5-9' (default: the first 16)"
    )
    p.add_argument("--random", type=int, metavar="N", help="draw N random samples instead")
    p.add_argument("--seed", type=int, default=0, help="seed for --random and --augmented (default 0)")
    p.add_argument("--columns", type=int, help="tiles per row (default: a square grid)")
    p.add_argument("--force", action="store_true", help="overwrite the output if it exists")
    aug = p.add_argument_group("training augmentation (with --augmented)")
    aug.add_argument(
        "--augmented",
        action="store_true",
        help="draw augmented 129x129 network inputs and their targets, as training sees them",
    )
    aug.add_argument(
        "--raug", type=float, default=30.0, metavar="DEG", help="in-plane rotation in degrees (0: none)"
    )
    aug.add_argument(
        "--roi",
        "--roi-override",
        dest="roi",
        choices=LazyChoices(_roi_modes),
        default="original",
        metavar="MODE",
        help="face box that frames the crop: %(choices)s (default %(default)s)",
    )
    aug.add_argument("--no-imgaug", action="store_true", help="no intensity augmentation or noise")
    return p


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from opnet.data import open_dataset
    from opnet.errors import OpNetError, summarise_indices
    from opnet.viz.grid import dataset_grid, save_picture

    ds = open_dataset(args.file, color=True)
    if args.random:
        rng = np.random.default_rng(args.seed)
        indices = sorted(rng.choice(len(ds), size=min(args.random, len(ds)), replace=False).tolist())
    else:
        indices = args.indices if args.indices is not None else list(range(min(16, len(ds))))
    bad = [i for i in indices if not 0 <= i < len(ds)]
    if not indices:
        raise OpNetError(f"--indices: none given ({args.file})")
    if bad:
        raise OpNetError(f"--indices: {summarise_indices(bad)} not in 0..{len(ds) - 1} ({args.file})")
    output = args.output or Path(Path(args.file).stem + ("-augmented.png" if args.augmented else "-grid.png"))
    picture = _augmented_grid(args, indices) if args.augmented else dataset_grid(ds, indices, args.columns)
    save_picture(picture, output, overwrite=args.force)
    log.info("wrote %s (%d samples)", output, len(indices))
    return 0


def _augmented_grid(args: argparse.Namespace, indices: list[int]):
    from opnet.augment import AugmentConfig
    from opnet.train.data import augmented_examples
    from opnet.viz.grid import pose_batch_grid

    config = AugmentConfig(rotation_deg=args.raug, roi_mode=args.roi, intensity=not args.no_imgaug)
    batch = augmented_examples(args.file, indices, config, args.seed)
    return pose_batch_grid(batch, [f"#{i}" for i in indices], args.columns)
