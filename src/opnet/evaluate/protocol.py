"""Which samples are evaluated, and which face box each input patch is cut around.

- The pose filter of AFLW2000-3D: keep samples whose |pitch|, |yaw| and |roll| (AFLW Euler
  convention) are all below 99 deg and whose head size is not negative (1969 of 2000 remain).
- ROI choices: the box is the file's stored ``rois`` or the bounding box of the 68 landmarks;
  the patch is a square of side max(w, h) * expansion around the box centre.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from opnet.compat import StrEnum
from opnet.data import PoseDataset
from opnet.errors import DataError
from opnet.geometry import quat_to_euler, roi_from_points

FILTER_LIMIT_DEG = 99.0
EXPANSIONS = (1.0, 1.1, 1.2)
LANDMARK_FIELDS = ("pt3d_68", "pt2d_68")


class RoiSource(StrEnum):
    STORED = "stored"
    LANDMARKS = "landmarks"


@dataclass(frozen=True)
class RoiChoice:
    """Face box source and the expansion of the square patch around it."""

    source: RoiSource
    expansion: float

    @property
    def label(self) -> str:
        expansion = (
            f"{self.expansion:.1f}" if round(self.expansion, 1) == self.expansion else f"{self.expansion:g}"
        )
        return f"{self.source.value} x{expansion}"


def keep_mask(
    quats: ArrayLike, coords: ArrayLike | None = None, limit_deg: float | None = FILTER_LIMIT_DEG
) -> NDArray[np.bool_]:
    """(N,) True for samples inside the pose filter (all True if ``limit_deg`` is None)."""
    quats = np.asarray(quats, dtype=np.float64)
    keep = np.ones(len(quats), dtype=bool)
    if limit_deg is None:
        return keep
    pyr_deg = np.rad2deg(np.abs(quat_to_euler(quats))) if len(quats) else np.zeros((0, 3))
    keep &= np.all(pyr_deg < limit_deg, axis=-1)
    if coords is not None:
        keep &= np.asarray(coords)[:, 2] >= 0.0
    return keep


def landmark_field(ds: PoseDataset) -> str | None:
    """The landmark field of a dataset (3D preferred), or None."""
    return next((name for name in LANDMARK_FIELDS if ds.has(name)), None)


def available_sources(ds: PoseDataset) -> list[RoiSource]:
    """ROI sources this dataset supports, the protocol's preferred first (landmarks, then stored)."""
    sources = [RoiSource.LANDMARKS] if landmark_field(ds) else []
    return sources + ([RoiSource.STORED] if ds.has("rois") else [])


def roi_choices(
    ds: PoseDataset, source: str = "auto", expansion: float = 1.1, comprehensive: bool = False
) -> list[RoiChoice]:
    """The ROI choices to evaluate: one, or every available source x every expansion of :data:`EXPANSIONS`.

    ``source`` is "auto" (landmarks if the file has them, else the stored ROI), "stored" or "landmarks".
    """
    available = available_sources(ds)
    if not available:
        raise DataError(
            ds.path, "has neither 'rois' nor landmarks ('pt3d_68'/'pt2d_68') to place the face crop"
        )
    if comprehensive:
        return [RoiChoice(s, e) for s in available for e in EXPANSIONS]
    chosen = available[0] if source == "auto" else RoiSource(source)
    if chosen not in available:
        field = "rois" if chosen == RoiSource.STORED else "pt3d_68' or 'pt2d_68"
        raise DataError(ds.path, f"--roi {chosen.value} needs the field '{field}', which the file lacks")
    return [RoiChoice(chosen, expansion)]


def dataset_rois(ds: PoseDataset, source: RoiSource) -> NDArray[np.float64]:
    """(N, 4) face boxes x0, y0, x1, y1 of every sample for ``source``."""
    if source == RoiSource.STORED:
        return ds.read_field("rois").astype(np.float64)
    field = landmark_field(ds)
    if field is None:
        raise DataError(ds.path, "has no landmarks ('pt3d_68' or 'pt2d_68') for landmark ROIs")
    return roi_from_points(ds.read_field(field).astype(np.float64))
