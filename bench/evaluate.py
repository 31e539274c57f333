"""Images per second of ``opnet evaluate`` on CPU: decode + crop + inference + metrics.

Generates a few hundred 450x450 JPEG samples in a temporary folder and evaluates OpenTrack's
released int8 pose model on them with 1 thread and with all threads; also the stability pass
(29 inputs per image). Run: PYTHONPATH=src python bench/evaluate.py [--model M.onnx] [--samples N]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from opnet.data import DatasetWriter, open_dataset
from opnet.evaluate import EvaluationSettings, StabilitySettings, evaluate_models
from opnet.geometry import euler_to_quat
from opnet.runtime import load_pose_model

DEFAULT_MODEL = Path(__file__).resolve().parents[2] / "shared" / "models" / "head-pose-0.4-small-int8.onnx"


def make_dataset(path: Path, count: int, size: int = 450) -> None:
    """Textured gray 450x450 JPEGs with a bright face-like ellipse and plausible labels."""
    rng = np.random.default_rng(0)
    with DatasetWriter(path) as w:
        for _ in range(count):
            image = cv2.GaussianBlur(rng.integers(0, 255, (size, size), dtype=np.uint8), (0, 0), 3)
            cx, cy, r = rng.uniform(180, 270), rng.uniform(180, 270), rng.uniform(80, 120)
            cv2.ellipse(image, (int(cx), int(cy)), (int(r * 0.8), int(r)), 0, 0, 360, 200, -1)
            pts = np.column_stack(
                [rng.uniform(cx - r, cx + r, 68), rng.uniform(cy - r, cy + r, 68), rng.normal(0, 10, 68)]
            ).astype(np.float32)
            w.append(
                {
                    "images": image,
                    "rois": np.array([cx - r, cy - r, cx + r, cy + r], np.float32),
                    "coords": np.array([cx, cy, r], np.float32),
                    "pt3d_68": pts,
                    "quats": euler_to_quat(rng.uniform(-0.8, 0.8, 3)).astype(np.float32),
                }
            )


def images_per_second(model_path: Path, data: Path, threads: int, stability: bool) -> float:
    model = load_pose_model(model_path, threads)
    settings = EvaluationSettings(
        threads=threads, progress=False, stability=StabilitySettings() if stability else None
    )
    with open_dataset(data) as ds:
        evaluate_models([model], ds, EvaluationSettings(threads=threads, progress=False))  # warm-up
        start = time.perf_counter()
        result = evaluate_models([model], ds, settings)
        return result.kept_samples / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--samples", type=int, default=300)
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0))
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "bench.h5"
        make_dataset(data, args.samples)
        print(f"{args.samples} samples 450x450 JPEG, model {args.model.name}, {cores} cores")
        for threads in sorted({1, cores}):
            accuracy = images_per_second(args.model, data, threads, stability=False)
            print(f"  evaluate            threads={threads:<3} {accuracy:8.1f} images/s")
        for threads in sorted({1, cores}):
            stable = images_per_second(args.model, data, threads, stability=True)
            print(f"  evaluate+stability  threads={threads:<3} {stable:8.1f} images/s (29 inputs per image)")


if __name__ == "__main__":
    main()
