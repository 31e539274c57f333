"""Squared error of the face box (patch units)."""

from __future__ import annotations

from torch import Tensor


def box_loss(box: Tensor, target: Tensor) -> Tensor:
    """(B, 4) x0, y0, x1, y1 -> (B,) mean squared error over the four coordinates."""
    return (box - target).square().mean(dim=-1)
