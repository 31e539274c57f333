"""The original's training crop (``crop="original"``, the ``paper`` recipe), step by step.

What the original code (``RandomFocusRoi``, ``horizontal_flip_and_rot_90``) does to each sample:

1. The crop window: side = max(w, h) * scale around the face box, moved by shift times the
   wiggle room relu(side - w) / 2 + 0.3 w (likewise for y), then **rounded to whole pixels**.
2. Without in-plane rotation: the window is cut out (outside the image: ``border``, the original's
   black) and resized to the input with INTER_AREA (INTER_LINEAR when it is smaller than the input).
   With a rotation: a bilinear warp into a square of round(out_size / scale) pixels (about 1:1),
   then INTER_AREA to the input (a warp straight to the input when enlarging). The original hands
   its pixel-corner affine to OpenCV, which reads it on pixel centres: rotated crops come out
   shifted by 0.5 (I - A) (1, 1) pixels of the warp (A its linear part) against their labels,
   a fraction of a pixel at 30 degrees. This is reproduced.
3. Flip and quarter turn of the finished crop by whole pixels (exact).

Labels follow the exact affine (rounded window, rotation, flip, quarter turn).
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import ArrayLike, NDArray

from opnet.augment.geometric import BORDERS
from opnet.augment.params import AugmentParams
from opnet.geometry import FloatArray, compose_affines, hflip_affine, rotation_about


def crop_windows(boxes: ArrayLike, scale: ArrayLike, shift: ArrayLike, beyond_border: float) -> FloatArray:
    """(B, 4) x0, y0, x1, y1 crop windows in whole pixels around face boxes (B, 4), the original's way
    (in float32, as the original computes them, so that halves round the same way)."""
    f32 = np.float32
    boxes = np.asarray(boxes, dtype=f32)
    size = boxes[:, 2:] - boxes[:, :2]
    side = size.max(axis=1) * np.asarray(scale, dtype=f32)
    wiggle = np.maximum(side[:, None] - size, f32(0.0)) * f32(0.5) + size * f32(beyond_border)
    centre = f32(0.5) * (boxes[:, 2:] + boxes[:, :2])
    offset = wiggle * np.asarray(shift, dtype=f32)
    half = (side * f32(0.5))[:, None]
    return np.round(np.concatenate([centre - half + offset, centre + half + offset], axis=1)).astype(
        np.float64
    )


def window_affines(windows: ArrayLike, out_size: int) -> FloatArray:
    """(B, 2, 3) affines mapping each window's corners onto the ``out_size`` square (x, y scaled apart)."""
    windows = np.asarray(windows, dtype=np.float64)
    s = out_size / (windows[:, 2:] - windows[:, :2])
    zero = np.zeros(len(windows))
    rows = [
        np.stack([s[:, 0], zero, -windows[:, 0] * s[:, 0]], axis=-1),
        np.stack([zero, s[:, 1], -windows[:, 1] * s[:, 1]], axis=-1),
    ]
    return np.stack(rows, axis=-2)


def rotated_window_affines(windows: ArrayLike, angle_rad: ArrayLike, out_size: int) -> FloatArray:
    """(B, 2, 3) window affines followed by the in-plane rotation about the input's centre."""
    centre = (0.5 * out_size, 0.5 * out_size)
    return compose_affines(rotation_about(angle_rad, centre), window_affines(windows, out_size))


def crop_affines(
    boxes: ArrayLike, params: AugmentParams, out_size: int, beyond_border: float = 0.3
) -> tuple[FloatArray, FloatArray]:
    """(windows (B, 4), affines (B, 2, 3)): image pixels -> input pixels, rotation, flip, quarter turn."""
    windows = crop_windows(boxes, params.scale, params.shift, beyond_border)
    centre = (0.5 * out_size, 0.5 * out_size)
    flips = np.where(params.flip[:, None, None], hflip_affine(out_size), np.eye(2, 3))
    turns = rotation_about(0.5 * np.pi * params.quarter_turns, centre)
    rotated = rotated_window_affines(windows, params.angle_rad, out_size)
    return windows, compose_affines(turns, flips, rotated)


def cut_window(image: NDArray[np.uint8], window: ArrayLike, out_size: int, border: str) -> NDArray[np.uint8]:
    """The whole-pixel window x0, y0, x1, y1 of a gray image, resized to ``out_size`` (no rotation)."""
    x0, y0, x1, y1 = np.asarray(window, dtype=np.int64).tolist()
    h, w = image.shape
    inside = image[max(y0, 0) : max(min(y1, h), 0), max(x0, 0) : max(min(x1, w), 0)]
    pads = (max(-y0, 0), max(y1 - h, 0), max(-x0, 0), max(x1 - w, 0))
    if inside.size == 0 or (border == "zero" and any(pads)):
        cut = np.zeros((y1 - y0, x1 - x0), np.uint8)
        if inside.size:
            cut[pads[0] : pads[0] + inside.shape[0], pads[2] : pads[2] + inside.shape[1]] = inside
    elif any(pads):
        cut = cv2.copyMakeBorder(inside, *pads, borderType=BORDERS[border])
    else:
        cut = inside
    interpolation = cv2.INTER_AREA if cut.shape[1] >= out_size else cv2.INTER_LINEAR
    return np.asarray(cv2.resize(cut, (out_size, out_size), interpolation=interpolation), np.uint8)


def rms_scale(affine: ArrayLike) -> float:
    """The original's scale of an affine: the RMS of its linear part's entries times sqrt(2)."""
    return float(np.linalg.norm(np.asarray(affine, dtype=np.float64)[:2, :2]) / np.sqrt(2.0))


def warp_rotated(
    image: NDArray[np.uint8], affine: ArrayLike, out_size: int, border: str
) -> NDArray[np.uint8]:
    """The rotated crop: ``affine`` (window + rotation) given to OpenCV as it is (see the module notes)."""
    affine = np.asarray(affine, dtype=np.float64)
    scale = rms_scale(affine)
    mode = BORDERS[border]
    if scale > 1.0:
        warped = cv2.warpAffine(image, affine, (out_size, out_size), flags=cv2.INTER_LINEAR, borderMode=mode)
        return np.asarray(warped, np.uint8)
    side = round(out_size / scale)
    to_side = affine * (side / out_size)
    rotated = cv2.warpAffine(image, to_side, (side, side), flags=cv2.INTER_LINEAR, borderMode=mode)
    return np.asarray(cv2.resize(rotated, (out_size, out_size), interpolation=cv2.INTER_AREA), np.uint8)


def turn_and_flip(patch: NDArray[np.uint8], flip: bool, quarter_turns: int) -> NDArray[np.uint8]:
    """Flips the finished crop horizontally, then turns it by quarter turns (clockwise if positive)."""
    if flip:
        patch = patch[:, ::-1]
    return np.ascontiguousarray(np.rot90(patch, -int(quarter_turns)))


def original_crop(
    image: NDArray[np.uint8],
    window: ArrayLike,
    angle_rad: float,
    flip: bool,
    quarter_turns: int,
    out_size: int,
    border: str = "zero",
) -> NDArray[np.uint8]:
    """One sample's crop from its full-size gray image, as the original cuts it."""
    if angle_rad != 0.0:
        affine = rotated_window_affines(np.asarray(window)[None], [angle_rad], out_size)[0]
        patch = warp_rotated(image, affine, out_size, border)
    else:
        patch = cut_window(image, window, out_size, border)
    return turn_and_flip(patch, flip, quarter_turns)
