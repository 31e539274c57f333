"""``prepare wflw`` and ``prepare lapa``: 98/106 -> 68 points, stored crops around each face."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from scipy.interpolate import interp1d

from opnet.data import open_dataset
from opnet.prepare import Lapa, Wflw, run_conversion
from opnet.prepare.landmarks68 import lapa_to_ibug68, wflw_to_ibug68


def _mean(p: np.ndarray, *idx: int) -> np.ndarray:
    return p[list(idx)].mean(axis=0)


def test_wflw_points_map_to_ibug(rng):
    p = rng.normal(size=(98, 2))
    out = wflw_to_ibug68(p)
    checks = {
        0: p[0],
        8: p[16],
        16: p[32],
        17: p[33],
        18: _mean(p, 34, 41),
        21: _mean(p, 37, 38),
        22: _mean(p, 42, 50),
        26: p[46],
        27: p[51],
        30: p[54],
        31: p[55],
        35: p[59],
        36: p[60],
        37: _mean(p, 61, 62),
        38: _mean(p, 62, 63),
        39: p[64],
        40: _mean(p, 65, 66),
        41: _mean(p, 66, 67),
        42: p[68],
        45: p[72],
        46: _mean(p, 73, 74),
        47: _mean(p, 74, 75),
        48: p[76],
        54: p[82],
        60: p[88],
        67: p[95],
    }
    for i, want in checks.items():
        np.testing.assert_allclose(out[i], want, err_msg=f"iBUG point {i}")


def test_lapa_points_map_to_ibug(rng):
    p = rng.normal(size=(106, 2))
    out = lapa_to_ibug68(p)
    jaw = interp1d(np.arange(33), p[:33], kind="quadratic", axis=0)(np.linspace(1.5, 30.5, 17))
    np.testing.assert_allclose(out[:17], jaw, atol=1e-9)
    checks = {
        17: p[33],
        19: _mean(p, 35, 40),
        26: p[46],
        27: p[51],
        30: p[54],
        31: p[57],
        32: _mean(p, 58, 59),
        33: p[60],
        34: _mean(p, 61, 62),
        35: p[63],
        36: p[66],
        37: _mean(p, 67, 68),
        41: _mean(p, 72, 73),
        42: p[75],
        45: p[79],
        47: _mean(p, 81, 82),
        48: p[84],
        67: p[103],
    }
    for i, want in checks.items():
        np.testing.assert_allclose(out[i], want, err_msg=f"iBUG point {i}")


def _face_image(points_list: list[np.ndarray], width: int, height: int) -> bytes:
    """Dark image with a bright dot at every landmark."""
    img = np.full((height, width, 3), 20, np.uint8)
    for points in points_list:
        for x, y in points:
            cv2.circle(img, (int(x), int(y)), 5, (255, 255, 255), -1)
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 98])
    assert ok
    return buf.tobytes()


def _face(rng, centre: tuple[float, float], half: float) -> np.ndarray:
    """98 points spread over a face-sized square (only their positions matter here)."""
    return np.asarray(centre) + rng.uniform(-half, half, (98, 2))


def _expected_crop(points68: np.ndarray, width: int, height: int) -> np.ndarray:
    """The stored-crop mapping written out: box grown by half its larger side + 10 px, clipped;
    shrunk so the box's shorter side is 224 px when it exceeds 1.5 * 224 px."""
    lo, hi = points68.min(axis=0), points68.max(axis=0)
    border = 0.5 * (hi - lo).max() + 10
    x0, y0 = np.maximum(0, np.floor(lo - border))
    x1, y1 = min(width, np.ceil(hi[0] + border)), min(height, np.ceil(hi[1] + border))
    shorter = (hi - lo).min()
    scale = 224 / shorter if shorter > 336 else 1.0
    sx, sy = round((x1 - x0) * scale) / (x1 - x0), round((y1 - y0) * scale) / (y1 - y0)
    return (points68 - [x0, y0]) * [sx, sy]


def _bright_at(image: np.ndarray, points: np.ndarray) -> float:
    h, w = image.shape
    inside = [(x, y) for x, y in points if 0 <= x < w and 0 <= y < h]
    return float(np.mean([image[int(y), int(x)] for x, y in inside]))


@pytest.fixture
def wflw_folder(tmp_path, rng):
    root = tmp_path / "WFLW"
    faces = [_face(rng, (300, 250), 90), _face(rng, (900, 700), 380), _face(rng, (150, 650), 30)]
    (root / "WFLW_images" / "0--Parade").mkdir(parents=True)
    (root / "WFLW_images" / "0--Parade" / "0_Parade_1.jpg").write_bytes(_face_image(faces, 1400, 1100))
    lines = []
    for points in faces:
        lo, hi = points.min(axis=0), points.max(axis=0)
        rect = [*(lo - 5), *(hi + 5)]
        lines.append(
            " ".join(f"{v:.4f}" for v in points.ravel())
            + " "
            + " ".join(f"{v:.0f}" for v in rect)
            + " 0 0 1 0 0 1 0--Parade/0_Parade_1.jpg"
        )
    annotations = root / "WFLW_annotations" / "list_98pt_rect_attr_train_test"
    annotations.mkdir(parents=True)
    (annotations / "list_98pt_rect_attr_train.txt").write_text("\n".join(lines) + "\n")
    (annotations / "list_98pt_rect_attr_test.txt").write_text(lines[0] + "\n")
    return root, faces


def test_wflw_crops_faces_and_moves_their_labels(tmp_path, wflw_folder):
    root, faces = wflw_folder
    summary = run_conversion(Wflw(), root, tmp_path / "wflw.h5")
    assert summary.written == 2 and summary.skipped == {"face narrower than 129 px": 1}
    with open_dataset(tmp_path / "wflw.h5") as ds:
        for i, points in enumerate(faces[:2]):
            want = _expected_crop(wflw_to_ibug68(points) + 0.5, 1400, 1100)  # pixel corners
            stored = ds.read_field("pt2d_68", [i])[0]
            np.testing.assert_allclose(stored, want, atol=1e-3)
            np.testing.assert_allclose(ds.read_field("rois", [i])[0], [*want.min(0), *want.max(0)], atol=1e-3)
            assert _bright_at(ds.read_image(i), stored) > 150
        assert ds.read_image(1).shape[0] < 700  # the large face was shrunk
    run_conversion(Wflw(split="test"), root, tmp_path / "test.h5")
    with open_dataset(tmp_path / "test.h5") as ds:
        assert len(ds) == 1


def test_lapa_split_folder(tmp_path, rng):
    root = tmp_path / "LaPa" / "train"
    (root / "images").mkdir(parents=True)
    (root / "landmarks").mkdir()
    points = np.asarray((200, 220)) + rng.uniform(-100, 100, (106, 2))
    (root / "images" / "1001_0.jpg").write_bytes(_face_image([points], 450, 450))
    (root / "landmarks" / "1001_0.txt").write_text("106\n" + "".join(f"{x} {y}\n" for x, y in points))
    (root / "images" / "lonely.jpg").write_bytes(_face_image([points], 450, 450))
    summary = run_conversion(Lapa(), tmp_path / "LaPa", tmp_path / "lapa.h5")
    assert summary.written == 1 and summary.skipped == {"no landmark file for the image": 1}
    with open_dataset(tmp_path / "lapa.h5") as ds:
        want = _expected_crop(lapa_to_ibug68(points) + 0.5, 450, 450)
        np.testing.assert_allclose(ds.read_field("pt2d_68", [0])[0], want, atol=1e-3)
