"""Microsoft Face Synthetics (``dataset_100000.zip``) -> a training dataset of 2D landmarks and face boxes.

Layout: ``{i:06d}.png`` (512x512 render), ``{i:06d}_seg.png`` (class per pixel) and
``{i:06d}_ldmks.txt`` (70 lines "x y": the 68 iBUG landmarks, then the two pupils). No pose.
Labels: ``pt2d_68`` (the first 68 points) and ``rois`` = the box of the skin and nose classes (every
non-background class if there is neither), in pixel-corner coordinates. Faces whose box is not
larger than ``min_face_px`` are skipped. Images are re-encoded as JPEG (quality 95) unless
``lossless``: the PNGs take about 32 GB.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar

import cv2
import numpy as np
from numpy.typing import NDArray

from opnet.data import FieldSpec
from opnet.data.fields import image_spec
from opnet.data.images import ImageTooLarge, decode_label_image, encode_image
from opnet.prepare.archive import Archive
from opnet.prepare.imaging import TOO_LARGE, centre_to_corner, decode_or_skip
from opnet.prepare.runner import Skipped, Task, skip_bad

JPEG_QUALITY = 95
SKIN, NOSE = 1, 2
BACKGROUND = 0
_IMAGE = re.compile(r"(?:.*/)?\d{6}\.png")


def segmentation_roi(segmentation: NDArray[np.uint8]) -> NDArray[np.float64] | None:
    """(4,) box around the pixels of the skin and nose classes, or of any class but background if
    there are none; None for an empty segmentation. Pixel (i, j) spans [j, j+1] x [i, i+1]."""
    mask = np.isin(segmentation, (SKIN, NOSE))
    if not mask.any():
        mask = segmentation != BACKGROUND
    points = cv2.findNonZero(mask.astype(np.uint8))
    if points is None:
        return None
    x, y, w, h = cv2.boundingRect(points)
    return np.array([x, y, x + w, y + h], dtype=np.float64)


def read_landmarks(buffer: bytes) -> NDArray[np.float64]:
    """(70, 2) points of a ``_ldmks.txt`` file; ValueError if malformed."""
    try:
        points = np.array(
            [[float(v) for v in line.split()] for line in buffer.decode("ascii").splitlines() if line.strip()]
        )
    except (UnicodeDecodeError, ValueError):
        raise ValueError("landmark file is not a table of numbers") from None
    if points.shape != (70, 2):
        raise ValueError(f"landmark file has shape {points.shape}, expected (70, 2)")
    return points


@dataclass(frozen=True)
class Synface:
    """Converter for Face Synthetics."""

    name: ClassVar[str] = "synface"
    min_face_px: float = 32.0
    lossless: bool = False

    def specs(self) -> dict[str, FieldSpec]:
        return {"images": image_spec(lossy=not self.lossless)}

    def notes(self) -> list[str]:
        return []

    def discover(self, archive: Archive) -> list[Task]:
        return [Task(name) for name in archive.names() if _IMAGE.fullmatch(name)]

    def convert(self, archive: Archive, task: Task) -> dict[str, Any] | Skipped:
        stem = task.name[: -len(".png")]
        if f"{stem}_seg.png" not in archive or f"{stem}_ldmks.txt" not in archive:
            return Skipped("no _seg.png or _ldmks.txt next to the image")
        try:
            points = read_landmarks(archive.read(f"{stem}_ldmks.txt"))
        except ValueError as e:
            return skip_bad(task, "landmark file", e)
        try:
            segmentation = decode_label_image(archive.read(f"{stem}_seg.png"))
        except ImageTooLarge:
            return Skipped(TOO_LARGE)
        if segmentation is None or segmentation.ndim != 2:
            return Skipped("unreadable segmentation")
        roi = segmentation_roi(segmentation)
        if roi is None or np.min(roi[2:] - roi[:2]) <= self.min_face_px:
            return Skipped(f"face box not larger than {self.min_face_px:g} px")
        image = archive.read(task.name)
        if not self.lossless:
            pixels = decode_or_skip(image)
            if isinstance(pixels, Skipped):
                return pixels
            image = encode_image(pixels, lossy=True, jpeg_quality=JPEG_QUALITY)
        return {
            "images": image,
            "rois": roi.astype(np.float32),
            "pt2d_68": centre_to_corner(points[:68]).astype(np.float32),
        }
