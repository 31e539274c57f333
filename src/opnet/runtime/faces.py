"""Faces in a picture: detection, then OpenTrack's pose crop for each face, as plain records.

:func:`estimate_faces` runs a detector and the pose network on every face it finds and returns
:class:`FacePose` records: AFLW Euler angles, head centre and size, the network's box, and
scalar uncertainties from its Cholesky factors.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from opnet.errors import OpNetError
from opnet.geometry import quat_to_euler
from opnet.runtime.detection import FACE_SCORE_THRESHOLD, FaceDetection, FaceDetector, faces_in
from opnet.runtime.model import PoseModel
from opnet.runtime.outputs import PosePrediction
from opnet.runtime.single import predict_face

DETECTORS = ("haar", "localizer")
"""``haar``: every face in a photo (OpenCV's cascades); ``localizer``: OpenTrack's network, one face
per webcam frame."""


def rotation_std_deg(rotaxis_tril: NDArray[np.floating]) -> float:
    """RMS rotation error in degrees of the Gaussian with Cholesky factor L (rotation vector, radians).

    sqrt(trace(L L^T)) = the Frobenius norm of L: the root of the expected squared angle.
    """
    return float(np.rad2deg(np.linalg.norm(rotaxis_tril)))


def position_std_px(coords_tril: NDArray[np.floating]) -> tuple[float, float]:
    """(centre, size) standard deviations in pixels from the Cholesky factor L of (x, y, size).

    centre: sqrt(var x + var y), the RMS distance of the centre; size: sqrt(var size).
    """
    variances = np.sum(np.asarray(coords_tril, dtype=np.float64) ** 2, axis=-1)  # diag(L L^T)
    return float(np.sqrt(variances[0] + variances[1])), float(np.sqrt(variances[2]))


@dataclass(frozen=True)
class FacePose:
    """One face: where it was found and the pose network's answer, image pixels, float64.

    quat (4,) xyzw (image frame); coords (3,) centre x, y and size; box (4,) the network's face
    box (the tracker's next ROI); uncertainties are None for models without those outputs.
    """

    detection: FaceDetection
    quat: NDArray[np.float64]
    coords: NDArray[np.float64]
    box: NDArray[np.float64]
    rotation_std_deg: float | None = None
    position_std_px: float | None = None
    size_std_px: float | None = None

    @property
    def euler_deg(self) -> tuple[float, float, float]:
        """(yaw, pitch, roll) in degrees, AFLW2000-3D convention (see opnet.geometry)."""
        pitch, yaw, roll = np.rad2deg(quat_to_euler(self.quat))
        return float(yaw), float(pitch), float(roll)

    @property
    def pitch(self) -> float:
        """Degrees; :func:`opnet.geometry.quat_to_euler`'s pitch (positive: the nose lifts)."""
        return self.euler_deg[1]

    @property
    def yaw(self) -> float:
        """Degrees; :func:`opnet.geometry.quat_to_euler`'s yaw (positive: the nose turns to image -x)."""
        return self.euler_deg[0]

    @property
    def roll(self) -> float:
        """Degrees; :func:`opnet.geometry.quat_to_euler`'s roll (positive: clockwise on screen)."""
        return self.euler_deg[2]

    @classmethod
    def from_prediction(cls, prediction: PosePrediction, detection: FaceDetection, k: int = 0) -> FacePose:
        """Row ``k`` of a prediction, for the face found at ``detection``."""
        rot_tril = prediction.rotaxis_scales_tril
        rot = None if rot_tril is None else rotation_std_deg(rot_tril[k])
        pos = size = None
        if prediction.coords_scales_tril is not None:
            pos, size = position_std_px(prediction.coords_scales_tril[k])
        return cls(detection, prediction.quat[k], prediction.coords[k], prediction.box[k], rot, pos, size)


def as_gray(image: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """Gray (H, W), BGR (H, W, 3) or BGRA (H, W, 4) uint8 -> gray (H, W) uint8 (OpenCV's weights)."""
    image = np.asarray(image)
    if (
        image.dtype != np.uint8
        or image.ndim not in (2, 3)
        or (image.ndim == 3 and image.shape[2] not in (1, 3, 4))
    ):
        raise OpNetError(
            f"expected a uint8 image, gray (H, W) or BGR (H, W, 3), got {image.dtype} {image.shape}"
        )
    if image.ndim == 2:
        return image
    if image.shape[2] == 1:
        return image[:, :, 0]
    code = cv2.COLOR_BGR2GRAY if image.shape[2] == 3 else cv2.COLOR_BGRA2GRAY
    return np.asarray(cv2.cvtColor(image, code), dtype=np.uint8)


def estimate_faces(
    model: PoseModel,
    detector: FaceDetector,
    image: NDArray[np.uint8],
    min_score: float = FACE_SCORE_THRESHOLD,
) -> list[FacePose]:
    """Every face the detector finds in a gray (H, W) or BGR (H, W, 3) image, with its pose
    (OpenTrack's crop of the gray image)."""
    gray = as_gray(image)
    found = faces_in(detector, gray, min_score)
    return [FacePose.from_prediction(predict_face(model, gray, d.box), d) for d in found]


def load_detector(
    kind: str, localizer_path: str | os.PathLike | None = None, threads: int = 1
) -> FaceDetector:
    """``"haar"`` (OpenCV's cascades) or ``"localizer"`` (OpenTrack's network, needs ``localizer_path``)."""
    if kind == "haar":
        from opnet.runtime.haar import HaarDetector

        return HaarDetector()
    if kind != "localizer":
        raise OpNetError(f"--detector {kind}: expected one of {', '.join(DETECTORS)}")
    if localizer_path is None:
        raise OpNetError("--detector localizer needs the localizer model (--localizer head-localizer.onnx)")
    from opnet.runtime.localizer import Localizer

    return Localizer(localizer_path, threads)
