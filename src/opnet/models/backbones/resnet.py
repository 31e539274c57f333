"""ResNet-18 (He et al. 2016) with a one-channel 7x7 stem, written without torchvision.

With ``blurpool`` the network is anti-aliased as in Zhang 2019: the stem's max-pool becomes a
stride-1 max-pool followed by :class:`BlurPool2d`, and a stride-2 block low-passes and
subsamples its input once (shared by the main path and the projection shortcut) before its
stride-1 convolutions. The last batch norm of every residual branch starts at zero.

The original code's layout (``original_layout``) is torchvision's ResNet-18 with a one-channel
stem; without BlurPool it is the same network. With BlurPool it blurs differently: the stem's
max-pool is replaced by a stride-2 :class:`BlurPool2d` (no max-pool), every block blurs the input
of its first convolution with the block's stride (stride-1 blocks blur too), and the projection
shortcut subsamples the unblurred input.
"""

from __future__ import annotations

from torch import Tensor, nn

from opnet.models.backbones.layers import BlurPool2d, conv_bn, init_conv_weights, scaled_channels
from opnet.models.backbones.registry import Backbone, register_backbone

_STEM_CHANNELS = 64
_STAGE_CHANNELS = (64, 128, 256, 512)
_BLOCKS_PER_STAGE = 2


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with batch norm and a (projection) shortcut."""

    def __init__(self, in_ch: int, out_ch: int, stride: int, blurpool: bool, original_layout: bool = False):
        super().__init__()
        shared_blur = stride == 2 and blurpool and not original_layout
        main_blur = blurpool and original_layout
        self.downsample = BlurPool2d(in_ch) if shared_blur else nn.Identity()
        self.blur = BlurPool2d(in_ch, stride) if main_blur else nn.Identity()
        conv_stride = 1 if shared_blur or main_blur else stride
        shortcut_stride = 1 if shared_blur else stride
        self.conv1 = conv_bn(in_ch, out_ch, 3, stride=conv_stride)
        self.conv2 = conv_bn(out_ch, out_ch, 3)
        needs_projection = stride != 1 or in_ch != out_ch
        self.shortcut = (
            conv_bn(in_ch, out_ch, 1, stride=shortcut_stride) if needs_projection else nn.Identity()
        )
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        x = self.downsample(x)
        y = self.conv2(self.relu(self.conv1(self.blur(x))))
        return self.relu(y + self.shortcut(x))


def _stem_pool(channels: int, blurpool: bool, original_layout: bool) -> nn.Module:
    if blurpool and original_layout:
        return BlurPool2d(channels)
    if blurpool:
        return nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1), BlurPool2d(channels))
    return nn.MaxPool2d(3, stride=2, padding=1)


class ResNet18(Backbone):
    def __init__(self, width: float = 1.0, blurpool: bool = True, original_layout: bool = False):
        super().__init__()

        def channels_of(c: int) -> int:
            return int(c * width) if original_layout else scaled_channels(c, width)

        in_ch = channels_of(_STEM_CHANNELS)
        stages: list[nn.Module] = [nn.Sequential(*conv_bn(1, in_ch, 7, stride=2), nn.ReLU(inplace=True))]
        for k, channels in enumerate(_STAGE_CHANNELS):
            out_ch = channels_of(channels)
            layers: list[nn.Module] = [_stem_pool(in_ch, blurpool, original_layout)] if k == 0 else []
            for j in range(_BLOCKS_PER_STAGE):
                stride = 2 if k > 0 and j == 0 else 1
                layers.append(BasicBlock(in_ch, out_ch, stride, blurpool, original_layout))
                in_ch = out_ch
            stages.append(nn.Sequential(*layers))
        self.stages = nn.ModuleList(stages)
        self.num_features = in_ch
        init_conv_weights(self)
        for m in self.modules():
            if isinstance(m, BasicBlock):
                nn.init.zeros_(m.conv2[1].weight)  # type: ignore[arg-type]  # conv2[1]: BatchNorm2d


@register_backbone("resnet18")
def resnet18(width: float, blurpool: bool, original_layout: bool = False) -> Backbone:
    return ResNet18(width, blurpool, original_layout)
