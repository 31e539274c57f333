"""WFLW (folder or zip with ``WFLW_images/`` and ``WFLW_annotations/``) -> 2D landmark training data.

Each line of ``WFLW_annotations/list_98pt_rect_attr_train_test/list_98pt_rect_attr_{split}.txt`` is
one face: 98 x y pairs, the face rectangle x0 y0 x1 y1, six attribute flags and the image name under
``WFLW_images/``. Labels: ``pt2d_68`` (:func:`wflw_to_ibug68`), ``rois`` = their box. Images hold
several faces and are large, so each sample stores the face's surroundings only
(:func:`opnet.prepare.imaging.storage_crop`). Faces whose rectangle is narrower than
``min_face_px`` are skipped (default 129, the network's input size, as in the original).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np

from opnet.data import FieldSpec
from opnet.errors import OpNetError
from opnet.geometry import roi_from_points
from opnet.prepare.archive import Archive
from opnet.prepare.imaging import centre_to_corner, cropped_landmark_sample
from opnet.prepare.landmarks68 import wflw_to_ibug68
from opnet.prepare.runner import Skipped, Task

_FIELDS = 98 * 2 + 4 + 6 + 1


def parse_annotation_line(line: str) -> tuple[str, np.ndarray, np.ndarray]:
    """One annotation line -> image name, (98, 2) landmarks, (4,) rectangle; ValueError if malformed."""
    fields = line.split()
    if len(fields) != _FIELDS:
        raise ValueError(f"{len(fields)} fields, expected {_FIELDS}")
    numbers = np.array(fields[: 98 * 2 + 4], dtype=np.float64)
    return fields[-1], numbers[: 98 * 2].reshape(98, 2), numbers[98 * 2 :]


@dataclass(frozen=True)
class Wflw:
    """Converter for WFLW's ``train`` or ``test`` list."""

    name: ClassVar[str] = "wflw"
    split: Literal["train", "test"] = "train"
    min_face_px: float = 129.0

    def specs(self) -> dict[str, FieldSpec]:
        return {}

    def notes(self) -> list[str]:
        return []

    def _annotation(self, archive: Archive) -> tuple[str, str]:
        """The annotation list's name and the folder prefix of the images."""
        path = f"WFLW_annotations/list_98pt_rect_attr_train_test/list_98pt_rect_attr_{self.split}.txt"
        pattern = re.compile(r"(?P<root>(?:.*/)?)" + re.escape(path))
        for name in archive.names():
            if match := pattern.fullmatch(name):
                return name, f"{match['root']}WFLW_images/"
        raise OpNetError(f"{archive.path}: no {path}")

    def discover(self, archive: Archive) -> list[Task]:
        annotation, images = self._annotation(archive)
        tasks = []
        for number, line in enumerate(archive.read(annotation).decode("utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                image, points, rect = parse_annotation_line(line)
            except ValueError as e:
                raise OpNetError(f"{archive.path}: {annotation}, line {number}: {e}") from None
            tasks.append(Task(f"{images}{image}", data=(points, rect)))
        return tasks

    def convert(self, archive: Archive, task: Task) -> dict[str, Any] | Skipped:
        points, rect = task.data
        if rect[2] - rect[0] < self.min_face_px:
            return Skipped(f"face narrower than {self.min_face_px:g} px")
        if task.name not in archive:
            return Skipped("image not in the archive")
        points68 = centre_to_corner(wflw_to_ibug68(points))
        return cropped_landmark_sample(archive.read(task.name), points68, roi_from_points(points68))
