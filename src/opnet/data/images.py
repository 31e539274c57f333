"""Encoding and decoding of the image files stored in (or next to) a dataset."""

from __future__ import annotations

from enum import StrEnum

import cv2
import numpy as np
from numpy.typing import NDArray

# Labels refer to the stored pixel grid, so EXIF orientation must never be applied.
_GRAY = cv2.IMREAD_GRAYSCALE | cv2.IMREAD_IGNORE_ORIENTATION
_COLOR = cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION
_UNCHANGED = cv2.IMREAD_UNCHANGED | cv2.IMREAD_IGNORE_ORIENTATION


class ImageFormat(StrEnum):
    JPEG = "jpg"
    PNG = "png"


def image_format(buffer: bytes | NDArray[np.uint8]) -> ImageFormat | None:
    """The format of an encoded image from its magic bytes, or None if it is neither JPEG nor PNG."""
    head = bytes(memoryview(buffer)[:8])
    if head[:3] == b"\xff\xd8\xff":
        return ImageFormat.JPEG
    if head == b"\x89PNG\r\n\x1a\n":
        return ImageFormat.PNG
    return None


def decode_image(buffer: bytes | NDArray[np.uint8], color: bool = False) -> NDArray[np.uint8] | None:
    """Decodes a JPEG/PNG file's bytes: (H, W) gray, or (H, W, 3) RGB if ``color``; None if undecodable."""
    array = np.frombuffer(buffer, dtype=np.uint8)
    if array.size == 0:
        return None
    image = cv2.imdecode(array, _COLOR if color else _GRAY)
    if image is None:
        return None
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB) if color else image


def decode_label_image(buffer: bytes | NDArray[np.uint8]) -> NDArray[np.uint8] | None:
    """Decodes a lossless label image (e.g. a segmentation) without any colour conversion."""
    array = np.frombuffer(buffer, dtype=np.uint8)
    return cv2.imdecode(array, _UNCHANGED) if array.size else None


def encode_image(image: NDArray[np.uint8], lossy: bool = True, jpeg_quality: int = 95) -> bytes:
    """Encodes (H, W) gray or (H, W, 3) RGB uint8 pixels as JPEG (``lossy``) or PNG."""
    if image.dtype != np.uint8 or image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] != 3):
        raise ValueError(f"expected (H, W) or (H, W, 3) uint8 pixels, got {image.shape} {image.dtype}")
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    if lossy:
        ok, out = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality])
    else:
        ok, out = cv2.imencode(".png", image)
    if not ok:
        raise ValueError("OpenCV could not encode the image")
    return out.tobytes()
