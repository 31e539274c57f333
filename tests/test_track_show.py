"""``opnet track --show`` in a real window on a virtual X server (Xvfb): a screenshot shows the axes.

Needs Debian's ``xvfb`` and OpenCV's GUI build (``pip install -e ".[gui]"``); skipped without them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import cv2
import numpy as np
import pytest
from test_localizer_detect import make_localizer_onnx
from test_runtime_onnx import constant, make_pose_onnx
from test_track_video import write_video

from opnet.cli import main
from opnet.track.window import gui_available, gui_backend
from opnet.viz.draw import AXIS_COLORS

pytestmark = [
    pytest.mark.skipif(
        shutil.which("Xvfb") is None, reason="Xvfb is not installed (Debian: apt-get install xvfb)"
    ),
    pytest.mark.skipif(
        not gui_available(),
        reason=f"OpenCV without GUI (GUI: {gui_backend()}; opencv-python-headless): pip install -e '.[gui]'",
    ),
]


def read_xwd(path) -> np.ndarray:
    """An X window dump (Xvfb's -fbdir frame buffer, 24/32 bits per pixel) as RGB (H, W, 3) uint8."""
    data = path.read_bytes()
    head = np.frombuffer(data[:100], ">u4")
    header_size, width, height, byte_order = head[0], head[4], head[5], head[7]
    bits, bytes_per_line, masks, ncolors = head[11], head[12], head[14:17], head[19]
    assert bits == 32, f"expected 32 bits per pixel, got {bits}"
    start = int(header_size + 12 * ncolors)
    raw = np.frombuffer(
        data[start : start + int(bytes_per_line * height)], "<u4" if byte_order == 0 else ">u4"
    )
    pixels = raw.reshape(int(height), int(bytes_per_line) // 4)[:, : int(width)]
    shifts = [int(m).bit_length() - 8 for m in masks]
    return np.stack([(pixels >> s) & 0xFF for s in shifts], axis=-1).astype(np.uint8)


@pytest.fixture
def display(tmp_path, monkeypatch):
    """A running Xvfb with its frame buffer in tmp_path; yields the frame buffer file."""
    read, write = os.pipe()
    server = subprocess.Popen(
        [
            "Xvfb",
            "-displayfd",
            str(write),
            "-screen",
            "0",
            "800x600x24",
            "-fbdir",
            str(tmp_path),
            "-nolisten",
            "tcp",
        ],
        pass_fds=(write,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    with os.fdopen(read) as f:
        number = f.readline().strip()
    monkeypatch.setenv("DISPLAY", f":{number}")
    yield tmp_path / "Xvfb_screen0"
    server.terminate()
    server.wait(timeout=10)


def test_the_window_shows_axes_pose_and_fps_and_q_quits(tmp_path, display, monkeypatch, capsys):
    outputs = {
        "quat": (np.zeros(4, np.float32), np.array([0.2, 0.3, 0.1, 0.93], np.float32)),
        "pos_size": constant([0.0, 0.0, 0.6]),
        "box": constant(np.array([-1, -1, 1, 1]) / 1.05),
    }
    model = make_pose_onnx(tmp_path / "pose.onnx", outputs, size=33)
    localizer = make_localizer_onnx(tmp_path / "loc.onnx", np.zeros(5), [3.0, -0.4, -0.5, 0.4, 0.5])
    video = write_video(tmp_path / "clip.avi", [np.full((480, 640, 3), 60, np.uint8)] * 5)
    shots = []
    real_wait_key = cv2.waitKey

    def wait_key_then_screenshot(delay: int) -> int:  # lets the window paint, keeps a screenshot, quits
        if shots:  # closing the window
            return real_wait_key(delay)
        for _ in range(60):
            real_wait_key(50)
            shots.append(read_xwd(display))
            if shots[-1].mean() > 30:  # the frame (grey 60) is on screen
                break
        return ord("q")

    monkeypatch.setattr(cv2, "waitKey", wait_key_then_screenshot)
    args = ["track", str(video), "--model", str(model), "--localizer", str(localizer), "--show", "--json"]
    assert main(args) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["frames"] == 1  # q after the first frame
    screen = shots[-1]
    assert screen.mean() > 30, "the window never appeared"
    cv2.imwrite(str(tmp_path / "screenshot.png"), screen[:, :, ::-1])
    for color in AXIS_COLORS:  # each head axis is on screen in its colour
        close = np.abs(screen.astype(int) - color).max(axis=-1) < 40
        assert close.sum() > 30, f"no axis in colour {color} on the screenshot"
    corner = (screen[:70, :400] > 180).all(axis=-1)  # frames/s and the pose numbers: light text, top left
    assert corner.sum() > 200
