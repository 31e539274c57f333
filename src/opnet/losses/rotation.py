"""Rotation losses of unit quaternions, the same for q and -q.

With d = <q, q_gt> = cos(angle / 2):

- ``"sin2"``: 1 - d^2 = sin^2(angle / 2), the original's. Quadratic in small angles, so its
  gradient fades as the error shrinks.
- ``"sin"``: sqrt(1 - d^2) = |sin(angle / 2)|, about angle / 2 for small angles: its gradient does
  not fade, so short runs reach fine accuracy sooner (what ``opnet demo`` uses).
"""

from __future__ import annotations

import torch
from torch import Tensor

ROTATION_METRICS = ("sin2", "sin")
_SIN_EPS = 1e-8
"""Keeps the gradient of sqrt finite at a zero error (about 1e-4 rad of smoothing)."""


def rotation_loss(quat: Tensor, quat_gt: Tensor, metric: str = "sin2") -> Tensor:
    """Unit quaternions (B, 4) xyzw -> (B,) in [0, 1]; 0 for the same rotation. ``metric``: see above."""
    sin2 = 1.0 - (quat * quat_gt).sum(dim=-1).square()
    if metric == "sin2":
        return sin2
    if metric == "sin":
        return torch.sqrt(sin2.clamp_min(0.0) + _SIN_EPS) - _SIN_EPS**0.5
    raise ValueError(f"rotation metric {metric!r}: expected one of {ROTATION_METRICS}")
