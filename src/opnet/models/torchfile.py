"""Reading a ``torch.save`` file safely: ``weights_only=True`` (no code is unpickled), one error line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from opnet.errors import OpNetError


def read_torch_file(path: Path, map_location: str | torch.device = "cpu") -> Any:
    """The content of ``path`` (plain containers and tensors only); OpNetError naming the file if it
    is missing, truncated, not a PyTorch file, or holds objects other than plain values."""
    if not path.is_file():
        raise OpNetError(f"{path}: no such file")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:  # noqa: BLE001  (any unreadable file is the user's input error)
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise OpNetError(f"{path}: not a readable PyTorch checkpoint ({reason})") from None
