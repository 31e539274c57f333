"""The original's intensity augmentation (``intensity_style="kornia"``): kornia's operations, on float
intensities of the model's 0..1 scale (:func:`opnet.normalization.unit_intensities`).

The original normalises first ((u8 + 0.5) / 256 in the paper's models) and then runs kornia on the
float batch: four of the six operations picked once per batch in random order, each applied to a
sample with its probability (:mod:`opnet.augment.params`), then Gaussian noise, not clipped.
Formulas (kornia's): gamma g: clip(x**g); contrast c: clip(x * c) (``contrast="mean"``: clip(m +
c (x - m)), m the patch mean); brightness b: clip(x + b - 1); posterize n: the n high bits of
uint8(255 x), / 255; equalize: PIL's algorithm on 255 x (a 256-bin histogram over 0..255, the
look-up table indexed by int(255 x)), / 255; blur s: 5x5 Gaussian of sigma s, reflected borders.
Clipping is to 0..1.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
from numpy.typing import NDArray

F32 = np.float32


def _clip(x: NDArray[np.float32]) -> NDArray[np.float32]:
    return np.clip(x, F32(0.0), F32(1.0))


def equalize(x: NDArray[np.float32]) -> NDArray[np.float32]:
    """kornia's ``equalize`` of one float patch (values 0..1)."""
    scaled = x * F32(255.0)
    bins = np.minimum(np.floor(scaled * F32(256.0 / 255.0)), 255).astype(np.int64)
    histogram = np.bincount(bins.ravel(), minlength=256)
    nonzero = histogram[histogram != 0]
    step = (int(nonzero.sum()) - int(nonzero[-1])) // 255
    if step == 0:
        return x
    lut = (np.cumsum(histogram) + step // 2) // step
    lut = np.clip(np.concatenate([[0], lut[:-1]]), 0, 255).astype(np.float32)
    return lut[scaled.astype(np.int64)] / F32(255.0)


def posterize(x: NDArray[np.float32], bits: int) -> NDArray[np.float32]:
    """kornia's ``posterize``: keep the ``bits`` high bits of uint8(255 x)."""
    levels = (x * F32(255.0)).astype(np.uint8)
    mask = np.uint8((0xFF << (8 - int(bits))) & 0xFF)
    return (levels & mask).astype(np.float32) / F32(255.0)


def apply_float_op(x: NDArray[np.float32], name: str, value: float, contrast: str) -> NDArray[np.float32]:
    """One operation of :data:`opnet.augment.params.INTENSITY_OPS` on a float patch (H, W)."""
    if name == "gamma":
        return _clip(np.power(x, F32(value)))
    if name == "contrast":
        mean = F32(x.mean()) if contrast == "mean" else F32(0.0)
        return _clip(mean + F32(value) * (x - mean))
    if name == "brightness":
        return _clip(x + F32(value - 1.0))
    if name == "posterize":
        return posterize(x, int(value))
    if name == "equalize":
        return equalize(x)
    if name == "blur":
        return np.asarray(cv2.GaussianBlur(x, (5, 5), value, borderType=cv2.BORDER_REFLECT_101), np.float32)
    raise ValueError(f"unknown intensity operation {name!r}")


def apply_float_intensity(
    x: NDArray[np.float32], ops: Sequence[tuple[str, float]], contrast: str = "multiply"
) -> NDArray[np.float32]:
    """The (name, value) operations in order on a float patch (H, W)."""
    for name, value in ops:
        x = apply_float_op(x, name, value, contrast)
    return x


def add_float_noise(x: NDArray[np.float32], std: float, seed: int) -> NDArray[np.float32]:
    """Adds Gaussian noise of ``std`` gray levels (std / 255 on the 0..1 scale), not clipped;
    replayable through ``seed`` (OpenCV's generator, seeded for this call)."""
    if std <= 0:
        return x
    cv2.setRNGSeed(int(seed))
    noise = np.empty(x.shape, np.float32)
    cv2.randn(noise, np.zeros(1), np.full(1, float(std) / 255.0))
    return x + noise
