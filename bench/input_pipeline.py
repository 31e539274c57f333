"""Input pipeline throughput: samples/s per core and with all cores, full augmentation on.

Builds a dataset of 450x450 JPEG photos with faces (scikit-image's bundled pictures, re-framed)
in a temporary folder, then times, for each training recipe (``paper``, ``opnet``: their
augmentation and input normalisation), (1) the per-sample work in this process, (2) a DataLoader
with one worker (= one core) and (3) a DataLoader with one worker per available core.

    PYTHONPATH=src python bench/input_pipeline.py [--samples 500] [--batches 40] [--batch-size 256]
        [--recipes paper opnet]
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import skimage.data

from opnet.augment import AugmentConfig
from opnet.data import DatasetWriter, open_dataset
from opnet.data.images import decode_gray_reduced
from opnet.geometry import euler_to_quat
from opnet.normalization import InputNorm
from opnet.train import MixSource, SampleKey, build_mix, make_train_loader
from opnet.train.data import MixDataset
from opnet.train.recipes import resolve_config

SIDE = 450
PHOTOS = ("astronaut", "camera", "chelsea", "coffee", "rocket", "immunohistochemistry")


def _photos() -> list[np.ndarray]:
    out = []
    for name in PHOTOS:
        image = getattr(skimage.data, name)()
        out.append(image[..., :3] if image.ndim == 3 else np.stack([image] * 3, axis=-1))
    return out


def _frame(rng: np.random.Generator, photos: list[np.ndarray]) -> np.ndarray:
    """A random 450x450 view of one photo (random crop, scale, flip, brightness)."""
    photo = photos[rng.integers(len(photos))]
    h, w = photo.shape[:2]
    side = int(rng.uniform(0.6, 1.0) * min(h, w))
    y, x = rng.integers(0, h - side + 1), rng.integers(0, w - side + 1)
    view = cv2.resize(photo[y : y + side, x : x + side], (SIDE, SIDE), interpolation=cv2.INTER_AREA)
    view = view[:, ::-1] if rng.random() < 0.5 else view
    return np.clip(view * rng.uniform(0.7, 1.2), 0, 255).astype(np.uint8)


def make_dataset(path: Path, count: int, jpeg_quality: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    photos = _photos()
    with DatasetWriter(path, jpeg_quality=jpeg_quality) as w:
        for _ in range(count):
            half = rng.uniform(90, 130)
            centre = rng.uniform(SIDE / 2 - 30, SIDE / 2 + 30, 2)
            points = np.concatenate(
                [centre + rng.uniform(-half, half, (68, 2)), rng.normal(0, 20, (68, 1))], 1
            )
            w.append(
                {
                    "images": _frame(rng, photos),
                    "rois": np.array([*(centre - half), *(centre + half)], np.float32),
                    "coords": np.array([*centre, 0.7 * half], np.float32),
                    "quats": euler_to_quat(rng.uniform(-0.8, 0.8, 3)).astype(np.float32),
                    "pt3d_68": points.astype(np.float32),
                    "shapeparams": rng.normal(size=50).astype(np.float32),
                }
            )


def copy_real_dataset(source: Path, path: Path, count: int) -> None:
    """``count`` samples cycling through the samples of a real dataset file (stored JPEG bytes kept)."""
    real = open_dataset(source)
    with DatasetWriter(path, specs=real.fields) as w:
        for k in range(count):
            sample = {
                name: real.read_field(name, [k % len(real)])[0]
                for name in real.fields
                if name != real.image_field
            }
            w.append({**sample, real.image_field: real.read_image_bytes(k % len(real))})


def time_in_process(
    mix, config: AugmentConfig, norm: InputNorm, batch_size: int, batches: int
) -> dict[str, float]:
    """CPU seconds per sample (this process, one core) of decoding alone and of whole training batches."""
    cv2.setNumThreads(1)
    ds = mix.members[0].dataset
    buffers = [ds.read_image_bytes(i % len(ds)) for i in range(min(1000, batch_size * batches))]
    t = time.process_time()
    for b in buffers:
        decode_gray_reduced(b, 1)
    decode = (time.process_time() - t) / len(buffers)
    samples = MixDataset(mix, config, seed=0, norm=norm)
    keys = [SampleKey(0, k, 0, k % len(ds)) for k in range(batch_size * batches)]
    t = time.process_time()
    for b in range(batches):
        samples.__getitems__(keys[b * batch_size : (b + 1) * batch_size])
    return {"decode_full": decode, "sample": (time.process_time() - t) / len(keys)}


def time_loader(
    mix, config: AugmentConfig, norm: InputNorm, workers: int, batch_size: int, batches: int
) -> tuple[float, float]:
    """A training DataLoader over one epoch of ``batches``: (samples per wall-clock second after the first
    batch, samples per CPU second of the worker processes, batches through shared memory included)."""
    loader = make_train_loader(
        mix, config, batch_size, seed=0, workers=workers, samples_per_epoch=batch_size * batches, norm=norm
    )
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    it = iter(loader)
    next(it)
    t = time.perf_counter()
    for _ in it:
        pass
    wall = (batches - 1) * batch_size / (time.perf_counter() - t)
    del it, loader  # joins the workers, so that their CPU time is counted
    gc.collect()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return wall, batches * batch_size / cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=500, help="images in the generated dataset")
    parser.add_argument("--batches", type=int, default=40, help="batches timed per loader")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--jpeg-quality", type=int, default=90)
    parser.add_argument(
        "--images-from",
        type=Path,
        metavar="FILE.h5",
        help="cycle through the real images and labels of this dataset instead",
    )
    parser.add_argument("--recipes", nargs="+", default=["paper", "opnet"], help="training recipes to time")
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "faces.h5"
        if args.images_from:
            copy_real_dataset(args.images_from, path, args.samples)
        else:
            make_dataset(path, args.samples, args.jpeg_quality)
        ds = open_dataset(path)
        kib = np.mean([len(ds.read_image_bytes(i)) for i in range(len(ds))]) / 1024
        mix = build_mix([MixSource("bench", path)])
        source = (
            f"images of {args.images_from}" if args.images_from else f"photos, quality {args.jpeg_quality}"
        )
        shape = ds.read_image(0).shape
        print(f"{args.samples} JPEGs {shape[1]}x{shape[0]} ({source}), mean {kib:.1f} KiB; {cores} cores")
        for recipe in args.recipes:
            resolved = resolve_config(recipe)
            config, norm = resolved.augment, InputNorm(resolved.model.input_norm)
            t = time_in_process(mix, config, norm, args.batch_size, max(4, args.batches // 4))
            print(
                f"recipe {recipe}, in process, per CPU second: JPEG decode alone (full size) "
                f"{1 / t['decode_full']:6.0f}/s, whole pipeline {1 / t['sample']:6.0f} samples/s"
            )
            for workers in sorted({1, cores}):
                wall, per_cpu = time_loader(mix, config, norm, workers, args.batch_size, args.batches)
                print(
                    f"recipe {recipe}, DataLoader, {workers} worker(s): {wall:6.0f} samples/s wall clock, "
                    f"{per_cpu:6.0f} samples per worker CPU second"
                )
        print("load average (1, 5, 15 min):", " ".join(f"{v:.2f}" for v in os.getloadavg()))


if __name__ == "__main__":
    main()
