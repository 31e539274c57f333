"""Properties of the rotation and coordinate conventions (opnet.geometry)."""

from __future__ import annotations

import warnings

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from opnet import geometry as g

finite = st.floats(-1.0, 1.0, allow_nan=False)
quats = arrays(np.float64, (4,), elements=finite).filter(lambda q: np.linalg.norm(q) > 0.1)
# AFLW angles within the protocol's range (|angle| < 99 deg keeps yaw < 90 for a unique decomposition)
angles = arrays(np.float64, (3,), elements=st.floats(-1.5, 1.5, allow_nan=False))

FORWARD = np.array([0.0, 0.0, -1.0])  # where the face looks at zero rotation (towards the camera)


def same_quat(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal as canonical quaternions (up to sign, which is ambiguous only when w == 0)."""
    return bool(np.allclose(a, b, atol=1e-9) or (abs(a[3]) < 1e-9 and np.allclose(a, -b, atol=1e-9)))


def nose(q: np.ndarray) -> np.ndarray:
    return g.quat_to_matrix(q) @ FORWARD


@given(quats)
def test_quat_matrix_round_trip(q):
    q2 = g.matrix_to_quat(g.quat_to_matrix(q))
    assert q2[3] >= 0
    assert same_quat(q2, g.canonical_quat(q))


@given(quats)
def test_rotvec_round_trip(q):
    v = g.quat_to_rotvec(q)
    assert np.linalg.norm(v) <= np.pi + 1e-9
    assert same_quat(g.rotvec_to_quat(v), g.canonical_quat(q))


@given(quats)
def test_q_and_minus_q_are_one_rotation(q):
    assert np.allclose(g.quat_to_matrix(q), g.quat_to_matrix(-q))
    assert g.geodesic_distance(q, -q) < 1e-6
    assert same_quat(g.canonical_quat(-q), g.canonical_quat(q))


@given(angles)
def test_euler_round_trip(pyr):
    assert np.allclose(g.quat_to_euler(g.euler_to_quat(pyr)), pyr, atol=1e-9)


def test_identity():
    assert np.allclose(g.euler_to_quat([0, 0, 0]), [0, 0, 0, 1])
    assert np.allclose(g.quat_to_euler([0, 0, 0, 1]), 0)
    assert np.allclose(g.quat_to_matrix([0, 0, 0, 1]), np.eye(3))
    assert g.geodesic_distance([0, 0, 0, 1], [0, 0, 0, 1]) == 0


def test_positive_yaw_turns_nose_to_minus_x():
    n = nose(g.euler_to_quat([0, np.deg2rad(30), 0]))
    assert n[0] < -0.49 and abs(n[1]) < 1e-12


def test_positive_pitch_lifts_nose():
    n = nose(g.euler_to_quat([np.deg2rad(30), 0, 0]))
    assert n[1] < -0.49 and abs(n[0]) < 1e-12


def test_positive_roll_turns_x_towards_y():
    x_axis = g.quat_to_matrix(g.euler_to_quat([0, 0, np.deg2rad(30)]))[:, 0]
    assert x_axis[1] > 0.49


def test_euler_matches_reference_formula():
    # REFERENCE.md: Rotation.from_euler("XYZ", [-pitch, yaw, roll]) in scipy.
    from scipy.spatial.transform import Rotation

    pyr = np.array([0.3, -0.7, 0.2])
    expected = Rotation.from_euler("XYZ", [-pyr[0], pyr[1], pyr[2]]).as_matrix()
    assert np.allclose(g.quat_to_matrix(g.euler_to_quat(pyr)), expected)


def test_geodesic_known_angle():
    a = g.euler_to_quat([0, 0, 0])
    b = g.euler_to_quat([0, np.deg2rad(40), 0])
    assert np.isclose(np.rad2deg(g.geodesic_distance(a, b)), 40.0)


@given(quats, quats)
def test_multiply_and_inverse(a, b):
    ab = g.quat_multiply(a, b)
    assert np.allclose(g.quat_to_matrix(ab), g.quat_to_matrix(a) @ g.quat_to_matrix(b), atol=1e-9)
    assert g.geodesic_distance(g.quat_multiply(g.quat_inverse(a), a), [0, 0, 0, 1]) < 1e-6


@given(quats, st.floats(-3.0, 3.0))
def test_inplane_rotation_moves_projected_points_like_the_image(q, angle):
    pts = np.random.default_rng(0).normal(size=(10, 3))
    proj = (pts @ g.quat_to_matrix(q).T)[:, :2]
    rotated_image_points = proj @ g.inplane_rotation_matrix_2d(angle).T
    q2 = g.rotate_pose_in_plane(q, angle)
    assert np.allclose((pts @ g.quat_to_matrix(q2).T)[:, :2], rotated_image_points, atol=1e-9)


def test_inplane_rotation_adds_to_roll():
    q = g.euler_to_quat([0, 0, 0.1])
    assert np.allclose(g.quat_to_euler(g.rotate_pose_in_plane(q, 0.2)), [0, 0, 0.3])


@given(angles)
def test_mirror_negates_yaw_and_roll(pyr):
    assert np.allclose(g.quat_to_euler(g.mirror_quat(g.euler_to_quat(pyr))), pyr * [1, -1, -1], atol=1e-9)


def test_ibug_mirror_is_an_involution_and_fixes_the_midline():
    perm = g.IBUG68_MIRROR
    assert sorted(perm) == list(range(68))
    assert np.array_equal(perm[perm], np.arange(68))
    for midline in (8, 27, 28, 29, 30, 33, 51, 57, 62, 66):
        assert perm[midline] == midline


@given(quats)
@settings(max_examples=50)
def test_mirroring_points_and_pose_agree(q):
    # A left-right symmetric 3D face: point k is the mirror of point IBUG68_MIRROR[k].
    rng = np.random.default_rng(1)
    half = rng.normal(size=(68, 3))
    face = half.copy()
    face[g.IBUG68_MIRROR] = half * [-1, 1, 1]
    face = 0.5 * (face + half)
    face[g.IBUG68_MIRROR] = face * [-1, 1, 1]
    width = 200.0
    centre = np.array([80.0, 90.0, 0.0])
    image_pts = face @ g.quat_to_matrix(q).T * 30 + centre
    mirrored = g.mirror_points(image_pts, width)[g.IBUG68_MIRROR]
    centre_m = np.array([width - centre[0], centre[1], 0.0])
    expected = face @ g.quat_to_matrix(g.mirror_quat(q)).T * 30 + centre_m
    assert np.allclose(mirrored, expected, atol=1e-9)


def test_mirror_roi_and_square_roi():
    assert np.allclose(g.mirror_roi([10, 20, 30, 60], 100), [70, 20, 90, 60])
    assert np.allclose(g.square_roi([10, 20, 30, 60], 1.0), [0, 20, 40, 60])
    assert np.allclose(g.square_roi([0, 0, 10, 10], 1.2), [-1, -1, 11, 11])


def test_crop_transform_and_cv2_affine():
    import cv2

    img = np.zeros((50, 60), np.uint8)
    img[20, 30] = 255  # pixel centre at (30.5, 20.5)
    affine = g.crop_transform([30.5, 20.5], 10.0, 20)
    assert np.allclose(g.transform_points(affine, [[30.5, 20.5]]), [[10.0, 10.0]])
    out = cv2.warpAffine(img, g.to_cv2_affine(affine), (20, 20), flags=cv2.INTER_LINEAR)
    ys, xs = np.nonzero(out == out.max())
    # The bright pixel maps to the 2x2 block around the crop centre (10, 10).
    assert set(xs) <= {9, 10} and set(ys) <= {9, 10}


def test_gimbal_lock_at_yaw_90_gives_roll_zero_without_a_warning() -> None:
    q = g.euler_to_quat(np.deg2rad([20.0, 90.0, 0.0]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pyr = np.rad2deg(g.quat_to_euler(q))
    assert np.isclose(abs(pyr[1]), 90.0)
    assert pyr[2] == 0.0
    np.testing.assert_allclose(g.quat_to_euler(g.euler_to_quat(np.deg2rad(pyr))), np.deg2rad(pyr), atol=1e-9)
