"""The pose network: backbone, global average pooling, dropout and the heads."""

from __future__ import annotations

import dataclasses

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from opnet.errors import OpNetError
from opnet.models.backbones import create_backbone
from opnet.models.config import ModelConfig
from opnet.models.heads import BoxHead, LandmarkHead, PosSizeHead, QuatHead
from opnet.models.keypoints import NUM_POINTS, KeypointModel
from opnet.models.original_heads import OriginalUncertaintyHeads, PoseOffset
from opnet.models.output import PoseNetOutput
from opnet.models.uncertainty import UncertaintyHeads


def _checked_keypoints(config: ModelConfig, keypoints: KeypointModel | None) -> KeypointModel:
    if keypoints is None:
        raise OpNetError("model landmarks are on: pass a keypoint model (opnet.models.fit_keypoint_model)")
    if keypoints.num_params != config.num_shape_params:
        raise OpNetError(
            f"keypoint model has {keypoints.num_params} parameters "
            f"but num_shape_params is {config.num_shape_params}"
        )
    return keypoints


class PoseNet(nn.Module):
    """(B, 1, S, S) crops normalised by ``config.input_norm`` (opnet.normalization) -> :class:`PoseNetOutput`.

    Build it with :func:`opnet.models.create_model`. The network does not normalise its input and
    accepts any S >= 32 (it pools globally); ``config.input_size`` is the size it is trained and
    exported for. Networks of an ``original-*`` style compute what the original code computes
    (opnet.models.original_heads; docs/paper-models.md).
    """

    def __init__(self, config: ModelConfig, keypoints: KeypointModel | None = None):
        super().__init__()
        self.config = config
        original = config.style != "opnet"
        self.backbone = create_backbone(
            config.backbone, config.width, config.blurpool, original_layout=original
        )
        features = self.backbone.num_features
        self.dropout = nn.Dropout(config.dropout)
        self.quat_head = QuatHead(features)
        self.pos_size_head = PosSizeHead(features)
        self.box_head = BoxHead(features)
        self.pose_offset = PoseOffset() if config.pose_offset else None
        self.landmark_head: LandmarkHead | None = None
        if config.landmarks:
            kp = _checked_keypoints(config, keypoints)
            self.landmark_head = LandmarkHead(features, kp, centred=not original)
        self.uncertainty: UncertaintyHeads | OriginalUncertaintyHeads | None = None
        points = NUM_POINTS if config.landmarks else None
        shape_params = config.num_shape_params if config.landmarks else None
        if config.uncertainty and original:
            self.uncertainty = OriginalUncertaintyHeads(config.style, features, points, shape_params)
        elif config.uncertainty:
            self.uncertainty = UncertaintyHeads(features, points, shape_params)

    def forward(self, x: Tensor) -> PoseNetOutput:
        if not torch.jit.is_tracing() and (x.dim() != 4 or x.shape[1] != 1):
            raise ValueError(f"expected input (B, 1, S, S), got {tuple(x.shape)}")
        z = self.dropout(torch.flatten(F.adaptive_avg_pool2d(self.backbone(x), 1), 1))
        quat, quat_raw = self.quat_head(z)
        pos_size = self.pos_size_head(z)
        out = PoseNetOutput(quat=quat, quat_raw=quat_raw, pos_size=pos_size, box=self.box_head(z))
        if self.pose_offset is not None:
            offset_quat, out.pos_size = self.pose_offset.pose(quat, pos_size)
            out.quat = torch.where(offset_quat[:, 3:] < 0, -offset_quat, offset_quat)  # same rotation, w >= 0
            quat, pos_size = self.pose_offset.points(quat, pos_size)
        if self.landmark_head is not None:
            out.points, out.shapeparams = self.landmark_head(z, quat, pos_size)
        if self.uncertainty is not None:
            out = dataclasses.replace(out, **self.uncertainty(z))
        return out


def create_model(config: ModelConfig, keypoints: KeypointModel | None = None) -> PoseNet:
    """The front door: a new network for ``config``, in channels-last memory format (faster on CPU).

    ``keypoints`` (from :func:`fit_keypoint_model` or :func:`keypoint_model_from_face_model`) is
    required when ``config.landmarks`` is on, with ``config.num_shape_params`` coefficients; it is
    ignored otherwise.

    >>> import torch
    >>> from opnet.models import ModelConfig
    >>> net = create_model(ModelConfig(width=0.25, landmarks=False))
    >>> out = net(torch.zeros(2, 1, 129, 129))  # two gray 129 x 129 crops, normalised
    >>> out.quat.shape, out.pos_size.shape, out.box.shape
    (torch.Size([2, 4]), torch.Size([2, 3]), torch.Size([2, 4]))
    """
    return PoseNet(config, keypoints).to(memory_format=torch.channels_last)  # type: ignore[call-overload]
