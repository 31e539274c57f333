"""opnet evaluate MODEL... --data FILE: head-pose accuracy (and stability) on a labelled dataset.

Prints a markdown table, one row per model and face-box choice: Pitch/Yaw/Roll/Mean absolute Euler
errors and the geodesic error (degrees), head centre and size errors (% of the ROI width) and, for
models and data with landmarks, NME (%). Samples beyond +-99 deg are dropped (AFLW2000-3D's
filter). --protocol original (default) reproduces the original evaluation input for input (its crop
and normalisation, the head box x 1.1); --protocol opentrack cuts and normalises as OpenTrack's
tracker does, around the 68-landmark box. BIWI adds --alignment perspective or opal23.
See docs/evaluation.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opnet.cli.common import add_json_option
from opnet.cli.defaults import LazyChoices, defaults_formatter, setting_overrides

if TYPE_CHECKING:
    from opnet.evaluate import EvaluationSettings

log = logging.getLogger(__name__)


def _default_settings() -> Any:
    from opnet.evaluate import EvaluationSettings

    return EvaluationSettings()


def _protocols() -> Any:
    from opnet.evaluate.protocol import Protocol

    return Protocol


def _roi_sources() -> Any:
    from opnet.evaluate.results import ROI_SOURCES

    return ROI_SOURCES


def _alignments() -> Any:
    from opnet.evaluate.results import ALIGNMENTS

    return ALIGNMENTS


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "evaluate",
        help="accuracy and stability of pose models on AFLW2000-3D, BIWI, ...",
        description=__doc__,
        formatter_class=defaults_formatter(_default_settings, argparse.RawDescriptionHelpFormatter),
    )
    p.add_argument(
        "models",
        nargs="+",
        metavar="MODEL",
        help="pose model files (.onnx in OpenTrack's format, or training checkpoints .ckpt/.pt)",
    )
    p.add_argument(
        "--data", required=True, help="dataset file, or a name (aflw2k3d, biwi, ...) found in $DATADIR"
    )
    p.add_argument(
        "--protocol",
        dest="cfg.protocol",
        choices=LazyChoices(_protocols),
        default=argparse.SUPPRESS,
        metavar="NAME",
        help="how inputs are cut and normalised: %(choices)s (default %(default)s: the original "
        "evaluation's; opentrack: OpenTrack's)",
    )
    p.add_argument(
        "--roi",
        dest="cfg.roi_source",
        choices=LazyChoices(_roi_sources),
        default=argparse.SUPPRESS,
        metavar="BOX",
        help="face box: %(choices)s; head: the posed mean head from forehead to chin (needs quats and "
        "coords), landmarks: the 68-landmark box, stored: the file's 'rois' (default %(default)s: "
        "head for --protocol original, else landmarks, whichever the file allows)",
    )
    p.add_argument(
        "--roi-expansion",
        dest="cfg.roi_expansion",
        type=float,
        default=argparse.SUPPRESS,
        metavar="X",
        help="crop side = max(w, h) of the box x this (default %(default)s)",
    )
    p.add_argument(
        "--comprehensive-roi",
        action="store_true",
        help="evaluate the box sources x expansions 1.2, 1.1, 1.0 (original: head and landmarks, its "
        "six rows; opentrack: landmarks and stored)",
    )
    p.add_argument(
        "--face-model",
        type=Path,
        metavar="FILE",
        help="3DDFA face model (bfm_noneck_v3.pkl, `opnet download 3ddfa-bfm`) for the head box, as "
        "the original makes it; default: OpNet's own face mask",
    )
    p.add_argument(
        "--alignment",
        dest="cfg.alignment",
        choices=LazyChoices(_alignments),
        default=argparse.SUPPRESS,
        metavar="KIND",
        help="%(choices)s (default %(default)s); BIWI: perspective rotates predictions by the camera "
        "ray, opal23 removes each person's mean offset",
    )
    p.add_argument(
        "--fov",
        dest="cfg.fov_deg",
        type=float,
        default=argparse.SUPPRESS,
        metavar="DEG",
        help="horizontal field of view in degrees for --alignment perspective (default %(default)s, "
        "BIWI's Kinect)",
    )
    p.add_argument("--no-filter", action="store_true", help="keep samples beyond +-99 deg")
    p.add_argument(
        "--ensemble", action="store_true", help="also evaluate the average of the models' predictions"
    )
    p.add_argument(
        "--stability",
        action="store_true",
        help="also measure the spread of predictions under crop shifts, crop scaling and pixel noise",
    )
    add_json_option(p, "the results")
    p.add_argument(
        "--per-sample", type=Path, metavar="OUT.csv", help="write per-sample angles and errors as CSV"
    )
    p.add_argument(
        "--plot", type=Path, metavar="OUT.png", help="draw errors against the true yaw and histograms"
    )
    p.add_argument(
        "--batch-size",
        dest="cfg.batch_size",
        type=int,
        default=argparse.SUPPRESS,
        metavar="B",
        help="samples per inference batch (default %(default)s)",
    )
    p.add_argument("--threads", type=int, help="CPU threads (default: $NUM_WORKERS or all cores)")
    p.add_argument("--force", action="store_true", help="overwrite existing output files")
    p.add_argument(
        "--describe",
        action="store_true",
        help="also print each model's inputs, outputs and version (as does -v)",
    )
    return p


def _settings(args: argparse.Namespace) -> EvaluationSettings:
    from opnet.errors import OpNetError
    from opnet.evaluate import EvaluationSettings, StabilitySettings
    from opnet.settings import replace_from_plain

    given = setting_overrides(args)
    if args.comprehensive_roi and ("roi_source" in given or "roi_expansion" in given):
        raise OpNetError(
            "--comprehensive-roi runs every box source and expansion; drop --roi/--roi-expansion"
        )
    if "fov_deg" in given and given.get("alignment") != "perspective":
        raise OpNetError("--fov only applies with --alignment perspective")
    if given.get("roi_expansion", 1) <= 0 or given.get("batch_size", 1) < 1:
        raise OpNetError("--roi-expansion and --batch-size must be positive")
    if not 0 < given.get("fov_deg", 1) < 180:
        raise OpNetError(f"--fov {given['fov_deg']:g}: expected degrees between 0 and 180")
    if args.face_model is not None and not args.face_model.is_file():
        raise OpNetError(f"--face-model {args.face_model}: no such file")
    settings = EvaluationSettings(
        face_model=args.face_model,
        comprehensive_roi=args.comprehensive_roi,
        ensemble=args.ensemble,
        stability=StabilitySettings() if args.stability else None,
        threads=args.threads,
    )
    if args.no_filter:
        settings = dataclasses.replace(settings, filter_limit_deg=None)
    return replace_from_plain(settings, given, "command line")


def run(args: argparse.Namespace) -> int:
    from opnet.cli.common import JSON_STDOUT, num_workers, resolve_dataset, write_json_output
    from opnet.data import open_dataset
    from opnet.data.checks import check_evaluation_labels
    from opnet.evaluate import evaluate_models
    from opnet.evaluate.report import result_to_json, text_report, write_per_sample_csv
    from opnet.fileio import check_writable
    from opnet.runtime import load_pose_model

    settings = _settings(args)
    json_file = Path(args.json) if args.json not in (None, JSON_STDOUT) else None
    outputs = [p for p in (json_file, args.per_sample, args.plot) if p is not None]
    for path in outputs:
        check_writable(path, args.force)
    data = resolve_dataset(args.data, "--data")
    threads = max(1, args.threads if args.threads is not None else num_workers())
    models = [load_pose_model(path, threads) for path in args.models]
    if args.describe or args.verbose:
        print("\n".join(m.describe() for m in models) + "\n")
    with open_dataset(data) as ds:
        check_evaluation_labels(ds)
        result = evaluate_models(models, ds, settings)
    if args.json != JSON_STDOUT:
        print(text_report(result))
    if args.json:
        written = write_json_output(result_to_json(result), args.json, args.force)
        if written is not None:
            log.info("wrote %s", written)
    if args.per_sample:
        log.info("wrote %s", write_per_sample_csv(result, args.per_sample, args.force))
    if args.plot:
        from opnet.evaluate.plot import plot_errors

        log.info("wrote %s", plot_errors(result, args.plot, args.force))
    return 0
