"""Frames for the tracker: video files or cameras, prepared as OpenTrack prepares camera frames.

OpenTrack (``NeuralNetTracker::prepare_input_image``) crops every frame to the largest centred
4:3 region, then to a multiple of 4 pixels in both directions (centred), and halves it with
``cv2.pyrDown`` while it is wider than 640 pixels (at most twice). The field of view and all
image-space values refer to that prepared frame.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from opnet.errors import OpNetError

MAX_WIDTH = 640


def crop_to_aspect(frame: NDArray[np.uint8], aspect_w: int = 4, aspect_h: int = 3) -> NDArray[np.uint8]:
    """The largest centred region of the frame with aspect ``aspect_w`` : ``aspect_h`` (integer maths)."""
    h, w = frame.shape[:2]
    if w * aspect_h > aspect_w * h:
        new_w = aspect_w * h // aspect_h
        x0 = (w - new_w) // 2
        return frame[:, x0 : x0 + new_w]
    new_h = aspect_h * w // aspect_w
    y0 = (h - new_h) // 2
    return frame[y0 : y0 + new_h]


def crop_to_multiple(frame: NDArray[np.uint8], multiple: int = 4) -> NDArray[np.uint8]:
    """The centred region whose sides are multiples of ``multiple`` pixels."""
    h, w = frame.shape[:2]
    new_w, new_h = w // multiple * multiple, h // multiple * multiple
    x0, y0 = (w - new_w) // 2, (h - new_h) // 2
    return frame[y0 : y0 + new_h, x0 : x0 + new_w]


def prepare_frame(frame: NDArray[np.uint8], crop_4_3: bool = True) -> NDArray[np.uint8]:
    """OpenTrack's frame preparation (``crop_4_3=False`` keeps the whole width and height)."""
    if crop_4_3 and frame.shape[0] * 4 != frame.shape[1] * 3:
        frame = crop_to_aspect(frame)
    frame = crop_to_multiple(frame)
    for _ in range(2):
        if frame.shape[1] > MAX_WIDTH:
            frame = cv2.pyrDown(frame)
    return np.ascontiguousarray(frame)


def to_gray(frame: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """BGR (H, W, 3) or gray (H, W) -> gray (H, W)."""
    return frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)


@dataclass(frozen=True)
class Frame:
    """One frame: number from 0, time in seconds (video time or since the camera started), BGR pixels."""

    index: int
    time_s: float
    image: NDArray[np.uint8]


class FrameSource:
    """Frames of a video file or a camera (``cv2.VideoCapture``); iterate, then :meth:`close`.

    Video files are timed by their frame rate (frame / fps), cameras by the wall clock.
    """

    def __init__(self, capture: cv2.VideoCapture, name: str, live: bool):
        self._capture, self.name, self.live = capture, name, live

    @classmethod
    def video(cls, path: str | os.PathLike) -> FrameSource:
        path = Path(path)
        if not path.is_file():
            raise OpNetError(f"{path}: no such video file")
        capture = cv2.VideoCapture(str(path))
        if not capture.isOpened():
            raise OpNetError(f"{path}: OpenCV cannot read this video")
        return cls(capture, str(path), live=False)

    @classmethod
    def camera(cls, index: int) -> FrameSource:
        capture = cv2.VideoCapture(index)
        if not capture.isOpened():
            raise OpNetError(f"--camera {index}: no camera with this number could be opened")
        return cls(capture, f"camera {index}", live=True)

    @property
    def fps(self) -> float:
        """The frame rate the source reports (0 if unknown)."""
        return float(self._capture.get(cv2.CAP_PROP_FPS) or 0.0)

    def __iter__(self) -> Iterator[Frame]:
        fps, start = self.fps, time.perf_counter()
        index = 0
        while True:
            ok, image = self._capture.read()
            if not ok:
                return
            if self.live:
                stamp = time.perf_counter() - start
            else:
                stamp = index / fps if fps > 0 else self._capture.get(cv2.CAP_PROP_POS_MSEC) / 1000
            yield Frame(index, float(stamp), image)
            index += 1

    def close(self) -> None:
        self._capture.release()

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
