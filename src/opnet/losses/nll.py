"""Negative log-likelihoods of the labels under the network's predicted uncertainty.

Rotation: the error rotation vector v = log(q^-1 q_gt) (head frame, radians) under N(0, L L^T)
with L = ``rotaxis_scales_tril``; centre/size under N(pos_size, L L^T). Both can be mixed
(1 - w) / w with a uniform density over the plausible range, so that gross errors cannot dominate
(``outlier_weight`` w; 0 gives the plain Gaussian, as the original paper). Box, landmarks and shape
coefficients: independent Gaussians (landmarks: or Laplace densities) per coordinate with the
predicted scales, summed over the coordinates ("sum", the joint NLL) or averaged ("mean", the
original's).
"""

from __future__ import annotations

import math
from typing import Literal

import roma
import torch
from torch import Tensor
from torch.distributions import Laplace, MultivariateNormal, Normal

from opnet.losses.landmarks import PointsDivisor, align_depth, coordinate_mask, weighted_point_mean

UNIFORM_WEIGHT = 0.001
ROTATION_VOLUME = 4.0 / 3.0 * math.pi**4
"""Volume of the rotation vectors of angle <= pi (a ball of radius pi)."""
POS_SIZE_VOLUME = 2.0 * 2.0 * 2.0
"""x, y in [-1, 1], size in [0, 2] (patch units)."""

Distribution = Literal["gaussian", "laplace"]
CoordinateReduction = Literal["sum", "mean"]
_DENSITIES = {"gaussian": Normal, "laplace": Laplace}


def mix_with_uniform(log_prob: Tensor, volume: float, uniform_weight: float = UNIFORM_WEIGHT) -> Tensor:
    """log((1 - w) p + w / volume) from log p, computed stably; ``log_prob`` itself when w = 0."""
    if uniform_weight == 0:
        return log_prob
    log_uniform = torch.full_like(log_prob, -math.log(volume) + math.log(uniform_weight))
    return torch.logaddexp(log_prob + math.log1p(-uniform_weight), log_uniform)


def rotation_error_vector(quat: Tensor, quat_gt: Tensor) -> Tensor:
    """(B, 4) xyzw -> (B, 3) rotation vector of q^-1 q_gt (radians, in the frame of q, angle <= pi)."""
    return roma.unitquat_to_rotvec(roma.quat_product(roma.quat_conjugation(quat), quat_gt))


def rotation_nll(
    quat: Tensor, scale_tril: Tensor, quat_gt: Tensor, outlier_weight: float = UNIFORM_WEIGHT
) -> Tensor:
    """(B,) NLL of ``quat_gt`` (B, 4) given the prediction ``quat`` (B, 4) and its L (B, 3, 3)."""
    error = rotation_error_vector(quat, quat_gt)
    log_prob = MultivariateNormal(
        torch.zeros_like(error), scale_tril=scale_tril, validate_args=False
    ).log_prob(error)
    return -mix_with_uniform(log_prob, ROTATION_VOLUME, outlier_weight)


def pos_size_nll(
    pos_size: Tensor, scale_tril: Tensor, target: Tensor, outlier_weight: float = UNIFORM_WEIGHT
) -> Tensor:
    """(B,) NLL of the labelled centre/size (B, 3) under N(pos_size, L L^T)."""
    log_prob = MultivariateNormal(pos_size, scale_tril=scale_tril, validate_args=False).log_prob(target)
    return -mix_with_uniform(log_prob, POS_SIZE_VOLUME, outlier_weight)


def coordinate_nll(
    value: Tensor, scales: Tensor, target: Tensor, distribution: Distribution = "gaussian"
) -> Tensor:
    """Elementwise NLL of ``target`` under independent densities centred on ``value`` with ``scales``
    (standard deviations for "gaussian", scale b for "laplace"); all three of the same shape."""
    return -_DENSITIES[distribution](value, scales, validate_args=False).log_prob(target)


def _reduce(nll: Tensor, coordinates: CoordinateReduction) -> Tensor:
    return nll.sum(dim=-1) if coordinates == "sum" else nll.mean(dim=-1)


def box_nll(box: Tensor, scales: Tensor, target: Tensor, coordinates: CoordinateReduction = "sum") -> Tensor:
    """(B,) NLL of the labelled box (B, 4) under independent Gaussians, summed or averaged over x0..y1."""
    return _reduce(coordinate_nll(box, scales, target), coordinates)


def shapeparams_nll(
    params: Tensor, scales: Tensor, target: Tensor, coordinates: CoordinateReduction = "sum"
) -> Tensor:
    """(B,) NLL of the labelled shape coefficients (B, K) under independent Gaussians, summed or
    averaged over the K coefficients."""
    return _reduce(coordinate_nll(params, scales, target), coordinates)


def points_nll(
    points: Tensor,
    scales: Tensor,
    target: Tensor,
    has_z: Tensor,
    point_weights: Tensor,
    distribution: Distribution = "gaussian",
    coordinates: CoordinateReduction = "sum",
    divisor: PointsDivisor = "weights",
    align: bool = True,
) -> Tensor:
    """(B,) weighted mean over landmarks of the per-point NLL of x, y, and z where ``has_z`` (B,):
    summed over those coordinates or averaged (over 3, or 2 without z). ``divisor`` as in
    :func:`opnet.losses.landmarks.weighted_point_mean`; ``align``: depths relative to the eye
    corners first (see :func:`align_depth`)."""
    if align:
        points, target = align_depth(points), align_depth(target)
    mask = coordinate_mask(has_z)
    per_point = (coordinate_nll(points, scales, target, distribution) * mask).sum(dim=-1)
    if coordinates == "mean":
        per_point = per_point / mask.sum(dim=-1)
    return weighted_point_mean(per_point, point_weights, divisor)
