"""OpenTrack's face tracking state machine (``NeuralNetTracker::detect``), one frame at a time.

State: the ROI the pose network looks at next, and the box where the detector last saw the face.
Per frame:

1. If there is no ROI, no detector box, or they overlap with IoU < 0.25, run the detector:
   a face (score > 0.5) that overlaps the ROI (IoU >= 0.25) only updates the detector box; a face
   elsewhere wider and taller than 32 px becomes the new ROI; otherwise the face is lost.
2. Without an ROI there is no face in this frame.
3. The pose network looks at the ROI (rounded to whole pixels as OpenTrack's ``cv::Rect``).
4. The next ROI is the network's box, scaled about its centre by ``roi_zoom`` and blended with
   the current ROI: centre and size move by ``roi_filter_alpha`` of the way (1 = take the new box).

A face whose ROI degenerates (empty, or not finite) is lost, as when OpenTrack's crop fails.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from opnet.geometry import box_iou
from opnet.runtime import PoseModel, PosePrediction, predict_face
from opnet.runtime.detection import FACE_SCORE_THRESHOLD, FaceDetection, FaceDetector


@dataclass(frozen=True)
class TrackerSettings:
    """OpenTrack's tracking constants and its two ROI settings (defaults: OpenTrack's)."""

    roi_zoom: float = 1.0
    roi_filter_alpha: float = 1.0
    iou_threshold: float = 0.25
    score_threshold: float = FACE_SCORE_THRESHOLD
    min_face_px: float = 32.0

    def __post_init__(self) -> None:
        if self.roi_zoom <= 0 or not 0 < self.roi_filter_alpha <= 1:
            raise ValueError(
                f"roi_zoom must be > 0 and roi_filter_alpha in (0, 1], got {self.roi_zoom}, "
                f"{self.roi_filter_alpha}"
            )


@dataclass(frozen=True)
class TrackStep:
    """What one frame gave: the face (B = 1) or None, the ROI it was cut from, the detector's view.

    ``detection``: the detector's best candidate if it ran this frame (None if it did not run or
    found nothing); ``detector_s`` / ``pose_s``: seconds spent in each network (None if not run).
    """

    face: PosePrediction | None
    roi: NDArray[np.float64] | None
    detector_box: NDArray[np.float64] | None
    detection: FaceDetection | None
    detector_s: float | None
    pose_s: float | None


def expand_box(box: NDArray[np.float64], factor: float) -> NDArray[np.float64]:
    """Box scaled by ``factor`` about its centre."""
    centre, half = 0.5 * (box[:2] + box[2:]), 0.5 * factor * (box[2:] - box[:2])
    return np.concatenate([centre - half, centre + half])


def blend_boxes(last: NDArray[np.float64], current: NDArray[np.float64], alpha: float) -> NDArray[np.float64]:
    """OpenTrack's ``ewa_filter``: centre and size move ``alpha`` of the way from ``last`` to ``current``."""
    centre = 0.5 * (last[:2] + last[2:])
    size = last[2:] - last[:2]
    centre = centre + alpha * (0.5 * (current[:2] + current[2:]) - centre)
    size = size + alpha * ((current[2:] - current[:2]) - size)
    return np.concatenate([centre - 0.5 * size, centre + 0.5 * size])


def whole_pixel_box(box: NDArray[np.float64]) -> NDArray[np.float64]:
    """OpenTrack's float -> int rectangle: x, y, width, height each rounded (half to even)."""
    x, y = np.rint(box[:2])
    w, h = np.rint(box[2:] - box[:2])
    return np.array([x, y, x + w, y + h])


def _usable(box: NDArray[np.float64]) -> bool:
    return bool(np.all(np.isfinite(box)) and box[2] > box[0] and box[3] > box[1])


class FaceTracker:
    """Tracks one face through a stream of gray frames as OpenTrack's NeuralNet tracker does."""

    def __init__(
        self, model: PoseModel, detector: FaceDetector, settings: TrackerSettings = TrackerSettings()
    ):
        self.model, self.detector, self.settings = model, detector, settings
        self.roi: NDArray[np.float64] | None = None
        self.detector_box: NDArray[np.float64] | None = None

    def reset(self) -> None:
        self.roi = self.detector_box = None

    def _needs_detector(self) -> bool:
        if self.roi is None or self.detector_box is None:
            return True
        return float(box_iou(self.detector_box, self.roi)) < self.settings.iou_threshold

    def _run_detector(self, image: NDArray[np.uint8]) -> FaceDetection | None:
        """Runs the detector and updates the state with its best candidate; returns that candidate."""
        found = self.detector.detect(image)
        best = found[0] if found else None
        s = self.settings
        if best is None or not best.score > s.score_threshold:
            self.reset()
        elif self.roi is not None and float(box_iou(best.box, self.roi)) >= s.iou_threshold:
            self.detector_box = best.box
        elif best.width > s.min_face_px and best.height > s.min_face_px:
            self.detector_box = self.roi = best.box
        else:
            self.reset()
        return best

    def step(self, image: NDArray[np.uint8]) -> TrackStep:
        """Processes one gray (H, W) uint8 frame."""
        detection = detector_s = None
        if self._needs_detector():
            start = time.perf_counter()
            detection = self._run_detector(image)
            detector_s = time.perf_counter() - start
        if self.roi is None or not _usable(roi := whole_pixel_box(self.roi)):
            self.roi = None
            return TrackStep(None, None, self.detector_box, detection, detector_s, None)
        start = time.perf_counter()
        face = predict_face(self.model, image, roi)
        pose_s = time.perf_counter() - start
        s = self.settings
        self.roi = blend_boxes(self.roi, expand_box(face.box[0], s.roi_zoom), s.roi_filter_alpha)
        if not _usable(self.roi):
            self.roi = None
        return TrackStep(face, roi, self.detector_box, detection, detector_s, pose_s)
