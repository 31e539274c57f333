"""Helpers of the prepare and datatools tests: small raw datasets in the exact layouts of the public
archives, the reference label formulas the tests check against, and small dataset files.

Images are made with OpenCV, ``.mat`` files with scipy.io.savemat using the real field names and
shapes. The formulas are written out here from REFERENCE.md and 3DDFA, independently of opnet.
"""

from __future__ import annotations

import io
import pickle
import zipfile
from pathlib import Path

import cv2
import numpy as np
import scipy.io
from conftest import random_sample
from scipy.spatial.transform import Rotation

from opnet.data import DatasetWriter


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
        "pt3d_68": np.stack(
            [rng.uniform(0.3, 0.7, 68) * width, rng.uniform(0.3, 0.7, 68) * height, rng.normal(0, 30, 68)]
        ),
        "roi": np.array([[-20.0, -30.0, 500.0, 480.0]]),
        "pt2d": rng.uniform(100, 350, (2, 68)),
    }


def aflw_members(
    rng: np.random.Generator, fits: dict[str, dict], width: int = 450, height: int = 450
) -> dict:
    """AFLW2000-3D.zip members: ``AFLW2000/<stem>.jpg`` and ``.mat`` per fit."""
    members = {}
    for stem, fit in fits.items():
        members[f"AFLW2000/{stem}.jpg"] = image_bytes(rng, width, height)
        members[f"AFLW2000/{stem}.mat"] = mat_bytes(**fit)
    return members


def w300lp_members(
    rng: np.random.Generator,
    faces: dict[tuple[str, str], dict[int, dict]],
    landmarks: dict[tuple[str, str, int], np.ndarray],
) -> dict:
    """300W-LP.zip members for {(subset, face): {k: fit}} and {(subset, face, k): (68, 2) pts_2d}."""
    members = {}
    for (subset, face), fits in faces.items():
        for k, fit in fits.items():
            members[f"300W_LP/{subset}/{face}_{k}.jpg"] = image_bytes(rng, 450, 450)
            members[f"300W_LP/{subset}/{face}_{k}.mat"] = mat_bytes(
                **{key: v for key, v in fit.items() if key != "pt3d_68"}
            )
            if (subset, face, k) in landmarks:
                pts = landmarks[(subset, face, k)]
                members[f"300W_LP/landmarks/{subset}/{face}_{k}_pts.mat"] = mat_bytes(pts_2d=pts, pts_3d=pts)
    return members


def bfm_pickle(path: Path, rng: np.random.Generator, vertices: int = 300, with_tri: bool = True) -> dict:
    """A tiny random face model in the pickle format of 3DDFA's bfm_noneck_v3.pkl; returns the dict."""
    u = np.stack(
        [rng.uniform(-7e4, 7e4, vertices), rng.uniform(-9e4, 9e4, vertices), rng.uniform(2e4, 9e4, vertices)],
        axis=1,
    )
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


def _rows(matrix: np.ndarray) -> str:
    return "".join(" ".join(f"{v:.9g}" for v in row) + " \n" for row in np.atleast_2d(matrix))


def biwi_members(
    rng: np.random.Generator,
    calibration: tuple[np.ndarray, np.ndarray, np.ndarray],
    poses: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]],
) -> dict:
    """Kaggle BIWI members: ``faces_0/NN/rgb.cal`` (K, R, t) and per (NN, frame) a PNG and a pose file
    (rotation rows, blank line, head centre in mm), as in the real files."""
    k, rot, t = calibration
    cal = _rows(k) + "\n0 0 0 0 \n\n" + _rows(rot) + "\n" + _rows(t) + "\n640 480\n"
    members = {}
    for (person, frame), (r, centre) in poses.items():
        folder = f"faces_0/{person:02d}"
        members[f"{folder}/rgb.cal"] = cal.encode()
        members[f"{folder}/frame_{frame:05d}_rgb.png"] = image_bytes(rng, 64, 48, ".png")
        members[f"{folder}/frame_{frame:05d}_pose.txt"] = (_rows(r) + "\n" + _rows(centre)).encode()
        members[f"{folder}/frame_{frame:05d}_depth.bin"] = b"\0" * 16
    return members


def png_bytes(image: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", image)
    assert ok
    return buf.tobytes()


def synface_members(rng: np.random.Generator, samples: dict[int, tuple[np.ndarray, np.ndarray]]) -> dict:
    """Face Synthetics members per index: ``{i:06d}.png``, ``_seg.png`` (given classes) and
    ``_ldmks.txt`` (given 70 points)."""
    members = {}
    for i, (segmentation, points) in samples.items():
        members[f"{i:06d}.png"] = image_bytes(rng, segmentation.shape[1], segmentation.shape[0], ".png")
        members[f"{i:06d}_seg.png"] = png_bytes(segmentation)
        members[f"{i:06d}_ldmks.txt"] = "".join(f"{x:.3f} {y:.3f}\n" for x, y in points).encode()
    return members


EYES = [36, 39, 42, 45]


def _rx(a: float) -> np.ndarray:  # 3DDFA's own matrices (face3d's angle2matrix_3ddfa)
    c, s = np.cos(a), np.sin(a)
    return np.array([[1, 0, 0], [0, c, s], [0, -s, c]])


def _ry(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, 0, -s], [0, 1, 0], [s, 0, c]])


def _rz(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, s, 0], [-s, c, 0], [0, 0, 1]])


def threeddfa_landmarks(raw: dict, fit: dict, height: int) -> np.ndarray:
    """The 68 landmarks as 3DDFA projects a fit, in image coordinates with depth into the screen,
    eye corners at depth 0."""
    pitch, yaw, roll, tx, ty, tz, scale = fit["Pose_Para"][0]
    vertices = (
        raw["u"].astype(np.float64)[:, 0]
        + raw["w_shp"].astype(np.float64) @ fit["Shape_Para"][:40, 0]
        + raw["w_exp"].astype(np.float64) @ fit["Exp_Para"][:10, 0]
    ).reshape(-1, 3)
    points = vertices[raw["keypoints"][::3] // 3]
    p = scale * points @ (_rx(pitch) @ _ry(yaw) @ _rz(roll)).T + np.array([tx, ty, tz])
    image = np.stack([p[:, 0], height - p[:, 1], -p[:, 2]], axis=1)
    image[:, 2] -= image[EYES, 2].mean()
    return image


def labels_of(fit: dict, width: int, height: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """quat, coords (REFERENCE.md §1 formulas) and shapeparams of a fit, computed here."""
    pitch, yaw, roll, tx, ty, _, scale = fit["Pose_Para"][0]
    rot = Rotation.from_euler("XYZ", [-pitch, yaw, roll])
    size = 0.5 * scale / 224 * width * 1e5
    xy = np.array([tx, height - ty]) + (rot.apply([0, -0.26, -0.9]) * size)[:2]
    params = np.concatenate([fit["Shape_Para"][:40, 0] / 20 / 1e5, fit["Exp_Para"][:10, 0] / 5])
    return rot.as_quat(), np.array([*xy, size]), params


def make_dataset(path, rng, count, starts=None, **writer_args):
    with DatasetWriter(path, **writer_args) as w:
        for i in range(count):
            if starts is not None and i in starts:
                w.start_sequence()
            w.append(random_sample(rng))
    return path


def assert_same_sample(a, i, b, j):
    """Sample i of file a and sample j of file b hold identical bytes in every field."""
    assert a.read_image_bytes(i) == b.read_image_bytes(j)
    for name in a.fields:
        if name != a.image_field:
            x, y = a.read_field(name, [i])[0], b.read_field(name, [j])[0]
            assert x.dtype == y.dtype and x.tobytes() == y.tobytes(), name
