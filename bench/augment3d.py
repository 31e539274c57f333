"""Speed of ``opnet augment3d``: rendered views per second, and where a view's time goes.

Run: ``PYTHONPATH=src python bench/augment3d.py [--faces N] [--data FILE.h5]``. Augments N
generated near-frontal 256 x 256 synthetic faces (and the real 450 x 450 AFLW2000-3D photos of
``../shared/data/aflw2kmini.h5`` when present, or ``--data``) in one process with BLAS and OpenCV
on one thread (as the workers run), whole pipeline included: fit, scene, views, JPEG, HDF5.
Then times the stages of one face separately.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from threadpoolctl import threadpool_limits

from opnet.augment3d import AugmentConfig, augment_dataset
from opnet.augment3d.generate import face_assets
from opnet.augment3d.inputs import FitMode, place_model
from opnet.augment3d.poses import sample_poses
from opnet.augment3d.scene import ViewSettings, build_scene, render_view
from opnet.data import open_dataset
from opnet.data.images import encode_image
from opnet.synth import SynthConfig, generate_dataset

AFLW_MINI = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "aflw2kmini.h5"


def whole_pipeline(source: Path, folder: Path, limit: int | None) -> None:
    start, start_cpu = time.perf_counter(), time.process_time()
    summary = augment_dataset(
        source,
        folder / "out.h5",
        AugmentConfig(),
        seed=1,
        workers=1,
        limit=limit,
        overwrite=True,
        progress=False,
    )
    seconds, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    views = summary.views - summary.kept  # the source photos are copied, not rendered
    print(
        f"{source.name}: {summary.kept} faces, {views} rendered views in {seconds:.1f} s: "
        f"{views / seconds:5.1f} views/s per core (wall clock), {1000 * cpu / views:5.1f} ms CPU per view "
        f"= {views / cpu:5.1f} views per CPU-second (all included)"
    )


def stages(source: Path, index: int) -> None:
    """Milliseconds per stage for one face: fit, scene, one view, JPEG."""
    model, mesh = face_assets(None)
    ds = open_dataset(source, color=True)
    sample = ds[index]
    timings = {}
    start = time.perf_counter()
    fit = place_model(sample, model, FitMode.SHAPE)
    timings["fit (shape, known pose)"] = time.perf_counter() - start
    start = time.perf_counter()
    scene = build_scene(sample[ds.image_field].astype(np.float32) / 255.0, mesh, fit.params)
    timings["scene (texture, fill, sheet)"] = time.perf_counter() - start
    quats = sample_poses(fit.params.quat, 5.0, np.random.default_rng(0))[1:]
    images = []
    start = time.perf_counter()
    for quat in quats:
        images.append(render_view(scene, quat)[0])
    timings["view (rasterise, shade, blend)"] = (time.perf_counter() - start) / len(quats)
    start = time.perf_counter()
    closed = [render_view(scene, quat, ViewSettings(eyes_closed=1.0))[0] for quat in quats]
    timings["view with closed eyes"] = (time.perf_counter() - start) / len(quats)
    start = time.perf_counter()
    for image in images + closed:
        encode_image(image, jpeg_quality=95)
    timings["JPEG"] = (time.perf_counter() - start) / len(images + closed)
    size = sample[ds.image_field].shape
    print(
        f"stages, {source.name} sample {index} ({size[1]}x{size[0]}, "
        f"head size {fit.params.coords[2]:.0f} px):"
    )
    for name, seconds in timings.items():
        print(f"  {name:32s} {1000 * seconds:7.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--faces", type=int, default=8, help="generated source faces (default 8)")
    parser.add_argument(
        "--data", type=Path, help="a real dataset to time as well (default: aflw2kmini.h5 if present)"
    )
    args = parser.parse_args()
    cv2.setNumThreads(1)
    start = time.perf_counter()
    face_assets(None)
    print(f"procedural head and its render mesh built in {time.perf_counter() - start:.2f} s")
    real = args.data or (AFLW_MINI if AFLW_MINI.exists() else None)
    with tempfile.TemporaryDirectory() as folder, threadpool_limits(1, user_api="blas"):
        synthetic = Path(folder) / "frontal.h5"
        generate_dataset(
            synthetic,
            args.faces,
            SynthConfig(yaw_max_deg=20, pitch_max_deg=15, roll_max_deg=10, samples_per_identity=1),
            seed=3,
            progress=False,
        )
        whole_pipeline(synthetic, Path(folder), None)
        stages(synthetic, 0)
        if real is not None:
            whole_pipeline(real, Path(folder), None)
            stages(real, 2)


if __name__ == "__main__":
    main()
