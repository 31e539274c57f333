"""From an image and a face box to network input, and from network outputs back to the image.

One pipeline for training, evaluation and deployment (it is OpenTrack's, see
``tracker-neuralnet/model_adapters.cpp``):

1. a square patch around the box centre, side = max(w, h) * expansion, cut at sub-pixel precision
   (``cv2.getRectSubPix``, borders replicated) and resized to the network's input with
   ``INTER_AREA``;
2. the model's input normalisation (:mod:`opnet.normalization`; OpenTrack applies its brightness
   normalisation to every model: g = 90th percentile gray level of the resized patch,
   value = pixel * (0.45 / max(5, g) if g < 127 else 1 / 255) - 0.5).

Network outputs live in *patch units*: x, y in [-1, 1] across the patch (-1 = left/top edge),
sizes relative to half the patch side. :class:`Patch` converts them to image pixels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np
from numpy.typing import ArrayLike, NDArray

from opnet.geometry import Float64Array
from opnet.normalization import InputNorm, normalize_input

INPUT_SIZE = 129


class CropFrame(Protocol):
    """A region an input was cut from, converting network outputs to image pixels (:class:`Patch`,
    or :class:`opnet.original_crop.CropBox` of the original's crop)."""

    @property
    def half(self) -> float:
        """Pixels per network unit of a head size."""
        ...

    def decode_pos_size(self, pos_size: ArrayLike) -> Float64Array: ...

    def decode_box(self, box: ArrayLike) -> Float64Array: ...

    def decode_points(self, points: ArrayLike) -> Float64Array: ...


@dataclass(frozen=True)
class Patch:
    """A square image region fed to the network: centre (x, y) and side in image pixels."""

    centre: tuple[float, float]
    side: float

    @property
    def half(self) -> float:
        return 0.5 * self.side

    def to_image(self, xy: ArrayLike) -> Float64Array:
        """(..., 2) patch units -> image pixels."""
        return np.asarray(self.centre) + self.half * np.asarray(xy, dtype=np.float64)

    def from_image(self, xy: ArrayLike) -> Float64Array:
        """(..., 2) image pixels -> patch units."""
        return (np.asarray(xy, dtype=np.float64) - np.asarray(self.centre)) / self.half

    def decode_pos_size(self, pos_size: ArrayLike) -> Float64Array:
        """(..., 3) network x, y, size -> image x, y, size in pixels."""
        pos_size = np.asarray(pos_size, dtype=np.float64)
        return np.concatenate([self.to_image(pos_size[..., :2]), self.half * pos_size[..., 2:3]], axis=-1)

    def encode_pos_size(self, coords: ArrayLike) -> Float64Array:
        """(..., 3) image x, y, size in pixels -> network units."""
        coords = np.asarray(coords, dtype=np.float64)
        return np.concatenate([self.from_image(coords[..., :2]), coords[..., 2:3] / self.half], axis=-1)

    def decode_box(self, box: ArrayLike) -> Float64Array:
        """(..., 4) network x0, y0, x1, y1 -> image pixels."""
        box = np.asarray(box, dtype=np.float64)
        return np.concatenate([self.to_image(box[..., :2]), self.to_image(box[..., 2:])], axis=-1)

    def encode_box(self, box: ArrayLike) -> Float64Array:
        """(..., 4) image x0, y0, x1, y1 -> network units."""
        box = np.asarray(box, dtype=np.float64)
        return np.concatenate([self.from_image(box[..., :2]), self.from_image(box[..., 2:])], axis=-1)

    def decode_points(self, points: ArrayLike) -> Float64Array:
        """(..., K, 3) network landmarks (all three axes in patch units) -> image pixels."""
        points = np.asarray(points, dtype=np.float64)
        return np.concatenate([self.to_image(points[..., :2]), self.half * points[..., 2:]], axis=-1)

    def encode_points(self, points: ArrayLike) -> Float64Array:
        """(..., K, 2|3) image landmarks -> patch units (z scaled like x and y)."""
        points = np.asarray(points, dtype=np.float64)
        return np.concatenate([self.from_image(points[..., :2]), points[..., 2:] / self.half], axis=-1)


def patch_around(box: ArrayLike, expansion: float = 1.0) -> Patch:
    """The square patch centred on box x0, y0, x1, y1 with side max(w, h) * expansion."""
    x0, y0, x1, y1 = np.asarray(box, dtype=np.float64)
    side = max(x1 - x0, y1 - y0) * expansion
    return Patch((0.5 * (x0 + x1), 0.5 * (y0 + y1)), float(side))


def crop_patch(
    image: NDArray[np.uint8], patch: Patch, out_size: int = INPUT_SIZE
) -> tuple[NDArray[np.uint8], Patch]:
    """Cuts ``patch`` out of a gray image and resizes it to ``out_size`` (OpenTrack's way).

    The side is rounded to whole pixels as ``getRectSubPix`` needs; the returned patch is the
    region actually cut, which is what outputs must be decoded against.
    """
    if image.ndim != 2:
        raise ValueError(f"expected a gray (H, W) image, got shape {image.shape}")
    side = max(1, int(round(patch.side)))
    # getRectSubPix addresses pixel centres: our corner coordinate c is index c - 0.5.
    centre_idx = (float(patch.centre[0]) - 0.5, float(patch.centre[1]) - 0.5)
    cut = cv2.getRectSubPix(image, (side, side), centre_idx)
    crop = cv2.resize(cut, (out_size, out_size), interpolation=cv2.INTER_AREA)
    return crop, Patch(patch.centre, float(side))


def network_input(
    image: NDArray[np.uint8],
    box: ArrayLike,
    expansion: float = 1.0,
    out_size: int = INPUT_SIZE,
    norm: str | InputNorm = InputNorm.OPENTRACK,
) -> tuple[NDArray[np.float32], Patch]:
    """Gray image + face box -> (1, 1, S, S) float32 input (normalised by ``norm``) and the patch
    to decode outputs with."""
    crop, patch = crop_patch(image, patch_around(box, expansion), out_size)
    return normalize_input(crop, norm)[None, None], patch
