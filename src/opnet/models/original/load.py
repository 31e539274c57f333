"""Original checkpoints as OpNet networks: recognise the two formats, build the network, load the weights."""

from __future__ import annotations

from typing import Any

from torch import Tensor

from opnet.errors import OpNetError
from opnet.models.keypoints import KeypointModel
from opnet.models.original.keys import translate_state_dict
from opnet.models.original.spec import OriginalSpec, infer_paper_spec, master_spec
from opnet.models.posenet import PoseNet, create_model

MASTER_ENTRIES = ("state_dict", "class_name", "config")


def is_state_dict(content: Any) -> bool:
    """Whether ``content`` is a bare state_dict: a non-empty dict of str -> tensor."""
    return (
        isinstance(content, dict)
        and len(content) > 0
        and all(isinstance(k, str) and isinstance(v, Tensor) for k, v in content.items())
    )


def is_original(content: Any) -> bool:
    """Whether a loaded file looks like an original checkpoint: a bare state_dict (``paper``) or a
    dict with ``state_dict`` and ``class_name`` (``master``). Which network it is, is checked later."""
    if is_state_dict(content):
        return True
    return isinstance(content, dict) and "state_dict" in content and "class_name" in content


def original_spec(content: Any, source: str) -> tuple[OriginalSpec, dict[str, Tensor]]:
    """The network an original checkpoint holds, and its state_dict; OpNetError naming ``source``."""
    if is_state_dict(content):
        return infer_paper_spec(content, source), content
    if not isinstance(content, dict) or not is_original(content):
        raise OpNetError(
            f"{source}: not a checkpoint of the original code (a state_dict or a master-branch dict)"
        )
    extra = [k for k in content if k not in MASTER_ENTRIES]
    if extra:
        raise OpNetError(
            f"{source}: unexpected entry {extra[0]!r}; a master checkpoint has {', '.join(MASTER_ENTRIES)}"
        )
    if "config" not in content:
        raise OpNetError(f"{source}: master checkpoint without its 'config' entry")
    state = content["state_dict"]
    if not is_state_dict(state):
        raise OpNetError(f"{source}: entry 'state_dict' is not a dict of tensors")
    return master_spec(content, state, source), state


def import_original(content: Any, source: str) -> tuple[PoseNet, OriginalSpec]:
    """An original checkpoint's content (``torch.load``) as an OpNet network (training mode) that
    computes what the original computes, and what was inferred; OpNetError naming ``source``."""
    spec, state = original_spec(content, source)
    config = spec.config
    keypoints = KeypointModel.empty(config.num_shape_params) if config.landmarks else None
    net = create_model(config, keypoints)
    net.load_state_dict(translate_state_dict(state, net, source, spec.describe()), strict=True)
    return net, spec
