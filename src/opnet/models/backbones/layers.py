"""Building blocks shared by the backbones."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def scaled_channels(channels: int, width: float, divisor: int = 8) -> int:
    """``channels * width`` rounded to a multiple of ``divisor`` (at least ``divisor``), as timm does."""
    scaled = max(divisor, int(channels * width + divisor / 2) // divisor * divisor)
    if scaled < 0.9 * channels * width:
        scaled += divisor
    return scaled


class BlurPool2d(nn.Module):
    """Binomial [1, 2, 1]^2 / 16 low-pass, then subsampling by ``stride`` (Zhang 2019, "BlurPool").

    A fixed depthwise convolution: (B, C, H, W) -> (B, C, ceil(H / stride), ceil(W / stride)), zero padded.
    The kernel is a constant, not part of the state dict.
    """

    kernel: Tensor

    def __init__(self, channels: int, stride: int = 2):
        super().__init__()
        taps = torch.tensor([1.0, 2.0, 1.0])
        kernel = torch.outer(taps, taps) / 16.0
        self.register_buffer("kernel", kernel.expand(channels, 1, 3, 3).contiguous(), persistent=False)
        self.stride = stride
        self.channels = channels

    def forward(self, x: Tensor) -> Tensor:
        return F.conv2d(x, self.kernel, stride=self.stride, padding=1, groups=self.channels)


def conv_bn(in_ch: int, out_ch: int, kernel: int, stride: int = 1, groups: int = 1) -> nn.Sequential:
    """Convolution without bias ("same" padding) followed by batch norm."""
    return nn.Sequential(
        nn.Conv2d(in_ch, out_ch, kernel, stride=stride, padding=kernel // 2, groups=groups, bias=False),
        nn.BatchNorm2d(out_ch),
    )


def init_conv_weights(module: nn.Module) -> None:
    """He initialisation (fan-out, ReLU) of all convolutions and unit/zero batch-norm affine terms.

    The fan-out of a grouped convolution counts only the outputs one input channel feeds
    (9 for a 3x3 depthwise one), which keeps activations at unit scale through the network.
    """
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            fan_out = m.kernel_size[0] * m.kernel_size[1] * m.out_channels // m.groups
            nn.init.normal_(m.weight, std=(2.0 / fan_out) ** 0.5)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
