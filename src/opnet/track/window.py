"""A live window for ``opnet track --show``: the annotated frame, the pose numbers and frames/s.

q or Esc (or closing the window) stops tracking. Needs OpenCV's GUI build: the ``opencv-python``
wheel (``pip install -e ".[gui]"``), not ``opencv-python-headless``, which OpNet installs by
default. Both wheels provide the module ``cv2``; :func:`gui_available` asks the one that is
imported (``cv2.getBuildInformation()``) whether it can open windows.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable, Iterator

import cv2
import numpy as np
from numpy.typing import NDArray

from opnet.errors import OpNetError
from opnet.runtime.annotate import line_scale
from opnet.track.records import TrackRecord, annotated_frame
from opnet.viz.draw import put_text

QUIT_KEYS = (ord("q"), ord("Q"), 27)
"""Keys that close the window: q and Esc."""
WINDOW_TITLE = "opnet track (q or Esc: quit)"


class StopTracking(Exception):
    """The person watching asked to stop (q, Esc, or the window was closed)."""


def gui_backend() -> str:
    """OpenCV's GUI backend as its build information names it (e.g. ``QT5``, ``GTK3``; ``NONE``)."""
    match = re.search(r"^\s*GUI:\s*(\S+)", cv2.getBuildInformation(), re.MULTILINE)
    return match[1] if match else "NONE"


def gui_available() -> bool:
    """Whether the imported OpenCV can open windows (False for opencv-python-headless)."""
    return gui_backend().upper() != "NONE"


def missing_gui() -> OpNetError:
    """The error for ``--show`` without OpenCV's GUI build, with the command that fixes it."""
    return OpNetError(
        f"--show needs OpenCV's GUI build, but this OpenCV ({cv2.__version__}) is headless; install it "
        f'with `pip install -e ".[gui]"` (or `pip install --force-reinstall --no-deps '
        f"opencv-python=={cv2.__version__}` if opencv-python-headless keeps the upper hand)"
    )


def window_frame(record: TrackRecord, fps: float) -> NDArray[np.uint8]:
    """The annotated frame (BGR) with the pose numbers and frames/s in its top-left corner."""
    image = annotated_frame(record)
    rgb = np.ascontiguousarray(image[:, :, ::-1])
    scale = line_scale(rgb.shape)
    lines = [f"{fps:5.1f} frames/s"]
    if record.pose is not None:
        p = record.pose
        lines += [
            f"yaw {p.yaw_deg:+6.1f}  pitch {p.pitch_deg:+6.1f}  roll {p.roll_deg:+6.1f} deg",
            f"x {p.x_cm:+6.1f}  y {p.y_cm:+6.1f}  z {p.z_cm:6.1f} cm",
        ]
    else:
        lines.append("no face")
    for k, line in enumerate(lines):
        origin = (int(8 * scale), int((20 + 18 * k) * scale))
        put_text(rgb, line, origin, scale=0.5 * scale, thickness=max(1, round(scale)))
    return np.ascontiguousarray(rgb[:, :, ::-1])


@contextlib.contextmanager
def live_window(title: str = WINDOW_TITLE) -> Iterator[Callable[[TrackRecord], None]]:
    """Yields ``show(record)``, which draws a frame and raises :class:`StopTracking` on q/Esc or
    when the window was closed; the window closes when the block ends."""
    if not gui_available():
        raise missing_gui()
    cv2.namedWindow(title, cv2.WINDOW_AUTOSIZE | cv2.WINDOW_GUI_NORMAL)
    last = [time.perf_counter(), 0.0]  # time of the last frame, smoothed frames/s

    def show(record: TrackRecord) -> None:
        now = time.perf_counter()
        rate = 1.0 / max(now - last[0], 1e-6)
        last[:] = [now, rate if last[1] == 0 else 0.9 * last[1] + 0.1 * rate]
        cv2.imshow(title, window_frame(record, last[1]))
        key = cv2.waitKey(1) & 0xFF
        if key in QUIT_KEYS or cv2.getWindowProperty(title, cv2.WND_PROP_VISIBLE) < 1:
            raise StopTracking

    try:
        yield show
    finally:
        cv2.destroyWindow(title)
        cv2.waitKey(1)
