"""Keeps the raw quaternion near unit length, so that its normalisation stays well conditioned."""

from __future__ import annotations

from torch import Tensor


def quat_norm_loss(quat_raw: Tensor) -> Tensor:
    """(B, 4) unnormalised quaternions -> (B,) (1 - |q|)^2."""
    return (1.0 - quat_raw.norm(dim=-1)).square()
