"""OpenTrack's camera model and 6-DoF pose (opnet.track.world): hand-computed cases and conventions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.transform import Rotation

from opnet.geometry import euler_to_quat, matrix_to_quat
from opnet.track.world import (
    IMAGE_TO_WORLD,
    OPTICAL_AXIS,
    Camera,
    opentrack_pose,
    ray_correction,
    world_pose,
)

CAM = Camera(640, 480, 56.0)
F_PX = 400.0 / np.tan(np.deg2rad(28.0))  # half the 800 px diagonal / tan(half the diagonal FOV)
NO_OFFSET = (0.0, 0.0, 0.0)


def pose_of(quat, x, y, size, offset=NO_OFFSET, camera=CAM):
    return opentrack_pose(world_pose(camera, quat, x, y, size, offset))


def test_focal_lengths_come_from_the_diagonal_fov():
    assert CAM.focal_w * 320 == pytest.approx(F_PX)
    assert CAM.focal_h * 240 == pytest.approx(F_PX)  # square pixels: one focal length in pixels
    wide = Camera(1000, 500, 90.0)
    assert wide.focal_w * 500 == pytest.approx(np.hypot(1000, 500) / 2)


def test_frontal_face_at_the_centre_is_straight_ahead_at_the_depth_of_its_size():
    p = pose_of([0, 0, 0, 1], 320, 240, 50)
    depth_mm = F_PX * 200 / (2 * 50)
    assert p.as_tuple() == pytest.approx((0, 0, depth_mm / 10, 0, 0, 0), abs=1e-9)
    twice_as_big = pose_of([0, 0, 0, 1], 320, 240, 100)
    assert twice_as_big.z_cm == pytest.approx(p.z_cm / 2)


@pytest.mark.parametrize("axis", [0, 1, 2])
def test_single_axis_rotations_at_the_centre_keep_aflw_angles_and_signs(axis):
    pyr = np.zeros(3)
    pyr[axis] = np.deg2rad(25.0)
    p = pose_of(euler_to_quat(pyr), 320, 240, 50)
    pitch, yaw, roll = np.rad2deg(pyr)
    assert (p.yaw_deg, p.pitch_deg, p.roll_deg) == pytest.approx((yaw, pitch, roll), abs=1e-9)


def test_an_off_centre_frontal_face_is_turned_towards_the_camera():
    # A face that looks frontal in the image at (480, 120) looks along the ray back to the camera.
    nx, ny = 2 * 480 / 640 - 1, 2 * 120 / 480 - 1
    p = pose_of([0, 0, 0, 1], 480, 120, 50)
    depth = F_PX * 200 / (2 * 50)
    assert p.yaw_deg == pytest.approx(np.rad2deg(np.arctan(nx / CAM.focal_w)))  # 12.0 deg
    assert p.pitch_deg == pytest.approx(
        np.rad2deg(np.arctan2(ny / CAM.focal_h, np.hypot(1, nx / CAM.focal_w)))
    )
    assert (p.x_cm, p.y_cm, p.z_cm) == pytest.approx(
        (nx * depth / CAM.focal_w / 10, -ny * depth / CAM.focal_h / 10, depth / 10)
    )
    assert p.x_cm > 0 and p.y_cm > 0 and p.yaw_deg > 0 and p.pitch_deg < 0  # right, up; nose left and down


def test_the_offset_is_added_in_the_heads_frame():
    yaw = np.deg2rad(30.0)
    p = pose_of(euler_to_quat([0, yaw, 0]), 320, 240, 50, offset=(200.0, 0.0, 0.0))
    depth = F_PX * 200 / (2 * 50)
    assert (p.x_cm, p.y_cm, p.z_cm) == pytest.approx((-20 * np.sin(yaw), 0, (depth - 200 * np.cos(yaw)) / 10))
    up = pose_of([0, 0, 0, 1], 320, 240, 50, offset=(0.0, 100.0, 0.0))
    assert up.y_cm == pytest.approx(10.0)


def test_image_axes_map_to_world_axes():
    # world x: towards the camera (image -z), y: up (image -y), z: image left (image -x)
    assert np.allclose(IMAGE_TO_WORLD @ [0, 0, -1], [1, 0, 0])
    assert np.allclose(IMAGE_TO_WORLD @ [0, -1, 0], [0, 1, 0])
    assert np.allclose(IMAGE_TO_WORLD @ [-1, 0, 0], [0, 0, 1])
    assert np.linalg.det(IMAGE_TO_WORLD) == pytest.approx(1.0)


def test_ray_correction_turns_the_optical_axis_onto_the_ray():
    assert np.allclose(ray_correction([-1000.0, 0, 0]), np.eye(3))
    ray = np.array([-1000.0, 120.0, -300.0])
    c = ray_correction(ray)
    assert np.allclose(c @ OPTICAL_AXIS, ray / np.linalg.norm(ray))
    assert np.allclose(
        c @ np.cross(OPTICAL_AXIS, ray), np.cross(OPTICAL_AXIS, ray)
    )  # about their common normal
    batch = ray_correction(np.stack([ray, [-1000.0, 0, 0]]))
    assert np.allclose(batch, [c, np.eye(3)])


def test_project_inverts_the_head_position():
    xy = CAM.project(CAM.head_position_mm(100.0, 400.0, 37.0))
    assert np.allclose(xy, [100.0, 400.0])


def test_batches_give_the_same_poses_as_single_faces():
    rng = np.random.default_rng(0)
    quats = matrix_to_quat(Rotation.random(5, random_state=1).as_matrix())
    x, y, size = rng.uniform(0, 640, 5), rng.uniform(0, 480, 5), rng.uniform(20, 90, 5)
    batch = world_pose(CAM, quats, x, y, size, (200.0, 10.0, -5.0))
    for k in range(5):
        single = world_pose(CAM, quats[k], x[k], y[k], size[k], (200.0, 10.0, -5.0))
        assert np.allclose(batch.rotation[k], single.rotation) and np.allclose(
            batch.position_mm[k], single.position_mm
        )


def _rot(axis: str, deg: float) -> np.ndarray:
    return Rotation.from_euler(axis, deg, degrees=True).as_matrix()


@settings(max_examples=60, deadline=None)
@given(st.floats(-80, 80), st.floats(-80, 80), st.floats(-170, 170))
def test_angles_are_opentracks_yaw_pitch_roll_decomposition(yaw, pitch, roll):
    # OpenTrack's data(): R = Ry(-yaw) Rz(pitch) Rx(-roll) in world axes (x forward, y up).
    from opnet.track.world import WorldPose

    r = _rot("y", -yaw) @ _rot("z", pitch) @ _rot("x", -roll)
    p = opentrack_pose(WorldPose(r, np.array([-500.0, 20.0, 30.0])))
    assert (p.yaw_deg, p.pitch_deg, p.roll_deg) == pytest.approx((yaw, pitch, roll), abs=1e-6)
    assert (p.x_cm, p.y_cm, p.z_cm) == pytest.approx((-3.0, 2.0, 50.0))
