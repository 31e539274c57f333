"""Face detectors: where in a frame the faces are, before the pose network looks at them.

A detector returns :class:`FaceDetection` candidates, best first, each with a score in [0, 1];
callers keep those above :data:`FACE_SCORE_THRESHOLD` (OpenTrack's). Two detectors exist:
OpenTrack's face localizer network (:mod:`opnet.runtime.localizer`) and OpenCV's bundled Haar
cascade (:mod:`opnet.runtime.haar`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

FACE_SCORE_THRESHOLD = 0.5
"""A candidate is a face if its score is above this (OpenTrack: sigmoid(logit) > 0.5)."""


@dataclass(frozen=True)
class FaceDetection:
    """A face candidate: box x0, y0, x1, y1 in image pixels (pixel corners) and a score in [0, 1]."""

    box: NDArray[np.float64]
    score: float

    @property
    def width(self) -> float:
        return float(self.box[2] - self.box[0])

    @property
    def height(self) -> float:
        return float(self.box[3] - self.box[1])


@runtime_checkable
class FaceDetector(Protocol):
    """Finds faces in gray (H, W) uint8 frames."""

    name: str

    def detect(self, image: NDArray[np.uint8]) -> list[FaceDetection]:
        """Candidates, best first (possibly none, possibly below the score threshold)."""
        ...


def faces_in(
    detector: FaceDetector, image: NDArray[np.uint8], min_score: float = FACE_SCORE_THRESHOLD
) -> list[FaceDetection]:
    """The detector's candidates with a score above ``min_score``, best first."""
    return [d for d in detector.detect(image) if d.score > min_score]
