"""OpNet: head-pose datasets, networks, training, evaluation and export for OpenTrack's NeuralNet tracker.

``opnet.load(NAME)`` gives a model that finds faces and their head poses in images (see opnet.api).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opnet.api import HeadPoseModel

__version__ = "0.1.0"


def load(model: str | os.PathLike = "head-pose-0.4-small-int8", **options: Any) -> HeadPoseModel:
    """A head-pose model ready to run on images: :func:`opnet.api.load` (imported on first use)."""
    from opnet.api import load as _load

    return _load(model, **options)
