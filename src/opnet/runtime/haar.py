"""OpenCV's bundled Haar cascade face detector, the alternative to OpenTrack's localizer.

Uses ``haarcascade_frontalface_default.xml`` from ``cv2.data.haarcascades`` (shipped with
opencv-python(-headless) 4.x). It finds frontal faces only and has no calibrated score: every
detection scores 1.0, the largest first. Its boxes are about 1.2 times the width of the
68-landmark box and sit higher (forehead included); the pose network's own box takes over from
the second frame of a track.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from opnet.errors import OpNetError
from opnet.runtime.detection import FaceDetection

CASCADE_FILE = "haarcascade_frontalface_default.xml"


def cascade_path() -> Path:
    """The cascade file bundled with OpenCV; raises if this OpenCV build has none."""
    folder = getattr(getattr(cv2, "data", None), "haarcascades", None)
    path = Path(folder or "") / CASCADE_FILE
    if not folder or not path.is_file():
        raise OpNetError(
            f"--detector haar: this OpenCV ({cv2.__version__}) ships no {CASCADE_FILE}; "
            f"install opencv-python-headless 4.x or use --detector localizer"
        )
    return path


class HaarDetector:
    """Frontal faces by OpenCV's Haar cascade; ``min_size_px``: smallest face side searched."""

    name = "haar"

    def __init__(self, min_size_px: int = 32, scale_factor: float = 1.1, min_neighbors: int = 5):
        self._cascade = cv2.CascadeClassifier(str(cascade_path()))
        if self._cascade.empty():
            raise OpNetError(f"{cascade_path()}: OpenCV could not load the Haar cascade")
        self.min_size_px = min_size_px
        self.scale_factor = scale_factor
        self.min_neighbors = min_neighbors

    def detect(self, image: NDArray[np.uint8]) -> list[FaceDetection]:
        """All frontal faces in a gray (H, W) frame, largest first, each with score 1.0."""
        found = self._cascade.detectMultiScale(
            image,
            scaleFactor=self.scale_factor,
            minNeighbors=self.min_neighbors,
            minSize=(self.min_size_px, self.min_size_px),
        )
        rects = np.reshape(found, (-1, 4)).astype(np.float64)
        boxes = [np.array([x, y, x + w, y + h]) for x, y, w, h in rects]
        boxes.sort(key=lambda b: -(b[2] - b[0]) * (b[3] - b[1]))
        return [FaceDetection(b, 1.0) for b in boxes]
