"""Rotation loss: 1 - <q, q_gt>^2, which is sin^2(angle / 2) and the same for q and -q."""

from __future__ import annotations

from torch import Tensor


def rotation_loss(quat: Tensor, quat_gt: Tensor) -> Tensor:
    """Unit quaternions (B, 4) xyzw -> (B,) in [0, 1]; 0 for the same rotation."""
    return 1.0 - (quat * quat_gt).sum(dim=-1).square()
