"""The training mix: several dataset files, each drawn with a probability or weighted in the loss.

Sampling weighting (default): a sample first draws a dataset with probability w / sum(w), every
loss weight is 1. Loss weighting (``--ds-weighting``): datasets are drawn uniformly and each
sample's losses are scaled by w / max(w) (the original's semantics).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from opnet.augment import RoiMode
from opnet.data import PoseDataset, open_dataset
from opnet.errors import DataError, OpNetError
from opnet.train.labels import LabelTable, load_label_table
from opnet.train.spec import DEFAULT_WEIGHTS

log = logging.getLogger(__name__)

AFLW2K3D_VALIDATION_SAMPLES = 400
"""The original validates on the first 400 samples of AFLW2000-3D (and may train on the rest)."""


def aflw2k3d_split(num_samples: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(validation, training) sample indices of AFLW2000-3D: the first 400 and the rest."""
    cut = min(AFLW2K3D_VALIDATION_SAMPLES, num_samples)
    return np.arange(cut), np.arange(cut, num_samples)


@dataclass(frozen=True)
class MixSource:
    """A dataset file to train on. ``name`` picks the default weight (:data:`DEFAULT_WEIGHTS`;
    otherwise the number of samples used). ``indices``: the samples used (default all; for
    ``aflw2k3d`` all but the validation split, :func:`aflw2k3d_split`)."""

    name: str
    path: str | os.PathLike
    weight: float | None = None
    indices: Sequence[int] | NDArray[np.integer] | None = None


@dataclass(frozen=True)
class MixMember:
    """A dataset of the mix: the open file, its labels, the sample rows used, and its resolved weight."""

    name: str
    dataset: PoseDataset
    labels: LabelTable
    rows: NDArray[np.int64]
    weight: float


@dataclass(frozen=True)
class DatasetMix:
    """Members with (M,) sampling ``frequencies`` (sum 1) and per-member ``loss_weights``."""

    members: tuple[MixMember, ...]
    frequencies: NDArray[np.float64]
    loss_weights: NDArray[np.float64]
    loss_weighting: bool

    @property
    def sizes(self) -> NDArray[np.int64]:
        return np.array([len(m.rows) for m in self.members], np.int64)

    def describe(self) -> str:
        """One line per dataset: name, samples, weight, sampling share and loss weight."""
        lines = [f"{'dataset':<28}{'samples':>9}{'weight':>10}{'drawn %':>9}{'loss w':>8}"]
        for m, f, w in zip(self.members, self.frequencies, self.loss_weights, strict=True):
            lines.append(f"{m.name:<28}{len(m.rows):>9}{m.weight:>10g}{100 * f:>9.1f}{w:>8.3f}")
        return "\n".join(lines)


def _rows(source: MixSource, num_samples: int) -> NDArray[np.int64]:
    if source.indices is not None:
        rows = np.asarray(source.indices, dtype=np.int64)
        if rows.size and (rows.min() < 0 or rows.max() >= num_samples):
            raise OpNetError(f"{source.path}: sample indices must lie in 0..{num_samples - 1}")
        return rows
    if source.name == "aflw2k3d":
        return aflw2k3d_split(num_samples)[1]
    return np.arange(num_samples)


def _member(source: MixSource, roi_mode: RoiMode) -> MixMember:
    dataset = open_dataset(source.path)
    labels = load_label_table(dataset)
    rows = _rows(source, len(dataset))
    if len(rows) == 0:
        raise DataError(dataset.path, "has no samples to train on")
    missing = rows[~labels.has_face_box(roi_mode)[rows]]
    if len(missing):
        need = "'rois'" if roi_mode == RoiMode.ORIGINAL else "'rois' or landmarks"
        raise DataError(
            dataset.path,
            f"{len(missing)} samples have no face box ({need}), "
            f"e.g. sample {missing[0]}; needed with --roi-override {roi_mode.value}",
        )
    weight = (
        source.weight if source.weight is not None else DEFAULT_WEIGHTS.get(source.name, float(len(rows)))
    )
    return MixMember(source.name, dataset, labels, rows, float(weight))


def build_mix(
    sources: Sequence[MixSource], loss_weighting: bool = False, roi_mode: RoiMode = RoiMode.ORIGINAL
) -> DatasetMix:
    """Opens and checks every source, loads its labels, resolves weights into frequencies / loss weights."""
    if not sources:
        raise OpNetError("no training datasets given")
    members = tuple(_member(s, RoiMode(roi_mode)) for s in sources)
    weights = np.array([m.weight for m in members])
    if loss_weighting:
        frequencies = np.full(len(members), 1.0 / len(members))
        loss_weights = weights / weights.max()
    else:
        frequencies = weights / weights.sum()
        loss_weights = np.ones(len(members))
    mix = DatasetMix(members, frequencies, loss_weights, loss_weighting)
    log.debug(
        "training mix (%s):\n%s", "loss weighting" if loss_weighting else "sampling weighting", mix.describe()
    )
    return mix
