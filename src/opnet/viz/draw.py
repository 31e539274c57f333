"""Drawing labels and predictions onto RGB images (in place), in image pixel coordinates."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
from numpy.typing import ArrayLike, NDArray

from opnet.geometry import quat_to_matrix

# Colours (RGB) of the drawn head axes: +x red, +y green, forward (-z, where the face looks) blue.
AXIS_COLORS = ((230, 40, 40), (40, 200, 40), (50, 90, 255))
ROI_COLOR = (255, 210, 0)
LANDMARK_COLOR = (0, 255, 255)
HEAD_COLOR = (255, 120, 255)

_SHIFT = 4  # sub-pixel precision of OpenCV drawing: coordinates scaled by 2**4


def _pt(xy: ArrayLike) -> tuple[int, int]:
    x, y = np.asarray(xy, dtype=np.float64)[:2] * (1 << _SHIFT)
    return int(round(x)), int(round(y))


def _px(p: ArrayLike) -> tuple[int, int]:
    """Pixel-corner coordinates -> OpenCV's pixel-centre drawing coordinates."""
    return _pt(np.asarray(p, dtype=np.float64)[:2] - 0.5)


def draw_pose_axes(
    image: NDArray[np.uint8],
    q: ArrayLike,
    centre: ArrayLike,
    length: float,
    thickness: int = 2,
    colors: Sequence[tuple[int, int, int]] = AXIS_COLORS,
) -> None:
    """Head axes of pose ``q`` (xyzw) from ``centre`` (x, y), orthographic, ``length`` px long,
    in ``colors`` (RGB of +x, +y and forward)."""
    m = quat_to_matrix(q)
    directions = (m[:, 0], m[:, 1], -m[:, 2])
    # Draw the axis pointing furthest into the screen first, so nearer ones stay visible.
    for k in np.argsort([-d[2] for d in directions]):
        tip = np.asarray(centre, dtype=np.float64)[:2] + length * directions[k][:2]
        cv2.line(image, _px(centre), _px(tip), colors[k], thickness, cv2.LINE_AA, _SHIFT)


def draw_roi(
    image: NDArray[np.uint8], roi: ArrayLike, color: tuple[int, int, int] = ROI_COLOR, thickness: int = 1
) -> None:
    """Box x0, y0, x1, y1 in pixels."""
    x0, y0, x1, y1 = np.asarray(roi, dtype=np.float64)
    cv2.rectangle(image, _px((x0, y0)), _px((x1, y1)), color, thickness, cv2.LINE_AA, _SHIFT)


def draw_landmarks(
    image: NDArray[np.uint8],
    points: ArrayLike,
    color: tuple[int, int, int] = LANDMARK_COLOR,
    radius: float = 1.5,
) -> None:
    """Points (K, 2|3) in pixels; points that are not finite are skipped."""
    for p in np.asarray(points, dtype=np.float64):
        if np.all(np.isfinite(p[:2])):
            cv2.circle(image, _px(p), int(radius * (1 << _SHIFT)), color, -1, cv2.LINE_AA, _SHIFT)


def draw_head(
    image: NDArray[np.uint8],
    coords: ArrayLike,
    color: tuple[int, int, int] = HEAD_COLOR,
    thickness: int = 1,
) -> None:
    """Head centre (x, y) as a cross and its size as a circle of that radius."""
    x, y, size = np.asarray(coords, dtype=np.float64)
    cv2.circle(image, _px((x, y)), int(size * (1 << _SHIFT)), color, thickness, cv2.LINE_AA, _SHIFT)
    for d in ((4 * thickness, 0), (0, 4 * thickness)):
        a, b = np.array([x, y]) - d, np.array([x, y]) + d
        cv2.line(image, _px(a), _px(b), color, thickness, cv2.LINE_AA, _SHIFT)


def put_text(
    image: NDArray[np.uint8],
    text: str,
    origin: tuple[int, int],
    scale: float = 0.4,
    color: tuple[int, int, int] = (255, 255, 255),
    thickness: int = 1,
) -> None:
    """Readable text (dark outline) with its baseline starting at ``origin``; ``thickness`` of the
    letters in pixels (the outline is 2 px wider)."""
    font = cv2.FONT_HERSHEY_SIMPLEX
    cv2.putText(image, text, origin, font, scale, (0, 0, 0), thickness + 2, cv2.LINE_AA)
    cv2.putText(image, text, origin, font, scale, color, thickness, cv2.LINE_AA)
