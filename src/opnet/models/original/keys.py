"""The original code's state_dict keys -> OpNet's, checked key by key and shape by shape.

Prefix pairs (original module -> OpNet module) cover almost everything; the original's separate
``posnet.linear_xy`` / ``posnet.linear_size`` are concatenated into ``pos_size_head.linear``; the
original's BlurPool kernels (a constant in OpNet) are checked and dropped.
"""

from __future__ import annotations

import torch
from torch import Tensor

from opnet.errors import OpNetError
from opnet.models.backbones import BlurPool2d
from opnet.models.backbones.mobilenet import DepthwiseSeparable
from opnet.models.backbones.resnet import BasicBlock
from opnet.models.posenet import PoseNet

MOBILENET_BLOCKS = (
    "dw2_1", "dw2_2", "dw3_1", "dw3_2", "dw4_1", "dw4_2",
    "dw5_1", "dw5_2", "dw5_3", "dw5_4", "dw5_5", "dw5_6", "dw6",
)  # fmt: skip
"""The original MobileNetV1's depthwise-separable blocks, in order."""
RESNET_BLOCKS = tuple(f"layers.{4 + stage}.{block}" for stage in range(4) for block in range(2))
"""The original ResNet-18's basic blocks (torchvision's layer1..layer4 packed in a Sequential)."""
POS_SIZE_PARTS = ("posnet.linear_xy", "posnet.linear_size")
BLUR_KERNEL = torch.outer(torch.tensor([1.0, 2.0, 1.0]), torch.tensor([1.0, 2.0, 1.0])) / 16.0


def _modules_of(net: PoseNet, kind: type) -> list[str]:
    return [name for name, m in net.named_modules() if isinstance(m, kind)]


def _backbone_pairs(net: PoseNet) -> tuple[list[tuple[str, str]], list[str]]:
    """(original prefix, OpNet prefix) pairs of the backbone, and the original's blur-kernel keys."""
    blur = net.config.blurpool
    pairs = [("convnet.conv1", "backbone.stages.0.0"), ("convnet.bn1", "backbone.stages.0.1")]
    kernels: list[str] = []
    if net.config.backbone == "mobilenetv1":
        for orig, name in zip(MOBILENET_BLOCKS, _modules_of(net, DepthwiseSeparable), strict=True):
            conv = 1 if isinstance(net.get_submodule(f"{name}.depthwise.0"), BlurPool2d) else 0
            dw = f"convnet.{orig}.conv_dw"
            pairs += [
                (f"{dw}.1" if conv else dw, f"{name}.depthwise.{conv}"),
                (f"convnet.{orig}.bn_dw", f"{name}.depthwise.{conv + 1}"),
                (f"convnet.{orig}.conv_sep", f"{name}.pointwise.0"),
                (f"convnet.{orig}.bn_sep", f"{name}.pointwise.1"),
            ]
            kernels += [f"{dw}.0.kernel"] if conv else []
        return pairs, kernels
    pairs = [("convnet.layers.0", "backbone.stages.0.0"), ("convnet.layers.1", "backbone.stages.0.1")]
    kernels += ["convnet.layers.3.kernel"] if blur else []
    for orig, name in zip(RESNET_BLOCKS, _modules_of(net, BasicBlock), strict=True):
        conv1 = f"convnet.{orig}.conv1"
        pairs += [
            (f"{conv1}.1" if blur else conv1, f"{name}.conv1.0"),
            (f"convnet.{orig}.bn1", f"{name}.conv1.1"),
            (f"convnet.{orig}.conv2", f"{name}.conv2.0"),
            (f"convnet.{orig}.bn2", f"{name}.conv2.1"),
            (f"convnet.{orig}.downsample.0", f"{name}.shortcut.0"),
            (f"convnet.{orig}.downsample.1", f"{name}.shortcut.1"),
        ]
        kernels += [f"{conv1}.0.kernel"] if blur else []
    return pairs, kernels


def _head_pairs(net: PoseNet) -> list[tuple[str, str]]:
    master = net.config.style == "original-master"
    neck = ".neck" if master else ""
    pairs = [("quatnet.linear", "quat_head.linear"), ("boxnet.linear", "box_head.linear")]
    pairs += [
        ("landmarks.shapenet", "landmark_head.linear"),
        ("landmarks.deformablekeypoints.keypts", "landmark_head.keypoints.mean"),
        ("landmarks.deformablekeypoints.keyeigvecs", "landmark_head.keypoints.basis"),
        ("quatnet.uncertainty_net.min_diag", "uncertainty.rotaxis.min_diag"),
        (f"quatnet.uncertainty_net{neck}.lin", "uncertainty.rotaxis.lin"),
        ("quatnet.uncertainty_net.bn", "uncertainty.rotaxis.bn"),
        ("posnet.scales.min_diag", "uncertainty.pos_size.min_diag"),
        (f"posnet.scales{neck}.lin", "uncertainty.pos_size.lin"),
        ("posnet.scales.bn", "uncertainty.pos_size.bn"),
        ("boxnet.scales", "uncertainty.box"),
        ("landmarks.point_distrib_scales", "uncertainty.points"),
        ("landmarks.shape_distrib_scales", "uncertainty.shapeparams"),
        ("local_pose_offset", "pose_offset.pose"),
        ("local_pose_offset_kpts", "pose_offset.points"),
    ]
    return pairs


def key_map(net: PoseNet) -> dict[str, str]:
    """OpNet state-dict key -> original key, for every key of ``net`` but ``pos_size_head``'s."""
    pairs = _backbone_pairs(net)[0] + _head_pairs(net)
    mapping: dict[str, str] = {}
    for key in net.state_dict():
        for orig, ours in pairs:
            if key == ours or key.startswith(ours + "."):
                mapping[key] = orig + key[len(ours) :]
                break
    return mapping


def _unused_offsets(net: PoseNet) -> list[str]:
    """The master branch saves its pose offsets even when ``use_local_pose_offset`` is off."""
    if net.config.style == "original-master" and not net.config.pose_offset:
        return ["local_pose_offset.p", "local_pose_offset_kpts.p"]
    return []


def _check_kernels(state: dict[str, Tensor], keys: list[str], source: str) -> None:
    for key in keys:
        kernel = state[key].detach().float()
        if kernel.numel() != 9 or not torch.allclose(kernel.reshape(3, 3), BLUR_KERNEL, atol=1e-6):
            raise OpNetError(f"{source}: key '{key}' is not the 3x3 binomial BlurPool kernel")


def translate_state_dict(state: dict[str, Tensor], net: PoseNet, source: str, what: str) -> dict[str, Tensor]:
    """``state`` (original keys) as a state dict for ``net``; OpNetError naming ``source`` and the
    first missing, unexpected or misshapen key. ``what`` describes the network for the message."""
    mapping = key_map(net)
    kernels = _backbone_pairs(net)[1]
    parts = [f"{p}.{t}" for t in ("weight", "bias") for p in POS_SIZE_PARTS]
    expected = [*mapping.values(), *parts, *kernels, *_unused_offsets(net)]
    missing = [k for k in expected if k not in state]
    if missing:
        raise OpNetError(f"{source}: missing key '{missing[0]}' (expected for a {what})")
    unexpected = [k for k in state if k not in set(expected)]
    if unexpected:
        raise OpNetError(f"{source}: unexpected key '{unexpected[0]}' for a {what}")
    _check_kernels(state, kernels, source)
    out = {ours: state[orig] for ours, orig in mapping.items()}
    for t in ("weight", "bias"):
        out[f"pos_size_head.linear.{t}"] = torch.cat([state[f"{p}.{t}"] for p in POS_SIZE_PARTS])
    template = net.state_dict()
    for key, value in out.items():
        if tuple(value.shape) != tuple(template[key].shape):
            orig = mapping.get(key, f"{POS_SIZE_PARTS[0]} + {POS_SIZE_PARTS[1]}")
            raise OpNetError(
                f"{source}: key '{orig}' has shape {tuple(value.shape)}, expected "
                f"{tuple(template[key].shape)} for a {what}"
            )
        out[key] = value.to(template[key].dtype)
    return out
