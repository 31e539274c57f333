"""AFLW2000-3D (``AFLW2000-3D.zip``: ``AFLW2000/imageXXXXX.jpg`` + ``.mat``) -> the evaluation dataset.

The output has exactly the layout of the original converter's ``aflw2k.h5`` (fields, dtypes and
attributes; ``shapeparams`` float32 without a category, images without a ``lossy`` attribute), the
original JPEG bytes, and labels computed the same way (see :mod:`opnet.prepare.threeddfa`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np

from opnet.data import Category, FieldSpec, ImageStorage
from opnet.data.fields import VLEN_BYTES
from opnet.errors import OpNetError
from opnet.facemodel import FaceModel
from opnet.geometry import roi_from_points
from opnet.prepare.archive import Archive
from opnet.prepare.runner import Skipped, Task, skip_bad
from opnet.prepare.threeddfa import (
    aflw_landmarks,
    head_coords,
    head_roi,
    pose_quat,
    read_fit_and_photo,
    shape_params,
)

_SAMPLE = re.compile(r"(?:.*/)?AFLW2000/[^/]+\.mat")

AFLW_SPECS = {
    "images": FieldSpec(
        "images",
        Category.IMAGE,
        (),
        VLEN_BYTES,
        {"category": Category.IMAGE.value, "storage": ImageStorage.BUFFER.value},
    ),
    "shapeparams": FieldSpec("shapeparams", Category.GENERAL, (50,), np.dtype(np.float32), {}),
}
"""The two fields whose layout differs from the writer's defaults in the original's files."""

ORIGINAL_ORDER_SEED = 123


def sample_order(names: list[str], order: Literal["sorted", "original"]) -> list[str]:
    """Sorted names, or the original converter's order: sorted, then shuffled by RandomState(123)."""
    names = sorted(names)
    if order == "original":
        np.random.RandomState(ORIGINAL_ORDER_SEED).shuffle(names)
    return names


@dataclass(frozen=True)
class Aflw2k3d:
    """Converter for AFLW2000-3D. ``roi``: 'landmarks' (box of the 68 landmarks, the evaluation
    protocol's) or 'head' (box of the whole head; needs ``face_model``)."""

    name: ClassVar[str] = "aflw2k3d"
    roi: Literal["landmarks", "head"] = "landmarks"
    face_model: FaceModel | None = None
    order: Literal["sorted", "original"] = "sorted"

    def __post_init__(self) -> None:
        if self.roi == "head" and self.face_model is None:
            raise OpNetError("--roi head: needs a face model (--face-model bfm_noneck_v3.pkl)")

    def specs(self) -> dict[str, FieldSpec]:
        return dict(AFLW_SPECS)

    def notes(self) -> list[str]:
        return []

    def discover(self, archive: Archive) -> list[Task]:
        names = [n for n in archive.names() if _SAMPLE.fullmatch(n)]
        return [Task(n) for n in sample_order(names, self.order)]

    def convert(self, archive: Archive, task: Task) -> dict[str, Any] | Skipped:
        read = read_fit_and_photo(archive, task, task.name[: -len(".mat")] + ".jpg")
        if isinstance(read, Skipped):
            return read
        fit, jpeg, width, height = read
        if fit.landmarks is None:
            return skip_bad(task, ".mat file", ValueError("no pt3d_68"))
        params = shape_params(fit)
        pt3d = aflw_landmarks(fit.landmarks)
        if self.roi == "head" and self.face_model is not None:  # checked in __post_init__
            roi = head_roi(self.face_model, fit.pose, params, height)
        else:
            roi = roi_from_points(pt3d)
        return {
            "images": jpeg,
            "rois": roi.astype(np.float32),
            "quats": pose_quat(fit.pose).astype(np.float32),
            "coords": head_coords(fit.pose, width, height).astype(np.float32),
            "pt3d_68": pt3d.astype(np.float32),
            "shapeparams": params.astype(np.float32),
        }
