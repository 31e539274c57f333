"""What a source face's labels are, and how the face model is placed on it (the fit mode).

- ``labels``: ``quats``, ``coords`` and ``shapeparams`` (AFLW2000-3D, 300W-LP) used as they are;
  needs a face model whose coefficients *are* ``shapeparams`` (40 shape + 10 expression: the 3DDFA
  BFM loaded by :func:`opnet.facemodel.bfm.load_3ddfa`).
- ``shape``: the labelled pose (``quats``, ``coords``) kept; shape coefficients fitted to
  ``pt3d_68`` (x, y and depth) or else ``pt2d_68``.
- ``full``: pose and shape fitted to the 2D landmarks (``pt2d_68``, else the x, y of ``pt3d_68``);
  ``quats``/``coords`` only initialise the fit (pseudo-labels, see :mod:`opnet.evaluate.pseudolabel`).
- ``auto``: ``labels`` if possible, else ``shape`` if the file has a pose that is not a
  pseudo-label, else ``full``.
"""

from __future__ import annotations

import numpy as np

from opnet.augment3d.fitting import (
    FaceParams,
    LandmarkFit,
    fit_landmarks,
    fit_shape,
    neutral_params,
    residual_pct,
)
from opnet.compat import StrEnum
from opnet.data import PoseDataset
from opnet.data.checks import MIN_QUAT_NORM
from opnet.errors import DataError, OpNetError
from opnet.facemodel import FaceModel

PSEUDO_LABEL_ATTR = "pseudo_label"
"""Attribute that :mod:`opnet.evaluate.pseudolabel` sets on the ``quats`` it writes."""
SHAPEPARAM_LAYOUT = (40, 10)
MIN_SIZE_PX = 4.0
"""Smallest head size (pixels) worth turning."""


class FitMode(StrEnum):
    AUTO = "auto"
    LABELS = "labels"
    SHAPE = "shape"
    FULL = "full"


def has_pseudo_labels(ds: PoseDataset) -> bool:
    """True if the file's ``quats`` are an ensemble's estimates (written by ``opnet pseudolabel``)."""
    return ds.has("quats") and bool(ds.fields["quats"].attrs.get(PSEUDO_LABEL_ATTR, False))


def takes_shapeparams(model: FaceModel) -> bool:
    """True if the model's coefficients are the datasets' ``shapeparams`` (40 shape + 10 expression)."""
    return (len(model.shape_basis), len(model.expression_basis)) == SHAPEPARAM_LAYOUT


def _has_landmarks(ds: PoseDataset) -> bool:
    return ds.has("pt3d_68") or ds.has("pt2d_68")


def resolve_mode(ds: PoseDataset, model: FaceModel, mode: FitMode) -> FitMode:
    """The fit mode for this file and model; raises DataError naming what the mode needs."""
    posed = ds.has("quats") and ds.has("coords")
    if mode == FitMode.AUTO:
        if posed and not has_pseudo_labels(ds):
            if ds.has("shapeparams") and takes_shapeparams(model):
                return FitMode.LABELS
            if _has_landmarks(ds):
                return FitMode.SHAPE
        mode = FitMode.FULL
    if mode == FitMode.LABELS and not (posed and ds.has("shapeparams")):
        raise DataError(ds.path, "--fit labels needs the fields 'quats', 'coords' and 'shapeparams'")
    if mode == FitMode.LABELS and not takes_shapeparams(model):
        raise DataError(
            ds.path,
            "--fit labels needs a face model whose coefficients are 'shapeparams' "
            "(40 shape + 10 expression, e.g. --face-model bfm_noneck_v3.pkl)",
        )
    if mode == FitMode.SHAPE and not (posed and _has_landmarks(ds)):
        raise DataError(ds.path, "--fit shape needs 'quats', 'coords' and landmarks ('pt3d_68' or 'pt2d_68')")
    if mode == FitMode.FULL and not _has_landmarks(ds):
        raise DataError(ds.path, "has no landmarks ('pt3d_68' or 'pt2d_68') to fit a face model to")
    return mode


def _landmarks_2d(sample: dict) -> np.ndarray | None:
    if "pt2d_68" in sample:
        return np.asarray(sample["pt2d_68"], np.float64)
    return np.asarray(sample["pt3d_68"], np.float64)[:, :2] if "pt3d_68" in sample else None


def usable(sample: dict, mode: FitMode) -> bool:
    """True if the labels that ``mode`` reads are finite, any quaternion is not zero and any head size is
    at least MIN_SIZE_PX."""
    names = {
        FitMode.LABELS: ("quats", "coords", "shapeparams"),
        FitMode.SHAPE: ("quats", "coords", "pt3d_68" if "pt3d_68" in sample else "pt2d_68"),
        FitMode.FULL: ("pt2d_68" if "pt2d_68" in sample else "pt3d_68",),
    }[FitMode(mode)]
    if not all(np.all(np.isfinite(np.asarray(sample[name], np.float64))) for name in names):
        return False
    if "quats" in names and np.linalg.norm(np.asarray(sample["quats"], np.float64)) < MIN_QUAT_NORM:
        return False
    return "coords" not in names or float(sample["coords"][2]) >= MIN_SIZE_PX


def place_model(sample: dict, model: FaceModel, mode: FitMode) -> LandmarkFit:
    """The model placed on one sample (a dict as ``PoseDataset[i]`` gives) in ``mode`` (resolved).

    The residual (percent of the landmark box) is NaN for ``labels`` on a sample without landmarks.
    """
    if mode == FitMode.LABELS:
        params = sample["shapeparams"].astype(np.float64)
        shape_dim, _ = SHAPEPARAM_LAYOUT
        placed = FaceParams(
            neutral_params(model, sample["quats"], sample["coords"]).quat,
            np.asarray(sample["coords"], np.float64),
            params[:shape_dim],
            params[shape_dim:],
        )
        points = _landmarks_2d(sample)
        residual = np.nan if points is None else residual_pct(placed, model, points, np.ones(68))
        return LandmarkFit(placed, residual)
    if mode == FitMode.SHAPE:
        points = sample["pt3d_68"] if "pt3d_68" in sample else sample["pt2d_68"]
        return fit_shape(model, points, sample["quats"], sample["coords"])
    start = None
    if "quats" in sample and "coords" in sample:
        start = neutral_params(model, sample["quats"], sample["coords"])
    points = _landmarks_2d(sample)
    if points is None:
        raise OpNetError(f"fit mode {mode.value!r} needs landmarks (pt2d_68 or pt3d_68)")
    return fit_landmarks(model, points, start)
