"""Uncertainty outputs: Cholesky factors predicted from the features, and learned constant scales."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from opnet.models.heads import positive

MIN_SCALE = 1e-6
"""Added to every standard deviation / Cholesky diagonal so that densities stay finite."""


class CholeskyHead(nn.Module):
    """Features (B, C) -> lower-triangular L (B, n, n) with positive diagonal (covariance L L^T).

    L = diag(d) @ U with U unit lower-triangular: the diagonal d = init_scale * positive(.) starts
    at ``init_scale``; the off-diagonal entries of U are free (they start at 0), so correlations
    do not depend on the scale. Built with a constant gather (exports to ONNX as Gather).
    """

    index: Tensor
    eye: Tensor

    def __init__(self, num_features: int, dim: int, init_scale: float):
        super().__init__()
        self.dim = dim
        self.init_scale = init_scale
        rows, cols = torch.tril_indices(dim, dim, offset=-1)
        index = torch.zeros(dim * dim, dtype=torch.long)
        index[rows * dim + cols] = torch.arange(1, len(rows) + 1)
        self.register_buffer("index", index, persistent=False)
        self.register_buffer("eye", torch.eye(dim), persistent=False)
        self.linear = nn.Linear(num_features, dim + len(rows))
        nn.init.zeros_(self.linear.bias)

    def forward(self, z: Tensor) -> Tensor:
        raw = self.linear(z)
        diag = self.init_scale * positive(raw[:, : self.dim]) + MIN_SCALE
        padded = torch.cat([torch.zeros_like(raw[:, :1]), raw[:, self.dim :]], dim=1)
        unit = padded[:, self.index].view(-1, self.dim, self.dim) + self.eye
        return diag[:, :, None] * unit


class ScaleParameter(nn.Module):
    """Learned, input-independent standard deviations of the given shape, starting at ``init_scale``."""

    def __init__(self, shape: tuple[int, ...], init_scale: float):
        super().__init__()
        self.raw = nn.Parameter(torch.zeros(shape))
        self.init_scale = init_scale

    def forward(self, like: Tensor) -> Tensor:
        """(B, *shape) scales for a batch shaped like ``like`` (B, ...) (an expanded view)."""
        scales = self.init_scale * positive(self.raw) + MIN_SCALE
        return scales.expand(like.shape[0], *scales.shape)


# Initial standard deviations (radians for the rotation, patch units otherwise).
ROTATION_INIT_SCALE = 0.5
POS_SIZE_INIT_SCALE = 0.2
BOX_INIT_SCALE = 0.1
POINTS_INIT_SCALE = 0.1
SHAPEPARAMS_INIT_SCALE = 1.0
"""Shape coefficients: the datasets' ``shapeparams`` and learned bases both have about unit spread."""


class UncertaintyHeads(nn.Module):
    """All uncertainty outputs, named like the :class:`~opnet.models.PoseNetOutput` fields they fill.

    ``num_points`` / ``num_shape_params``: landmark and shape-coefficient scales (None: none).
    """

    def __init__(self, num_features: int, num_points: int | None, num_shape_params: int | None = None):
        super().__init__()
        self.rotaxis = CholeskyHead(num_features, 3, ROTATION_INIT_SCALE)
        self.pos_size = CholeskyHead(num_features, 3, POS_SIZE_INIT_SCALE)
        self.box = ScaleParameter((4,), BOX_INIT_SCALE)
        self.points = ScaleParameter((num_points, 3), POINTS_INIT_SCALE) if num_points else None
        self.shapeparams = (
            ScaleParameter((num_shape_params,), SHAPEPARAMS_INIT_SCALE) if num_shape_params else None
        )
        self.register_load_state_dict_pre_hook(_start_missing_shapeparams_scales)

    def forward(self, z: Tensor) -> dict[str, Tensor]:
        out = {
            "rotaxis_scales_tril": self.rotaxis(z),
            "pos_size_scales_tril": self.pos_size(z),
            "box_scales": self.box(z),
        }
        if self.points is not None:
            out["points_scales"] = self.points(z)
        if self.shapeparams is not None:
            out["shapeparams_scales"] = self.shapeparams(z)
        return out


def _start_missing_shapeparams_scales(
    module: UncertaintyHeads, state_dict: dict[str, Any], prefix: str, *args: Any
) -> None:
    """Checkpoints written before the shape-coefficient scales existed load with them at their start."""
    key = f"{prefix}shapeparams.raw"
    if module.shapeparams is not None and key not in state_dict:
        state_dict[key] = torch.zeros_like(module.shapeparams.raw)
