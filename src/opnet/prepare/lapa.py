"""LaPa (folder or zip: ``{train,val,test}/images/*.jpg`` and ``.../landmarks/*.txt``) -> 2D landmark data.

A landmark file holds ``106`` then 106 lines ``x y``. Labels: ``pt2d_68`` (:func:`lapa_to_ibug68`) and
``rois`` = their box; each image is stored cut to the face's surroundings and shrunk if the face is
large (:func:`opnet.prepare.imaging.storage_crop`), as JPEG.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np

from opnet.data import FieldSpec
from opnet.geometry import roi_from_points
from opnet.prepare.archive import Archive
from opnet.prepare.imaging import centre_to_corner, cropped_landmark_sample
from opnet.prepare.landmarks68 import lapa_to_ibug68
from opnet.prepare.runner import Skipped, Task, skip_bad


def read_lapa_landmarks(buffer: bytes) -> np.ndarray:
    """(106, 2) points of a LaPa landmark file; ValueError if malformed."""
    try:
        rows = [line.split() for line in buffer.decode("ascii").splitlines() if line.strip()]
        count = int(rows[0][0])
        points = np.array(rows[1:], dtype=np.float64)
    except (UnicodeDecodeError, ValueError, IndexError):
        raise ValueError("landmark file is not '106' followed by x y lines") from None
    if count != 106 or points.shape != (106, 2):
        raise ValueError(f"landmark file holds {points.shape}, expected 106 points")
    return points


@dataclass(frozen=True)
class Lapa:
    """Converter for one LaPa split."""

    name: ClassVar[str] = "lapa"
    split: Literal["train", "val", "test"] = "train"

    def specs(self) -> dict[str, FieldSpec]:
        return {}

    def notes(self) -> list[str]:
        return []

    def discover(self, archive: Archive) -> list[Task]:
        pattern = re.compile(rf"(?P<root>(?:.*/)?{self.split}/)images/(?P<stem>[^/]+)\.jpg")
        tasks = []
        for name in archive.names():
            if match := pattern.fullmatch(name):
                tasks.append(Task(name, data=f"{match['root']}landmarks/{match['stem']}.txt"))
        return tasks

    def convert(self, archive: Archive, task: Task) -> dict[str, Any] | Skipped:
        if task.data not in archive:
            return Skipped("no landmark file for the image")
        try:
            points68 = centre_to_corner(lapa_to_ibug68(read_lapa_landmarks(archive.read(task.data))))
        except ValueError as e:
            return skip_bad(task, "landmark file", e)
        return cropped_landmark_sample(archive.read(task.name), points68, roi_from_points(points68))
