"""OpenTrack's UDP datagrams, address parsing, and OpenTrack's frame preparation."""

from __future__ import annotations

import re
import socket

import numpy as np
import pytest

from opnet.errors import OpNetError
from opnet.track.frames import crop_to_aspect, prepare_frame, to_gray
from opnet.track.udp import DATAGRAM, UdpSender, pack_pose, parse_address, unpack_pose
from opnet.track.world import OpenTrackPose


def test_datagram_is_six_little_endian_doubles_in_opentracks_axis_order():
    pose = OpenTrackPose(1.0, -2.0, 50.5, 10.0, -5.0, 0.25)
    data = pack_pose(pose)
    assert len(data) == 48 == DATAGRAM.size
    assert data[:8] == bytes.fromhex("000000000000f03f")  # 1.0 as little-endian IEEE double
    assert np.frombuffer(data, "<f8").tolist() == [1.0, -2.0, 50.5, 10.0, -5.0, 0.25]
    assert unpack_pose(data) == pose


@pytest.mark.parametrize(
    "text, expected",
    [
        ("127.0.0.1", ("127.0.0.1", 4242)),
        ("192.168.1.5:5555", ("192.168.1.5", 5555)),
        ("localhost:1", ("localhost", 1)),
        ("[::1]:4243", ("::1", 4243)),
        ("[::1]", ("::1", 4242)),
        ("::1", ("::1", 4242)),
    ],
)
def test_addresses_parse_with_opentracks_default_port(text, expected):
    assert parse_address(text) == expected


@pytest.mark.parametrize("text", ["host:0", "host:70000", "host:abc", ":4242", "[::1]:x", "[::1"])
def test_bad_addresses_are_refused(text):
    with pytest.raises(OpNetError, match=re.escape(f"--udp {text}:")):
        parse_address(text)


def test_sender_delivers_datagrams_and_skips_nan():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as server:
        server.bind(("127.0.0.1", 0))
        server.settimeout(2.0)
        with UdpSender("127.0.0.1", server.getsockname()[1]) as sender:
            assert sender.send(OpenTrackPose(float("nan"), 0, 0, 0, 0, 0)) is False
            assert sender.send(OpenTrackPose(1, 2, 3, 4, 5, 6)) is True
            assert sender.sent == 1
        data, _ = server.recvfrom(1024)
    assert unpack_pose(data).as_tuple() == (1, 2, 3, 4, 5, 6)


@pytest.mark.parametrize(
    "shape, expected",
    [
        ((480, 640), (480, 640)),
        ((720, 1280), (360, 480)),
        ((1080, 1920), (270, 360)),
        ((482, 642), (480, 640)),
        ((600, 600), (448, 600)),
        ((1200, 1600), (300, 400)),
    ],
)
def test_frames_are_prepared_as_opentrack_does(shape, expected):
    assert prepare_frame(np.zeros((*shape, 3), np.uint8)).shape[:2] == expected


def test_crops_are_centred_and_full_frames_can_be_kept():
    frame = np.arange(720 * 1280, dtype=np.uint32).reshape(720, 1280)
    cropped = crop_to_aspect(frame)
    assert cropped.shape == (720, 960) and cropped[0, 0] == 160  # (1280 - 960) / 2 columns cut on each side
    assert prepare_frame(np.zeros((720, 1280, 3), np.uint8), crop_4_3=False).shape[:2] == (360, 640)
    assert to_gray(np.full((4, 4, 3), (255, 0, 0), np.uint8))[0, 0] == 29  # BGR: pure blue
