"""The tracking loop of OpenTrack's NeuralNet tracker in Python: frames in; poses to CSV, UDP, video.

:func:`track` reads frames from a :class:`~opnet.track.frames.FrameSource`, prepares them as
OpenTrack does, runs the :class:`~opnet.track.tracker.FaceTracker`, turns each face into
OpenTrack's 6-DoF pose (camera from ``fov_deg``), smooths it, and hands it to the outputs. It
stops at the end of the video, after ``max_frames`` frames, or on Ctrl-C (outputs are kept).
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from opnet.errors import OpNetError
from opnet.progress import ProgressBar
from opnet.track.filters import make_filter
from opnet.track.frames import Frame, FrameSource, prepare_frame, to_gray
from opnet.track.records import TrackRecord, csv_log, preview_video
from opnet.track.timing import StageStats, StageTimer
from opnet.track.tracker import FaceTracker
from opnet.track.udp import UdpSender
from opnet.track.window import StopTracking
from opnet.track.world import (
    HEAD_SIZE_MM,
    NECK_OFFSET_MM,
    OPENTRACK_FOV_DEG,
    Camera,
    WorldPose,
    opentrack_pose,
    world_pose,
)

log = logging.getLogger(__name__)

DEFAULT_PREVIEW_FPS = 30.0


@dataclass(frozen=True)
class TrackingSettings:
    """How frames become poses. Defaults are OpenTrack's (no smoothing: ``smoothing="none"``).

    fov_deg: the camera's diagonal field of view (of the prepared frame); offset_mm: forward, up,
    right from the face centre to the reported point, in the head's frame; crop_4_3: prepare frames
    as OpenTrack does (False: keep the whole frame); smoothing: ``none``, ``deadzone`` or
    ``one-euro`` with their parameters; max_frames: stop after this many frames.
    """

    fov_deg: float = OPENTRACK_FOV_DEG
    offset_mm: tuple[float, float, float] = NECK_OFFSET_MM
    head_size_mm: float = HEAD_SIZE_MM
    crop_4_3: bool = True
    smoothing: str = "none"
    deadzone_size: float = 1.0
    deadzone_hardness: float = 1.5
    min_cutoff_hz: float = 1.0
    beta: float = 0.05
    max_frames: int | None = None

    def __post_init__(self) -> None:
        if not 0 < self.fov_deg < 180:
            raise OpNetError(f"--fov {self.fov_deg:g}: expected degrees between 0 and 180")
        if self.max_frames is not None and self.max_frames < 1:
            raise OpNetError(f"--max-frames {self.max_frames}: expected a positive number")


@dataclass(frozen=True)
class TrackingSummary:
    """Counts and speed of a run: frames processed, frames with a face, detector runs, datagrams sent."""

    source: str
    frames: int
    faces: int
    detector_runs: int
    datagrams: int
    wall_s: float
    stages: list[StageStats] = field(default_factory=list)

    @property
    def fps(self) -> float:
        return self.frames / self.wall_s if self.wall_s > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        """The summary as plain JSON values (``opnet track --json``): the fields, ``fps`` and the
        stage latencies in milliseconds."""
        return {"schema": "opnet-track/1", **asdict(self), "fps": self.fps}


@dataclass(frozen=True)
class Outputs:
    """Where poses go: a CSV file, OpenTrack's UDP input (host, port), an annotated video, a live
    window (``show``: q or Esc stops tracking; needs OpenCV's GUI build, see opnet.track.window)."""

    csv: str | os.PathLike | None = None
    udp: tuple[str, int] | None = None
    preview: str | os.PathLike | None = None
    overwrite: bool = False
    show: bool = False


class _Loop:
    """The per-frame work, with its state: tracker, filter, camera, timings."""

    def __init__(self, tracker: FaceTracker, settings: TrackingSettings):
        self.tracker, self.settings = tracker, settings
        self.filter = make_filter(
            settings.smoothing,
            settings.deadzone_size,
            settings.deadzone_hardness,
            settings.min_cutoff_hz,
            settings.beta,
        )
        self.camera: Camera | None = None
        self.timer = StageTimer()

    def to_world(self, quat: NDArray[np.float64], x: ArrayLike, y: ArrayLike, size: ArrayLike) -> WorldPose:
        """The filters' :data:`~opnet.track.filters.ToWorld` for the camera of the current frame."""
        if self.camera is None:
            raise RuntimeError("no camera before the first frame")
        s = self.settings
        return world_pose(self.camera, quat, x, y, size, s.offset_mm, s.head_size_mm)

    def process(self, index: int, time_s: float, raw) -> TrackRecord:  # noqa: ANN001 - BGR frame
        start = time.perf_counter()
        image = prepare_frame(raw, self.settings.crop_4_3)
        gray = to_gray(image)
        if self.camera is None or (self.camera.width, self.camera.height) != (gray.shape[1], gray.shape[0]):
            self.camera = Camera(gray.shape[1], gray.shape[0], self.settings.fov_deg)
        prepared = time.perf_counter()
        step = self.tracker.step(gray)
        tracked = time.perf_counter()
        pose = None
        if step.face is not None:
            pose = opentrack_pose(self.filter.update(step.face, self.to_world, time_s))
        done = time.perf_counter()
        stages = (
            ("prepare", prepared - start),
            ("detector", step.detector_s),
            ("pose", step.pose_s),
            ("world+filter", done - tracked),
        )
        for stage, seconds in stages:
            self.timer.add(stage, seconds)
        return TrackRecord(index, time_s, image, step, pose)


def _open_outputs(
    stack: contextlib.ExitStack, outputs: Outputs, fps: float
) -> tuple[list[Callable], UdpSender | None]:
    writers: list[Callable] = []
    if outputs.csv is not None:
        writers.append(stack.enter_context(csv_log(outputs.csv, outputs.overwrite)))
    if outputs.preview is not None:
        writers.append(stack.enter_context(preview_video(outputs.preview, fps, outputs.overwrite)))
    sender = stack.enter_context(UdpSender(*outputs.udp)) if outputs.udp is not None else None
    if sender is not None:
        writers.append(lambda record: record.pose is not None and sender.send(record.pose))
    if outputs.show:
        from opnet.track.window import live_window

        writers.append(stack.enter_context(live_window()))
    return writers, sender


def _write(writers: list[Callable], record: TrackRecord) -> bool:
    """Hands the record to every output; True if the live window asked to stop (after the others)."""
    try:
        for write in writers:
            write(record)
    except StopTracking:
        log.info("stopped from the window after frame %d", record.index)
        return True
    return False


def _timed_next(frames: Iterator[Frame], timer: StageTimer) -> Frame | None:
    """The next frame (None at the end); the time it took to read goes to the 'read' stage."""
    start = time.perf_counter()
    frame = next(frames, None)
    if frame is not None:
        timer.add("read", time.perf_counter() - start)
    return frame


def track(
    source: FrameSource,
    tracker: FaceTracker,
    settings: TrackingSettings = TrackingSettings(),
    outputs: Outputs = Outputs(),
    progress: bool = True,
) -> TrackingSummary:
    """Runs the tracking loop over ``source`` until it ends, ``max_frames`` or Ctrl-C."""
    loop = _Loop(tracker, settings)
    frames = faces = detector_runs = 0
    start = time.perf_counter()
    with contextlib.ExitStack() as stack:
        writers, sender = _open_outputs(stack, outputs, source.fps or DEFAULT_PREVIEW_FPS)
        bar = stack.enter_context(
            ProgressBar(desc="tracking", unit="frame", disable=not progress, total=settings.max_frames)
        )
        try:
            frame_iter = iter(source)
            while (frame := _timed_next(frame_iter, loop.timer)) is not None:
                received = time.perf_counter()
                record = loop.process(frame.index, frame.time_s, frame.image)
                written = time.perf_counter()
                stop = _write(writers, record)
                done = time.perf_counter()
                loop.timer.add("outputs", done - written)
                loop.timer.add("total (frame to outputs)", done - received)
                frames, faces = frames + 1, faces + (record.pose is not None)
                detector_runs += record.step.detector_s is not None
                bar.update()
                if stop or (settings.max_frames is not None and frames >= settings.max_frames):
                    break
        except KeyboardInterrupt:
            log.info("stopped after %d frames", frames)
        if frames == 0:
            raise OpNetError(f"{source.name}: no frames could be read")
    wall = time.perf_counter() - start
    return TrackingSummary(
        source.name, frames, faces, detector_runs, sender.sent if sender else 0, wall, loop.timer.stats()
    )
