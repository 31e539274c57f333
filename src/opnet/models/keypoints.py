"""The linear 68-point keypoint model of the landmark head, and how its points are posed.

Frame and units are those of :mod:`opnet.facemodel`: the head frame, one unit = the head size.
A model point v is posed as ``size * R(q) @ (v - HEAD_CENTRE) + (x, y, 0)``; then the depth is
shifted so that the mean depth of the eye corners is 0, the convention of ``pt3d_68`` labels
(depth relative to the head is not observable in those labels).
"""

from __future__ import annotations

import roma
import torch
from torch import Tensor, nn

from opnet.facemodel import EYE_CORNERS, HEAD_CENTRE

NUM_POINTS = 68


class KeypointModel(nn.Module):
    """``points(params) = mean + sum_k params[k] * basis[k]`` in the head frame.

    Buffers (saved with the network): ``mean`` (68, 3) and ``basis`` (K, 68, 3). Bases fitted by
    :func:`opnet.models.fit_keypoint_model` are scaled so that the coefficients of the training
    labels have unit variance.
    """

    mean: Tensor
    basis: Tensor

    def __init__(self, mean: Tensor, basis: Tensor):
        super().__init__()
        if mean.shape != (NUM_POINTS, 3) or basis.ndim != 3 or basis.shape[1:] != (NUM_POINTS, 3):
            raise ValueError(
                f"keypoint model needs mean (68, 3) and basis (K, 68, 3), got {mean.shape}, {basis.shape}"
            )
        self.register_buffer("mean", mean.to(torch.float32).clone())
        self.register_buffer("basis", basis.to(torch.float32).clone())

    @classmethod
    def empty(cls, num_params: int) -> KeypointModel:
        """A zero model of the right shape, to be filled by ``load_state_dict``."""
        return cls(torch.zeros(NUM_POINTS, 3), torch.zeros(num_params, NUM_POINTS, 3))

    @property
    def num_params(self) -> int:
        return self.basis.shape[0]

    def forward(self, params: Tensor) -> Tensor:
        """(B, K) coefficients -> (B, 68, 3) points in the head frame."""
        return self.mean + torch.einsum("bk,kpc->bpc", params, self.basis)


def pose_keypoints(local: Tensor, quat: Tensor, pos_size: Tensor) -> Tensor:
    """Head-frame points (B, P, 3) -> image points (B, P, 3) in the units of ``pos_size``.

    quat (B, 4) xyzw; pos_size (B, 3) head centre x, y and size. The depth of the result is
    relative to the mean depth of the eye corners (``pt3d_68`` convention; P must be 68).
    """
    rot = roma.unitquat_to_rotmat(quat)
    centred = local - local.new_tensor(HEAD_CENTRE)
    points = pos_size[:, None, 2:3] * torch.einsum("bij,bpj->bpi", rot, centred)
    eye_depth = points[:, list(EYE_CORNERS), 2].mean(dim=1)
    offset = torch.stack([pos_size[:, 0], pos_size[:, 1], -eye_depth], dim=-1)
    return points + offset[:, None, :]


def pose_keypoints_uncentred(local: Tensor, quat: Tensor, pos_size: Tensor) -> Tensor:
    """Head-model points (B, P, 3) -> ``size * R(q) p + (x, y, 0)`` (B, P, 3): the original code's
    posing (networks of style ``original-*``): no centring, the depth is the rotated model depth."""
    rot = roma.unitquat_to_rotmat(quat)
    points = pos_size[:, None, 2:3] * torch.einsum("bij,bpj->bpi", rot, local)
    offset = torch.cat([pos_size[:, :2], torch.zeros_like(pos_size[:, :1])], dim=1)
    return points + offset[:, None, :]
