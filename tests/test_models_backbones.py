"""Backbones: every registered one runs forward/backward, has the documented resolutions and widths."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from opnet.errors import OpNetError
from opnet.models import backbones
from opnet.models.backbones import BlurPool2d, backbone_names, create_backbone, scaled_channels
from opnet.models.backbones.registry import _REGISTRY, Backbone

ALL = backbone_names()


def test_builtin_backbones_are_registered():
    assert {"mobilenetv1", "resnet18"} <= set(ALL)


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("blurpool", [False, True])
def test_forward_backward_on_tiny_input(name, blurpool):
    torch.manual_seed(0)
    net = create_backbone(name, width=0.25, blurpool=blurpool)
    x = torch.randn(2, 1, 65, 65, requires_grad=True)
    y = net(x)
    assert y.shape[:2] == (2, net.num_features)
    y.square().mean().backward()
    grads = [p.grad for p in net.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert x.grad is not None and x.grad.abs().sum() > 0


@pytest.mark.parametrize("name", ALL)
def test_stage_resolutions_for_129_input(name):
    net = create_backbone(name, width=0.25).eval()
    x = torch.zeros(1, 1, 129, 129)
    sizes = []
    with torch.no_grad():
        for stage in net.stages:
            x = stage(x)
            sizes.append(x.shape[-1])
    assert sizes == [65, 33, 17, 9, 5]
    assert x.shape[1] == net.num_features


@pytest.mark.parametrize(("name", "full_width"), [("mobilenetv1", 1024), ("resnet18", 512)])
def test_width_multiplier_scales_channels_and_parameters(name, full_width):
    full = create_backbone(name, 1.0)
    half = create_backbone(name, 0.5)
    assert full.num_features == full_width
    assert half.num_features == full_width // 2
    ratio = sum(p.numel() for p in half.parameters()) / sum(p.numel() for p in full.parameters())
    assert 0.2 < ratio < 0.3  # convolution weights scale with width^2


def test_mobilenet_matches_the_released_model_layout():
    """OpenTrack's head-pose-0.4-small: 32-channel 5x5 stem, 13 depthwise 3x3 + pointwise pairs to 1024."""
    net = create_backbone("mobilenetv1", 1.0, blurpool=False)
    convs = [m for m in net.modules() if isinstance(m, nn.Conv2d)]
    assert convs[0].weight.shape == (32, 1, 5, 5) and convs[0].stride == (2, 2)
    depthwise = [c for c in convs if c.groups > 1]
    pointwise = [c for c in convs if c.kernel_size == (1, 1)]
    assert len(depthwise) == len(pointwise) == 13
    assert [c.out_channels for c in pointwise][-2:] == [1024, 1024]


def test_blurpool_replaces_strided_convolutions():
    plain = create_backbone("mobilenetv1", 0.25, blurpool=False)
    blurred = create_backbone("mobilenetv1", 0.25, blurpool=True)
    strided = lambda net: sum(m.stride == (2, 2) for m in net.modules() if isinstance(m, nn.Conv2d))  # noqa: E731
    assert strided(plain) == 5
    assert strided(blurred) == 1  # only the stem
    assert sum(isinstance(m, BlurPool2d) for m in blurred.modules()) == 4
    assert sum(p.numel() for p in plain.parameters()) == sum(p.numel() for p in blurred.parameters())


def test_blurpool_is_a_normalised_low_pass():
    pool = BlurPool2d(3)
    flat = pool(torch.full((1, 3, 9, 9), 2.0))
    assert flat.shape == (1, 3, 5, 5)
    assert torch.allclose(flat[..., 1:-1, 1:-1], torch.tensor(2.0))  # interior keeps constants
    checker = (torch.arange(8)[:, None] + torch.arange(8)[None, :]) % 2
    out = pool(checker.float()[None, None].expand(1, 3, 8, 8))
    assert torch.allclose(out[..., 1:-1, 1:-1], torch.tensor(0.5))  # the Nyquist pattern is removed
    assert "kernel" not in pool.state_dict()


def test_activations_keep_their_scale_at_initialisation():
    torch.manual_seed(0)
    for name in ALL:
        net = create_backbone(name, 0.5).eval()
        with torch.no_grad():
            y = net(torch.randn(2, 1, 129, 129) * 0.3)
        assert 1e-3 < y.std() < 10, name


def test_scaled_channels_rounds_to_multiples_of_8():
    assert scaled_channels(1024, 1.0) == 1024
    assert scaled_channels(32, 0.25) == 8
    assert scaled_channels(32, 0.1) == 8
    assert scaled_channels(100, 0.5) == 48


def test_unknown_backbone_is_refused():
    with pytest.raises(OpNetError, match="unknown.*mobilenetv1"):
        create_backbone("vgg")


def test_registry_accepts_new_backbones(monkeypatch):
    class Tiny(Backbone):
        def __init__(self, width: float, blurpool: bool):
            super().__init__()
            self.stages = nn.ModuleList([nn.Conv2d(1, 4, 3, stride=2)])
            self.num_features = 4

    monkeypatch.setitem(_REGISTRY, "tiny", Tiny)
    assert "tiny" in backbones.backbone_names()
    assert create_backbone("tiny")(torch.zeros(1, 1, 9, 9)).shape == (1, 4, 4, 4)
    with pytest.raises(ValueError, match="twice"):
        backbones.register_backbone("tiny")(Tiny)
