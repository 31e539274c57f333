"""Single-image latency of pose models, side by side with OpenTrack's released model, as ratios.

Without model arguments it exports its own: an untrained MobileNetV1 of the width whose backbone
matches the reference's (same convolutions and weight count; printed) as float32, int8 and
float16 OpenTrack-format files (opnet.export, int8 calibrated on aflw2kmini crops if present).
Model arguments may be .onnx files or training checkpoints (.ckpt, run with PyTorch).

For every model (the reference first: OpenTrack's head-pose-0.4-small-int8.onnx from ../shared)
and for 1 thread and all threads (onnxruntime intra-op threads of one call, as OpenTrack's
"number of threads" setting): the median and 90th percentile of
- "model": one call of the network on a prepared (1, 1, S, S) input;
- "crop+model": OpenTrack's crop (INTER_AREA) + brightness normalisation + the call + decoding
  (opnet.runtime.predict_face) on real AFLW2000-3D images with their face boxes;
and the face localizer's latency on a 640x480 frame. Models are timed in turns (round robin) so
that load on a shared machine affects all alike. Ratios are model p50 / reference p50.

Run: PYTHONPATH=src python bench/latency.py [MODEL.onnx|CKPT ...] [--reference R.onnx] [--iterations N]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from opnet.runtime import PoseModel, load_pose_model, predict_face
from opnet.runtime.localizer import Localizer
from opnet.runtime.onnx_model import OnnxPoseModel

SHARED = Path(__file__).resolve().parents[2] / "shared"
REFERENCE = SHARED / "models" / "head-pose-0.4-small-int8.onnx"
LOCALIZER = SHARED / "models" / "head-localizer.onnx"
AFLW_MINI = SHARED / "data" / "aflw2kmini.h5"


def load_faces(path: Path) -> list[tuple[np.ndarray, np.ndarray]]:
    """(gray image, face box) pairs: aflw2kmini's if present, else textured 450x450 pictures."""
    if path.is_file():
        from opnet.data import open_dataset

        with open_dataset(path) as ds:
            return [(ds.read_image(i), ds.read_field("rois")[i].astype(np.float64)) for i in range(len(ds))]
    rng = np.random.default_rng(0)
    box = np.array([120.0, 110, 330, 360])
    return [(rng.integers(0, 255, (450, 450), dtype=np.uint8), box) for _ in range(16)]


def time_round_robin(tasks: dict[str, Callable[[int], object]], iterations: int) -> dict[str, np.ndarray]:
    """Milliseconds per call of each task, called in turns; 20 untimed warm-up turns first."""
    times: dict[str, list[float]] = {name: [] for name in tasks}
    for k in range(-20, iterations):
        for name, task in tasks.items():
            start = time.perf_counter()
            task(k)
            if k >= 0:
                times[name].append((time.perf_counter() - start) * 1e3)
    return {name: np.asarray(values) for name, values in times.items()}


def reference_convolutions(path: Path) -> tuple[int, int]:
    """(number of convolutions, weights in them) of an ONNX model (int8 or float weights alike)."""
    import onnx

    model = onnx.load(str(path))
    kernels = sum(int(np.prod(t.dims)) for t in model.graph.initializer if len(t.dims) == 4)
    return sum(n.op_type == "Conv" for n in model.graph.node), kernels


def backbone_convolutions(width: float) -> tuple[int, int]:
    """(number of convolutions, weights in them) of OpNet's MobileNetV1 backbone at ``width``.

    BlurPool's fixed low-pass filters are not counted (they hold no weights).
    """
    from torch import nn

    from opnet.models import create_backbone

    convs = [m for m in create_backbone("mobilenetv1", width, True).modules() if isinstance(m, nn.Conv2d)]
    return len(convs), sum(m.weight.numel() for m in convs)


def matching_width(reference: Path, widths=(0.25, 0.5, 0.75, 1.0, 1.25)) -> float:
    """The MobileNetV1 width whose backbone weight count is closest to the reference model's."""
    _, target = reference_convolutions(reference)
    return min(widths, key=lambda w: abs(backbone_convolutions(w)[1] - target))


def export_own_models(width: float, folder: Path) -> list[Path]:
    """float32, int8 and float16 OpenTrack-format exports of an untrained MobileNetV1 at ``width``."""
    import torch

    from opnet.export import ExportOptions, export_model
    from opnet.models import KeypointModel, ModelConfig, create_model

    torch.manual_seed(0)
    net = create_model(ModelConfig(width=width), KeypointModel.empty(50)).eval()
    data = AFLW_MINI if AFLW_MINI.is_file() else None
    paths = []
    for precision in ("float32", "int8", "float16"):
        path = folder / f"opnet-mobilenetv1-{width:g}-{precision}.onnx"
        export_model(net, path, ExportOptions(precision=precision, data=data, progress=False))
        paths.append(path)
    return paths


def open_model(path: Path, threads: int) -> PoseModel:
    """ONNX files as OpenTrack runs them (one call, ``threads`` intra-op threads); checkpoints: PyTorch."""
    if path.suffix.lower() == ".onnx":
        return OnnxPoseModel(path, threads=1, intra_op_threads=threads)
    return load_pose_model(path, threads)


def measure(paths: list[Path], threads: int, faces, iterations: int) -> dict[tuple[str, Path], np.ndarray]:
    """Latencies of 'model' and 'crop+model' for every model with ``threads`` intra-op threads."""
    tasks: dict[tuple[str, Path], Callable[[int], object]] = {}
    for path in paths:
        model = open_model(path, threads)
        shape = (1, 1, model.input_size, model.input_size)
        x = np.random.default_rng(0).uniform(-0.5, 0.5, shape).astype(np.float32)
        tasks[("model", path)] = lambda k, m=model, x=x: m.run(x)
        tasks[("crop+model", path)] = lambda k, m=model: predict_face(m, *faces[k % len(faces)])
    return time_round_robin(tasks, iterations)


def print_table(paths: list[Path], results: dict[int, dict], reference: Path) -> None:
    print("| model | threads | model p50 ms | p90 ms | x ref | crop+model p50 ms | p90 ms | x ref |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for threads, times in results.items():
        for path in paths:
            cells = []
            for stage in ("model", "crop+model"):
                ms = times[(stage, path)]
                ref = np.median(times[(stage, reference)])
                p50, p90 = np.median(ms), np.percentile(ms, 90)
                cells += [f"{p50:.2f}", f"{p90:.2f}", f"{p50 / ref:.2f}"]
            print(f"| {path.name} | {threads} | " + " | ".join(cells) + " |")


def describe_own_models(width: float, reference: Path) -> str:
    convs, weights = backbone_convolutions(width)
    ref_convs, ref_weights = reference_convolutions(reference)
    return (
        f"own models: untrained MobileNetV1 width {width} ({convs} convolutions + BlurPool filters, "
        f"{weights / 1e6:.2f} M weights; reference {reference.name}: {ref_convs} convolutions, "
        f"{ref_weights / 1e6:.2f} M weights), exported as float32, int8 (calibrated on "
        f"{'aflw2kmini crops' if AFLW_MINI.is_file() else 'synthetic heads'}) and float16"
    )


def time_localizer(path: Path, iterations: int, cores: int) -> None:
    frame = np.random.default_rng(1).integers(0, 255, (480, 640), dtype=np.uint8)
    for threads in sorted({1, cores}):
        localizer = Localizer(path, threads)
        ms = time_round_robin({"localizer": lambda k, loc=localizer: loc.localize(frame)}, iterations)[
            "localizer"
        ]
        print(
            f"localizer 640x480 frame, threads={threads}: p50 {np.median(ms):.2f} ms, "
            f"p90 {np.percentile(ms, 90):.2f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "models",
        nargs="*",
        type=Path,
        help="models to compare with the reference (.onnx or checkpoints; default: export our own)",
    )
    parser.add_argument("--reference", type=Path, default=REFERENCE)
    parser.add_argument("--localizer", type=Path, default=LOCALIZER)
    parser.add_argument("--iterations", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="opnet-latency-") as tmp:
        models = args.models
        if not models:
            width = matching_width(args.reference)
            print(describe_own_models(width, args.reference))
            models = export_own_models(width, Path(tmp))
        paths = list(dict.fromkeys(p.resolve() for p in [args.reference, *models]))
        cores = len(os.sched_getaffinity(0))
        faces = load_faces(AFLW_MINI)
        print(f"{len(faces)} face images, {args.iterations} timed calls per model and stage, {cores} cores")
        results = {threads: measure(paths, threads, faces, args.iterations) for threads in sorted({1, cores})}
        print_table(paths, results, paths[0])
    if args.localizer.is_file():
        time_localizer(args.localizer, args.iterations, cores)


if __name__ == "__main__":
    main()
