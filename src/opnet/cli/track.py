"""opnet track VIDEO | --camera N: OpenTrack's NeuralNet head tracker in Python.

Runs the tracker's loop on a video file or a camera: the face localizer (or Haar cascade) while
no face is tracked, then the pose network's own box as the next region of interest. Each face
becomes OpenTrack's 6-DoF pose (x, y, z in cm, yaw, pitch, roll in degrees) from the camera's
diagonal field of view (--fov), optionally smoothed, and goes to a CSV file, OpenTrack's
"UDP over network" input (--udp HOST[:PORT], port 4242 by default), an annotated video and a
live window (--show; q or Esc quits). Models: --model / --localizer take a downloaded model's name
or a file (`opnet download head-pose-0.4-small-int8 head-localizer` fetches the defaults).
Prints frames/s and per-stage latency at the end; Ctrl-C stops and keeps the outputs.
See docs/opentrack.md.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from opnet.cli.common import add_json_option
from opnet.cli.defaults import LazyChoices
from opnet.cli.predict import add_model_arguments


def _smoothing() -> Any:
    from opnet.track.filters import SMOOTHING

    return SMOOTHING


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "track",
        help="track a head in a video or camera; stream its pose to OpenTrack (UDP)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("video", nargs="?", type=Path, help="video file (anything OpenCV reads)")
    p.add_argument("--camera", type=int, metavar="N", help="read camera N instead of a video file")
    add_model_arguments(p, detector="localizer")
    out = p.add_argument_group("outputs")
    out.add_argument("--csv", type=Path, metavar="POSES.csv", help="write one row per frame")
    out.add_argument(
        "--udp", metavar="HOST[:PORT]", help="send each pose to OpenTrack's UDP input (port 4242 default)"
    )
    out.add_argument(
        "--preview", type=Path, metavar="OUT.mp4", help="write the annotated frames (.mp4 or .avi)"
    )
    out.add_argument(
        "--show",
        action="store_true",
        help="show the frames with head axes, pose and frames/s in a window; q or Esc quits "
        '(needs OpenCV\'s GUI build: pip install -e ".[gui]")',
    )
    add_json_option(out, "the run's counts, frames/s and stage latencies")
    out.add_argument("--force", action="store_true", help="overwrite existing output files")
    pose = p.add_argument_group("pose (OpenTrack's settings)")
    pose.add_argument(
        "--fov", type=float, default=56.0, help="camera field of view, diagonal, degrees (default 56)"
    )
    pose.add_argument(
        "--offset",
        type=float,
        nargs=3,
        default=(200.0, 0.0, 0.0),
        metavar=("FWD", "UP", "RIGHT"),
        help="mm from the face centre to the reported point, head frame (default 200 0 0)",
    )
    pose.add_argument("--full-frame", action="store_true", help="do not crop frames to 4:3 as OpenTrack does")
    pose.add_argument("--roi-zoom", type=float, default=1.0, help="scale of the next ROI (default 1)")
    pose.add_argument(
        "--roi-filter-alpha",
        type=float,
        default=1.0,
        help="how far the ROI moves to the new box per frame, (0, 1] (default 1)",
    )
    smooth = p.add_argument_group("smoothing")
    smooth.add_argument(
        "--smooth",
        choices=LazyChoices(_smoothing),
        metavar="FILTER",
        default="none",
        help="none (default), OpenTrack's deadzone filter, or a One-Euro filter",
    )
    smooth.add_argument(
        "--deadzone-size", type=float, default=1.0, help="deadzone: size in sigmas (default 1)"
    )
    smooth.add_argument(
        "--deadzone-hardness", type=float, default=1.5, help="deadzone: hardness (default 1.5)"
    )
    smooth.add_argument(
        "--min-cutoff", type=float, default=1.0, help="one-euro: cut-off at rest, Hz (default 1)"
    )
    smooth.add_argument(
        "--beta",
        type=float,
        default=0.05,
        help="one-euro: cut-off increase per deg/s and per cm/s of speed (default 0.05)",
    )
    p.add_argument("--max-frames", type=int, help="stop after this many frames")
    p.add_argument(
        "--threads",
        type=int,
        default=1,
        help="CPU threads for the networks (default 1, OpenTrack's default; fixed-batch pose "
        "models run single frames on one thread)",
    )
    return p


def _settings(args: argparse.Namespace):  # noqa: ANN202 - imported lazily
    from opnet.errors import OpNetError
    from opnet.track import TrackerSettings, TrackingSettings

    if (args.video is None) == (args.camera is None):
        raise OpNetError("give a video file or --camera N (exactly one)")
    if args.threads < 1:
        raise OpNetError(f"--threads {args.threads}: expected a positive number")
    if args.roi_zoom <= 0 or not 0 < args.roi_filter_alpha <= 1:
        raise OpNetError("--roi-zoom must be positive and --roi-filter-alpha in (0, 1]")
    tracking = TrackingSettings(
        fov_deg=args.fov,
        offset_mm=tuple(args.offset),
        crop_4_3=not args.full_frame,
        smoothing=args.smooth,
        deadzone_size=args.deadzone_size,
        deadzone_hardness=args.deadzone_hardness,
        min_cutoff_hz=args.min_cutoff,
        beta=args.beta,
        max_frames=args.max_frames,
    )
    return TrackerSettings(roi_zoom=args.roi_zoom, roi_filter_alpha=args.roi_filter_alpha), tracking


def run(args: argparse.Namespace) -> int:
    from opnet.cli.common import JSON_STDOUT, write_json_output
    from opnet.cli.predict import load_models
    from opnet.fileio import check_writable
    from opnet.track import FaceTracker, FrameSource, Outputs, parse_address, track
    from opnet.track.timing import stats_table

    tracker_settings, settings = _settings(args)
    if args.show:
        from opnet.track.window import gui_available, missing_gui

        if not gui_available():
            raise missing_gui()
    json_file = Path(args.json) if args.json not in (None, JSON_STDOUT) else None
    for path in (args.csv, args.preview, json_file):
        if path is not None:
            check_writable(path, args.force)
    udp = parse_address(args.udp) if args.udp is not None else None
    source = FrameSource.camera(args.camera) if args.camera is not None else FrameSource.video(args.video)
    with source:  # opened first: a video that cannot be read is refused before the models load
        model, detector = load_models(args, args.threads)
        outputs = Outputs(csv=args.csv, udp=udp, preview=args.preview, overwrite=args.force, show=args.show)
        summary = track(source, FaceTracker(model, detector, tracker_settings), settings, outputs)
    if args.json != JSON_STDOUT:
        print(
            f"{summary.source}: {summary.frames} frames, face in {summary.faces}, "
            f"detector ran {summary.detector_runs} times, {summary.datagrams} datagrams sent; "
            f"{summary.fps:.1f} frames/s"
        )
        print(stats_table(summary.stages))
    if args.json:
        write_json_output(summary.to_json(), args.json, args.force)
    return 0
