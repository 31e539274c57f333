"""The crop of each sample as ONE affine (jitter, rotation, flip), and the single warp that applies it.

Frames: image pixels -> output pixels of the ``out_size`` square network input, pixel-corner
convention (opnet.geometry). Labels follow the same affines (:meth:`FaceLabels.transformed`).
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import ArrayLike, NDArray

from opnet.augment.params import AugmentParams
from opnet.data.images import REDUCTIONS
from opnet.geometry import (
    FloatArray,
    affine_scale,
    compose_affines,
    crop_transform,
    hflip_affine,
    rotation_about,
    to_cv2_affine,
)

_IDENTITY = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])


def crop_windows(
    boxes: ArrayLike, scale: ArrayLike, shift: ArrayLike, beyond_border: float
) -> tuple[FloatArray, FloatArray]:
    """Centres (B, 2) and sides (B,) of the square crops around face boxes (B, 4) x0, y0, x1, y1 (pixels).

    side = max(w, h) * scale; the centre moves by ``shift`` (in [-1, 1] per axis) times the wiggle
    room 0.5 |side - w| + beyond_border * min(side, w) (likewise for y), so at the extremes the face
    box sticks out of the crop by at most ``beyond_border`` of the smaller of the two.
    """
    boxes = np.asarray(boxes, dtype=np.float64)
    size = boxes[:, 2:] - boxes[:, :2]
    side = size.max(axis=1) * np.asarray(scale, dtype=np.float64)
    wiggle = 0.5 * np.abs(side[:, None] - size) + beyond_border * np.minimum(side[:, None], size)
    centre = 0.5 * (boxes[:, :2] + boxes[:, 2:]) + wiggle * np.asarray(shift, dtype=np.float64)
    return centre, side


def crop_affines(
    boxes: ArrayLike, params: AugmentParams, out_size: int, beyond_border: float = 0.3
) -> FloatArray:
    """(B, 2, 3) affines from image pixels to the ``out_size`` square input: crop, rotate, flip."""
    centre, side = crop_windows(boxes, params.scale, params.shift, beyond_border)
    flips = np.where(params.flip[:, None, None], hflip_affine(out_size), _IDENTITY)
    rotations = rotation_about(params.angle_rad, (0.5 * out_size, 0.5 * out_size))
    return compose_affines(flips, rotations, crop_transform(centre, side, out_size))


def decode_reductions(affines: ArrayLike) -> NDArray[np.int64]:
    """(B,) the largest decode reduction (1, 2, 4, 8) keeping at least one source pixel per output pixel."""
    source_per_output = 1.0 / affine_scale(affines)
    usable = np.array(REDUCTIONS) <= source_per_output[..., None] + 1e-9
    return np.where(usable, np.array(REDUCTIONS), 1).max(axis=-1)


def warp(image: NDArray[np.uint8], affine: ArrayLike, out_size: int, reduction: int = 1) -> NDArray[np.uint8]:
    """Bilinear warp of a gray image into the ``out_size`` square; ``image`` may be decoded at 1/reduction.

    Borders are replicated, as OpenTrack's crop (``cv2.getRectSubPix``) does.
    """
    from_reduced = compose_affines(affine, [[reduction, 0.0, 0.0], [0.0, reduction, 0.0]])
    return cv2.warpAffine(
        image,
        to_cv2_affine(from_reduced),
        (out_size, out_size),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
