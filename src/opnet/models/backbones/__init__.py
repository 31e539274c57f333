"""Backbones, looked up by name: ``create_backbone("mobilenetv1", width=0.5)``.

Importing this package registers the built-in backbones; add one with
:func:`register_backbone` in a module imported here.
"""

from opnet.models.backbones import mobilenet, resnet  # noqa: F401  (registers the backbones)
from opnet.models.backbones.layers import BlurPool2d, scaled_channels
from opnet.models.backbones.registry import Backbone, backbone_names, create_backbone, register_backbone

__all__ = [
    "Backbone",
    "BlurPool2d",
    "backbone_names",
    "create_backbone",
    "register_backbone",
    "scaled_channels",
]
