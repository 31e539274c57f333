"""Single-image latency of pose models, side by side with OpenTrack's released model, as ratios.

For every model (the reference first: OpenTrack's head-pose-0.4-small-int8.onnx from ../shared)
and for 1 thread and all threads (onnxruntime intra-op threads of one call, as OpenTrack's
"number of threads" setting): the median and 90th percentile of
- "model": one call of the network on a prepared (1, 1, S, S) input;
- "crop+model": OpenTrack's crop (INTER_AREA) + brightness normalisation + the call + decoding
  (opnet.runtime.predict_face) on real AFLW2000-3D images with their face boxes;
and the face localizer's latency on a 640x480 frame. Models are timed in turns (round robin) so
that load on a shared machine affects all alike. Ratios are model p50 / reference p50.

Run: PYTHONPATH=src python bench/latency.py [MODEL.onnx ...] [--reference R.onnx] [--iterations N]
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from opnet.runtime import predict_face
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


def measure(paths: list[Path], threads: int, faces, iterations: int) -> dict[tuple[str, Path], np.ndarray]:
    """Latencies of 'model' and 'crop+model' for every model with ``threads`` intra-op threads."""
    tasks: dict[tuple[str, Path], Callable[[int], object]] = {}
    for path in paths:
        model = OnnxPoseModel(path, threads=1, intra_op_threads=threads)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", type=Path, help="models to compare with the reference")
    parser.add_argument("--reference", type=Path, default=REFERENCE)
    parser.add_argument("--localizer", type=Path, default=LOCALIZER)
    parser.add_argument("--iterations", type=int, default=300)
    args = parser.parse_args()
    paths = list(dict.fromkeys(p.resolve() for p in [args.reference, *args.models]))
    reference = paths[0]
    cores = len(os.sched_getaffinity(0))
    faces = load_faces(AFLW_MINI)
    print(f"{len(faces)} face images, {args.iterations} timed calls per model and stage, {cores} cores")
    results = {threads: measure(paths, threads, faces, args.iterations) for threads in sorted({1, cores})}
    print_table(paths, results, reference)
    if args.localizer.is_file():
        frame = np.random.default_rng(1).integers(0, 255, (480, 640), dtype=np.uint8)
        for threads in sorted({1, cores}):
            localizer = Localizer(args.localizer, threads)
            task = {"localizer": lambda k: localizer.localize(frame)}
            ms = time_round_robin(task, args.iterations)["localizer"]
            print(f"localizer 640x480 frame, threads={threads}: p50 {np.median(ms):.2f} ms, "
                  f"p90 {np.percentile(ms, 90):.2f} ms")


if __name__ == "__main__":
    main()
