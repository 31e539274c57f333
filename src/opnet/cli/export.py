"""opnet export CKPT: a training checkpoint -> an ONNX model for OpenTrack's NeuralNet tracker.

The default output follows OpenTrack's contract exactly (one float32 input x (1, 1, 129, 129);
outputs pos_size, quat, box, rotaxis_scales_tril, pos_size_scales_tril; model_version 4).
--full writes a dynamic-batch model with every output (landmarks too) for opnet evaluate.
Every export is checked: onnxruntime must reproduce PyTorch on real-looking crops (from --data,
else rendered synthetic heads) within the precision's tolerance, or nothing is written.
--quantize int8 calibrates on --data crops and prints the accuracy change it causes (on --eval,
else on --data). A log NAME.export.json is written next to the model. See docs/opentrack.md.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def default_output(checkpoint: Path, full: bool, precision: str) -> Path:
    """``run/best.ckpt`` -> ``run/best.onnx``, ``run/best-int8.onnx``, ``run/best-full.onnx``, ..."""
    tags = ["full"] if full else []
    if precision != "float32":
        tags.append("fp16" if precision == "float16" else precision)
    return checkpoint.with_name("-".join([checkpoint.stem, *tags]) + ".onnx")


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "export",
        help="write a checkpoint as an ONNX model for OpenTrack (checked against PyTorch)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "checkpoint", type=Path, metavar="CKPT", help="training checkpoint (opnet.models.save_checkpoint)"
    )
    p.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar="OUT.onnx",
        help="model file (default: next to CKPT, e.g. best.onnx, best-int8.onnx, best-full.onnx)",
    )
    p.add_argument(
        "--full",
        action="store_true",
        help="dynamic batch and every output (pt3d_68 landmarks, shapeparams, scales) for "
        "evaluation; not for OpenTrack",
    )
    precision = p.add_mutually_exclusive_group()
    precision.add_argument(
        "--quantize",
        choices=("int8",),
        help="int8 backbone (onnxruntime static quantisation, QDQ, per-channel weights): "
        "as fast as OpenTrack's int8 model, 1.7x faster than float32 on one thread, "
        "a quarter of the size",
    )
    precision.add_argument(
        "--fp16",
        action="store_true",
        help="float16 backbone, float32 input/outputs: half the size, but NOT faster: "
        "onnxruntime's CPU provider ran it exactly as fast as float32",
    )
    p.add_argument(
        "--data",
        "--calibration",
        dest="data",
        metavar="DATA",
        help="dataset file (or name in $DATADIR) whose crops test the export and calibrate int8 "
        "(default: rendered synthetic heads)",
    )
    p.add_argument(
        "--eval",
        dest="eval_data",
        metavar="DATA",
        help="labelled dataset for the int8/fp16 accuracy change, evaluated whole "
        "(default: up to 1000 samples of --data)",
    )
    p.add_argument(
        "--num-calibration", type=int, default=200, metavar="N", help="int8 calibration crops (default 200)"
    )
    p.add_argument("--threads", type=int, help="CPU threads (default: $NUM_WORKERS or all cores)")
    p.add_argument("--force", action="store_true", help="overwrite the model and its log")
    return p


def run(args: argparse.Namespace) -> int:
    from opnet.cli.common import num_workers, resolve_dataset
    from opnet.errors import OpNetError
    from opnet.export import ExportOptions, export_model
    from opnet.models import load_model

    precision = "int8" if args.quantize else "float16" if args.fp16 else "float32"
    output = args.output or default_output(args.checkpoint, args.full, precision)
    if output.suffix.lower() != ".onnx":
        raise OpNetError(f"-o {output}: expected a file name ending in .onnx (OpenTrack lists only those)")
    options = ExportOptions(
        full=args.full,
        precision=precision,
        data=resolve_dataset(args.data, "--data") if args.data else None,
        eval_data=resolve_dataset(args.eval_data, "--eval") if args.eval_data else None,
        num_calibration=args.num_calibration,
        threads=args.threads or num_workers() or None,
    )
    net = load_model(args.checkpoint)
    report = export_model(net, output, options, overwrite=args.force, source=str(args.checkpoint))
    print(report.summary())
    return 0
