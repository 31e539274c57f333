"""Loading a pose model from a file: a small registry of loaders keyed by file suffix.

Registered here: ``.onnx`` (OpenTrack's format, onnxruntime) and the training checkpoints of
:func:`opnet.models.save_checkpoint` (``.ckpt``, ``.pt``; run with PyTorch, imported only when
one is opened). Other formats register their loader with :func:`register_model_loader`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from opnet.errors import OpNetError
from opnet.runtime.model import PoseModel

ModelLoader = Callable[[Path, int | None], PoseModel]
"""(path, threads or None for all cores) -> a ready model."""

_LOADERS: dict[str, ModelLoader] = {}


def register_model_loader(suffix: str, loader: ModelLoader) -> None:
    """Makes :func:`load_pose_model` open files ending in ``suffix`` (e.g. ``".ckpt"``) with ``loader``."""
    if not suffix.startswith("."):
        raise ValueError(f"suffix {suffix!r} must start with '.'")
    _LOADERS[suffix.lower()] = loader


def model_suffixes() -> tuple[str, ...]:
    """The file suffixes that can be loaded."""
    return tuple(sorted(_LOADERS))


def load_pose_model(path: str | os.PathLike, threads: int | None = None) -> PoseModel:
    """Opens a pose model file of any registered format; ``threads`` = CPU threads (None: all cores).

    >>> import numpy as np
    >>> from opnet.models import ModelConfig, create_model, save_checkpoint
    >>> net = create_model(ModelConfig(width=0.25, input_size=64, landmarks=False))
    >>> model = load_pose_model(save_checkpoint("net.ckpt", net))  # OpenTrack's ONNX files too
    >>> model.input_size, model.has_points
    (64, False)
    >>> model.run(np.zeros((3, 1, 64, 64), np.float32)).quat.shape  # raw outputs in patch units
    (3, 4)
    """
    path = Path(path)
    if not path.is_file():
        raise OpNetError(f"{path}: no such model file")
    loader = _LOADERS.get(path.suffix.lower())
    if loader is None:
        raise OpNetError(
            f"{path}: unknown model format '{path.suffix}'; expected {', '.join(model_suffixes())}"
        )
    return loader(path, threads)


def _load_onnx(path: Path, threads: int | None) -> PoseModel:
    from opnet.runtime.onnx_model import OnnxPoseModel

    return OnnxPoseModel(path, threads)


CHECKPOINT_SUFFIXES = (".ckpt", ".pt")
"""File suffixes opened as OpNet training checkpoints."""


def _load_checkpoint(path: Path, threads: int | None) -> PoseModel:
    from opnet.runtime.checkpoint_model import CheckpointPoseModel

    return CheckpointPoseModel(path, threads)


register_model_loader(".onnx", _load_onnx)
for _suffix in CHECKPOINT_SUFFIXES:
    register_model_loader(_suffix, _load_checkpoint)
