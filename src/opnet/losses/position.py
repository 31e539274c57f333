"""Squared errors of the head centre and size (patch units)."""

from __future__ import annotations

from torch import Tensor


def xy_loss(pos_size: Tensor, target: Tensor) -> Tensor:
    """(B, 3) x, y, size -> (B,) mean squared error of the centre x, y."""
    return (pos_size[:, :2] - target[:, :2]).square().mean(dim=-1)


def size_loss(pos_size: Tensor, target: Tensor) -> Tensor:
    """(B, 3) x, y, size -> (B,) squared error of the size."""
    return (pos_size[:, 2] - target[:, 2]).square()
