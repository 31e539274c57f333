"""Texture look-ups at the texture coordinates of rasterised pixels."""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import ArrayLike, NDArray

_ROW = 4096  # cv2.remap wants maps under 32767 per side: fold the point list into rows


def sample_texture(texture: NDArray, uv: ArrayLike) -> NDArray[np.float32]:
    """Bilinear samples (P, C) of ``texture`` (h, w, C) (or (P,) for (h, w)) at ``uv`` (P, 2).

    ``uv`` are (x, y) texel coordinates with texel (row i, column j) centred at (j, i), OpenCV's
    convention (for an image used as a texture, that is pixel-corner coordinates minus 0.5).
    Points outside repeat the border texels.
    """
    uv = np.asarray(uv, dtype=np.float32).reshape(-1, 2)
    count = len(uv)
    rows = max(1, -(-count // _ROW))
    padded = np.zeros((rows * _ROW, 2), dtype=np.float32)
    padded[:count] = uv
    maps = padded.reshape(rows, _ROW, 2)
    out = cv2.remap(texture, maps, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    out = out.reshape(rows * _ROW, *texture.shape[2:])[:count]
    return out.astype(np.float32, copy=False)
