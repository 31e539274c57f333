"""Pseudo-labels: an ensemble's head pose for every sample of a landmark-only dataset.

LaPa and WFLW have 68 landmarks but no pose. Before their faces can be fitted in 3D
(``opnet augment3d --fit full``), each gets a pose and head position from pose models run on the
face crop of the evaluation protocol (:func:`opnet.evaluate.runner.predict_dataset`), averaged over
the models: rotations as rotations (:func:`opnet.evaluate.ensemble.average_rotations`), centres and
sizes as plain means. The output is a copy of the input with ``quats`` and ``coords`` added, the
``quats`` marked with the attribute ``pseudo_label`` (so that ``augment3d`` only starts its fits
from them) and ``models`` (the model files' names).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from opnet.augment3d.inputs import PSEUDO_LABEL_ATTR
from opnet.data import DatasetWriter, FieldSpec, PoseDataset, open_dataset
from opnet.data.checks import check_finite, quaternion_faults
from opnet.data.fields import Category, ImageStorage, image_to_file_coords
from opnet.errors import DataError, OpNetError
from opnet.evaluate.ensemble import average_predictions
from opnet.evaluate.metrics import euler_errors
from opnet.evaluate.protocol import dataset_rois, roi_choices, source_fields
from opnet.evaluate.runner import predict_dataset
from opnet.fileio import check_writable
from opnet.runtime import PosePrediction, load_pose_model

log = logging.getLogger(__name__)

LABELS = ("quats", "coords")
BLOCK_ROWS = 512


@dataclass(frozen=True)
class PseudoLabels:
    """What :func:`pseudolabel_dataset` wrote: ``quats`` (N, 4), ``coords`` (N, 3) and, where the
    input had labels already, the pseudo-labels' mean absolute pitch, yaw, roll errors (degrees)."""

    quats: np.ndarray
    coords: np.ndarray
    mae_deg: np.ndarray | None


def predict_ensemble(
    ds: PoseDataset,
    model_paths: Sequence[str | os.PathLike],
    roi: str = "auto",
    expansion: float = 1.1,
    threads: int | None = None,
    batch_size: int = 64,
    progress: bool = True,
) -> PosePrediction:
    """The models' averaged prediction for every sample of ``ds``, each cropped around its face box
    (``roi``: "auto", "stored" or "landmarks", see :func:`opnet.evaluate.protocol.roi_choices`).
    A file without samples, or a face box that is not finite, is refused before the models load."""
    if not model_paths:
        raise OpNetError("--model: give at least one pose model")
    if len(ds) == 0:
        raise DataError(ds.path, "has no samples")
    choice = roi_choices(ds, roi, expansion)[0]
    rois = dataset_rois(ds, choice.source)
    check_finite(ds.path, "/".join(source_fields(ds, choice.source)), rois)
    models = [load_pose_model(path, threads) for path in model_paths]
    indices = np.arange(len(ds))
    predictions = predict_dataset(
        ds,
        indices,
        rois,
        choice.expansion,
        models,
        threads=threads,
        batch_size=batch_size,
        progress=progress,
        desc="pseudolabel",
    )
    return average_predictions(predictions.per_model)


def _specs(ds: PoseDataset, model_paths: Sequence[str | os.PathLike]) -> dict[str, FieldSpec]:
    specs = {name: spec for name, spec in ds.fields.items() if name not in LABELS}
    names = ",".join(os.path.basename(str(p)) for p in model_paths)
    attrs = {"category": Category.QUAT.value, PSEUDO_LABEL_ATTR: np.bool_(True), "models": names}
    specs["quats"] = FieldSpec("quats", Category.QUAT, (4,), np.dtype(np.float32), attrs)
    specs["coords"] = FieldSpec(
        "coords", Category.XYS, (3,), np.dtype(np.float32), {"category": Category.XYS.value}
    )
    return specs


def _copy_with_labels(
    ds: PoseDataset,
    output: str | os.PathLike,
    specs: dict[str, FieldSpec],
    labels: dict[str, np.ndarray],
    overwrite: bool,
) -> None:
    """A bit-exact copy of ``ds`` (sequences kept) plus ``labels`` (OpNet's pixel-corner convention)."""
    stored = {"quats": labels["quats"], "coords": image_to_file_coords(Category.XYS, labels["coords"])}
    starts = set(ds.sequences[:, 0].tolist()) if ds.sequence_starts is not None else set()
    copied = [name for name in specs if name not in LABELS]
    with DatasetWriter(output, specs=specs, overwrite=overwrite, raw_coordinates=True) as writer:
        for lo in range(0, len(ds), BLOCK_ROWS):
            hi = min(lo + BLOCK_ROWS, len(ds))
            columns = {name: _column(ds, name, lo, hi) for name in copied}
            for k in range(hi - lo):
                if lo + k in starts:
                    writer.start_sequence()
                writer.append(
                    {
                        **{name: columns[name][k] for name in copied},
                        **{name: stored[name][lo + k] for name in LABELS},
                    }
                )


def _column(ds: PoseDataset, name: str, lo: int, hi: int) -> Sequence | np.ndarray:
    if name == ds.image_field and ds.fields[name].storage == ImageStorage.FILENAME:
        return [ds.read_image_bytes(i) for i in range(lo, hi)]
    return ds.read_field(name, slice(lo, hi), raw=True)


def _errors_against_stored(ds: PoseDataset, quats: np.ndarray) -> np.ndarray | None:
    """Mean absolute pitch, yaw, roll errors (degrees) of ``quats`` (N, 4) against the file's own
    quaternions, over the samples whose stored quaternion is usable (None if none is)."""
    stored = ds.read_field("quats")
    not_finite, zero = quaternion_faults(stored)
    usable = ~(not_finite | zero)
    if not usable.all():
        count = int((~usable).sum())
        log.info("%d of %d samples left out of the comparison: no usable stored quaternion", count, len(ds))
    if not usable.any():
        return None
    return np.rad2deg(euler_errors(quats[usable], stored[usable]).mean(axis=0))


def pseudolabel_dataset(
    source: str | os.PathLike,
    output: str | os.PathLike,
    model_paths: Sequence[str | os.PathLike],
    roi: str = "auto",
    expansion: float = 1.1,
    replace_labels: bool = False,
    threads: int | None = None,
    batch_size: int = 64,
    overwrite: bool = False,
    progress: bool = True,
) -> PseudoLabels:
    """Writes ``output``: ``source`` with the ensemble's ``quats`` and ``coords`` (see the module notes).

    A file that has labels already is refused unless ``replace_labels``; then the pseudo-labels'
    errors against the replaced labels are returned too.
    """
    ds = open_dataset(source)
    present = [name for name in LABELS if ds.has(name)]
    if present and not replace_labels:
        raise OpNetError(f"{source}: already has {', '.join(present)}; pass --replace-labels to replace them")
    check_writable(Path(output), overwrite)
    ensemble = predict_ensemble(ds, model_paths, roi, expansion, threads, batch_size, progress)
    mae = _errors_against_stored(ds, ensemble.quat) if ds.has("quats") else None
    labels = {"quats": ensemble.quat, "coords": ensemble.coords}
    _copy_with_labels(ds, output, _specs(ds, model_paths), labels, overwrite)
    log.info("wrote %s: %d samples with pseudo-labels from %d models", output, len(ds), len(model_paths))
    return PseudoLabels(ensemble.quat, ensemble.coords, mae)
