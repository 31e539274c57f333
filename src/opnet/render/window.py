"""Rendering part of an image at a higher resolution and blending it in (supersampled anti-aliasing)."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import ArrayLike, NDArray


@dataclass(frozen=True)
class RenderWindow:
    """Image pixels [x0, x0 + width) x [y0, y0 + height), rendered ``factor`` times finer.

    Window pixel (r, c) covers image region x0 + c / factor .. x0 + (c + 1) / factor (likewise
    for y), so averaging factor x factor blocks gives exactly the image pixels.
    """

    x0: int
    y0: int
    width: int
    height: int
    factor: int = 1

    @classmethod
    def around(
        cls, points: ArrayLike, image_height: int, image_width: int, factor: int = 1
    ) -> RenderWindow | None:
        """The smallest window holding image points (N, 2+) and inside the image; None if they miss it."""
        xy = np.asarray(points, dtype=np.float64)[:, :2]
        x0, y0 = np.maximum(np.floor(xy.min(axis=0)).astype(int), 0)
        x1 = min(int(np.ceil(xy[:, 0].max())), image_width)
        y1 = min(int(np.ceil(xy[:, 1].max())), image_height)
        if x1 <= x0 or y1 <= y0:
            return None
        return cls(int(x0), int(y0), x1 - int(x0), y1 - int(y0), factor)

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, columns) of the fine raster."""
        return self.height * self.factor, self.width * self.factor

    def to_window(self, points: ArrayLike) -> NDArray[np.float64]:
        """Image points (N, 3) -> fine-raster pixel coordinates (depth scaled alike)."""
        p = np.asarray(points, dtype=np.float64)
        return (p - np.array([self.x0, self.y0, 0.0])) * self.factor

    def downsample(self, fine: NDArray) -> NDArray[np.float32]:
        """(rows, columns, ...) fine raster -> (height, width, ...) image pixels (block means)."""
        fine = np.asarray(fine, dtype=np.float32)
        if self.factor == 1:
            return fine
        return cv2.resize(fine, (self.width, self.height), interpolation=cv2.INTER_AREA)

    def region(self, image: NDArray) -> NDArray:
        """The window's part of an image (H, W, ...) of the full size: a view."""
        return image[self.y0 : self.y0 + self.height, self.x0 : self.x0 + self.width]

    def composite(
        self, image: NDArray[np.float32], colour: NDArray[np.float32], coverage: NDArray[np.float32]
    ) -> None:
        """Blends a fine render over ``image`` (H, W, C) float32, in place.

        ``colour`` (rows, columns, C) is premultiplied (0 where nothing was drawn), ``coverage``
        (rows, columns) the drawn fraction of each fine pixel (0 or 1 from a rasteriser).
        """
        alpha = self.downsample(coverage)[..., None]
        region = self.region(image)
        region *= 1.0 - alpha
        region += self.downsample(colour).reshape(region.shape)
