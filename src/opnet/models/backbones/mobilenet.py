"""MobileNetV1 (Howard et al. 2017) for one-channel 129x129 crops, as used by OpenTrack's models.

A 5x5 stride-2 stem, then 13 depthwise-separable blocks up to 1024 channels (times the width
multiplier). Stride-1 blocks whose input and output widths match add their input (a residual,
as in the original OpNet networks). With ``blurpool`` a stride-2 block low-passes and subsamples
(:class:`BlurPool2d`) before its depthwise convolution instead of striding the convolution.
This is the original code's MobileNetV1 too; its layout (``original_layout``) differs only in
rounding channel counts down (``int(c * width)``) instead of to multiples of 8.
"""

from __future__ import annotations

from torch import Tensor, nn

from opnet.models.backbones.layers import BlurPool2d, conv_bn, init_conv_weights, scaled_channels
from opnet.models.backbones.registry import Backbone, register_backbone

# (output channels, stride) of the depthwise-separable blocks, grouped by output resolution.
_STAGES: tuple[tuple[tuple[int, int], ...], ...] = (
    ((64, 1),),
    ((128, 2), (128, 1)),
    ((256, 2), (256, 1)),
    ((512, 2), (512, 1), (512, 1), (512, 1), (512, 1), (512, 1)),
    ((1024, 2), (1024, 1)),
)
_STEM_CHANNELS = 32


class DepthwiseSeparable(nn.Module):
    """3x3 depthwise conv, BN, ReLU, 1x1 pointwise conv, BN, (+ input), ReLU."""

    def __init__(self, in_ch: int, out_ch: int, stride: int, blurpool: bool):
        super().__init__()
        blur = stride == 2 and blurpool
        self.depthwise = nn.Sequential(
            *([BlurPool2d(in_ch)] if blur else []),
            *conv_bn(in_ch, in_ch, 3, stride=1 if blur else stride, groups=in_ch),
            nn.ReLU(inplace=True),
        )
        self.pointwise = conv_bn(in_ch, out_ch, 1)
        self.residual = stride == 1 and in_ch == out_ch
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        y = self.pointwise(self.depthwise(x))
        if self.residual:
            y = y + x
        return self.relu(y)


class MobileNetV1(Backbone):
    def __init__(self, width: float = 1.0, blurpool: bool = True, original_layout: bool = False):
        super().__init__()

        def channels_of(c: int) -> int:
            return int(c * width) if original_layout else scaled_channels(c, width)

        in_ch = channels_of(_STEM_CHANNELS)
        stages: list[nn.Module] = []
        for k, blocks in enumerate(_STAGES):
            layers: list[nn.Module] = []
            if k == 0:
                layers += [*conv_bn(1, in_ch, 5, stride=2), nn.ReLU(inplace=True)]
            for channels, stride in blocks:
                out_ch = channels_of(channels)
                layers.append(DepthwiseSeparable(in_ch, out_ch, stride, blurpool))
                in_ch = out_ch
            stages.append(nn.Sequential(*layers))
        self.stages = nn.ModuleList(stages)
        self.num_features = in_ch
        init_conv_weights(self)


@register_backbone("mobilenetv1")
def mobilenetv1(width: float, blurpool: bool, original_layout: bool = False) -> Backbone:
    return MobileNetV1(width, blurpool, original_layout)
