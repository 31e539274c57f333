"""opnet predict IMAGE...: head poses of the faces in pictures, as OpenTrack's tracker would see them.

Finds faces with OpenTrack's face localizer (one face per image) or OpenCV's Haar cascade (all
frontal faces), crops each as OpenTrack does and runs the pose model. Prints yaw/pitch/roll
(degrees, AFLW2000-3D convention), head centre and size (pixels), the rotation and position
uncertainty from the model's Cholesky factors, and the detector score; images without a face get
a 'no face found' row. --model and --localizer default to ../shared/models/ when present.
See docs/opentrack.md.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from opnet.cli.common import add_json_option


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "predict",
        help="head poses of the faces in JPEG/PNG images",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("images", nargs="+", metavar="IMAGE", help="JPEG or PNG files")
    add_model_arguments(p)
    p.add_argument(
        "--outdir",
        type=Path,
        metavar="DIR",
        help="folder for annotated copies of the images (boxes, head circles, pose axes, angles; "
        "created if missing)",
    )
    p.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar="FILE",
        help="annotated copy of the one image given (.jpg, .png)",
    )
    add_json_option(p, "the faces (schema opnet-predict/1)")
    p.add_argument("--min-score", type=float, default=0.5, help="detector score a face needs (default 0.5)")
    p.add_argument("--threads", type=int, help="CPU threads (default: $NUM_WORKERS or all cores)")
    p.add_argument("--force", action="store_true", help="overwrite existing annotated images and --json FILE")
    return p


def add_model_arguments(p: argparse.ArgumentParser) -> None:
    """--model, --detector, --localizer (shared with opnet track)."""
    p.add_argument(
        "--model",
        type=Path,
        help="pose model (.onnx in OpenTrack's format or a .ckpt checkpoint; "
        "default ../shared/models/head-pose-0.4-small-int8.onnx if present)",
    )
    p.add_argument(
        "--detector",
        choices=("localizer", "haar"),
        default="localizer",
        help="face detector: OpenTrack's localizer network (default) or OpenCV's Haar cascade",
    )
    p.add_argument(
        "--localizer",
        type=Path,
        help="localizer model (default ../shared/models/head-localizer.onnx if present)",
    )


def load_models(args: argparse.Namespace, threads: int):  # noqa: ANN201 - imported lazily
    """(pose model, face detector) from --model, --detector, --localizer."""
    from opnet.cli.common import DEFAULT_LOCALIZER, DEFAULT_POSE_MODEL, model_or_default
    from opnet.runtime import load_pose_model
    from opnet.runtime.faces import load_detector

    model = load_pose_model(model_or_default(args.model, DEFAULT_POSE_MODEL, "--model"), threads)
    localizer = None
    if args.detector == "localizer":
        localizer = model_or_default(args.localizer, DEFAULT_LOCALIZER, "--localizer")
    return model, load_detector(args.detector, localizer, threads)


def run(args: argparse.Namespace) -> int:
    from opnet.cli.common import JSON_STDOUT, num_workers, write_json_output
    from opnet.errors import OpNetError
    from opnet.fileio import check_writable
    from opnet.runtime.image_files import check_image_paths, faces_json, faces_table, predict_images

    if args.threads is not None and args.threads < 1:
        raise OpNetError(f"--threads {args.threads}: expected a positive number")
    check_image_paths(args.images)
    if args.json not in (None, JSON_STDOUT):
        check_writable(Path(args.json), args.force)
    model, detector = load_models(args, args.threads or num_workers())
    results = predict_images(
        args.images, model, detector, args.outdir, args.force, args.min_score, output=args.output
    )
    if args.json != JSON_STDOUT:
        print(faces_table(results))
    if args.json:
        write_json_output(faces_json(results, model, detector), args.json, args.force)
    return 0
