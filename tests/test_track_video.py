"""opnet track end to end: a generated video in, datagrams on a UDP socket on 127.0.0.1, CSV and
preview out."""

from __future__ import annotations

import csv
import json
import socket

import cv2
import numpy as np
from conftest import AFLW_MINI, LOCALIZER_MODEL, POSE_MODEL, needs_shared
from test_localizer_detect import make_localizer_onnx
from test_runtime_onnx import constant, make_pose_onnx

from opnet.cli import main
from opnet.geometry import euler_to_quat
from opnet.track import unpack_pose
from opnet.track.records import CSV_COLUMNS
from opnet.track.world import Camera, opentrack_pose, world_pose

WORLD_COLUMNS = ["x_cm", "y_cm", "z_cm", "yaw_deg", "pitch_deg", "roll_deg"]


def write_video(path, frames):
    writer = cv2.VideoWriter(
        str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25.0, (frames[0].shape[1], frames[0].shape[0])
    )
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


def moving_face(image, count, size=(480, 640), scale=0.7):
    """Frames of ``image`` (BGR, square) turning in-plane by 10 sin(k / 5) deg and moving right by
    4 px per frame."""
    side = image.shape[0]
    frames, angles, shifts = [], [], []
    for k in range(count):
        angle, shift = 10 * np.sin(k / 5), 4.0 * k - 2.0 * count
        m = cv2.getRotationMatrix2D((side / 2, side / 2), angle, scale)
        m[:, 2] += [size[1] / 2 + shift - side / 2, size[0] / 2 - side / 2]
        frames.append(cv2.warpAffine(image, m, (size[1], size[0]), borderValue=(90, 90, 90)))
        angles.append(angle)
        shifts.append(shift)
    return frames, np.array(angles), np.array(shifts)


def receive_all(server):
    datagrams = []
    try:
        while True:
            datagrams.append(server.recv(1024))
    except TimeoutError:
        return datagrams


def run_track(video, model, localizer, tmp_path, capsys, *extra):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as server:
        server.bind(("127.0.0.1", 0))
        server.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        server.settimeout(0.5)
        port = server.getsockname()[1]
        code = main(
            [
                "track",
                str(video),
                "--model",
                str(model),
                "--localizer",
                str(localizer),
                "--udp",
                f"127.0.0.1:{port}",
                "--csv",
                str(tmp_path / "poses.csv"),
                "--preview",
                str(tmp_path / "preview.avi"),
                *map(str, extra),
            ]
        )
        out, err = capsys.readouterr()
        assert code == 0, err
        datagrams = receive_all(server)
    with open(tmp_path / "poses.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    return out, datagrams, rows


def check_datagrams_match_csv(datagrams, rows):
    with_face = [r for r in rows if r["face"] == "1"]
    assert len(datagrams) == len(with_face) and all(len(d) == 48 for d in datagrams)
    sent = np.array([unpack_pose(d).as_tuple() for d in datagrams])
    logged = np.array([[float(r[c]) for c in WORLD_COLUMNS] for r in with_face])
    assert np.allclose(sent, logged, atol=1e-6)
    return logged


def test_track_sends_one_datagram_per_frame_as_in_the_csv(tmp_path, capsys):
    # A pose model whose yaw follows the crop's brightness, and a localizer that always sees the centre.
    outputs = {
        "quat": (np.array([0, 0.6, 0, 0], np.float32), np.array([0, 0, 0, 1], np.float32)),
        "pos_size": constant([0.0, 0.0, 0.5]),
        "box": constant(np.array([-1, -1, 1, 1]) / 1.05),
    }
    model = make_pose_onnx(tmp_path / "pose.onnx", outputs, size=33)
    localizer = make_localizer_onnx(tmp_path / "loc.onnx", np.zeros(5), [3.0, -0.5, -0.5, 0.5, 0.5])
    frames = []
    for k in range(12):  # a bright square growing on a dark background: the normalised mean grows
        frame = np.full((240, 320, 3), 30, np.uint8)
        frame[116 - k : 124 + k, 156 - k : 164 + k] = 250
        frames.append(frame)
    video = write_video(tmp_path / "clip.avi", frames)
    out, datagrams, rows = run_track(video, model, localizer, tmp_path, capsys, "--offset", 0, 0, 0)
    assert "12 frames, face in 12, detector ran 1 times, 12 datagrams sent" in out and "frames/s" in out
    assert "| pose | 12 |" in out and "| detector | 1 |" in out
    assert list(rows[0]) == list(CSV_COLUMNS) and len(rows) == 12
    logged = check_datagrams_match_csv(datagrams, rows)
    assert np.all(np.diff(logged[:, 3]) != 0)  # yaw changes with the frame
    camera = Camera(320, 240, 56.0)
    for r in rows:
        angles = [float(r[f"image_{name}_deg"]) for name in ("pitch", "yaw", "roll")]
        quat = euler_to_quat(np.deg2rad(angles))
        expected = opentrack_pose(
            world_pose(
                camera, quat, float(r["centre_x_px"]), float(r["centre_y_px"]), float(r["size_px"]), (0, 0, 0)
            )
        )
        assert np.allclose(expected.as_tuple(), [float(r[c]) for c in WORLD_COLUMNS], atol=1e-4)
    assert (
        rows[0]["roi_x0"] == "80.000000" and rows[0]["detector_ran"] == "1" and rows[1]["detector_ran"] == "0"
    )
    assert cv2.VideoCapture(str(tmp_path / "preview.avi")).get(cv2.CAP_PROP_FRAME_COUNT) == 12
    code = main(
        [
            "track",
            str(video),
            "--model",
            str(model),
            "--localizer",
            str(localizer),
            "--csv",
            str(tmp_path / "poses.csv"),
        ]
    )
    assert code == 2 and "poses.csv: already exists" in capsys.readouterr().err
    code = main(["track", str(video), "--model", str(model), "--localizer", str(localizer), "--json"])
    summary = json.loads(capsys.readouterr().out)
    assert code == 0 and summary["frames"] == 12 and summary["faces"] == 12 and summary["fps"] > 0
    assert summary["stages"][0]["stage"] == "read" and summary["stages"][0]["count"] == 12


def test_show_without_opencv_gui_says_how_to_get_it(tmp_path, capsys, monkeypatch):
    import opnet.track.window

    monkeypatch.setattr(opnet.track.window, "gui_backend", lambda: "NONE")  # opencv-python-headless
    video = write_video(tmp_path / "clip.avi", [np.zeros((48, 64, 3), np.uint8)] * 2)
    assert main(["track", str(video), "--show"]) == 2
    err = capsys.readouterr().err
    assert "--show needs OpenCV's GUI build" in err and 'pip install -e ".[gui]"' in err


def test_track_arguments_are_checked(tmp_path, capsys):
    assert main(["track"]) == 2 and "give a video file or --camera N" in capsys.readouterr().err
    assert main(["track", str(tmp_path / "none.avi"), "--fov", "200"]) == 2
    assert "--fov 200: expected degrees between 0 and 180" in capsys.readouterr().err
    assert main(["track", str(tmp_path / "x.avi"), "--udp", "host:0"]) == 2
    assert "--udp host:0" in capsys.readouterr().err
    assert (
        main(
            [
                "track",
                str(tmp_path / "x.avi"),
                "--preview",
                str(tmp_path / "x.gif"),
                "--model",
                str(tmp_path / "m.onnx"),
            ]
        )
        == 2
    )


@needs_shared(AFLW_MINI)
@needs_shared(POSE_MODEL)
@needs_shared(LOCALIZER_MODEL)
def test_real_models_track_a_moving_turning_face(tmp_path, capsys):
    from opnet.data import open_dataset

    with open_dataset(AFLW_MINI, color=True) as ds:
        face = cv2.cvtColor(ds.read_image(2), cv2.COLOR_RGB2BGR)  # near-frontal
    frames, angles, shifts = moving_face(face, 30)
    video = write_video(tmp_path / "face.avi", frames)
    out, datagrams, rows = run_track(
        video, POSE_MODEL, LOCALIZER_MODEL, tmp_path, capsys, "--smooth", "deadzone"
    )
    assert "30 frames, face in 30" in out
    logged = check_datagrams_match_csv(datagrams, rows)
    image_roll = np.array([float(r["image_roll_deg"]) for r in rows])
    # OpenCV's positive angle turns the picture counter-clockwise: AFLW roll (clockwise) goes the other way.
    assert np.corrcoef(image_roll, -angles)[0, 1] > 0.9
    assert np.abs(image_roll + angles - np.median(image_roll + angles)).max() < 6.0
    assert np.corrcoef(logged[:, 0], shifts)[0, 1] > 0.95  # x follows the face to the right
    assert np.all((logged[:, 2] > 20) & (logged[:, 2] < 200))  # plausible distances (cm)
    centres = np.array([float(r["centre_x_px"]) for r in rows])
    assert np.abs(centres - (320 + shifts) - np.median(centres - (320 + shifts))).max() < 10
