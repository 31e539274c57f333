"""Combines the loss terms per sample, with label masks and dataset weights.

For a batch of B samples with dataset weights w_s, label masks m_st and per-sample values v_st of
term t (weight lambda_t):

    total = sum_t lambda_t * sum_s w_s m_st v_st / B

(the original's normalisation: a sample without a label adds nothing to that term). Each named
term reported next to ``total`` is its weighted mean over the samples that have the label,
sum_s w_s m_st v_st / sum_s w_s m_st (0 if none), detached, for logging. Missing labels are replaced by
harmless values before evaluation, so they never produce NaN, in values or gradients. The
terms are computed in float32 with autocast off, whatever precision the network ran in.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import torch
from torch import Tensor, nn

from opnet.losses.box import box_loss
from opnet.losses.config import LossConfig
from opnet.losses.landmarks import landmark_point_weights, points_loss
from opnet.losses.nll import box_nll, points_nll, pos_size_nll, rotation_nll
from opnet.losses.position import size_loss, xy_loss
from opnet.losses.regularizers import quat_norm_loss
from opnet.losses.rotation import rotation_loss
from opnet.models.config import ModelConfig
from opnet.models.output import PoseNetOutput
from opnet.targets import PoseTargets

TermFn = Callable[["PoseLoss", PoseNetOutput, PoseTargets], Tensor]

# Term name -> (mask field of PoseTargets, or None for every sample; per-sample function).
TERMS: dict[str, tuple[str | None, TermFn]] = {
    "rot": ("has_quat", lambda c, o, t: rotation_loss(o.quat, t.quat, c.config.rot_metric)),
    "xy": ("has_pos_size", lambda c, o, t: xy_loss(o.pos_size, t.pos_size)),
    "size": ("has_pos_size", lambda c, o, t: size_loss(o.pos_size, t.pos_size)),
    "box": ("has_box", lambda c, o, t: box_loss(o.box, t.box)),
    "points": (
        "has_points",
        lambda c, o, t: points_loss(
            o.points, t.points, t.has_points_z, c.point_weights, c.config.points_metric
        ),
    ),
    "quat_norm": (None, lambda c, o, t: quat_norm_loss(o.quat_raw)),
    "nll_rot": ("has_quat", lambda c, o, t: rotation_nll(o.quat, o.rotaxis_scales_tril, t.quat)),
    "nll_pos_size": (
        "has_pos_size",
        lambda c, o, t: pos_size_nll(o.pos_size, o.pos_size_scales_tril, t.pos_size),
    ),
    "nll_box": ("has_box", lambda c, o, t: box_nll(o.box, o.box_scales, t.box)),
    "nll_points": (
        "has_points",
        lambda c, o, t: points_nll(o.points, o.points_scales, t.points, t.has_points_z, c.point_weights),
    ),
}
LANDMARK_TERMS = frozenset({"points", "nll_points"})
NLL_TERMS = frozenset({"nll_rot", "nll_pos_size", "nll_box", "nll_points"})


def active_terms(config: LossConfig, model: ModelConfig) -> dict[str, float]:
    """Terms with a weight > 0 that the model's outputs support (landmarks, uncertainty)."""
    return {
        name: weight
        for name, weight in config.weights().items()
        if weight > 0
        and (model.landmarks or name not in LANDMARK_TERMS)
        and (model.uncertainty or name not in NLL_TERMS)
    }


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
    )


def as_float32(output: PoseNetOutput) -> PoseNetOutput:
    """The output with every tensor in float32 (losses are evaluated outside mixed precision)."""
    return dataclasses.replace(output, **{k: v.float() for k, v in output.as_dict().items()})


class PoseLoss(nn.Module):
    """``loss(output, targets)`` -> dict of named scalar terms (detached) and the weighted ``total``."""

    point_weights: Tensor

    def __init__(self, config: LossConfig, model: ModelConfig):
        super().__init__()
        self.config = config
        self.terms = active_terms(config, model)
        self.register_buffer("point_weights", landmark_point_weights(config.jaw_weight, config.eyelid_weight))

    def forward(self, output: PoseNetOutput, targets: PoseTargets) -> dict[str, Tensor]:
        with torch.autocast(output.quat.device.type, enabled=False):
            return self._combine(as_float32(output), with_safe_labels(targets), targets)

    def _combine(self, output: PoseNetOutput, safe: PoseTargets, targets: PoseTargets) -> dict[str, Tensor]:
        losses: dict[str, Tensor] = {}
        total = output.quat.new_zeros(())
        for name, weight in self.terms.items():
            mask_field, fn = TERMS[name]
            mask = (
                getattr(targets, mask_field)
                if mask_field
                else torch.ones_like(targets.weight, dtype=torch.bool)
            )
            values = torch.where(mask, fn(self, output, safe), 0.0)
            sample_weights = targets.weight * mask
            weighted_sum = (sample_weights * values).sum()
            losses[name] = (weighted_sum / sample_weights.sum().clamp_min(1e-12)).detach()
            total = total + weight * weighted_sum
        losses["total"] = total / max(1, len(targets))
        return losses
