"""Tracking a head through video as OpenTrack's NeuralNet tracker does, and streaming its pose.

- :mod:`~opnet.track.tracker`: the state machine (detector when lost, predicted box as next ROI).
- :mod:`~opnet.track.world`: OpenTrack's camera model and 6-DoF world pose.
- :mod:`~opnet.track.filters`: OpenTrack's deadzone filter and a One-Euro filter.
- :mod:`~opnet.track.udp`: datagrams for OpenTrack's "UDP over network" input.
- :mod:`~opnet.track.frames`, :mod:`~opnet.track.records`, :mod:`~opnet.track.session`: the loop
  (:func:`track`) with its inputs and outputs.
"""

from opnet.track.filters import SMOOTHING, make_filter
from opnet.track.frames import FrameSource, prepare_frame
from opnet.track.session import Outputs, TrackingSettings, TrackingSummary, track
from opnet.track.tracker import FaceTracker, TrackerSettings, TrackStep
from opnet.track.udp import OPENTRACK_UDP_PORT, pack_pose, parse_address, unpack_pose
from opnet.track.world import Camera, OpenTrackPose, WorldPose, opentrack_pose, world_pose

__all__ = [
    "OPENTRACK_UDP_PORT",
    "SMOOTHING",
    "Camera",
    "FaceTracker",
    "FrameSource",
    "OpenTrackPose",
    "Outputs",
    "TrackStep",
    "TrackerSettings",
    "TrackingSettings",
    "TrackingSummary",
    "WorldPose",
    "make_filter",
    "opentrack_pose",
    "pack_pose",
    "parse_address",
    "prepare_frame",
    "track",
    "unpack_pose",
    "world_pose",
]
