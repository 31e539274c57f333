"""OpNet's crop (``crop="subpixel"``): ONE affine per sample (jitter, rotation, flip), applied by a
bilinear warp at about 1:1 and an INTER_AREA resize, as the evaluation crop is cut.

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
    rotations = rotation_about(params.total_angle_rad, (0.5 * out_size, 0.5 * out_size))
    return compose_affines(flips, rotations, crop_transform(centre, side, out_size))


DECODE_MARGIN = 4
"""A JPEG is decoded at 1/r size only where the crop still shrinks at least this much after it: the
INTER_AREA step then dominates, and the crop stays within about a gray level of the full-size one
(the evaluation's); smaller crops are decoded whole."""


def decode_reductions(affines: ArrayLike, margin: float = DECODE_MARGIN) -> NDArray[np.int64]:
    """(B,) the largest decode reduction r (1, 2, 4, 8) with at least ``margin`` * r source pixels per
    output pixel."""
    source_per_output = 1.0 / affine_scale(affines)
    usable = np.array(REDUCTIONS) * margin <= source_per_output[..., None] + 1e-9
    return np.where(usable, np.array(REDUCTIONS), 1).max(axis=-1)


BORDERS = {"zero": cv2.BORDER_CONSTANT, "replicate": cv2.BORDER_REPLICATE}
"""OpenCV border modes of the ``border`` setting (constant = black)."""


def warp(
    image: NDArray[np.uint8], affine: ArrayLike, out_size: int, reduction: int = 1, border: str = "replicate"
) -> NDArray[np.uint8]:
    """Cuts the ``out_size`` square ``affine`` maps the image to; ``image`` may be decoded at 1/reduction.

    Like the evaluation crop (sub-pixel window, then INTER_AREA): a bilinear warp into a square of
    side round(out_size / scale) decoded pixels (1:1), then an INTER_AREA resize to ``out_size``;
    a crop smaller than ``out_size`` is warped straight to it. ``border``: see :data:`BORDERS`
    (``replicate`` is OpenTrack's ``cv2.getRectSubPix``).
    """
    from_reduced = compose_affines(affine, [[reduction, 0.0, 0.0], [0.0, reduction, 0.0]])
    side = max(out_size, int(round(out_size / float(affine_scale(from_reduced)))))
    to_side = compose_affines([[side / out_size, 0.0, 0.0], [0.0, side / out_size, 0.0]], from_reduced)
    warped = cv2.warpAffine(
        image, to_cv2_affine(to_side), (side, side), flags=cv2.INTER_LINEAR, borderMode=BORDERS[border]
    )
    if side == out_size:
        return np.asarray(warped, np.uint8)
    return np.asarray(cv2.resize(warped, (out_size, out_size), interpolation=cv2.INTER_AREA), np.uint8)


def _scale_and_mirror(affine: FloatArray) -> tuple[float, bool] | None:
    """(scale, mirrored) of an affine that only scales (mirroring x maybe) and shifts, else None."""
    (a, b), (c, d) = affine[:, :2]
    if abs(b) > 1e-12 or abs(c) > 1e-12 or d <= 0 or abs(abs(a) - d) > 1e-12 * d:
        return None
    return float(d), bool(a < 0)


def cut(
    image: NDArray[np.uint8], affine: ArrayLike, out_size: int, reduction: int = 1, border: str = "replicate"
) -> tuple[NDArray[np.uint8], FloatArray]:
    """The crop of :func:`warp` and the affine (image pixels -> ``out_size`` square) it realises.

    A crop without rotation and with replicated borders is cut exactly as the evaluation crop is
    (:func:`opnet.preprocess.crop_patch`: ``cv2.getRectSubPix`` of a whole number of decoded
    pixels, then INTER_AREA; a flip mirrors the result): ten times faster than the warp; its side
    is rounded to whole decoded pixels, and the affine returned says so.
    """
    affine = np.asarray(affine, dtype=np.float64)
    from_reduced = compose_affines(affine, [[reduction, 0.0, 0.0], [0.0, reduction, 0.0]])
    aligned = _scale_and_mirror(from_reduced)
    if aligned is None or border != "replicate":
        return warp(image, affine, out_size, reduction, border), affine
    scale, mirrored = aligned
    side = max(1, int(round(out_size / scale)))
    lin_inv = np.linalg.inv(from_reduced[:, :2])
    centre = lin_inv @ (np.array([0.5 * out_size, 0.5 * out_size]) - from_reduced[:, 2])
    window = cv2.getRectSubPix(image, (side, side), (float(centre[0]) - 0.5, float(centre[1]) - 0.5))
    patch = cv2.resize(window, (out_size, out_size), interpolation=cv2.INTER_AREA)
    realised = crop_transform(centre * reduction, side * reduction, out_size)
    if mirrored:
        patch, realised = patch[:, ::-1], compose_affines(hflip_affine(out_size), realised)
    return np.ascontiguousarray(patch, np.uint8), realised
