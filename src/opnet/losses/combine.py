"""Combines the loss terms per sample, with label masks and dataset weights.

For a batch of B samples with dataset weights w_s, label masks m_st and per-sample values v_st of
term t (weight lambda_t):

    total = sum_t lambda_t * sum_s w_s m_st v_st / B

(the original's normalisation: a sample without a label adds nothing to that term, and the sum is
divided by the whole batch). Each named term reported next to ``total`` is its weighted mean over
the samples that have the label, sum_s w_s m_st v_st / sum_s w_s m_st (0 if none), detached, for
logging. Missing labels are replaced by harmless values before evaluation, so they never produce
NaN, in values or gradients. The terms are computed in float32 with autocast off, whatever
precision the network ran in.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import cast

import torch
from torch import Tensor, nn

from opnet.losses.box import box_loss
from opnet.losses.config import NLL_TERM_NAMES, LossConfig
from opnet.losses.landmarks import PointsDivisor, PointsMetric, landmark_point_weights, points_loss
from opnet.losses.nll import (
    CoordinateReduction,
    Distribution,
    box_nll,
    points_nll,
    pos_size_nll,
    rotation_nll,
    shapeparams_nll,
)
from opnet.losses.position import size_loss, xy_loss
from opnet.losses.regularizers import quat_norm_loss
from opnet.losses.rotation import rotation_loss
from opnet.losses.shapeparams import LABEL_SHAPEPARAMS, shapeparams_loss
from opnet.models.config import ModelConfig
from opnet.models.output import PoseNetOutput
from opnet.targets import PoseTargets

log = logging.getLogger(__name__)

TermFn = Callable[["PoseLoss", PoseNetOutput, PoseTargets], Tensor]


def _need(value: Tensor | None, name: str) -> Tensor:
    """An output the active terms rely on (:func:`active_terms` switches terms off for models without it)."""
    if value is None:
        raise ValueError(f"the network output has no {name}, which an active loss term needs")
    return value


def _points(c: PoseLoss, o: PoseNetOutput, t: PoseTargets) -> Tensor:
    cfg = c.config
    return points_loss(
        _need(o.points, "points"),
        t.points,
        t.has_points_z,
        c.point_weights,
        cast(PointsMetric, cfg.points_metric),
        cast(PointsDivisor, cfg.points_divisor),
        cfg.align_depth,
    )


def _nll_points(c: PoseLoss, o: PoseNetOutput, t: PoseTargets) -> Tensor:
    cfg = c.config
    return points_nll(
        _need(o.points, "points"),
        _need(o.points_scales, "points_scales"),
        t.points,
        t.has_points_z,
        c.point_weights,
        cast(Distribution, cfg.nll_points_distribution),
        cast(CoordinateReduction, cfg.nll_coordinates),
        cast(PointsDivisor, cfg.points_divisor),
        cfg.align_depth,
    )


def _nll_rot(c: PoseLoss, o: PoseNetOutput, t: PoseTargets) -> Tensor:
    scales = _need(o.rotaxis_scales_tril, "rotaxis_scales_tril")
    return rotation_nll(o.quat, scales, t.quat, c.config.nll_outlier_weight)


def _nll_pos_size(c: PoseLoss, o: PoseNetOutput, t: PoseTargets) -> Tensor:
    scales = _need(o.pos_size_scales_tril, "pos_size_scales_tril")
    return pos_size_nll(o.pos_size, scales, t.pos_size, c.config.nll_outlier_weight)


def _nll_box(c: PoseLoss, o: PoseNetOutput, t: PoseTargets) -> Tensor:
    coordinates = cast(CoordinateReduction, c.config.nll_coordinates)
    return box_nll(o.box, _need(o.box_scales, "box_scales"), t.box, coordinates)


def _nll_shapeparams(c: PoseLoss, o: PoseNetOutput, t: PoseTargets) -> Tensor:
    params, scales = _need(o.shapeparams, "shapeparams"), _need(o.shapeparams_scales, "shapeparams_scales")
    return shapeparams_nll(params, scales, t.shapeparams, cast(CoordinateReduction, c.config.nll_coordinates))


# Term name -> (mask field of PoseTargets, or None for every sample; per-sample function).
TERMS: dict[str, tuple[str | None, TermFn]] = {
    "rot": ("has_quat", lambda c, o, t: rotation_loss(o.quat, t.quat, c.config.rot_metric)),
    "xy": ("has_pos_size", lambda c, o, t: xy_loss(o.pos_size, t.pos_size)),
    "size": ("has_pos_size", lambda c, o, t: size_loss(o.pos_size, t.pos_size)),
    "box": ("has_box", lambda c, o, t: box_loss(o.box, t.box)),
    "points": ("has_points", _points),
    "shapeparams": (
        "has_shapeparams",
        lambda c, o, t: shapeparams_loss(_need(o.shapeparams, "shapeparams"), t.shapeparams),
    ),
    "quat_norm": (None, lambda c, o, t: quat_norm_loss(o.quat_raw)),
    "nll_rot": ("has_quat", _nll_rot),
    "nll_pos_size": ("has_pos_size", _nll_pos_size),
    "nll_box": ("has_box", _nll_box),
    "nll_points": ("has_points", _nll_points),
    "nll_shapeparams": ("has_shapeparams", _nll_shapeparams),
}
LANDMARK_TERMS = frozenset({"points", "nll_points", "shapeparams", "nll_shapeparams"})
SHAPEPARAM_TERMS = frozenset({"shapeparams", "nll_shapeparams"})
NLL_TERMS = frozenset(NLL_TERM_NAMES)


def unsupported_terms(config: LossConfig, model: ModelConfig) -> dict[str, str]:
    """Terms with a weight > 0 that the model cannot train -> why (one phrase)."""
    reasons = {}
    for name, weight in config.weights().items():
        if weight <= 0:
            continue
        if name in LANDMARK_TERMS and not model.landmarks:
            reasons[name] = "the model has no landmark head"
        elif name in NLL_TERMS and not model.uncertainty:
            reasons[name] = "the model has no uncertainty outputs"
        elif name in SHAPEPARAM_TERMS and model.num_shape_params != LABEL_SHAPEPARAMS:
            reasons[name] = (
                f"the model has {model.num_shape_params} shape coefficients, "
                f"the shapeparams labels {LABEL_SHAPEPARAMS}"
            )
    return reasons


def active_terms(config: LossConfig, model: ModelConfig) -> dict[str, float]:
    """Terms with a weight > 0 that the model's outputs support (landmarks, uncertainty, 50 shape
    coefficients for the ``shapeparams`` terms)."""
    off = unsupported_terms(config, model)
    return {name: weight for name, weight in config.weights().items() if weight > 0 and name not in off}


def with_safe_labels(targets: PoseTargets) -> PoseTargets:
    """Targets whose missing labels are replaced by finite placeholders (identity rotation, zeros)."""

    def keep(value: Tensor, mask: Tensor, fill: Tensor) -> Tensor:
        mask = mask.reshape(-1, *([1] * (value.dim() - 1)))
        return torch.where(mask, value, fill)

    identity = targets.quat.new_tensor([0.0, 0.0, 0.0, 1.0])
    zero = targets.quat.new_zeros(())
    points = keep(targets.points, targets.has_points, zero)
    points = torch.cat([points[..., :2], keep(points[..., 2:], targets.has_points_z, zero)], dim=-1)
    return dataclasses.replace(
        targets,
        quat=keep(targets.quat, targets.has_quat, identity),
        pos_size=keep(targets.pos_size, targets.has_pos_size, zero),
        box=keep(targets.box, targets.has_box, zero),
        points=points,
        shapeparams=keep(targets.shapeparams, targets.has_shapeparams, zero),
    )


def as_float32(output: PoseNetOutput) -> PoseNetOutput:
    """The output with every tensor in float32 (losses are evaluated outside mixed precision)."""
    return dataclasses.replace(output, **{k: v.float() for k, v in output.as_dict().items()})


class PoseLoss(nn.Module):
    """``loss(output, targets)`` -> dict of named scalar terms (detached) and the weighted ``total``.

    Terms the model cannot train (see :func:`unsupported_terms`) are left out, with one log line.
    """

    point_weights: Tensor
    config: LossConfig

    def __init__(self, config: LossConfig, model: ModelConfig):
        super().__init__()
        self.config = config
        self.terms = active_terms(config, model)
        for name, reason in unsupported_terms(config, model).items():
            log.info("loss term %s is off: %s", name, reason)
        self.register_buffer("point_weights", landmark_point_weights(config.jaw_weight, config.eyelid_weight))

    def forward(self, output: PoseNetOutput, targets: PoseTargets) -> dict[str, Tensor]:
        values = self.per_sample(output, targets)
        losses: dict[str, Tensor] = {}
        total = output.quat.new_zeros((), dtype=torch.float32)
        for name, weight in self.terms.items():
            sample_weights = targets.weight.float() * self._mask(name, targets)
            weighted_sum = (sample_weights * values[name]).sum()
            losses[name] = (weighted_sum / sample_weights.sum().clamp_min(1e-12)).detach()
            total = total + weight * weighted_sum
        losses["total"] = total / max(1, len(targets))
        return losses

    def per_sample(self, output: PoseNetOutput, targets: PoseTargets) -> dict[str, Tensor]:
        """Active term name -> (B,) unweighted per-sample values, 0 where the sample lacks the label."""
        with torch.autocast(output.quat.device.type, enabled=False):
            output, safe = as_float32(output), with_safe_labels(targets)
            return {
                name: torch.where(self._mask(name, targets), TERMS[name][1](self, output, safe), 0.0)
                for name in self.terms
            }

    @staticmethod
    def _mask(name: str, targets: PoseTargets) -> Tensor:
        field = TERMS[name][0]
        return getattr(targets, field) if field else torch.ones_like(targets.weight, dtype=torch.bool)
