"""From the pose network's image-space answer to OpenTrack's 6-DoF pose (``ftnoir_tracker_neuralnet.cpp``).

OpenTrack's world frame (millimetres): x points from the head towards the camera, y up, z to the
image's left, i.e. world = P camera with P = [[0, 0, -1], [0, -1, 0], [-1, 0, 0]] (camera frame =
image frame: X right, Y down, Z into the scene). The camera is a pinhole at the origin with the
principal point at the image centre and focal lengths from the *diagonal* field of view. All
formulas are listed in docs/opentrack.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from opnet.geometry import quat_to_matrix, rotvec_to_quat

OPENTRACK_FOV_DEG = 56.0
"""OpenTrack's default field of view of the camera (degrees, diagonal of the frame)."""
HEAD_SIZE_MM = 200.0
"""OpenTrack's assumed head height: the network's size is about half of it."""
NECK_OFFSET_MM = (200.0, 0.0, 0.0)
"""OpenTrack's default offset (forward, up, right) from the face centre to the reported point."""

IMAGE_TO_WORLD = np.array([[0.0, 0.0, -1.0], [0.0, -1.0, 0.0], [-1.0, 0.0, 0.0]])
"""P: camera/image axes -> OpenTrack world axes (a proper rotation, its own inverse)."""
OPTICAL_AXIS = np.array([-1.0, 0.0, 0.0])
"""The camera's viewing direction in world axes."""


@dataclass(frozen=True)
class WorldPose:
    """Head poses in OpenTrack's world frame: rotations (..., 3, 3) and positions (..., 3) in millimetres."""

    rotation: NDArray[np.float64]
    position_mm: NDArray[np.float64]


@dataclass(frozen=True)
class Camera:
    """A pinhole camera for frames of ``width`` x ``height`` pixels with diagonal FOV ``fov_deg``.

    Focal lengths are in OpenTrack's clip units (focal length / half the image side), so
    2 x / W - 1 = f_w z / x for a point (x, y, z) of the world frame.
    """

    width: int
    height: int
    fov_deg: float = OPENTRACK_FOV_DEG

    @property
    def focal_w(self) -> float:
        """1 / tan(fov_w / 2) with tan(fov_w / 2) = tan(fov / 2) / sqrt(1 + (H / W)^2)."""
        half = np.tan(np.deg2rad(self.fov_deg) / 2) / np.sqrt(1 + (self.height / self.width) ** 2)
        return float(1.0 / half)

    @property
    def focal_h(self) -> float:
        """1 / tan(fov_h / 2) with tan(fov_h / 2) = tan(fov / 2) / sqrt(1 + (W / H)^2)."""
        half = np.tan(np.deg2rad(self.fov_deg) / 2) / np.sqrt(1 + (self.width / self.height) ** 2)
        return float(1.0 / half)

    def head_position_mm(
        self, x: ArrayLike, y: ArrayLike, size: ArrayLike, head_size_mm: float = HEAD_SIZE_MM
    ) -> NDArray[np.float64]:
        """World positions (..., 3) of heads with centres x, y and sizes (pixels): depth from the size.

        depth = f_w W / 2 * head_size / (2 size); the head is at world x = -depth,
        y = -(2 y / H - 1) depth / f_h, z = -(2 x / W - 1) depth / f_w.
        """
        x, y, size = (np.asarray(v, dtype=np.float64) for v in (x, y, size))
        depth = self.focal_w * self.width * 0.5 / (2.0 * size) * head_size_mm
        return np.stack(
            [
                -depth,
                -(2 * y / self.height - 1) * depth / self.focal_h,
                -(2 * x / self.width - 1) * depth / self.focal_w,
            ],
            axis=-1,
        )

    def project(self, position_mm: ArrayLike) -> NDArray[np.float64]:
        """Image pixels (..., 2) of world positions (..., 3) (inverse of :meth:`head_position_mm`'s x, y)."""
        p = np.asarray(position_mm, dtype=np.float64)
        return np.stack(
            [
                (p[..., 2] / p[..., 0] * self.focal_w + 1) * 0.5 * self.width,
                (p[..., 1] / p[..., 0] * self.focal_h + 1) * 0.5 * self.height,
            ],
            axis=-1,
        )


def image_to_world_rotation(quat: ArrayLike) -> NDArray[np.float64]:
    """Rotations (..., 3, 3) of image-space poses (..., 4) xyzw expressed in world axes: P R P^T."""
    return IMAGE_TO_WORLD @ quat_to_matrix(quat) @ IMAGE_TO_WORLD.T


def ray_correction(position: ArrayLike) -> NDArray[np.float64]:
    """The smallest rotations (..., 3, 3) turning the optical axis onto the rays to ``position`` (..., 3).

    The network sees the head along that ray; turning its answer by this rotation gives the
    rotation relative to the camera. Identity for a head on the optical axis.
    """
    ray = np.asarray(position, dtype=np.float64)
    axis = np.cross(OPTICAL_AXIS, ray)
    length = np.linalg.norm(axis, axis=-1, keepdims=True)
    angle = np.arctan2(length, ray @ OPTICAL_AXIS[:, None])
    unit = np.divide(axis, length, out=np.zeros_like(axis), where=length > 0)
    return quat_to_matrix(rotvec_to_quat(unit * angle))


def world_pose(
    camera: Camera,
    quat: ArrayLike,
    x: ArrayLike,
    y: ArrayLike,
    size: ArrayLike,
    offset_mm: ArrayLike = NECK_OFFSET_MM,
    head_size_mm: float = HEAD_SIZE_MM,
) -> WorldPose:
    """OpenTrack's ``transform_to_world_pose``: image-space faces -> world rotations and positions.

    R = C(p) P R_image P^T with p the head position and C the ray correction; the reported
    position is p + R offset (offset = forward, up, right in mm, in the head's frame).
    Takes one face or a batch (quat (..., 4), x, y, size (...)).
    """
    position = camera.head_position_mm(x, y, size, head_size_mm)
    rotation = ray_correction(position) @ image_to_world_rotation(quat)
    return WorldPose(rotation, position + rotation @ np.asarray(offset_mm, dtype=np.float64))


@dataclass(frozen=True)
class OpenTrackPose:
    """The six values OpenTrack's NeuralNet tracker reports: x, y, z in cm, yaw, pitch, roll in degrees."""

    x_cm: float
    y_cm: float
    z_cm: float
    yaw_deg: float
    pitch_deg: float
    roll_deg: float

    def as_tuple(self) -> tuple[float, float, float, float, float, float]:
        return (self.x_cm, self.y_cm, self.z_cm, self.yaw_deg, self.pitch_deg, self.roll_deg)


def opentrack_pose(pose: WorldPose) -> OpenTrackPose:
    """OpenTrack's ``NeuralNetTracker::data``: one world pose -> (x, y, z) cm and (yaw, pitch, roll) deg.

    With columns mx, my, mz of R: yaw = atan2(mx_z, mx_x), pitch = atan2(mx_y, |(mx_x, mx_z)|),
    roll = -atan2(-mz_y, my_y); x = -t_z / 10, y = t_y / 10, z = -t_x / 10.
    """
    mx, my, mz = pose.rotation.T
    t = pose.position_mm
    yaw = np.arctan2(mx[2], mx[0])
    pitch = -np.arctan2(-mx[1], np.hypot(mx[2], mx[0]))
    roll = np.arctan2(-mz[1], my[1])
    return OpenTrackPose(
        float(-t[2] * 0.1),
        float(t[1] * 0.1),
        float(-t[0] * 0.1),
        float(np.rad2deg(yaw)),
        float(np.rad2deg(pitch)),
        float(-np.rad2deg(roll)),
    )
