"""``evaluate_models``: the AFLW2000-3D / BIWI protocols for any :class:`opnet.runtime.PoseModel`."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from opnet.data import PoseDataset
from opnet.errors import DataError, OpNetError
from opnet.evaluate import metrics
from opnet.evaluate.alignment import opal23_aligned, perspective_corrected
from opnet.evaluate.ensemble import average_predictions
from opnet.evaluate.protocol import (
    RoiChoice,
    RoiSource,
    dataset_rois,
    keep_mask,
    landmark_field,
    roi_choices,
    source_fields,
)
from opnet.evaluate.results import (
    ENSEMBLE,
    EvaluationResult,
    EvaluationSettings,
    ModelInfo,
    Row,
    SampleErrors,
)
from opnet.evaluate.runner import predict_dataset
from opnet.evaluate.stability import all_variants, stability_spreads
from opnet.runtime import PoseModel, PosePrediction

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Labels:
    """The labels of the kept samples: true rotations, head centre/size, landmarks, person ids.

    ``not_finite`` counts, per field, the samples dropped because that field is not finite (NaN or
    infinite); ``dropped_not_finite`` is how many samples that is in all.
    """

    indices: NDArray[np.int64]
    quat: NDArray[np.float64]
    coords: NDArray[np.float64] | None
    points: NDArray[np.float64] | None
    groups: NDArray[np.int64] | None
    not_finite: dict[str, int] = field(default_factory=dict)
    dropped_not_finite: int = 0


def _finite_rows(values: NDArray) -> NDArray[np.bool_]:
    return np.isfinite(values.reshape(len(values), -1)).all(axis=1)


def read_labels(
    ds: PoseDataset, limit_deg: float | None, box_fields: Sequence[str] = ()
) -> tuple[Labels, int]:
    """Labels of the samples inside the pose filter, and the total sample count.

    Samples whose rotation, head centre/size, landmarks or ``box_fields`` (the fields the face boxes
    come from) are not finite are dropped first, and counted per field in ``Labels.not_finite``.
    """
    if not ds.has("quats"):
        raise DataError(ds.path, "has no field 'quats'; evaluation needs the true head rotations")
    quat = ds.read_field("quats").astype(np.float64)
    coords = ds.read_field("coords").astype(np.float64) if ds.has("coords") else None
    field_name = landmark_field(ds)
    points = ds.read_field(field_name).astype(np.float64) if field_name else None
    checked = {"quats": quat, "coords": coords, **({field_name: points} if field_name else {})}
    checked.update(
        {name: ds.read_field(name) for name in box_fields if name not in checked and name != "quats"}
    )
    finite = np.ones(len(quat), dtype=bool)
    not_finite = {}
    for name, values in checked.items():
        if values is not None and not (ok := _finite_rows(values)).all():
            not_finite[name] = int(np.count_nonzero(~ok))
            finite &= ok
    keep = finite & keep_mask(
        np.where(finite[:, None], quat, (0.0, 0.0, 0.0, 1.0)),
        None if coords is None else np.where(finite[:, None], coords, 0.0),
        limit_deg,
    )
    if not keep.any():
        reason = (
            "holds no samples"
            if limit_deg is None
            else f"has no samples within the +-{limit_deg:g} deg pose filter"
        )
        if not finite.any():
            reason = f"has no sample whose labels are all finite ({', '.join(not_finite)})"
        raise OpNetError(f"{ds.path}: {reason}")
    groups = ds.sequence_ids[keep] if ds.sequence_starts is not None else None
    labels = Labels(
        np.flatnonzero(keep),
        quat[keep],
        None if coords is None else coords[keep],
        None if points is None else points[keep],
        groups,
        not_finite,
        int(np.count_nonzero(~finite)),
    )
    return labels, len(quat)


def _aligned(
    pred: PosePrediction, labels: Labels, image_wh: NDArray, settings: EvaluationSettings
) -> NDArray:
    if settings.alignment == "perspective":
        return perspective_corrected(pred.quat, pred.coords[:, :2], image_wh, settings.fov_deg)
    if settings.alignment == "opal23" and labels.groups is not None:  # groups checked by evaluate_models
        return opal23_aligned(pred.quat, labels.quat, labels.groups)
    return pred.quat


def score(
    pred: PosePrediction, labels: Labels, rois: NDArray, image_wh: NDArray, settings: EvaluationSettings
) -> SampleErrors:
    """Per-sample errors of one prediction against the labels (rois: the unexpanded face boxes)."""
    quat = _aligned(pred, labels, image_wh, settings)
    position = None if labels.coords is None else metrics.position_errors(pred.coords, labels.coords, rois)
    nme3d = nme2d = None
    if pred.points is not None and labels.points is not None:
        nme2d = metrics.landmark_nme(pred.points, labels.points, dims=2)
        nme3d = (
            metrics.landmark_nme(pred.points, labels.points, dims=3) if labels.points.shape[-1] == 3 else None
        )
    return SampleErrors(
        labels.indices,
        labels.quat,
        quat,
        metrics.euler_errors(quat, labels.quat),
        metrics.geodesic_errors(quat, labels.quat),
        position,
        nme3d,
        nme2d,
    )


def summarize(errors: SampleErrors) -> metrics.PoseMetrics:
    """The table numbers of per-sample errors."""
    masks = metrics.yaw_bin_masks(errors.true_quat) if errors.nme2d is not None else None
    return metrics.summarize(
        errors.euler_err, errors.geodesic_err, errors.position_err, errors.nme3d, errors.nme2d, masks
    )


def display_names(models: Sequence[PoseModel]) -> list[str]:
    """Model names for tables, made unique by appending #2, #3 ... to repeats."""
    names: list[str] = []
    for model in models:
        name, k = model.name, 2
        while name in names or name == ENSEMBLE:
            name, k = f"{model.name}#{k}", k + 1
        names.append(name)
    return names


def _head_hull(settings: EvaluationSettings) -> NDArray | None:
    """The face-mask points of head boxes: the given 3DDFA model's mean mesh, or None (OpNet's own)."""
    if settings.face_model is None:
        return None
    from opnet.facemodel.bfm import load_3ddfa
    from opnet.facemodel.head_box import model_mask_hull

    return model_mask_hull(load_3ddfa(settings.face_model))


def _evaluate_choice(
    ds: PoseDataset,
    models: Sequence[PoseModel],
    names: list[str],
    labels: Labels,
    choice: RoiChoice,
    settings: EvaluationSettings,
    head_hull: NDArray | None,
) -> list[Row]:
    rois = dataset_rois(ds, choice.source, labels.indices, head_hull)
    preds = predict_dataset(
        ds,
        labels.indices,
        rois,
        choice.expansion,
        models,
        threads=settings.threads,
        batch_size=settings.batch_size,
        progress=settings.progress,
        desc=choice.label,
        protocol=settings.protocol,
    )
    runs = list(zip(names, preds.per_model, strict=True))
    if settings.ensemble:
        runs.append((ENSEMBLE, average_predictions(preds.per_model)))
    rows = []
    for name, pred in runs:
        errors = score(pred, labels, rois, preds.image_wh, settings)
        rows.append(Row(name, choice, summarize(errors), errors))
    return rows


def _check_settings(ds: PoseDataset, settings: EvaluationSettings, labels: Labels) -> None:
    if settings.alignment == "opal23" and labels.groups is None:
        raise DataError(ds.path, "--alignment opal23 needs 'sequence_starts' (one sequence per person)")


def evaluate_models(
    models: Sequence[PoseModel], ds: PoseDataset, settings: EvaluationSettings | None = None
) -> EvaluationResult:
    """Runs the protocol of ``settings`` (default :class:`EvaluationSettings`) for ``models`` on
    dataset ``ds``; see docs/evaluation.md.

    >>> from opnet.data import open_dataset
    >>> from opnet.models import ModelConfig, create_model, save_checkpoint
    >>> from opnet.runtime import load_pose_model
    >>> from opnet.synth import SynthConfig, generate_dataset
    >>> generate_dataset("heads.h5", 8, SynthConfig(image_size=64), progress=False)
    8
    >>> net = create_model(ModelConfig(width=0.25, input_size=64, landmarks=False))  # untrained
    >>> model = load_pose_model(save_checkpoint("net.ckpt", net))
    >>> result = evaluate_models([model], open_dataset("heads.h5"), EvaluationSettings(progress=False))
    >>> [(row.roi.label, row.metrics.samples, row.metrics.mean_deg > 0) for row in result.rows]
    [('head x1.1', 8, True)]
    """
    settings = EvaluationSettings() if settings is None else settings
    if not models:
        raise ValueError("no models to evaluate")
    choices = roi_choices(
        ds, settings.roi_source, settings.roi_expansion, settings.comprehensive_roi, settings.protocol
    )
    box_fields = sorted({name for c in choices for name in source_fields(ds, c.source)})
    labels, total = read_labels(ds, settings.filter_limit_deg, box_fields)
    _check_settings(ds, settings, labels)
    names = display_names(models)
    head_hull = _head_hull(settings) if any(c.source == RoiSource.HEAD for c in choices) else None
    log.debug("%s: %d samples, %d kept by the pose filter", ds.path, total, len(labels.indices))
    result = EvaluationResult(
        ds.path,
        settings,
        total,
        len(labels.indices),
        [
            ModelInfo(n, str(getattr(m, "path", "")) or None, m.input_size, m.has_points)
            for n, m in zip(names, models, strict=True)
        ],
        choices,
        dropped_not_finite=labels.dropped_not_finite,
        not_finite=labels.not_finite,
    )
    for choice in choices:
        result.rows.extend(_evaluate_choice(ds, models, names, labels, choice, settings, head_hull))
    if settings.stability is not None:
        result.stability = _stability(ds, models, names, labels, choices[0], settings, head_hull)
    return result


def _stability(
    ds: PoseDataset,
    models: Sequence[PoseModel],
    names: list[str],
    labels: Labels,
    choice: RoiChoice,
    settings: EvaluationSettings,
    head_hull: NDArray | None,
) -> dict:
    assert settings.stability is not None
    rois = dataset_rois(ds, choice.source, labels.indices, head_hull)
    preds = predict_dataset(
        ds,
        labels.indices,
        rois,
        choice.expansion,
        models,
        all_variants(settings.stability),
        threads=settings.threads,
        batch_size=max(1, settings.batch_size // 8),
        seed=settings.stability.seed,
        progress=settings.progress,
        desc="stability",
        protocol=settings.protocol,
    )
    return {
        name: stability_spreads(pred, rois, settings.stability)
        for name, pred in zip(names, preds.per_model, strict=True)
    }
