"""Loading a pose model from a file: a small registry of loaders keyed by file suffix.

Only ``.onnx`` is registered here; other formats (training checkpoints) register their loader
with :func:`register_model_loader` and then load through :func:`load_pose_model` like any other.
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
    """Opens a pose model file of any registered format; ``threads`` = CPU threads (None: all cores)."""
    path = Path(path)
    if not path.is_file():
        raise OpNetError(f"{path}: no such model file")
    loader = _LOADERS.get(path.suffix.lower())
    if loader is None:
        raise OpNetError(f"{path}: unknown model format '{path.suffix}'; expected {', '.join(model_suffixes())}")
    return loader(path, threads)


def _load_onnx(path: Path, threads: int | None) -> PoseModel:
    from opnet.runtime.onnx_model import OnnxPoseModel

    return OnnxPoseModel(path, threads)


register_model_loader(".onnx", _load_onnx)
