"""Speed of ``opnet synth``: samples per second per core at 256 x 256, one process and all cores,
for the plain heads and for the heads of ``opnet demo`` (whose generation must take at most a
quarter of the demo's time budget; the last line says how much it takes).

Run: ``PYTHONPATH=src python bench/synth.py [-n N] [--size S]``. Times the whole generator
(rendering, JPEG encoding, writing the HDF5 file) after the one-off build of the shared assets.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import tempfile
import time
from pathlib import Path

import cv2

from opnet.demo import DemoConfig
from opnet.synth.config import SynthConfig
from opnet.synth.generate import generate_dataset
from opnet.synth.person import scene_assets


def timed_run(num_samples: int, config: SynthConfig, workers: int, folder: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process and its finished children) for one dataset.

    With workers the CPU seconds are not the whole cost: the workers are children of the
    forkserver process (:mod:`opnet.parallel`), not of this one, so their time is not counted."""
    start_wall, start_cpu = time.perf_counter(), _cpu_seconds()
    generate_dataset(
        folder / f"bench-{workers}.h5",
        num_samples,
        config,
        seed=1,
        workers=workers,
        overwrite=True,
        progress=False,
    )
    return time.perf_counter() - start_wall, _cpu_seconds() - start_cpu


def _cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=400, help="samples per run (default 400)")
    parser.add_argument("--size", type=int, default=256, help="image side (default 256)")
    args = parser.parse_args()
    demo = DemoConfig()
    configs = {
        "plain heads (opnet synth's defaults)": SynthConfig(image_size=args.size),
        "opnet demo's heads": dataclasses.replace(demo.synth, image_size=args.size),
    }
    cv2.setNumThreads(1)  # per-core figures: OpenCV must not use the other cores (workers do the same)
    start = time.perf_counter()
    scene_assets()
    print(f"shared assets (head model, textures, body) built in {time.perf_counter() - start:.2f} s")
    cores = len(os.sched_getaffinity(0))
    print(f"{cores} cores, load average {os.getloadavg()[0]:.2f} at the start")
    with tempfile.TemporaryDirectory() as folder:
        for label, config in configs.items():
            for workers in sorted({1, cores}):
                wall, cpu = timed_run(args.n, config, workers, Path(folder))
                rate = args.n / wall
                line = (
                    f"{label}, {args.size}x{args.size}, {workers} process(es): {rate:6.1f} samples/s = "
                    f"{rate / workers:5.1f} samples/s per core (wall clock)"
                )
                if workers == 1:
                    line += f"; {1000 * cpu / args.n:5.1f} ms CPU per sample"
                print(line)
            if label.startswith("opnet demo") and args.size == demo.synth.image_size:
                count = demo.train_samples + demo.heldout_samples
                minutes = count / rate / 60
                print(
                    f"opnet demo generates {count} of them in {minutes:.1f} min on {cores} cores: "
                    f"{100 * minutes / demo.minutes:.0f} % of its {demo.minutes:g}-minute budget "
                    "(at most 25 %)"
                )
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
