"""Drawing faces and their poses onto RGB pictures (``opnet predict -o``, ``opnet track --preview``)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from opnet.viz.draw import draw_head, draw_pose_axes, draw_roi, put_text

DETECTION_COLOR = (0, 200, 255)


def line_scale(image_shape: tuple[int, ...]) -> float:
    """How much thicker than on a 640 x 480 frame lines and text are drawn on an image this size."""
    return max(1.0, max(image_shape[:2]) / 800.0)


def draw_face(
    rgb: NDArray[np.uint8], quat: ArrayLike, coords: ArrayLike, box: ArrayLike | None = None, label: str = ""
) -> None:
    """In place: the face ``box`` (if any), the head circle and centre, the pose axes and a label
    above, with line widths and text sizes that grow with the image (:func:`line_scale`)."""
    x, y, size = np.asarray(coords, dtype=np.float64)
    scale = line_scale(rgb.shape)
    thick = max(1, round(2 * scale))
    if box is not None:
        draw_roi(rgb, box, thickness=thick)
    draw_head(rgb, coords, thickness=max(1, round(scale)))
    draw_pose_axes(rgb, quat, (x, y), size, thickness=thick)
    if label:
        top = np.asarray(box, dtype=np.float64)[1] if box is not None else y - size
        left = np.asarray(box, dtype=np.float64)[0] if box is not None else x - size
        h, w = rgb.shape[:2]
        text_w = int(len(label) * 8.5 * scale)
        origin = (int(np.clip(left, 2, max(2, w - text_w))), int(np.clip(top - 6 * scale, 12 * scale, h - 4)))
        put_text(rgb, label, origin, scale=0.4 * scale, thickness=max(1, round(scale)))


def draw_detection(rgb: NDArray[np.uint8], box: ArrayLike) -> None:
    """In place: where the face detector saw the face (thin, in its own colour)."""
    draw_roi(rgb, box, color=DETECTION_COLOR, thickness=1)


def angles_label(yaw_deg: float, pitch_deg: float, roll_deg: float) -> str:
    return f"yaw {yaw_deg:+.0f} pitch {pitch_deg:+.0f} roll {roll_deg:+.0f}"
