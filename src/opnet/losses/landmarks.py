"""Landmark loss with per-point weights, for 3D labels and for 2D-only labels.

Depth in OpNet's ``pt3d_68`` labels is relative to the mean depth of the eye corners; with
``align=True`` predictions and labels are both brought to that reference before comparing, so a
depth offset never counts (the original compared depths as they are).
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

from opnet.facemodel import EYE_CORNERS

JAW_WITHOUT_CHIN = tuple(i for i in range(17) if i != 8)
"""The jaw line 0..16 except the chin tip 8."""
EYELIDS = (37, 38, 40, 41, 43, 44, 46, 47)
"""The eye contour points other than the corners."""

PointsMetric = Literal["l1", "l2"]
PointsDivisor = Literal["weights", "count"]


def landmark_point_weights(jaw_weight: float = 0.8, eyelid_weight: float = 0.0) -> Tensor:
    """(68,) weights: 1, except the jaw line (less reliable in labels) and the eyelids (blinks)."""
    weights = torch.ones(68)
    weights[list(JAW_WITHOUT_CHIN)] = jaw_weight
    weights[list(EYELIDS)] = eyelid_weight
    return weights


def align_depth(points: Tensor) -> Tensor:
    """(B, 68, 3) -> the same points with the mean depth of the eye corners moved to 0."""
    eye_depth = points[:, list(EYE_CORNERS), 2:].mean(dim=1, keepdim=True)
    return torch.cat([points[..., :2], points[..., 2:] - eye_depth], dim=-1)


def coordinate_mask(has_z: Tensor) -> Tensor:
    """(B,) bool -> (B, 1, 3) float: 1 for x and y, has_z for z."""
    ones = torch.ones_like(has_z, dtype=torch.float32)
    return torch.stack([ones, ones, has_z.to(torch.float32)], dim=-1)[:, None, :]


def weighted_point_mean(per_point: Tensor, point_weights: Tensor, divisor: PointsDivisor) -> Tensor:
    """(B, 68) -> (B,) sum of ``point_weights`` (68,) x values, divided by the sum of the weights
    ("weights") or by the number of points ("count", the original's)."""
    norm = point_weights.sum() if divisor == "weights" else per_point.shape[-1]
    return (per_point * point_weights).sum(dim=-1) / norm


def points_loss(
    points: Tensor,
    target: Tensor,
    has_z: Tensor,
    point_weights: Tensor,
    metric: PointsMetric = "l2",
    divisor: PointsDivisor = "weights",
    align: bool = True,
) -> Tensor:
    """(B, 68, 3) predicted and labelled landmarks -> (B,) weighted mean over points of the squared
    distance ("l2") or of the sum of absolute coordinate errors ("l1", the original's); z counts
    only where ``has_z`` (B,) is True. ``divisor``: see :func:`weighted_point_mean`; ``align``: see
    the module docstring."""
    if align:
        points, target = align_depth(points), align_depth(target)
    diff = (points - target) * coordinate_mask(has_z)
    per_point = diff.square().sum(dim=-1) if metric == "l2" else diff.abs().sum(dim=-1)
    return weighted_point_mean(per_point, point_weights, divisor)
