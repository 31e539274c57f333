"""BIWI Kinect Head Pose (Kaggle layout) -> an evaluation dataset, one sequence per recording.

Layout: ``faces_0/NN/frame_XXXXX_rgb.png``, ``faces_0/NN/frame_XXXXX_pose.txt`` (3x3 rotation, then
the head centre in mm, both in the depth camera's frame) and ``faces_0/NN/rgb.cal`` (RGB intrinsics
K, distortion, then the rotation R_c and translation t_c taking depth-camera points into the RGB
camera: ``p_rgb = R_c p_depth + t_c``).

Frames: the cameras use OpenCV's axes (x right, y down, z forward), which are ours; the head model's
frame coincides with the camera's at rotation identity (a frontal, upright face looking at the
camera, i.e. along -z). So the pose rotation maps head coordinates to camera coordinates exactly as
our quaternions do: ``R = R_c @ R_pose`` and the head centre ``c = R_c @ t_pose + t_c``.

Labels: ``quats`` from R (in the camera frame: no perspective correction is baked in);
``coords`` = the projection (with K; OpenCV addresses pixel centres, hence +0.5) of the point between
the eyes, ``c + R @ (0.03, -0.35, -0.2) * 100 mm`` (the offset the original converter measured), and
size = fx * 100 mm / c_z (a 100 mm head radius, as for AFLW2000-3D); ``rois`` from the OPAL23
annotation when given, else the projected head sphere (centre of c, radius = size). Images are the
original PNG files, unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from opnet.data import FieldSpec
from opnet.data.fields import image_spec
from opnet.errors import OpNetError
from opnet.geometry import matrix_to_quat
from opnet.prepare.archive import Archive
from opnet.prepare.runner import Skipped, Task, skip_bad

HEAD_RADIUS_MM = 100.0
EYES_FROM_HEAD_CENTRE = np.array([0.03, -0.35, -0.2])
"""The labelled head centre (between the eyes) in head units from BIWI's head centre."""

_FRAME = re.compile(r"(?P<root>(?:.*/)?faces_0/)(?P<person>\d\d)/frame_(?P<frame>\d{5})_rgb\.png")
_ANNOTATED = re.compile(r"(?:.*/)?(?P<person>\d\d)/frame_(?P<frame>\d{5})_rgb\.png")

FrameKey = tuple[int, int]
"""(recording NN, frame number)."""


@dataclass(frozen=True)
class Calibration:
    """RGB camera: intrinsics K (3, 3); R (3, 3) and t (3,) mm with p_rgb = R p_depth + t."""

    intrinsics: NDArray[np.float64]
    rotation: NDArray[np.float64]
    translation: NDArray[np.float64]


def _numbers(buffer: bytes, what: str) -> list[list[float]]:
    try:
        rows = [[float(v) for v in line.split()] for line in buffer.decode("ascii").splitlines()]
    except (UnicodeDecodeError, ValueError):
        raise ValueError(f"{what} is not a table of numbers") from None
    return [row for row in rows if row]


def _rotation(rows: list[list[float]], what: str) -> NDArray[np.float64]:
    matrix = np.array([row[:3] for row in rows], dtype=np.float64)
    if (
        matrix.shape != (3, 3)
        or not np.allclose(matrix @ matrix.T, np.eye(3), atol=1e-3)
        or np.linalg.det(matrix) < 0
    ):
        raise ValueError(f"{what} holds no rotation matrix")
    return matrix


def read_calibration(buffer: bytes) -> Calibration:
    """Parses ``rgb.cal``: K (3 rows), distortion, R (3 rows), t, resolution (blank lines ignored)."""
    rows = _numbers(buffer, "rgb.cal")
    if len(rows) < 8 or len(rows[7]) < 3:
        raise ValueError("rgb.cal: expected K, distortion, R and t")
    intrinsics = np.array([row[:3] for row in rows[:3]], dtype=np.float64)
    return Calibration(intrinsics, _rotation(rows[4:7], "rgb.cal"), np.array(rows[7][:3], dtype=np.float64))


def read_pose(buffer: bytes) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Parses ``frame_XXXXX_pose.txt``: (3, 3) rotation and (3,) head centre in mm (depth camera)."""
    rows = _numbers(buffer, "pose file")
    if len(rows) < 4 or len(rows[3]) < 3:
        raise ValueError("pose file: expected 3 rotation rows and the head centre")
    return _rotation(rows[:3], "pose file"), np.array(rows[3][:3], dtype=np.float64)


def read_opal_annotation(path: str | Path) -> dict[FrameKey, tuple[float, float, float, float]]:
    """Face boxes of the OPAL23 BIWI annotation (``biwi_ann.txt``): a ``#;image;tl_x;tl_y;br_x;br_y;pose``
    header, then ``kinect_head_pose_db/NN/frame_XXXXX_rgb.png;x0;y0;x1;y1;yaw;pitch;roll`` per frame."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise OpNetError(f"--opal-annotation {path}: cannot be read ({e})") from None
    boxes = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split(";")
        match = _ANNOTATED.fullmatch(fields[0].strip())
        try:
            box = tuple(float(v) for v in fields[1:5])
        except ValueError:
            box = ()
        if match is None or len(box) != 4:
            raise OpNetError(
                f"--opal-annotation {path}, line {number}: expected 'NN/frame_XXXXX_rgb.png;x0;y0;x1;y1;...'"
            )
        boxes[(int(match["person"]), int(match["frame"]))] = box
    if not boxes:
        raise OpNetError(f"--opal-annotation {path}: holds no boxes")
    return boxes


def _project(intrinsics: NDArray, point: NDArray) -> NDArray[np.float64]:
    """Pixel (x, y) of a camera-frame point, in our pixel-corner convention."""
    uvw = intrinsics @ point
    return uvw[:2] / uvw[2] + 0.5


def biwi_labels(
    calibration: Calibration, rotation: NDArray, centre_mm: NDArray
) -> dict[str, NDArray[np.float64]]:
    """quats, coords and the projected head box of a BIWI pose (depth-camera frame)."""
    rot = calibration.rotation @ rotation
    centre = calibration.rotation @ centre_mm + calibration.translation
    if centre[2] <= 0:
        raise ValueError("head centre behind the camera")
    size = calibration.intrinsics[0, 0] * HEAD_RADIUS_MM / centre[2]
    eyes = _project(calibration.intrinsics, centre + rot @ EYES_FROM_HEAD_CENTRE * HEAD_RADIUS_MM)
    middle = _project(calibration.intrinsics, centre)
    return {
        "quats": matrix_to_quat(rot),
        "coords": np.array([eyes[0], eyes[1], size]),
        "head_box": np.concatenate([middle - size, middle + size]),
    }


@dataclass(frozen=True)
class Biwi:
    """Converter for BIWI. ``boxes``: OPAL23 face boxes by (recording, frame) (see
    :func:`read_opal_annotation`); with them only the annotated frames are converted."""

    name: ClassVar[str] = "biwi"
    boxes: Mapping[FrameKey, tuple[float, float, float, float]] | None = None

    def specs(self) -> dict[str, FieldSpec]:
        return {"images": image_spec(lossy=False)}

    def notes(self) -> list[str]:
        return (
            []
            if self.boxes
            else ["rois are projected head boxes; give --opal-annotation for the standard face boxes"]
        )

    def discover(self, archive: Archive) -> list[Task]:
        frames: dict[FrameKey, str] = {}
        for name in archive.names():
            match = _FRAME.fullmatch(name)
            if match is not None:
                frames[(int(match["person"]), int(match["frame"]))] = name
        keys = sorted(self.boxes if self.boxes else frames)
        return [
            Task(
                frames.get(key, f"{key[0]:02d}/frame_{key[1]:05d}_rgb.png"),
                f"{key[0]:02d}",
                (key, key in frames),
            )
            for key in keys
        ]

    def convert(self, archive: Archive, task: Task) -> dict[str, Any] | Skipped:
        key, present = task.data
        if not present:
            return Skipped("annotated frame not in the archive")
        folder = task.name.rsplit("/", 1)[0]
        pose_name, cal_name = task.name[: -len("_rgb.png")] + "_pose.txt", f"{folder}/rgb.cal"
        if pose_name not in archive or cal_name not in archive:
            return Skipped("no pose file or rgb.cal for the frame")
        try:
            calibration = read_calibration(archive.read(cal_name))
            labels = biwi_labels(calibration, *read_pose(archive.read(pose_name)))
        except ValueError as e:
            return skip_bad(task, "annotation", e)
        roi = np.asarray(self.boxes[key], dtype=np.float64) if self.boxes else labels["head_box"]
        return {
            "images": archive.read(task.name),
            "rois": roi.astype(np.float32),
            "quats": labels["quats"].astype(np.float32),
            "coords": labels["coords"].astype(np.float32),
        }
