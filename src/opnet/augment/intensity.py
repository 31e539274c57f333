"""Intensity augmentations and noise on uint8 gray patches (``intensity_style="lut"``; LUTs and OpenCV).

Values as in :class:`opnet.augment.params.AugmentParams`, on the 0..1 gray scale like kornia's:
gamma g: x**g; contrast c: m + c (x - m) around the patch mean m (``contrast="mean"``; a plain
factor would be undone by the brightness normalisation) or x * c (``"multiply"``); brightness b:
x + (b - 1) (kornia's ``RandomBrightness``); posterize n: keep the n high bits; equalize:
histogram equalisation; blur s: 5x5 Gaussian, sigma s. No geometry: labels are unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
from numpy.typing import NDArray

_LEVELS = np.arange(256, dtype=np.float64) / 255.0


def _lut(image: NDArray[np.uint8], values: NDArray[np.float64]) -> NDArray[np.uint8]:
    table = np.clip(np.rint(values * 255.0), 0, 255).astype(np.uint8)
    return cv2.LUT(image, table)


def apply_intensity_op(
    image: NDArray[np.uint8], name: str, value: float, contrast: str = "mean"
) -> NDArray[np.uint8]:
    """One operation of :data:`opnet.augment.params.INTENSITY_OPS` on a uint8 gray patch."""
    if name == "gamma":
        return _lut(image, _LEVELS**value)
    if name == "contrast":
        mean = cv2.mean(image)[0] / 255.0 if contrast == "mean" else 0.0
        return _lut(image, mean + value * (_LEVELS - mean))
    if name == "brightness":
        return _lut(image, _LEVELS + (value - 1.0))
    if name == "posterize":
        mask = np.uint8((0xFF << (8 - int(value))) & 0xFF)
        return np.bitwise_and(image, mask)
    if name == "equalize":
        return cv2.equalizeHist(image)
    if name == "blur":
        return cv2.GaussianBlur(image, (5, 5), value)
    raise ValueError(f"unknown intensity operation {name!r}")


def apply_intensity(
    image: NDArray[np.uint8], ops: Sequence[tuple[str, float]], contrast: str = "mean"
) -> NDArray[np.uint8]:
    """The (name, value) operations in order."""
    for name, value in ops:
        image = apply_intensity_op(image, name, value, contrast)
    return image


def add_noise(image: NDArray[np.uint8], std: float, seed: int) -> NDArray[np.uint8]:
    """Adds Gaussian noise of ``std`` gray levels (rounded, saturated to 0..255), replayable through ``seed``.

    OpenCV's generator (seeded for this call, in this thread) is four times faster than numpy's.
    """
    if std <= 0:
        return image
    cv2.setRNGSeed(int(seed))
    noise = np.empty(image.shape, np.float32)
    cv2.randn(noise, 0.0, float(std))
    return cv2.add(image, noise, dtype=cv2.CV_8U)
