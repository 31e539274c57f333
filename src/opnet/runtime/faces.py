"""Faces in a picture: detection, then OpenTrack's pose crop for each face, as plain records.

:func:`estimate_faces` runs a detector and the pose network on every face it finds and returns
:class:`FacePose` records: AFLW Euler angles, head centre and size, the network's box, and
scalar uncertainties from its Cholesky factors.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from opnet.errors import OpNetError
from opnet.geometry import quat_to_euler
from opnet.runtime.detection import FACE_SCORE_THRESHOLD, FaceDetection, FaceDetector, faces_in
from opnet.runtime.model import PoseModel
from opnet.runtime.outputs import PosePrediction
from opnet.runtime.single import predict_face

DETECTORS = ("localizer", "haar")


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

    @classmethod
    def from_prediction(cls, prediction: PosePrediction, detection: FaceDetection, k: int = 0) -> FacePose:
        """Row ``k`` of a prediction, for the face found at ``detection``."""
        rot_tril = prediction.rotaxis_scales_tril
        rot = None if rot_tril is None else rotation_std_deg(rot_tril[k])
        pos = size = None
        if prediction.coords_scales_tril is not None:
            pos, size = position_std_px(prediction.coords_scales_tril[k])
        return cls(detection, prediction.quat[k], prediction.coords[k], prediction.box[k], rot, pos, size)


def estimate_faces(
    model: PoseModel,
    detector: FaceDetector,
    image: NDArray[np.uint8],
    min_score: float = FACE_SCORE_THRESHOLD,
) -> list[FacePose]:
    """Every face the detector finds in a gray (H, W) image, with its pose (OpenTrack's crop)."""
    found = faces_in(detector, image, min_score)
    return [FacePose.from_prediction(predict_face(model, image, d.box), d) for d in found]


def load_detector(
    kind: str, localizer_path: str | os.PathLike | None = None, threads: int = 1
) -> FaceDetector:
    """``"localizer"`` (OpenTrack's network, needs ``localizer_path``) or ``"haar"`` (OpenCV's cascade)."""
    if kind == "haar":
        from opnet.runtime.haar import HaarDetector

        return HaarDetector()
    if kind != "localizer":
        raise OpNetError(f"--detector {kind}: expected one of {', '.join(DETECTORS)}")
    if localizer_path is None:
        raise OpNetError("--detector localizer needs the localizer model (--localizer head-localizer.onnx)")
    from opnet.runtime.localizer import Localizer

    return Localizer(localizer_path, threads)
