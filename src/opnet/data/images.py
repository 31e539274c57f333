"""Encoding and decoding of the image files stored in (or next to) a dataset."""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from opnet.compat import StrEnum

# Labels refer to the stored pixel grid, so EXIF orientation must never be applied.
_GRAY = cv2.IMREAD_GRAYSCALE | cv2.IMREAD_IGNORE_ORIENTATION
_COLOR = cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION
_UNCHANGED = cv2.IMREAD_UNCHANGED | cv2.IMREAD_IGNORE_ORIENTATION


class ImageFormat(StrEnum):
    JPEG = "jpg"
    PNG = "png"


def image_format(buffer: bytes | NDArray[np.uint8]) -> ImageFormat | None:
    """The format of an encoded image from its magic bytes, or None if it is neither JPEG nor PNG."""
    head = bytes(buffer[:8])
    if head[:3] == b"\xff\xd8\xff":
        return ImageFormat.JPEG
    if head == b"\x89PNG\r\n\x1a\n":
        return ImageFormat.PNG
    return None


MAX_IMAGE_PIXELS = 100_000_000
"""Largest image OpNet decodes, width x height (100 megapixels: 300 MB as RGB). Larger declared sizes
are refused from the file's header, before any pixel is decoded."""


class ImageTooLarge(ValueError):
    """An image whose header declares more than :data:`MAX_IMAGE_PIXELS`."""


def _png_size(head: bytes) -> tuple[int, int] | None:
    if len(head) < 24 or head[12:16] != b"IHDR":
        return None
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a JPEG's frame header (SOFn), found by walking the marker segments."""
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
        elif marker == 0x01 or 0xD0 <= marker <= 0xD8:  # markers without a length
            pos += 2
        elif marker in _SOF_MARKERS:
            if pos + 9 > len(data):
                return None
            return int.from_bytes(data[pos + 7 : pos + 9], "big"), int.from_bytes(
                data[pos + 5 : pos + 7], "big"
            )
        elif marker in (0xD9, 0xDA):  # end of image or start of scan before any frame header
            return None
        else:
            pos += 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
    return None


def declared_size(buffer: bytes | NDArray[np.uint8]) -> tuple[int, int] | None:
    """(width, height) that a JPEG or PNG file's header declares; None for other or unreadable headers."""
    data = buffer if isinstance(buffer, bytes) else np.asarray(buffer, np.uint8).tobytes()
    kind = image_format(data)
    if kind == ImageFormat.PNG:
        return _png_size(data[:24])
    if kind == ImageFormat.JPEG:
        return _jpeg_size(data)
    return None


def check_image_size(buffer: bytes | NDArray[np.uint8]) -> None:
    """Raises :class:`ImageTooLarge` if the header declares more than :data:`MAX_IMAGE_PIXELS`."""
    size = declared_size(buffer)
    if size is not None and size[0] * size[1] > MAX_IMAGE_PIXELS:
        raise ImageTooLarge(
            f"image declares {size[0]} x {size[1]} pixels; OpNet decodes at most "
            f"{MAX_IMAGE_PIXELS // 1_000_000} megapixels"
        )


def decode_image(buffer: bytes | NDArray[np.uint8], color: bool = False) -> NDArray[np.uint8] | None:
    """Decodes a JPEG/PNG file's bytes: (H, W) gray, or (H, W, 3) RGB if ``color``; None if undecodable.

    Raises :class:`ImageTooLarge` for images beyond :data:`MAX_IMAGE_PIXELS`."""
    array = np.frombuffer(buffer, dtype=np.uint8)
    if array.size == 0:
        return None
    check_image_size(buffer)
    image = cv2.imdecode(array, _COLOR if color else _GRAY)
    if image is None:
        return None
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB) if color else image


REDUCTIONS = (1, 2, 4, 8)
"""Decode-time size reductions :func:`decode_gray_reduced` supports."""

_JPEG_REDUCED = {
    1: _GRAY,
    2: cv2.IMREAD_REDUCED_GRAYSCALE_2 | cv2.IMREAD_IGNORE_ORIENTATION,
    4: cv2.IMREAD_REDUCED_GRAYSCALE_4 | cv2.IMREAD_IGNORE_ORIENTATION,
    8: cv2.IMREAD_REDUCED_GRAYSCALE_8 | cv2.IMREAD_IGNORE_ORIENTATION,
}


def decode_gray_reduced(buffer: bytes | NDArray[np.uint8], reduction: int) -> NDArray[np.uint8] | None:
    """Decodes a JPEG/PNG file to gray at 1/``reduction`` of its size; None if undecodable.

    Pixel-corner coordinates of the result are the original's divided by ``reduction`` (each pixel
    averages a reduction x reduction block). JPEG uses libjpeg's DCT scaling, which makes decoding
    cheaper rather than dearer; PNG is decoded whole and area-averaged (the size rounds up, as
    libjpeg's does, with the border replicated). Raises :class:`ImageTooLarge` as :func:`decode_image`.
    """
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction}")
    array = np.frombuffer(buffer, dtype=np.uint8)
    if array.size == 0:
        return None
    check_image_size(buffer)
    if reduction == 1 or image_format(array) == ImageFormat.JPEG:
        return cv2.imdecode(array, _JPEG_REDUCED[reduction])
    image = cv2.imdecode(array, _GRAY)
    if image is None:
        return None
    h, w = -(-image.shape[0] // reduction), -(-image.shape[1] // reduction)
    padded = cv2.copyMakeBorder(
        image, 0, h * reduction - image.shape[0], 0, w * reduction - image.shape[1], cv2.BORDER_REPLICATE
    )
    return cv2.resize(padded, (w, h), interpolation=cv2.INTER_AREA)


def decode_label_image(buffer: bytes | NDArray[np.uint8]) -> NDArray[np.uint8] | None:
    """Decodes a lossless label image (e.g. a segmentation) without any colour conversion."""
    array = np.frombuffer(buffer, dtype=np.uint8)
    if array.size == 0:
        return None
    check_image_size(buffer)
    return cv2.imdecode(array, _UNCHANGED)


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
