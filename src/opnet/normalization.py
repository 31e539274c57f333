"""Input normalisation: how a network's uint8 gray crop becomes its float32 input.

A network works only with the normalisation it was trained with, so the normalisation belongs to
the model: every OpNet checkpoint records it (``ModelConfig.input_norm``) and every exported ONNX
file carries it in its metadata (:data:`ONNX_METADATA_KEY`). Evaluation, prediction and tracking
apply the model's own; files that do not say (OpenTrack's released models) get the caller's
protocol default.

- ``opentrack``: u8 * (0.45 / max(5, g) if g < 127 else 1 / 255) - 0.5, g = the crop's 90th
  percentile gray level. OpenTrack's tracker applies it to every model; the ``opnet`` training
  recipe trains with it.
- ``div256``: u8 / 256 - 0.5. The original code's ``master`` branch, and its evaluation.
- ``div256-centred``: (u8 + 0.5) / 256 - 0.5. The original's ``paper`` branch (the paper's models,
  and the ``paper`` training recipe).
- ``div255``: u8 / 255 - 0.5. OpenTrack's face localizer.

Every normalisation is an intensity scale to about 0..1 (:func:`unit_intensities`) followed by
``- 0.5`` (:func:`inputs_from_unit`); the original's training applies its intensity augmentation
between the two, on the 0..1 scale.

>>> import numpy as np
>>> normalize_input(np.array([[0, 128, 255]], np.uint8), "div256")
array([[-0.5      ,  0.       ,  0.4960938]], dtype=float32)
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from opnet.compat import StrEnum
from opnet.errors import OpNetError

BRIGHTNESS_PERCENTILE = 90.0
ONNX_METADATA_KEY = "opnet_input_norm"
"""ONNX metadata property that names the input normalisation of an exported model."""


class InputNorm(StrEnum):
    """The input normalisations a pose network may have been trained with (see the module list)."""

    OPENTRACK = "opentrack"
    DIV256 = "div256"
    DIV256_CENTRED = "div256-centred"
    DIV255 = "div255"


INPUT_NORMS: tuple[str, ...] = tuple(n.value for n in InputNorm)


def input_norm(name: str | InputNorm, where: str = "input normalisation") -> InputNorm:
    """``name`` as an :class:`InputNorm`; an error naming ``where`` and the choices if it is unknown."""
    try:
        return InputNorm(name)
    except ValueError:
        raise OpNetError(f"{where} {name!r} is unknown; expected one of {', '.join(INPUT_NORMS)}") from None


def brightness_scale(crop: NDArray[np.uint8]) -> float:
    """The factor OpenTrack multiplies pixels by: 0.45 / max(5, g) if g < 127 else 1 / 255."""
    hist = cv2.calcHist([crop], [0], None, [256], [0, 256]).ravel()  # several times faster than np.bincount
    threshold = int(crop.size * BRIGHTNESS_PERCENTILE * 0.01)
    g = int(np.argmax(np.cumsum(hist) > threshold))
    return BRIGHTNESS_PERCENTILE / 100.0 * 0.5 / max(5, g) if g < 127 else 1.0 / 255.0


def normalize_brightness(crop: NDArray[np.uint8]) -> NDArray[np.float32]:
    """uint8 patch -> float32 network input (same shape), OpenTrack's brightness normalisation."""
    return (crop.astype(np.float32) * np.float32(brightness_scale(crop)) - np.float32(0.5)).astype(np.float32)


_LINEAR: dict[InputNorm, tuple[float, float]] = {
    InputNorm.DIV256: (1.0 / 256.0, -0.5),
    InputNorm.DIV256_CENTRED: (1.0 / 256.0, 0.5 / 256.0 - 0.5),
    InputNorm.DIV255: (1.0 / 255.0, -0.5),
}
"""value = pixel * scale + offset for the fixed normalisations."""


def normalize_input(crop: NDArray[np.uint8], norm: str | InputNorm) -> NDArray[np.float32]:
    """One uint8 crop (H, W) -> float32 network input (H, W) under ``norm``.

    ``opentrack`` depends on the crop's own brightness, so it is per crop; the others are fixed
    affine maps (any shape).
    """
    norm = input_norm(norm)
    if norm is InputNorm.OPENTRACK:
        return normalize_brightness(crop)
    scale, offset = _LINEAR[norm]
    return (crop.astype(np.float32) * np.float32(scale) + np.float32(offset)).astype(np.float32)


INPUT_OFFSET = 0.5
"""What every normalisation subtracts last: network input = unit intensity - 0.5."""


def unit_intensities(crops: NDArray[np.uint8], norm: str | InputNorm) -> NDArray[np.float32]:
    """uint8 crops (B, H, W) -> float32 (B, H, W) on the 0..1 scale of ``norm`` (its input + 0.5)."""
    norm = input_norm(norm)
    if norm is InputNorm.OPENTRACK:
        scales = np.array([brightness_scale(c) for c in crops], np.float32)
        return (crops.astype(np.float32) * scales[:, None, None]).astype(np.float32)
    scale, offset = _LINEAR[norm]
    return (crops.astype(np.float32) * np.float32(scale) + np.float32(offset + INPUT_OFFSET)).astype(
        np.float32
    )


def inputs_from_unit(unit: NDArray[np.float32]) -> NDArray[np.float32]:
    """Unit intensities (B, H, W) -> float32 network inputs (B, 1, H, W)."""
    return (np.asarray(unit, np.float32) - np.float32(INPUT_OFFSET))[:, None]


def normalize_batch(crops: NDArray[np.uint8], norm: str | InputNorm) -> NDArray[np.float32]:
    """uint8 crops (B, H, W) -> float32 inputs (B, 1, H, W) under ``norm``."""
    norm = input_norm(norm)
    if norm is InputNorm.OPENTRACK:
        return np.stack([normalize_brightness(c) for c in crops])[:, None]
    return normalize_input(crops, norm)[:, None]
