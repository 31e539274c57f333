"""Self-describing checkpoints: config + weights (keypoint model included) + caller's extras.

The file is a ``torch.save`` of plain dicts, tensors and primitives, so it loads with
``torch.load(weights_only=True)``; nothing else is needed to rebuild the network.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from opnet import __version__
from opnet.errors import OpNetError
from opnet.fileio import atomic_output, check_writable
from opnet.models.config import ModelConfig
from opnet.models.keypoints import KeypointModel
from opnet.models.original import OriginalSpec, import_original, is_original
from opnet.models.posenet import PoseNet, create_model
from opnet.models.torchfile import read_torch_file
from opnet.settings import from_plain, to_plain

log = logging.getLogger(__name__)

FORMAT = "opnet-posenet"
FORMAT_VERSION = 1


def _check_plain(value: Any, where: str) -> None:
    """Raises ValueError unless ``value`` holds only dicts (str keys), lists, tuples, tensors, primitives."""
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"checkpoint {where}: key {key!r} is not a string")
            _check_plain(item, f"{where}.{key}")
    elif isinstance(value, (list, tuple)):
        for k, item in enumerate(value):
            _check_plain(item, f"{where}[{k}]")
    elif not isinstance(value, (Tensor, str, int, float, bool, type(None))):
        raise ValueError(
            f"checkpoint {where}: {type(value).__name__} is not a plain value (weights_only loading)"
        )


def save_checkpoint(
    path: str | os.PathLike, model: PoseNet, extra: dict[str, Any] | None = None, overwrite: bool = False
) -> Path:
    """Writes ``model`` (config + state dict) and ``extra`` (plain values, e.g. optimizer state, epoch)
    atomically to ``path``; an existing file is replaced only with ``overwrite``."""
    extra = dict(extra or {})
    _check_plain(extra, "extra")
    content = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "opnet_version": __version__,
        "config": to_plain(model.config),
        "state_dict": {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()},
        "extra": extra,
    }
    path = Path(path)
    with atomic_output(path, overwrite=overwrite) as tmp:
        torch.save(content, tmp)
    return path


def _check_opnet(path: Path, content: Any) -> dict[str, Any]:
    if not isinstance(content, dict) or content.get("format") != FORMAT:
        raise OpNetError(
            f"{path}: not an OpNet pose-network checkpoint (no 'format': '{FORMAT}' entry), "
            "nor one of the original code's"
        )
    if content.get("format_version") != FORMAT_VERSION:
        raise OpNetError(
            f"{path}: checkpoint format version {content.get('format_version')!r}; "
            f"this OpNet reads {FORMAT_VERSION}"
        )
    for key, kind in (("config", dict), ("state_dict", dict), ("extra", dict)):
        if not isinstance(content.get(key), kind):
            raise OpNetError(f"{path}: checkpoint entry '{key}' is missing or not a {kind.__name__}")
    return content


def load_checkpoint(
    path: str | os.PathLike, map_location: str | torch.device = "cpu"
) -> tuple[PoseNet, dict[str, Any]]:
    """The network stored in ``path`` (in training mode) and the ``extra`` dict saved with it.

    A checkpoint of the original code (opnet.models.original: the paper's released files) is
    converted in memory; its ``extra`` is empty.
    """
    path = Path(path)
    content = read_torch_file(path, map_location)
    if is_original(content):
        model, spec = import_original(content, str(path))
        log.info("%s: original-code checkpoint, converted in memory: %s", path, spec.describe())
        return model.to(map_location), {}
    content = _check_opnet(path, content)
    config = from_plain(ModelConfig, content["config"], str(path), prefix="model.")
    keypoints = KeypointModel.empty(config.num_shape_params) if config.landmarks else None
    model = create_model(config, keypoints)
    try:
        model.load_state_dict(content["state_dict"], strict=True)
    except RuntimeError as e:
        detail = " ".join(str(e).split())
        raise OpNetError(f"{path}: weights do not match the stored config ({detail[:300]})") from None
    return model.to(map_location), content["extra"]


def load_model(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> PoseNet:
    """The network stored in ``path``, in evaluation mode, on ``map_location``."""
    model, _ = load_checkpoint(path, map_location)
    return model.eval()


def convert_original_checkpoint(
    path: str | os.PathLike, output: str | os.PathLike, overwrite: bool = False
) -> OriginalSpec:
    """Writes the original-code checkpoint ``path`` as an OpNet checkpoint ``output`` (same outputs);
    returns what was inferred. Nothing is written if ``path`` does not fit."""
    path, output = Path(path), Path(output)
    check_writable(output, overwrite)
    content = read_torch_file(path)
    if not is_original(content):
        _check_opnet(path, content)
        raise OpNetError(f"{path}: already an OpNet checkpoint; nothing to convert")
    net, spec = import_original(content, str(path))
    extra = {"converted_from": str(path), "original": {"branch": spec.branch, "notes": list(spec.notes)}}
    save_checkpoint(output, net, extra=extra, overwrite=overwrite)
    return spec
