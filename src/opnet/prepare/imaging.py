"""Image helpers for converters: size from the file header, and a storage crop around a face."""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import ArrayLike, NDArray

from opnet.data.images import (
    MAX_IMAGE_PIXELS,
    ImageTooLarge,
    check_image_size,
    declared_size,
    decode_image,
    encode_image,
)
from opnet.geometry import transform_points
from opnet.prepare.archive import Archive
from opnet.prepare.runner import Skipped


def centre_to_corner(points: ArrayLike) -> NDArray[np.float64]:
    """Points (..., 2|3) with pixel i's centre at i, as the raw datasets and the original's files give
    them -> OpNet's pixel-corner convention (centre at i + 0.5, docs/format.md); z is unchanged."""
    out = np.array(points, dtype=np.float64)
    out[..., :2] += 0.5
    return out


TOO_LARGE = f"image larger than {MAX_IMAGE_PIXELS // 1_000_000} megapixels"
"""Why a converter skips an image beyond :data:`opnet.data.images.MAX_IMAGE_PIXELS`."""


def image_size(buffer: bytes) -> tuple[int, int]:
    """(width, height) of a JPEG/PNG file read from its header (pixels are not decoded); ValueError if
    unreadable, :class:`ImageTooLarge` beyond :data:`opnet.data.images.MAX_IMAGE_PIXELS`."""
    size = declared_size(buffer)
    if size is None:
        raise ValueError("not a readable JPEG or PNG header")
    check_image_size(buffer)
    return size


def read_with_size(archive: Archive, name: str) -> tuple[bytes, int, int] | Skipped:
    """An image member's bytes with its width and height, or Skipped if its header is unreadable."""
    buffer = archive.read(name)
    try:
        return (buffer, *image_size(buffer))
    except ImageTooLarge:
        return Skipped(TOO_LARGE)
    except ValueError:
        return Skipped("unreadable image")


def decode_or_skip(buffer: bytes, color: bool = True) -> NDArray[np.uint8] | Skipped:
    """Decoded pixels (:func:`opnet.data.images.decode_image`), or Skipped saying why not."""
    try:
        pixels = decode_image(buffer, color=color)
    except ImageTooLarge:
        return Skipped(TOO_LARGE)
    return Skipped("unreadable image") if pixels is None else pixels


def storage_crop(
    image: NDArray[np.uint8],
    roi: NDArray,
    padding: float = 0.5,
    margin_px: float = 10.0,
    target_roi_px: float = 224.0,
    downscale_above: float = 1.5,
) -> tuple[NDArray[np.uint8], NDArray[np.float64]]:
    """Cuts the region around a face box out of a large image, for compact storage.

    The region is the box grown by ``padding * max(w, h) + margin_px`` on every side (clipped to
    the image). If the box's shorter side exceeds ``downscale_above * target_roi_px``, the region
    is shrunk (INTER_AREA) so that it becomes ``target_roi_px``: a network never needs more.
    Returns the crop and the 2x3 affine from image to crop coordinates (pixel-corner convention).
    """
    height, width = image.shape[:2]
    roi = np.asarray(roi, dtype=np.float64)
    border = padding * float(np.max(roi[2:] - roi[:2])) + margin_px
    x0, y0 = (max(0, int(np.floor(v - border))) for v in roi[:2])
    x1 = min(width, int(np.ceil(roi[2] + border)))
    y1 = min(height, int(np.ceil(roi[3] + border)))
    if x1 <= x0 or y1 <= y0:
        raise ValueError("face box lies outside the image")
    crop = image[y0:y1, x0:x1]
    scale = 1.0
    shorter = float(np.min(roi[2:] - roi[:2]))
    if shorter > downscale_above * target_roi_px:
        scale = target_roi_px / shorter
    size = (max(1, round((x1 - x0) * scale)), max(1, round((y1 - y0) * scale)))
    if scale != 1.0:
        crop = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
    sx, sy = size[0] / (x1 - x0), size[1] / (y1 - y0)
    affine = np.array([[sx, 0.0, -sx * x0], [0.0, sy, -sy * y0]])
    return np.ascontiguousarray(crop), affine


def transform_roi(affine: NDArray, roi: NDArray) -> NDArray[np.float64]:
    """(4,) box mapped by an axis-aligned 2x3 affine (scale and shift only)."""
    corners = transform_points(affine, np.asarray(roi, dtype=np.float64).reshape(2, 2))
    return corners.reshape(4)


def cropped_landmark_sample(
    buffer: bytes, points: NDArray, roi: NDArray, jpeg_quality: int = 95
) -> dict[str, object] | Skipped:
    """A sample of an in-the-wild landmark dataset: the image cut to the face's surroundings
    (:func:`storage_crop`) as JPEG, with ``rois`` and ``pt2d_68`` moved along; Skipped if undecodable."""
    pixels = decode_or_skip(buffer)
    if isinstance(pixels, Skipped):
        return pixels
    crop, affine = storage_crop(pixels, roi)
    return {
        "images": encode_image(crop, lossy=True, jpeg_quality=jpeg_quality),
        "rois": transform_roi(affine, roi).astype(np.float32),
        "pt2d_68": transform_points(affine, points).astype(np.float32),
    }
