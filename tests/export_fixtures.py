"""Helpers of the export tests: small networks whose outputs vary with the input, and real-looking data."""

from __future__ import annotations

from pathlib import Path

import torch
from conftest import AFLW_MINI
from torch import nn

from opnet.models import KeypointModel, ModelConfig, PoseNet, create_model

NUM_SHAPE_PARAMS = 6


def small_net(
    seed: int = 0, width: float = 0.25, landmarks: bool = True, uncertainty: bool = True
) -> PoseNet:
    """A small MobileNetV1 in eval mode, with non-trivial batch-norm statistics and landmark head."""
    torch.manual_seed(seed)
    keypoints = KeypointModel(torch.randn(68, 3) * 0.3, torch.randn(NUM_SHAPE_PARAMS, 68, 3) * 0.05)
    config = ModelConfig(
        width=width, num_shape_params=NUM_SHAPE_PARAMS, landmarks=landmarks, uncertainty=uncertainty
    )
    net = create_model(config, keypoints)
    with torch.no_grad():
        net(torch.randn(16, 1, 129, 129) * 0.3)  # running statistics move away from 0 / 1
        if net.landmark_head is not None:
            nn.init.normal_(net.landmark_head.linear.weight, std=0.05)
    return net.eval()


def crops_file(folder: Path) -> Path:
    """Real AFLW2000-3D samples if ../shared is there, else 12 rendered synthetic heads (labelled too)."""
    if AFLW_MINI.is_file():
        return AFLW_MINI
    from opnet.export.samples import synthetic_dataset

    return synthetic_dataset(folder / "synthetic.h5", 12)
