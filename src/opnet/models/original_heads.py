"""The original code's uncertainty heads and pose offsets, for networks of style ``original-*``.

They reproduce the outputs of neuralnet-tracker-traincode exactly (docs/paper-models.md):

- ``paper`` branch: a 3 x 3 Cholesky factor from ``lin`` (no bias) -> BatchNorm1d(6) -> lower
  triangle (diagonal z0..z2, [1, 0] = z3, [2, 0] = z4, [2, 1] = z5), each column multiplied by the
  sign of its diagonal entry, + 0.01 I; input-independent scales hidden ** 2 + 0.01.
- ``master`` branch: ``lin`` (with bias, 7 outputs): m = positive(column 0), z = (positive(z[:3]),
  z[3:6]) * m + ``min_diag``, same triangle, no sign fix; scales positive(h[0]) * positive(h[1:]) +
  1e-6 (n + 1 parameters). Its :class:`PoseOffset` rotates, shifts and scales the predicted pose.
"""

from __future__ import annotations

import roma
import torch
from torch import Tensor, nn

from opnet.models.heads import positive

PAPER_MIN_SCALE = 0.01
"""Added to the paper branch's variances-as-scales and to its Cholesky diagonal."""
MASTER_MIN_SCALE = 1e-6
"""Added to the master branch's input-independent scales."""
NUM_DATASET_OFFSETS = 8
"""Rows of the master branch's pose-offset parameters (one per training-set convention; row 0 is
used at inference)."""

_TRIL_ROWS = ((1, 0, 0), (4, 2, 0), (5, 6, 3))
"""Indices into (0, z0, ..., z5) of the rows of a 3 x 3 lower triangle."""


def fill_tril(z: Tensor) -> Tensor:
    """(B, 6) diagonal z0..z2 then [1, 0], [2, 0], [2, 1] -> (B, 3, 3) lower-triangular matrix.

    Built from gathered rows (no reshape), so that an export keeps the batch dimension static.
    """
    padded = torch.cat([torch.zeros_like(z[:, :1]), z], dim=1)
    return torch.stack([padded[:, list(row)] for row in _TRIL_ROWS], dim=1)


class PaperCholeskyHead(nn.Module):
    """Features (B, C) -> (B, 3, 3) Cholesky factor, the paper branch's ``FeaturesAsTriangularCovFactor``.

    Initialised as the original: the factor starts near 1.01 I.
    """

    eye: Tensor

    def __init__(self, num_features: int):
        super().__init__()
        self.lin = nn.Linear(num_features, 6, bias=False)
        self.bn = nn.BatchNorm1d(6)
        with torch.no_grad():
            self.bn.weight.mul_(1e-4)
            self.bn.bias.copy_(torch.tensor([1.0, 1.0, 1.0, 0.0, 0.0, 0.0]))
        self.register_buffer("eye", torch.eye(3) * PAPER_MIN_SCALE, persistent=False)

    def forward(self, z: Tensor) -> Tensor:
        values = self.bn(self.lin(z))
        signs = torch.sign(values[:, :3])  # of the diagonal entries
        return fill_tril(values) * signs[:, None, :] + self.eye


class MasterCholeskyHead(nn.Module):
    """Features (B, C) -> (B, 3, 3) Cholesky factor, the master branch's ``FeaturesAsTriangularScale``."""

    min_diag: Tensor

    def __init__(self, num_features: int):
        super().__init__()
        self.lin = nn.Linear(num_features, 7)
        self.register_buffer("min_diag", torch.tensor([MASTER_MIN_SCALE] * 3 + [0.0] * 3))

    def forward(self, z: Tensor) -> Tensor:
        raw = self.lin(z)
        multiplier, x = positive(raw[:, :1]), raw[:, 1:]
        values = torch.cat([positive(x[:, :3]), x[:, 3:]], dim=1) * multiplier + self.min_diag
        return fill_tril(values)


class PaperScale(nn.Module):
    """``n`` learned, input-independent scales hidden ** 2 + 0.01 (``UncorrelatedVarianceParameter``)."""

    def __init__(self, n: int):
        super().__init__()
        self.hidden_scale = nn.Parameter(torch.ones(n))

    def forward(self) -> Tensor:
        return self.hidden_scale.square() + PAPER_MIN_SCALE


class MasterScale(nn.Module):
    """``n`` learned scales positive(h[0]) * positive(h[1:]) + 1e-6 (``DiagonalScaleParameter``)."""

    def __init__(self, n: int):
        super().__init__()
        self.hidden_scale = nn.Parameter(torch.zeros(n + 1))

    def forward(self) -> Tensor:
        return positive(self.hidden_scale[:1]) * positive(self.hidden_scale[1:]) + MASTER_MIN_SCALE


class OriginalUncertaintyHeads(nn.Module):
    """All uncertainty outputs of an original network, named like the PoseNetOutput fields they fill."""

    def __init__(self, style: str, num_features: int, num_points: int | None, num_shape_params: int | None):
        super().__init__()
        master = style == "original-master"
        cholesky = MasterCholeskyHead if master else PaperCholeskyHead
        scale = MasterScale if master else PaperScale
        self.rotaxis = cholesky(num_features)
        self.pos_size = cholesky(num_features)
        self.box = scale(4)
        self.points = scale(num_points) if num_points else None
        self.shapeparams = scale(num_shape_params) if num_shape_params else None

    def forward(self, z: Tensor) -> dict[str, Tensor]:
        batch = z.shape[0]
        out = {
            "rotaxis_scales_tril": self.rotaxis(z),
            "pos_size_scales_tril": self.pos_size(z),
            "box_scales": self.box()[None, :].expand(batch, -1),
        }
        if self.points is not None:
            out["points_scales"] = self.points()[None, :, None].expand(batch, -1, 3)
        if self.shapeparams is not None:
            out["shapeparams_scales"] = self.shapeparams()[None, :].expand(batch, -1)
        return out


class CoordinateOffset(nn.Module):
    """The master branch's ``LocalToGlobalCoordinateOffset`` at inference (parameter row 0).

    With (a, b, c, d) = ``p[0, 1], p[0, 1], p[0, 2], p[0, 3]`` (the original reads the x-rotation
    angle from column 1, not 0, so p[0, 0] is unused): size' = size * positive(d); q' = q * rot_x(a);
    (x', y') = (x, y) + (R(q) (0, b, c))[:2] * size'.
    """

    def __init__(self) -> None:
        super().__init__()
        self.p = nn.Parameter(torch.zeros(NUM_DATASET_OFFSETS, 4))

    def forward(self, quat: Tensor, pos_size: Tensor) -> tuple[Tensor, Tensor]:
        angle, shift, scale = self.p[0, 1], self.p[0, 1:3], positive(self.p[0, 3])
        half = 0.5 * angle
        zero = torch.zeros_like(half)
        offset_quat = torch.stack([torch.sin(half), zero, zero, torch.cos(half)])
        size = pos_size[:, 2:] * scale
        new_quat = roma.quat_product(quat, offset_quat.expand_as(quat))
        translation = torch.cat([torch.zeros_like(shift[:1]), shift]).expand(len(quat), 3)
        xy = pos_size[:, :2] + roma.quat_action(quat, translation, is_normalized=True)[:, :2] * size
        return new_quat, torch.cat([xy, size], dim=1)


class PoseOffset(nn.Module):
    """The master branch's two offsets: one for the pose outputs, one for posing the landmarks."""

    def __init__(self) -> None:
        super().__init__()
        self.pose = CoordinateOffset()
        self.points = CoordinateOffset()
