"""Checkpoints of the original research code (neuralnet-tracker-traincode) as OpNet networks.

Two formats: the ``paper`` branch's bare state_dict (the paper's released checkpoints; the network
is inferred from keys and shapes) and the ``master`` branch's ``{"state_dict", "class_name",
"config"}``. Either becomes a :class:`~opnet.models.PoseNet` of style ``original-paper`` /
``original-master`` that computes the original's outputs. ``opnet.models.load_model`` and
``opnet convert`` use this; see docs/paper-models.md.
"""

from opnet.models.original.load import import_original, is_original, original_spec
from opnet.models.original.spec import OriginalSpec

__all__ = ["OriginalSpec", "import_original", "is_original", "original_spec"]
