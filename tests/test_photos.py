"""Photos: every face, small ones and several side by side (real AFLW faces pasted into large
canvases), colour input, and the three-line Python API (opnet.load / predict / yaw)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from conftest import AFLW_MINI, POSE_MODEL, needs_shared

import opnet
from opnet.geometry import box_iou, quat_to_euler
from opnet.runtime.faces import as_gray
from opnet.runtime.haar import HaarDetector

NEAR_FRONTAL = (2, 5, 7, 12, 14, 15)  # aflw2kmini samples with |yaw| < 20 deg


def canvas(width: int, height: int, seed: int = 0) -> np.ndarray:
    """A smooth, colourful BGR background with some noise (no faces in it)."""
    rng = np.random.default_rng(seed)
    small = rng.uniform(40, 220, (height // 200 + 2, width // 200 + 2, 3)).astype(np.float32)
    image = cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)
    return np.clip(image + rng.normal(0, 8, image.shape), 0, 255).astype(np.uint8)


def paste_faces(image: np.ndarray, samples, centres, face_px: float) -> list[tuple[np.ndarray, float]]:
    """Pastes each AFLW sample (whole 450 px photo, scaled so its face box is ``face_px`` wide) with
    its face centred at ``centres``; returns (face box in the canvas, true yaw in degrees) per face."""
    from opnet.data import open_dataset

    truth = []
    with open_dataset(AFLW_MINI, color=True) as ds:
        rois, quats = ds.read_field("rois"), ds.read_field("quats")
        for k, (cx, cy) in zip(samples, centres, strict=True):
            x0, y0, x1, y1 = rois[k]
            s = face_px / max(x1 - x0, y1 - y0)
            photo = cv2.resize(cv2.cvtColor(ds.read_image(k), cv2.COLOR_RGB2BGR), None, fx=s, fy=s)
            ox, oy = int(cx - (x0 + x1) / 2 * s), int(cy - (y0 + y1) / 2 * s)
            image[oy : oy + photo.shape[0], ox : ox + photo.shape[1]] = photo
            box = np.array([x0 * s + ox, y0 * s + oy, x1 * s + ox, y1 * s + oy])
            truth.append((box, float(np.rad2deg(quat_to_euler(quats[k]))[1])))
    return truth


def matches(found, truth) -> list[int]:
    """For each true face, the index of the found face overlapping it (IoU > 0.3), or -1."""
    return [
        next((i for i, f in enumerate(found) if float(box_iou(f.box, box)) > 0.3), -1) for box, _ in truth
    ]


@pytest.mark.slow
@needs_shared(AFLW_MINI)
def test_haar_finds_130_px_faces_in_a_4000_x_3000_photo():
    image = canvas(4000, 3000)
    centres = [(600 + 560 * k, 700 + 900 * (k % 2)) for k in range(len(NEAR_FRONTAL))]
    truth = paste_faces(image, NEAR_FRONTAL, centres, 130)
    found = HaarDetector().detect(as_gray(image))
    hits = matches(found, truth)
    assert sum(h >= 0 for h in hits) >= 5  # 6 of 6 when measured
    assert len(found) == len({h for h in hits if h >= 0})  # nothing else found


@needs_shared(AFLW_MINI)
@needs_shared(POSE_MODEL)
def test_three_lines_of_python_find_people_side_by_side(tmp_path):
    image = canvas(1500, 700, seed=1)
    truth = paste_faces(image, (2, 12, 7), [(250, 350), (750, 350), (1250, 350)], 160)
    model = opnet.load(POSE_MODEL, cache_dir=tmp_path)  # a file; names come from the cache
    faces = model.predict(image)
    assert len(faces) == 3 and all(h >= 0 for h in matches(faces, truth))
    for face in faces:
        true_yaw = next(yaw for box, yaw in truth if float(box_iou(face.detection.box, box)) > 0.3)
        assert abs(face.yaw - true_yaw) < 15
        assert (face.yaw, face.pitch, face.roll) == pytest.approx(face.euler_deg[:1] + face.euler_deg[1:])
        pitch, yaw, roll = np.rad2deg(quat_to_euler(face.quat))
        assert (face.pitch, face.yaw, face.roll) == pytest.approx((pitch, yaw, roll))
    gray = model.predict(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY))  # colour and gray give the same answer
    assert [f.quat.tolist() for f in gray] == [f.quat.tolist() for f in faces]
    bgra = model.predict(cv2.cvtColor(image, cv2.COLOR_BGR2BGRA))
    assert [f.quat.tolist() for f in bgra] == [f.quat.tolist() for f in faces]
    with pytest.raises(opnet.errors.OpNetError, match="expected a uint8 image"):
        model.predict(image.astype(np.float32))
