"""opnet predict IMAGE|FOLDER...: head poses of every face in photos.

Finds faces with OpenCV's Haar cascades (default: every face, frontal and profile, from about 1/40
of the image's longer side up) or OpenTrack's face localizer (--detector localizer: one face per
image, as in webcam frames), crops each as OpenTrack does and runs the pose model. Prints
yaw/pitch/roll (degrees, AFLW2000-3D convention), head centre and size (pixels), the rotation and
position uncertainty from the model's Cholesky factors, and the detector score; images without a
face get a 'no face found' row, files that cannot be read an 'error' row (the exit code is then 1).
--model takes a downloaded model's name or a file; without it the first downloaded of OpenTrack's
models runs (`opnet download head-pose-0.4-small-int8` fetches the default). See docs/opentrack.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from opnet.cli.common import add_json_option


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "predict",
        help="head poses of every face in photos (files or folders)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "images",
        nargs="+",
        metavar="IMAGE",
        help="image files (.jpg, .png, .webp, ...) or folders (searched at any depth, in sorted order)",
    )
    add_model_arguments(p, detector="haar")
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


def add_model_arguments(p: argparse.ArgumentParser, detector: str) -> None:
    """--model, --detector (default ``detector``), --localizer, --download, --mirror (predict and track)."""
    p.add_argument(
        "--model",
        metavar="NAME|FILE",
        help="pose model: a name from `opnet download --list` or a file (.onnx in OpenTrack's format, "
        ".ckpt); default: the first downloaded of head-pose-0.4-small-int8, head-pose-0.5-small, ...",
    )
    p.add_argument(
        "--detector",
        choices=("haar", "localizer"),
        help="face detector: OpenCV's Haar cascades (every face in a photo) or OpenTrack's localizer "
        f"network (one face per webcam frame); default {detector}, or localizer with --localizer",
    )
    p.set_defaults(default_detector=detector)
    p.add_argument(
        "--localizer",
        metavar="NAME|FILE",
        help="localizer model for --detector localizer (default head-localizer, downloaded)",
    )
    p.add_argument("--download", action="store_true", help="download missing models into the cache first")
    p.add_argument("--mirror", metavar="URL", help="with --download: fetch from this base URL instead")


def load_models(args: argparse.Namespace, threads: int):  # noqa: ANN201 - imported lazily
    """(pose model, face detector) from --model, --detector, --localizer (the cache for names)."""
    import logging

    from opnet.cli.common import model_cache_dir
    from opnet.prepare.cache import LOCALIZER, resolve_model
    from opnet.runtime import load_pose_model
    from opnet.runtime.faces import load_detector

    cache = model_cache_dir()
    fetch = {"download": args.download, "mirror": args.mirror, "progress": True}
    model_path = resolve_model(args.model, cache, "--model", **fetch)
    kind = args.detector or ("localizer" if args.localizer else args.default_detector)
    localizer = None
    if kind == "localizer":
        localizer = resolve_model(args.localizer or LOCALIZER, cache, "--localizer", **fetch)
    model, detector = load_pose_model(model_path, threads), load_detector(kind, localizer, threads)
    log = logging.getLogger("opnet.cli")
    log.info(
        "pose model %s, detector %s%s", model_path, detector.name, f" ({localizer})" if localizer else ""
    )
    return model, detector


def run(args: argparse.Namespace) -> int:
    from opnet.cli.common import JSON_STDOUT, num_workers, write_json_output
    from opnet.errors import OpNetError
    from opnet.fileio import check_writable
    from opnet.runtime.image_files import faces_json, faces_table, image_inputs, output_paths, predict_images

    if args.threads is not None and args.threads < 1:
        raise OpNetError(f"--threads {args.threads}: expected a positive number")
    inputs = image_inputs(args.images)
    if not inputs:
        raise OpNetError(f"{' '.join(args.images)}: no image files found")
    if args.json not in (None, JSON_STDOUT):
        check_writable(Path(args.json), args.force)
    output_paths(inputs, args.outdir, args.output, args.force)  # checked before the models load
    model, detector = load_models(args, args.threads or num_workers())
    results = predict_images(
        args.images,
        model,
        detector,
        args.outdir,
        args.force,
        args.min_score,
        output=args.output,
        progress=True,
    )
    if args.json != JSON_STDOUT:
        print(faces_table(results))
    if args.json:
        write_json_output(faces_json(results, model, detector), args.json, args.force)
    failed = [r for r in results if r.error is not None]
    if failed:
        print(f"opnet predict: {len(failed)} of {len(results)} images could not be read", file=sys.stderr)
    return 1 if failed else 0
