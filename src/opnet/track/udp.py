"""OpenTrack's "UDP over network" input: one datagram of six little-endian doubles per pose.

The input tracker (``tracker-udp/ftnoir_tracker_udp.cpp``) binds port 4242 by default, reads
datagrams of 48 bytes as x, y, z (cm), yaw, pitch, roll (degrees) in that order (OpenTrack's axis
order TX, TY, TZ, Yaw, Pitch, Roll) and ignores a datagram holding a NaN. It keeps the last pose it
received, so nothing needs to be sent while the face is lost.
"""

from __future__ import annotations

import math
import socket
import struct

from opnet.errors import OpNetError
from opnet.track.world import OpenTrackPose

OPENTRACK_UDP_PORT = 4242
DATAGRAM = struct.Struct("<6d")
"""x, y, z, yaw, pitch, roll as little-endian float64: 48 bytes."""


def pack_pose(pose: OpenTrackPose) -> bytes:
    """The 48-byte datagram for one pose."""
    return DATAGRAM.pack(*pose.as_tuple())


def unpack_pose(data: bytes) -> OpenTrackPose:
    """Inverse of :func:`pack_pose` (raises ``struct.error`` unless ``data`` is 48 bytes)."""
    return OpenTrackPose(*DATAGRAM.unpack(data))


def parse_address(text: str, default_port: int = OPENTRACK_UDP_PORT) -> tuple[str, int]:
    """``HOST``, ``HOST:PORT`` or ``[IPv6]:PORT`` -> (host, port); the port defaults to OpenTrack's 4242."""
    host, port = text, str(default_port)
    if text.startswith("["):
        host, closed, rest = text[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else (port if closed and not rest else "")
    elif text.count(":") == 1:
        host, port = text.split(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise OpNetError(f"--udp {text}: expected HOST or HOST:PORT with a port between 1 and 65535")
    return host, int(port)


class UdpSender:
    """Sends poses to OpenTrack's UDP input at (host, port); a context manager."""

    def __init__(self, host: str, port: int = OPENTRACK_UDP_PORT):
        try:
            family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0]
        except socket.gaierror as e:
            raise OpNetError(f"--udp {host}:{port}: cannot resolve the host ({e.strerror})") from None
        self.address = address
        self._socket = socket.socket(family, kind, proto)
        self.sent = 0

    def send(self, pose: OpenTrackPose) -> bool:
        """Sends one pose; poses with a NaN or infinity are skipped (OpenTrack would drop them)."""
        if not all(math.isfinite(v) for v in pose.as_tuple()):
            return False
        self._socket.sendto(pack_pose(pose), self.address)
        self.sent += 1
        return True

    def close(self) -> None:
        self._socket.close()

    def __enter__(self) -> UdpSender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
