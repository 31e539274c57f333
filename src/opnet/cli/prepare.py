"""``opnet prepare DATASET SOURCE OUTPUT.h5``: convert a downloaded dataset (zip or folder) into a file.

Zip archives are read in place (nothing is unpacked). See docs/datasets.md for where to get each
dataset and what the output holds.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from opnet.cli.common import existing_file, num_workers


def _face_options(p: argparse.ArgumentParser, model_use: str) -> None:
    p.add_argument(
        "--roi",
        choices=("landmarks", "head"),
        default="landmarks",
        help="face box: of the 68 landmarks (default, the evaluation protocol's) or of the whole "
        "head (needs --face-model)",
    )
    p.add_argument(
        "--face-model",
        type=existing_file,
        help=f"3DDFA face model (bfm_noneck_v3.pkl; `opnet download 3ddfa-bfm`); {model_use}",
    )


def _aflw_options(p: argparse.ArgumentParser) -> None:
    _face_options(p, "only for --roi head")
    p.add_argument(
        "--order",
        choices=("sorted", "original"),
        default="sorted",
        help="sample order: by file name (default) or the original converter's shuffled order",
    )


def _300wlp_options(p: argparse.ArgumentParser) -> None:
    _face_options(p, "adds pt3d_68")
    p.add_argument(
        "--subset",
        choices=("original", "synthetic", "both"),
        default="both",
        help="original photos (<name>_0), synthetic rotations (<name>_k, k > 0) or both (default)",
    )


def _biwi_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--opal-annotation",
        type=existing_file,
        metavar="BIWI_ANN.TXT",
        help="OPAL23 face boxes (`opnet download opal23-biwi`); converts only the annotated frames",
    )


def _synface_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--lossless", action="store_true", help="keep the PNG files (about 32 GB) instead of JPEG")
    p.add_argument(
        "--min-face-px", type=float, default=32.0, help="skip faces whose box is not larger (default 32)"
    )


def _wflw_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--split", choices=("train", "test"), default="train", help="annotation list (default train)"
    )
    p.add_argument(
        "--min-face-px",
        type=float,
        default=129.0,
        help="skip faces whose WFLW rectangle is narrower (default 129)",
    )


def _lapa_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--split", choices=("train", "val", "test"), default="train", help="split (default train)")


_DATASETS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None]]] = {
    "aflw2k3d": ("AFLW2000-3D.zip -> evaluation set (layout of the original aflw2k.h5)", _aflw_options),
    "300wlp": ("300W-LP.zip -> training set, one sequence per source face", _300wlp_options),
    "biwi": (
        "BIWI Kinect Head Pose (Kaggle zip) -> evaluation set, one sequence per recording",
        _biwi_options,
    ),
    "synface": ("Face Synthetics dataset_100000.zip -> 2D landmarks and face boxes", _synface_options),
    "wflw": ("WFLW folder or zip -> 2D landmarks (98 -> 68 points)", _wflw_options),
    "lapa": ("LaPa folder or zip -> 2D landmarks (106 -> 68 points)", _lapa_options),
}


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "prepare", help="convert a downloaded dataset into a dataset file", description=__doc__
    )
    datasets = p.add_subparsers(dest="dataset", required=True, metavar="DATASET")
    for name, (summary, add_options) in _DATASETS.items():
        d = datasets.add_parser(name, help=summary, description=summary)
        d.add_argument("source", type=existing_file, help="the downloaded zip archive or its unpacked folder")
        d.add_argument("output", type=Path, help="dataset file to write (.h5)")
        add_options(d)
        d.add_argument(
            "--limit", type=int, metavar="N", help="convert only the first N samples (a quick subset)"
        )
        d.add_argument("--workers", type=int, help="processes (default: NUM_WORKERS or all cores)")
        d.add_argument("--force", action="store_true", help="overwrite the output if it exists")
    return p


def _converter(args: argparse.Namespace) -> Any:
    from opnet.facemodel.bfm import load_3ddfa
    from opnet.prepare import CONVERTERS, read_opal_annotation

    options: dict[str, Any] = {}
    for key in ("roi", "order", "subset", "lossless", "min_face_px", "split"):
        if hasattr(args, key):
            options[key] = getattr(args, key)
    if getattr(args, "face_model", None) is not None:
        options["face_model"] = load_3ddfa(args.face_model)
    if getattr(args, "opal_annotation", None) is not None:
        options["boxes"] = read_opal_annotation(args.opal_annotation)
    return CONVERTERS[args.dataset](**options)


def run(args: argparse.Namespace) -> int:
    from opnet.errors import OpNetError
    from opnet.prepare import run_conversion

    if args.limit is not None and args.limit < 1:
        raise OpNetError(f"--limit {args.limit}: expected a positive number of samples")
    workers = args.workers if args.workers is not None else num_workers()
    summary = run_conversion(
        _converter(args),
        args.source,
        args.output,
        limit=args.limit,
        workers=max(1, workers),
        overwrite=args.force,
        progress=True,
    )
    print(summary.format())
    return 0
