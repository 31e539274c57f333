"""A plain registry of backbones: name -> factory(width, blurpool) -> :class:`Backbone`.

Backbones that also exist in the original code's layout (``ModelConfig.style`` other than
``opnet``) accept a third argument, ``original_layout=True``.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import Tensor, nn

from opnet.errors import OpNetError


class Backbone(nn.Module):
    """A convolutional feature extractor for (B, 1, S, S) inputs.

    ``stages`` run in order, each one halving the resolution (65/33/17/9/5 for S = 129);
    ``forward`` returns the last stage's map (B, ``num_features``, h, w).
    """

    num_features: int
    stages: nn.ModuleList

    def forward(self, x: Tensor) -> Tensor:
        for stage in self.stages:
            x = stage(x)
        return x


BackboneFactory = Callable[..., Backbone]
"""factory(width, blurpool) -> Backbone; built-in ones also take ``original_layout``."""
_REGISTRY: dict[str, BackboneFactory] = {}


def register_backbone(name: str) -> Callable[[BackboneFactory], BackboneFactory]:
    """Decorator: makes ``factory(width, blurpool)`` available as ``ModelConfig(backbone=name)``."""

    def add(factory: BackboneFactory) -> BackboneFactory:
        if name in _REGISTRY:
            raise ValueError(f"backbone {name!r} is registered twice")
        _REGISTRY[name] = factory
        return factory

    return add


def backbone_names() -> tuple[str, ...]:
    """Names of all registered backbones, sorted."""
    return tuple(sorted(_REGISTRY))


def create_backbone(
    name: str, width: float = 1.0, blurpool: bool = True, original_layout: bool = False
) -> Backbone:
    """A new, randomly initialised backbone of the given name and width multiplier.

    ``original_layout``: the original code's layout of the same network (channel counts
    ``int(c * width)``; ResNet-18's BlurPool placement), for imported networks.
    """
    if name not in _REGISTRY:
        raise OpNetError(f"backbone {name!r} is unknown; expected one of {', '.join(backbone_names())}")
    if original_layout:
        return _REGISTRY[name](width, blurpool, original_layout=True)
    return _REGISTRY[name](width, blurpool)
