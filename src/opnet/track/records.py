"""What the tracking loop produces per frame, and its outputs: CSV rows and preview pictures."""

from __future__ import annotations

import contextlib
import csv
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from opnet.errors import OpNetError
from opnet.fileio import atomic_output
from opnet.geometry import quat_to_euler
from opnet.runtime.annotate import angles_label, draw_detection, draw_face
from opnet.runtime.faces import rotation_std_deg
from opnet.track.tracker import TrackStep
from opnet.track.world import OpenTrackPose

CSV_COLUMNS = (
    "frame",
    "time_s",
    "face",
    "x_cm",
    "y_cm",
    "z_cm",
    "yaw_deg",
    "pitch_deg",
    "roll_deg",
    "centre_x_px",
    "centre_y_px",
    "size_px",
    "roi_x0",
    "roi_y0",
    "roi_x1",
    "roi_y1",
    "image_yaw_deg",
    "image_pitch_deg",
    "image_roll_deg",
    "rotation_std_deg",
    "detector_ran",
    "detector_score",
)
"""Columns of ``--csv``; see docs/opentrack.md. Empty cells where a value does not exist."""

VIDEO_CODECS = {".mp4": "mp4v", ".avi": "MJPG"}


@dataclass(frozen=True)
class TrackRecord:
    """One processed frame: number, time (s), prepared frame (BGR), the tracker's step, the output pose."""

    index: int
    time_s: float
    image: NDArray[np.uint8]
    step: TrackStep
    pose: OpenTrackPose | None


def csv_row(record: TrackRecord) -> list[str]:
    """The ``--csv`` cells of one frame (fixed 6 decimals)."""

    def fmt(values) -> list[str]:  # noqa: ANN001 - any iterable of numbers
        return [f"{float(v):.6f}" for v in values]

    step, face = record.step, record.step.face
    row = [str(record.index), f"{record.time_s:.6f}", "1" if face is not None else "0"]
    row += fmt(record.pose.as_tuple()) if record.pose is not None else [""] * 6
    if face is not None:
        pitch, yaw, roll = np.rad2deg(quat_to_euler(face.quat[0]))
        rot_tril = face.rotaxis_scales_tril
        rot_std = "" if rot_tril is None else f"{rotation_std_deg(rot_tril[0]):.6f}"
        row += fmt(face.coords[0]) + fmt(step.roi) + fmt((yaw, pitch, roll)) + [rot_std]
    else:
        row += [""] * 11
    ran = step.detector_s is not None
    row += ["1" if ran else "0", f"{step.detection.score:.6f}" if step.detection is not None else ""]
    return row


@contextlib.contextmanager
def csv_log(path: str | os.PathLike, overwrite: bool = False) -> Iterator:
    """Yields ``write(record)``; the file appears, complete, when the block ends without error."""
    with atomic_output(path, overwrite) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(CSV_COLUMNS)
        yield lambda record: writer.writerow(csv_row(record))


def annotated_frame(record: TrackRecord) -> NDArray[np.uint8]:
    """The prepared frame (BGR) with the detector box, the ROI, the head and its axes, and the pose."""
    image = record.image if record.image.ndim == 3 else cv2.cvtColor(record.image, cv2.COLOR_GRAY2BGR)
    rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    step = record.step
    if step.detector_box is not None:
        draw_detection(rgb, step.detector_box)
    if step.face is not None and record.pose is not None:
        p = record.pose
        label = f"{angles_label(p.yaw_deg, p.pitch_deg, p.roll_deg)}  z {p.z_cm:.0f} cm"
        draw_face(rgb, step.face.quat[0], step.face.coords[0], step.roi, label)
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)


@contextlib.contextmanager
def preview_video(path: str | os.PathLike, fps: float, overwrite: bool = False) -> Iterator:
    """Yields ``write(record)`` appending annotated frames; .mp4 (mp4v) or .avi (MJPG), atomically."""
    path = Path(path)
    codec = VIDEO_CODECS.get(path.suffix.lower())
    if codec is None:
        raise OpNetError(f"--preview {path}: expected a .mp4 or .avi file name")
    with atomic_output(path, overwrite, keep_suffix=True) as tmp:
        writer: list[cv2.VideoWriter] = []

        def write(record: TrackRecord) -> None:
            frame = annotated_frame(record)
            if not writer:
                size = (frame.shape[1], frame.shape[0])
                writer.append(cv2.VideoWriter(str(tmp), cv2.VideoWriter.fourcc(*codec), fps, size))
                if not writer[0].isOpened():
                    raise OpNetError(f"--preview {path}: OpenCV cannot write {codec} video")
            writer[0].write(frame)

        try:
            yield write
        finally:
            if writer:
                writer[0].release()
