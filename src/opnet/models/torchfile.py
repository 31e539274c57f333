"""Reading a ``torch.save`` file safely: ``weights_only=True`` (no code is unpickled), one error line."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import torch

from opnet.errors import OpNetError


def read_torch_file(path: Path, map_location: str | torch.device = "cpu") -> Any:
    """``torch.load`` of a file that may come from anyone: plain values and tensors only, never code.

    Raises :class:`OpNetError` with one line for a missing, damaged or unsafe file (PyTorch's advice
    to load it with ``weights_only=False`` is not passed on: that would run whatever the file holds)."""
    if not path.is_file():
        raise OpNetError(f"{path}: no such file")
    if path.suffix.lower() == ".onnx":
        raise OpNetError(f"{path}: expected a training checkpoint, got ONNX (an exported model)")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:  # noqa: BLE001  (any unreadable file is the user's input error)
        text = " ".join(str(e).split())
        code = re.search(r"GLOBAL ([\w.]+)", text)
        if code:
            raise OpNetError(
                f"{path}: not a readable PyTorch checkpoint: it refers to the Python object {code[1]} "
                "(OpNet loads only tensors and plain values: anything else could run code)"
            ) from None
        unpickler = re.search(r"WeightsUnpickler error: (.*?)(?: Check the documentation|$)", text)
        reason = unpickler[1] if unpickler else text.split(". ")[0] if text else type(e).__name__
        raise OpNetError(f"{path}: not a readable PyTorch checkpoint ({reason})") from None
