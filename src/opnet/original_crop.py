"""The original code's square crop (its ``FocusRoi`` without augmentation), exactly.

How the original evaluation (and training, before augmentation) cuts a face box out of an image:

1. side = max(w, h) of the box x ``expansion``; the square of that side around the box centre is
   computed in float32 and each corner is rounded to the nearest integer (half to even), so the
   cut can be one pixel wider than high or the reverse;
2. the integer region [x0, x1) x [y0, y1) is cut out, pixels outside the image being 0 (black);
3. it is resized to S x S (the network input) with ``cv2.INTER_AREA`` when shrinking (the mean of
   the two axes' scales below 1), else ``cv2.INTER_LINEAR``.

Coordinates follow docs/format.md (pixel corners): image x in [x0, x1] maps linearly onto [-1, 1]
of the network input, likewise y, so the two axes may scale by slightly different factors. Sizes
(head size, z of landmarks) scale as the original scales them: head sizes by the root mean square of
the two half-sides, landmark depths by the geometric mean.

:func:`original_crop` gives the uint8 crop and its :class:`CropBox`, which converts between image
pixels and network units both ways (``decode_*`` for outputs, ``encode_*`` for training targets).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import ArrayLike, NDArray

from opnet.geometry import Float64Array


@dataclass(frozen=True)
class CropBox:
    """The integer image region x0, y0, x1, y1 (pixel corners) that fills the network input."""

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def centre(self) -> tuple[float, float]:
        return 0.5 * (self.x0 + self.x1), 0.5 * (self.y0 + self.y1)

    @property
    def halves(self) -> Float64Array:
        """(2,) half width and half height in pixels: one network unit along x and y."""
        return 0.5 * np.array([self.x1 - self.x0, self.y1 - self.y0], dtype=np.float64)

    @property
    def half(self) -> float:
        """Pixels per network unit of a head size: root mean square of the half-sides."""
        hx, hy = self.halves
        return math.sqrt(0.5 * (hx * hx + hy * hy))

    @property
    def depth_scale(self) -> float:
        """Pixels per network unit of a landmark depth: geometric mean of the half-sides."""
        hx, hy = self.halves
        return math.sqrt(hx * hy)

    def to_image(self, xy: ArrayLike) -> Float64Array:
        """(..., 2) network units -> image pixels."""
        return np.asarray(self.centre) + self.halves * np.asarray(xy, dtype=np.float64)

    def from_image(self, xy: ArrayLike) -> Float64Array:
        """(..., 2) image pixels -> network units."""
        return (np.asarray(xy, dtype=np.float64) - np.asarray(self.centre)) / self.halves

    def decode_pos_size(self, pos_size: ArrayLike) -> Float64Array:
        """(..., 3) network x, y, size -> image x, y, size in pixels."""
        v = np.asarray(pos_size, dtype=np.float64)
        return np.concatenate([self.to_image(v[..., :2]), self.half * v[..., 2:3]], axis=-1)

    def encode_pos_size(self, coords: ArrayLike) -> Float64Array:
        """(..., 3) image x, y, size in pixels -> network units."""
        v = np.asarray(coords, dtype=np.float64)
        return np.concatenate([self.from_image(v[..., :2]), v[..., 2:3] / self.half], axis=-1)

    def decode_box(self, box: ArrayLike) -> Float64Array:
        """(..., 4) network x0, y0, x1, y1 -> image pixels."""
        v = np.asarray(box, dtype=np.float64)
        return np.concatenate([self.to_image(v[..., :2]), self.to_image(v[..., 2:])], axis=-1)

    def encode_box(self, box: ArrayLike) -> Float64Array:
        """(..., 4) image x0, y0, x1, y1 -> network units."""
        v = np.asarray(box, dtype=np.float64)
        return np.concatenate([self.from_image(v[..., :2]), self.from_image(v[..., 2:])], axis=-1)

    def decode_points(self, points: ArrayLike) -> Float64Array:
        """(..., K, 3) network landmarks -> image pixels (x, y) and pixel-unit depth."""
        v = np.asarray(points, dtype=np.float64)
        return np.concatenate([self.to_image(v[..., :2]), self.depth_scale * v[..., 2:]], axis=-1)

    def encode_points(self, points: ArrayLike) -> Float64Array:
        """(..., K, 2|3) image landmarks -> network units."""
        v = np.asarray(points, dtype=np.float64)
        return np.concatenate([self.from_image(v[..., :2]), v[..., 2:] / self.depth_scale], axis=-1)


def crop_box(box: ArrayLike, expansion: float) -> CropBox:
    """The region the original cuts for face box x0, y0, x1, y1 (pixels) and ``expansion``.

    Computed in float32 as the original does, so that corners round the same way.
    """
    x0, y0, x1, y1 = np.asarray(box, dtype=np.float32)
    half_side = np.maximum(x1 - x0, y1 - y0) * np.float32(expansion) * np.float32(0.5)
    cx, cy = np.float32(0.5) * (x1 + x0), np.float32(0.5) * (y1 + y0)
    corners = np.round(np.array([cx - half_side, cy - half_side, cx + half_side, cy + half_side], np.float32))
    if not np.all(np.isfinite(corners)) or corners[2] <= corners[0] or corners[3] <= corners[1]:
        raise ValueError(f"face box {np.asarray(box).tolist()} gives no crop region")
    return CropBox(*(int(c) for c in corners))


def cut_region(image: NDArray[np.uint8], region: CropBox) -> NDArray[np.uint8]:
    """The pixels of ``region`` of a gray (H, W) image, 0 where it reaches outside the image."""
    if image.ndim != 2:
        raise ValueError(f"expected a gray (H, W) image, got shape {image.shape}")
    h, w = image.shape
    out = np.zeros((region.y1 - region.y0, region.x1 - region.x0), dtype=image.dtype)
    sx0, sy0 = max(region.x0, 0), max(region.y0, 0)
    sx1, sy1 = min(region.x1, w), min(region.y1, h)
    if sx1 > sx0 and sy1 > sy0:
        out[sy0 - region.y0 : sy1 - region.y0, sx0 - region.x0 : sx1 - region.x0] = image[sy0:sy1, sx0:sx1]
    return out


def resize_region(cut: NDArray[np.uint8], out_size: int) -> NDArray[np.uint8]:
    """Resizes a cut region to out_size x out_size: area averaging when shrinking, else bilinear."""
    h, w = cut.shape
    shrinking = 0.5 * (out_size / w + out_size / h) < 1.0
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    return np.asarray(cv2.resize(cut, (out_size, out_size), interpolation=interpolation), dtype=np.uint8)


def original_crop(
    image: NDArray[np.uint8], box: ArrayLike, expansion: float, out_size: int
) -> tuple[NDArray[np.uint8], CropBox]:
    """Gray (H, W) image + face box -> the original's (out_size, out_size) uint8 crop and its region."""
    region = crop_box(box, expansion)
    return resize_region(cut_region(image, region), out_size), region
