"""Linear heads on the pooled features: rotation, head centre/size, face box, landmarks."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from opnet.models.keypoints import KeypointModel, pose_keypoints, pose_keypoints_uncentred

QUAT_NORM_EPS = 1e-6


def positive(x: Tensor) -> Tensor:
    """Smooth map onto (0, inf): exp(x) for x < 0, 1 + x above (ELU + 1); positive(0) = 1."""
    return F.elu(x) + 1.0


class QuatHead(nn.Module):
    """Features (B, C) -> unit quaternion (B, 4) xyzw with w > 0, and the unnormalised one."""

    def __init__(self, num_features: int):
        super().__init__()
        self.linear = nn.Linear(num_features, 4)
        nn.init.zeros_(self.linear.bias)

    def forward(self, z: Tensor) -> tuple[Tensor, Tensor]:
        raw = self.linear(z)
        raw = torch.cat([raw[:, :3], positive(raw[:, 3:])], dim=1)
        return F.normalize(raw, dim=1, eps=QUAT_NORM_EPS), raw


class PosSizeHead(nn.Module):
    """Features (B, C) -> head centre x, y and size > 0 (B, 3), patch units; size starts near 1."""

    def __init__(self, num_features: int):
        super().__init__()
        self.linear = nn.Linear(num_features, 3)
        nn.init.zeros_(self.linear.bias)

    def forward(self, z: Tensor) -> Tensor:
        raw = self.linear(z)
        return torch.cat([raw[:, :2], positive(raw[:, 2:])], dim=1)


class BoxHead(nn.Module):
    """Features (B, C) -> box x0, y0, x1, y1 (B, 4) from a centre and positive half-sizes."""

    def __init__(self, num_features: int):
        super().__init__()
        self.linear = nn.Linear(num_features, 4)
        nn.init.zeros_(self.linear.bias)

    def forward(self, z: Tensor) -> Tensor:
        raw = self.linear(z)
        centre, half = raw[:, :2], positive(raw[:, 2:])
        return torch.cat([centre - half, centre + half], dim=1)


class LandmarkHead(nn.Module):
    """Features -> keypoint-model coefficients (B, K) -> 68 landmarks posed by the predicted pose.

    The coefficients start at 0 (the mean shape). Gradients flow into the pose as well.
    ``centred``: OpNet's posing (:func:`pose_keypoints`); else the original code's
    (:func:`pose_keypoints_uncentred`).
    """

    def __init__(self, num_features: int, keypoints: KeypointModel, centred: bool = True):
        super().__init__()
        self.linear = nn.Linear(num_features, keypoints.num_params)
        nn.init.zeros_(self.linear.weight)
        nn.init.zeros_(self.linear.bias)
        self.keypoints = keypoints
        self.pose = pose_keypoints if centred else pose_keypoints_uncentred

    def forward(self, z: Tensor, quat: Tensor, pos_size: Tensor) -> tuple[Tensor, Tensor]:
        params = self.linear(z)
        return self.pose(self.keypoints(params), quat, pos_size), params
