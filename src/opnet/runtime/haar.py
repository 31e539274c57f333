"""OpenCV's bundled Haar cascades: every face in a photo (``opnet predict``'s default detector).

Uses ``haarcascade_frontalface_default.xml`` and ``haarcascade_profileface.xml`` from
``cv2.data.haarcascades`` (shipped with opencv-python(-headless) 4.x); the profile cascade runs on
the image and its mirror image, so faces turned either way are found. Large images are searched at
a working size (longer side ``max_side_px``, 1024 by default), so a 4000 x 3000 photo is searched
for faces from about 96 px up; overlapping finds are merged (frontal first). The cascades have no
calibrated score: every detection scores 1.0, the largest first. Frontal boxes are about 1.2 times
the width of the 68-landmark box and sit higher (forehead included).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from opnet.errors import OpNetError
from opnet.geometry import box_iou
from opnet.runtime.detection import FaceDetection

CASCADE_FILE = "haarcascade_frontalface_default.xml"
PROFILE_FILE = "haarcascade_profileface.xml"
MERGE_IOU = 0.3
"""Finds that overlap more than this (or lie inside a kept box) are the same face."""


def cascade_path(name: str = CASCADE_FILE) -> Path:
    """A cascade file bundled with OpenCV; raises if this OpenCV build has none."""
    folder = getattr(getattr(cv2, "data", None), "haarcascades", None)
    path = Path(folder or "") / name
    if not folder or not path.is_file():
        raise OpNetError(
            f"--detector haar: this OpenCV ({cv2.__version__}) ships no {name}; "
            f"install opencv-python-headless 4.x or use --detector localizer"
        )
    return path


def _load(name: str) -> cv2.CascadeClassifier:
    cascade = cv2.CascadeClassifier(str(cascade_path(name)))
    if cascade.empty():
        raise OpNetError(f"{cascade_path(name)}: OpenCV could not load the Haar cascade")
    return cascade


def _inside(box: NDArray[np.float64], kept: NDArray[np.float64]) -> bool:
    """Whether most of ``box`` lies inside ``kept``."""
    w = max(0.0, min(box[2], kept[2]) - max(box[0], kept[0]))
    h = max(0.0, min(box[3], kept[3]) - max(box[1], kept[1]))
    return w * h > 0.6 * (box[2] - box[0]) * (box[3] - box[1])


def merge_boxes(boxes: list[NDArray[np.float64]]) -> list[NDArray[np.float64]]:
    """Boxes in order of preference -> one box per face (later overlapping boxes dropped)."""
    kept: list[NDArray[np.float64]] = []
    for box in boxes:
        if all(float(box_iou(box, k)) <= MERGE_IOU and not _inside(box, k) for k in kept):
            kept.append(box)
    return kept


class HaarDetector:
    """Frontal (and, with ``profiles``, profile) faces by OpenCV's Haar cascades.

    ``min_size_px``: smallest face side searched at the working size; ``max_side_px``: images with a
    longer side are searched shrunk to it (None: never); ``scale_factor`` / ``min_neighbors``:
    OpenCV's ``detectMultiScale`` settings.
    """

    name = "haar"

    def __init__(
        self,
        min_size_px: int = 24,
        scale_factor: float = 1.1,
        min_neighbors: int = 5,
        profiles: bool = True,
        max_side_px: int | None = 1024,
    ):
        self._frontal = _load(CASCADE_FILE)
        self._profile = _load(PROFILE_FILE) if profiles else None
        self.min_size_px = min_size_px
        self.scale_factor = scale_factor
        self.min_neighbors = min_neighbors
        self.max_side_px = max_side_px

    def _find(self, cascade: cv2.CascadeClassifier, image: NDArray[np.uint8], mirrored: bool) -> list:
        found = cascade.detectMultiScale(
            cv2.flip(image, 1) if mirrored else image,
            scaleFactor=self.scale_factor,
            minNeighbors=self.min_neighbors,
            minSize=(self.min_size_px, self.min_size_px),
        )
        boxes = []
        for x, y, w, h in np.reshape(found, (-1, 4)).astype(np.float64):
            x0 = image.shape[1] - x - w if mirrored else x
            boxes.append(np.array([x0, y, x0 + w, y + h]))
        return sorted(boxes, key=lambda b: -(b[2] - b[0]) * (b[3] - b[1]))

    def detect(self, image: NDArray[np.uint8]) -> list[FaceDetection]:
        """All faces in a gray (H, W) image, largest first, each with score 1.0."""
        scale = 1.0
        if self.max_side_px is not None and max(image.shape[:2]) > self.max_side_px:
            scale = self.max_side_px / max(image.shape[:2])
            image = np.asarray(cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA))
        boxes = self._find(self._frontal, image, False)
        if self._profile is not None:
            boxes += self._find(self._profile, image, False) + self._find(self._profile, image, True)
        faces = [b / scale for b in merge_boxes(boxes)]
        faces.sort(key=lambda b: -(b[2] - b[0]) * (b[3] - b[1]))
        return [FaceDetection(b, 1.0) for b in faces]
