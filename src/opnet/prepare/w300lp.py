"""300W-LP (``300W-LP.zip``) -> a training dataset with one sequence per source face.

Layout: ``300W_LP/{AFW,HELEN,IBUG,LFPW}/<face>_<k>.jpg`` + ``.mat`` (k = 0 the original photo,
k > 0 synthetic rotations of it) and ``300W_LP/landmarks/<subset>/<face>_<k>_pts.mat`` (``pts_2d``).
The ``*_Flip`` folders (mirror images) are left out: training flips images itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np

from opnet.data import FieldSpec
from opnet.errors import OpNetError
from opnet.facemodel import FaceModel
from opnet.geometry import roi_from_points
from opnet.prepare.archive import Archive
from opnet.prepare.imaging import centre_to_corner
from opnet.prepare.matfile import load_mat
from opnet.prepare.runner import Skipped, Task, skip_bad
from opnet.prepare.threeddfa import (
    Fit,
    head_coords,
    head_roi,
    landmarks_only,
    model_landmarks,
    pose_quat,
    read_fit_and_photo,
    shape_params,
)

SUBSETS = ("AFW", "HELEN", "IBUG", "LFPW")
_SAMPLE = re.compile(
    r"(?P<root>(?:.*/)?300W_LP/)(?P<subset>AFW|HELEN|IBUG|LFPW)/(?P<face>[^/]+)_(?P<k>\d+)\.mat"
)


@dataclass(frozen=True)
class _Sample:
    root: str
    subset: str
    face: str
    k: int

    def member(self, suffix: str) -> str:
        return f"{self.root}{self.subset}/{self.face}_{self.k}{suffix}"

    def landmark_member(self) -> str:
        return f"{self.root}landmarks/{self.subset}/{self.face}_{self.k}_pts.mat"


def read_landmarks_2d(buffer: bytes) -> np.ndarray:
    """(68, 2) ``pts_2d`` of a 300W-LP landmark file; ValueError if absent or malformed."""
    data = load_mat(buffer)
    if "pts_2d" not in data:
        raise ValueError("no pts_2d")
    pts = np.asarray(data["pts_2d"], dtype=np.float64)
    if pts.shape == (2, 68):
        pts = pts.T
    if pts.shape != (68, 2) or not np.all(np.isfinite(pts)):
        raise ValueError(f"pts_2d has shape {pts.shape}, expected (68, 2)")
    return pts


@dataclass(frozen=True)
class W300lp:
    """Converter for 300W-LP. ``subset``: 'original' photos (k = 0), 'synthetic' rotations (k > 0) or
    'both'. ``face_model`` (3DDFA) adds ``pt3d_68``; ``roi``: 'landmarks' (box of ``pt3d_68`` with a
    face model, else of ``pt2d_68``) or 'head' (the whole head; needs the face model). With
    'landmarks' the converter keeps only the model's 68 landmark vertices (less work per sample)."""

    name: ClassVar[str] = "300wlp"
    subset: Literal["original", "synthetic", "both"] = "both"
    face_model: FaceModel | None = None
    roi: Literal["landmarks", "head"] = "landmarks"

    def __post_init__(self) -> None:
        if self.roi == "head" and self.face_model is None:
            raise OpNetError("--roi head: needs a face model (--face-model bfm_noneck_v3.pkl)")
        if self.roi == "landmarks" and self.face_model is not None:
            object.__setattr__(self, "face_model", landmarks_only(self.face_model))

    def specs(self) -> dict[str, FieldSpec]:
        return {}

    def notes(self) -> list[str]:
        if self.face_model is None:
            return [
                "no pt3d_68: 300W-LP has no 3D landmarks; give --face-model bfm_noneck_v3.pkl to add them"
            ]
        return []

    def discover(self, archive: Archive) -> list[Task]:
        samples = []
        for name in archive.names():
            match = _SAMPLE.fullmatch(name)
            if match is None:
                continue
            sample = _Sample(match["root"], match["subset"], match["face"], int(match["k"]))
            if self.subset == "both" or (sample.k == 0) == (self.subset == "original"):
                samples.append(sample)
        samples.sort(key=lambda s: (s.root, s.subset, s.face, s.k))
        return [Task(s.member(".mat"), sequence=f"{s.root}{s.subset}/{s.face}", data=s) for s in samples]

    def convert(self, archive: Archive, task: Task) -> dict[str, Any] | Skipped:
        sample: _Sample = task.data
        landmark_name = sample.landmark_member()
        if landmark_name not in archive:
            return Skipped("no landmark file (landmarks/<subset>/<name>_pts.mat)")
        try:
            pt2d = read_landmarks_2d(archive.read(landmark_name))
        except ValueError as e:
            return skip_bad(task, "landmark file", e)
        read = read_fit_and_photo(archive, task, sample.member(".jpg"))
        if isinstance(read, Skipped):
            return read
        fit, jpeg, width, height = read
        return {"images": jpeg, **self._labels(fit, pt2d, width, height)}

    def _labels(self, fit: Fit, pt2d: np.ndarray, width: int, height: int) -> dict[str, np.ndarray]:
        params = shape_params(fit)
        labels = {
            "quats": pose_quat(fit.pose),
            "coords": head_coords(fit.pose, width, height),
            "pt2d_68": centre_to_corner(pt2d),
            "shapeparams": params,
        }
        roi = roi_from_points(labels["pt2d_68"])
        if self.face_model is not None:
            labels["pt3d_68"] = model_landmarks(self.face_model, fit.pose, params, height)
            roi = roi_from_points(labels["pt3d_68"])
        if self.roi == "head" and self.face_model is not None:  # checked in __post_init__
            roi = head_roi(self.face_model, fit.pose, params, height)
        labels["rois"] = roi
        return {key: value.astype(np.float32) for key, value in labels.items()}
