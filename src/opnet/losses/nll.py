"""Negative log-likelihoods of the labels under the network's predicted uncertainty.

Rotation: the error rotation vector v = log(q^-1 q_gt) (head frame, radians) under N(0, L L^T)
with L = ``rotaxis_scales_tril``; centre/size under N(pos_size, L L^T). Both are mixed 0.999/0.001
with a uniform density over the plausible range, so that gross errors cannot dominate. Box and
landmarks: independent Gaussians per coordinate with the predicted standard deviations.
"""

from __future__ import annotations

import math

import roma
import torch
from torch import Tensor
from torch.distributions import MultivariateNormal, Normal

from opnet.losses.landmarks import align_depth, coordinate_mask

UNIFORM_WEIGHT = 0.001
ROTATION_VOLUME = 4.0 / 3.0 * math.pi**4
"""Volume of the rotation vectors of angle <= pi (a ball of radius pi)."""
POS_SIZE_VOLUME = 2.0 * 2.0 * 2.0
"""x, y in [-1, 1], size in [0, 2] (patch units)."""


def mix_with_uniform(log_prob: Tensor, volume: float, uniform_weight: float = UNIFORM_WEIGHT) -> Tensor:
    """log((1 - w) p + w / volume) from log p, computed stably."""
    log_uniform = torch.full_like(log_prob, -math.log(volume) + math.log(uniform_weight))
    return torch.logaddexp(log_prob + math.log1p(-uniform_weight), log_uniform)


def rotation_error_vector(quat: Tensor, quat_gt: Tensor) -> Tensor:
    """(B, 4) xyzw -> (B, 3) rotation vector of q^-1 q_gt (radians, in the frame of q, angle <= pi)."""
    return roma.unitquat_to_rotvec(roma.quat_product(roma.quat_conjugation(quat), quat_gt))


def rotation_nll(quat: Tensor, scale_tril: Tensor, quat_gt: Tensor) -> Tensor:
    """(B,) NLL of ``quat_gt`` (B, 4) given the prediction ``quat`` (B, 4) and its L (B, 3, 3)."""
    error = rotation_error_vector(quat, quat_gt)
    log_prob = MultivariateNormal(
        torch.zeros_like(error), scale_tril=scale_tril, validate_args=False
    ).log_prob(error)
    return -mix_with_uniform(log_prob, ROTATION_VOLUME)


def pos_size_nll(pos_size: Tensor, scale_tril: Tensor, target: Tensor) -> Tensor:
    """(B,) NLL of the labelled centre/size (B, 3) under N(pos_size, L L^T)."""
    log_prob = MultivariateNormal(pos_size, scale_tril=scale_tril, validate_args=False).log_prob(target)
    return -mix_with_uniform(log_prob, POS_SIZE_VOLUME)


def box_nll(box: Tensor, scales: Tensor, target: Tensor) -> Tensor:
    """(B,) NLL of the labelled box (B, 4): sum over coordinates of independent Gaussians."""
    return -Normal(box, scales, validate_args=False).log_prob(target).sum(dim=-1)


def points_nll(
    points: Tensor, scales: Tensor, target: Tensor, has_z: Tensor, point_weights: Tensor
) -> Tensor:
    """(B,) weighted mean over landmarks of the per-point NLL (x, y, and z where ``has_z``).

    Depths of both are taken relative to the eye corners first (see :func:`align_depth`).
    """
    log_prob = Normal(align_depth(points), scales, validate_args=False).log_prob(align_depth(target))
    per_point = -(log_prob * coordinate_mask(has_z)).sum(dim=-1)
    return (per_point * point_weights).sum(dim=-1) / point_weights.sum()
