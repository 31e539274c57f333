"""The training batch: what the input pipeline produces and the losses consume.

Everything is in *patch units* (see opnet.preprocess): x, y in [-1, 1] across the network input,
sizes and depths relative to half the patch side. Labels a sample lacks are zero-filled and
flagged False in the matching ``has_*`` mask, so that only the heads with labels are trained.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import torch
from torch import Tensor


@dataclass
class PoseTargets:
    """Labels of a batch of B samples.

    quat (B, 4) xyzw with w >= 0; pos_size (B, 3) centre x, y and size; box (B, 4) x0, y0, x1, y1;
    points (B, 68, 3) landmarks (z valid only where ``has_points_z``); shapeparams (B, 50);
    masks (B,) bool; weight (B,) per-sample loss weight (dataset weighting); dataset (B,) int64
    index of the dataset in the training mix each sample came from.
    """

    quat: Tensor
    pos_size: Tensor
    box: Tensor
    points: Tensor
    shapeparams: Tensor
    has_quat: Tensor
    has_pos_size: Tensor
    has_box: Tensor
    has_points: Tensor
    has_points_z: Tensor
    has_shapeparams: Tensor
    weight: Tensor
    dataset: Tensor

    def to(self, device: torch.device | str, non_blocking: bool = False) -> PoseTargets:
        return PoseTargets(
            **{f.name: getattr(self, f.name).to(device, non_blocking=non_blocking) for f in fields(self)}
        )

    def pin_memory(self) -> PoseTargets:
        """Page-locked copies (what ``DataLoader(pin_memory=True)`` calls)."""
        return PoseTargets(**{f.name: getattr(self, f.name).pin_memory() for f in fields(self)})

    def __len__(self) -> int:
        return len(self.quat)


@dataclass
class PoseBatch:
    """image (B, 1, S, S) float32 normalised network input (opnet.preprocess), and its targets."""

    image: Tensor
    targets: PoseTargets

    def to(self, device: torch.device | str, non_blocking: bool = False) -> PoseBatch:
        return PoseBatch(
            self.image.to(device, non_blocking=non_blocking), self.targets.to(device, non_blocking)
        )

    def pin_memory(self) -> PoseBatch:
        """Page-locked copies (what ``DataLoader(pin_memory=True)`` calls)."""
        return PoseBatch(self.image.pin_memory(), self.targets.pin_memory())

    def __len__(self) -> int:
        return len(self.image)
