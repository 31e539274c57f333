"""Small raw datasets in the exact layouts of the public archives, for the converter tests.

Images are made with OpenCV, ``.mat`` files with scipy.io.savemat using the real field names and
shapes. Nothing here computes labels: tests derive the expected labels themselves.
"""

from __future__ import annotations

import io
import pickle
import zipfile
from pathlib import Path

import cv2
import numpy as np
import scipy.io


def image_bytes(rng: np.random.Generator, width: int, height: int, ext: str = ".jpg") -> bytes:
    """A noisy colour image with a bright ellipse, encoded as JPEG or PNG."""
    img = rng.integers(0, 80, (height, width, 3), dtype=np.uint8)
    cv2.ellipse(img, (width // 2, height // 2), (width // 5, height // 4), 0, 0, 360, (200, 180, 160), -1)
    ok, buf = cv2.imencode(ext, img)
    assert ok
    return buf.tobytes()


def mat_bytes(**fields: np.ndarray) -> bytes:
    out = io.BytesIO()
    scipy.io.savemat(out, fields)
    return out.getvalue()


def write_zip(path: Path, members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def random_fit(rng: np.random.Generator, width: int = 450, height: int = 450, max_angle: float = 1.2) -> dict:
    """The fields of a 3DDFA .mat file (AFLW2000-3D / 300W-LP) with plausible values."""
    angles = rng.uniform(-max_angle, max_angle, 3)
    tx, ty = rng.uniform(0.35, 0.65) * width, rng.uniform(0.35, 0.65) * height
    scale = rng.uniform(0.0010, 0.0017)
    return {
        "Pose_Para": np.array([[*angles, tx, ty, rng.uniform(-50, 50), scale]]),
        "Shape_Para": rng.normal(0, 2e5, (199, 1)),
        "Exp_Para": rng.normal(0, 1.0, (29, 1)),
        "pt3d_68": np.stack([rng.uniform(0.3, 0.7, 68) * width, rng.uniform(0.3, 0.7, 68) * height,
                             rng.normal(0, 30, 68)]),
        "roi": np.array([[-20.0, -30.0, 500.0, 480.0]]),
        "pt2d": rng.uniform(100, 350, (2, 68)),
    }


def aflw_members(rng: np.random.Generator, fits: dict[str, dict], width: int = 450, height: int = 450) -> dict:
    """AFLW2000-3D.zip members: ``AFLW2000/<stem>.jpg`` and ``.mat`` per fit."""
    members = {}
    for stem, fit in fits.items():
        members[f"AFLW2000/{stem}.jpg"] = image_bytes(rng, width, height)
        members[f"AFLW2000/{stem}.mat"] = mat_bytes(**fit)
    return members


def w300lp_members(rng: np.random.Generator, faces: dict[tuple[str, str], dict[int, dict]],
                   landmarks: dict[tuple[str, str, int], np.ndarray]) -> dict:
    """300W-LP.zip members for {(subset, face): {k: fit}} and {(subset, face, k): (68, 2) pts_2d}."""
    members = {}
    for (subset, face), fits in faces.items():
        for k, fit in fits.items():
            members[f"300W_LP/{subset}/{face}_{k}.jpg"] = image_bytes(rng, 450, 450)
            members[f"300W_LP/{subset}/{face}_{k}.mat"] = mat_bytes(
                **{key: v for key, v in fit.items() if key != "pt3d_68"})
            if (subset, face, k) in landmarks:
                pts = landmarks[(subset, face, k)]
                members[f"300W_LP/landmarks/{subset}/{face}_{k}_pts.mat"] = mat_bytes(pts_2d=pts, pts_3d=pts)
    return members


def bfm_pickle(path: Path, rng: np.random.Generator, vertices: int = 300, with_tri: bool = True) -> dict:
    """A tiny random face model in the pickle format of 3DDFA's bfm_noneck_v3.pkl; returns the dict."""
    u = np.stack([rng.uniform(-7e4, 7e4, vertices), rng.uniform(-9e4, 9e4, vertices),
                  rng.uniform(2e4, 9e4, vertices)], axis=1)
    chosen = rng.choice(vertices, 68, replace=False)
    raw = {
        "u": u.reshape(-1, 1).astype(np.float32),
        "w_shp": rng.normal(0, 3e-2, (3 * vertices, 40)).astype(np.float32),
        "w_exp": rng.normal(0, 2e3, (3 * vertices, 10)).astype(np.float32),
        "keypoints": np.stack([3 * chosen, 3 * chosen + 1, 3 * chosen + 2], axis=1).ravel().astype(np.int64),
    }
    if with_tri:
        raw["tri"] = rng.integers(0, vertices, (3, 2 * vertices)).astype(np.int32)
    path.write_bytes(pickle.dumps(raw, protocol=2))
    return raw
