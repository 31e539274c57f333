"""Throughput of ``opnet prepare aflw2k3d`` and ``prepare 300wlp`` on generated archives (~2000 samples).

    PYTHONPATH=src python bench/prepare.py [--samples 2000] [--workers N]

Builds the archives in a temporary folder (450x450 JPEGs of about AFLW's file size, 3DDFA .mat files
with the real fields; for 300W-LP 10 rotations per face and a landmark file each, plus a face model
with the 38,365 vertices of bfm_noneck_v3), then converts each with 1 and with N worker processes
and prints samples per second.
"""

from __future__ import annotations

import argparse
import io
import os
import pickle
import tempfile
import time
import zipfile
from pathlib import Path

import cv2
import numpy as np
import scipy.io

from opnet.facemodel.bfm import load_3ddfa
from opnet.prepare import Aflw2k3d, W300lp, run_conversion

BFM_VERTICES = 38365


def _jpeg(rng: np.random.Generator) -> bytes:
    yy, xx = np.mgrid[0:450, 0:450]
    base = (96 + 60 * np.sin(xx / rng.uniform(20, 60)) * np.cos(yy / rng.uniform(20, 60))).astype(np.uint8)
    img = cv2.merge([base, base // 2 + 40, 255 - base]) + rng.integers(0, 12, (450, 450, 3), dtype=np.uint8)
    cv2.circle(img, (225, 225), 120, (200, 170, 150), -1)
    return cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()


def _mat(rng: np.random.Generator, with_landmarks: bool) -> bytes:
    fields = {
        "Pose_Para": np.array([[*rng.uniform(-1, 1, 3), *rng.uniform(150, 300, 2), 0.0, 0.0014]]),
        "Shape_Para": rng.normal(0, 2e5, (199, 1)),
        "Exp_Para": rng.normal(0, 1, (29, 1)),
        "Illum_Para": rng.normal(size=(1, 10)),
        "Color_Para": rng.normal(size=(1, 7)),
        "Tex_Para": rng.normal(size=(199, 1)),
        "roi": np.zeros((1, 4)),
        "pt2d": rng.uniform(100, 350, (2, 68)),
    }
    if with_landmarks:
        fields["pt3d_68"] = rng.uniform(100, 350, (3, 68))
    out = io.BytesIO()
    scipy.io.savemat(out, fields)
    return out.getvalue()


def write_aflw(path: Path, count: int, rng: np.random.Generator) -> None:
    images = [_jpeg(rng) for _ in range(16)]  # encoding is not what is measured
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for i in range(count):
            zf.writestr(f"AFLW2000/image{i:05d}.jpg", images[i % len(images)])
            zf.writestr(f"AFLW2000/image{i:05d}.mat", _mat(rng, True))


def write_300wlp(path: Path, count: int, rng: np.random.Generator) -> None:
    images = [_jpeg(rng) for _ in range(16)]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for i in range(count):
            face, k = f"HELEN_{100000 + i // 10}_1", i % 10
            zf.writestr(f"300W_LP/HELEN/{face}_{k}.jpg", images[i % len(images)])
            zf.writestr(f"300W_LP/HELEN/{face}_{k}.mat", _mat(rng, False))
            pts = io.BytesIO()
            scipy.io.savemat(
                pts, {"pts_2d": rng.uniform(100, 350, (68, 2)), "pts_3d": rng.uniform(100, 350, (68, 2))}
            )
            zf.writestr(f"300W_LP/landmarks/HELEN/{face}_{k}_pts.mat", pts.getvalue())


def write_face_model(path: Path, rng: np.random.Generator) -> None:
    v = BFM_VERTICES
    keypoints = 3 * rng.choice(v, 68, replace=False)
    raw = {
        "u": rng.uniform(-9e4, 9e4, (3 * v, 1)).astype(np.float32),
        "w_shp": rng.normal(0, 1e-2, (3 * v, 40)).astype(np.float32),
        "w_exp": rng.normal(0, 1e3, (3 * v, 10)).astype(np.float32),
        "keypoints": np.stack([keypoints, keypoints + 1, keypoints + 2], axis=1).ravel(),
    }
    path.write_bytes(pickle.dumps(raw, protocol=4))


def measure(name: str, converter: object, archive: Path, out: Path, workers: int, limit: int | None) -> None:
    start = time.perf_counter()
    summary = run_conversion(converter, archive, out, limit=limit, workers=workers, overwrite=True)
    seconds = time.perf_counter() - start
    print(
        f"{name:34s} workers={workers:2d}  {summary.written:5d} samples  {seconds:6.2f} s  "
        f"{summary.written / seconds:7.0f} samples/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)))
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_aflw(root / "aflw.zip", args.samples, rng)
        write_300wlp(root / "300wlp.zip", args.samples, rng)
        write_face_model(root / "bfm.pkl", rng)
        model = load_3ddfa(root / "bfm.pkl")
        print(
            f"archives: AFLW {(root / 'aflw.zip').stat().st_size / 1e6:.0f} MB, "
            f"300W-LP {(root / '300wlp.zip').stat().st_size / 1e6:.0f} MB; {os.cpu_count()} CPUs"
        )
        head_limit = args.samples // 5  # the whole-mesh head box is slow: measured on fewer samples
        cases = [
            ("prepare aflw2k3d", Aflw2k3d(), "aflw.zip", None),
            ("prepare aflw2k3d --roi head", Aflw2k3d(roi="head", face_model=model), "aflw.zip", head_limit),
            ("prepare 300wlp", W300lp(), "300wlp.zip", None),
            ("prepare 300wlp --face-model", W300lp(face_model=model), "300wlp.zip", None),
        ]
        for name, converter, archive, limit in cases:
            for workers in sorted({1, args.workers}):
                measure(name, converter, root / archive, root / "out.h5", workers, limit)


if __name__ == "__main__":
    main()
