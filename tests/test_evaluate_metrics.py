"""The protocol's error measures, pinned with hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.spatial.transform import Rotation

from opnet.evaluate import metrics
from opnet.geometry import euler_to_quat, quat_to_euler


def deg_quat(pitch, yaw, roll):
    return euler_to_quat(np.deg2rad([pitch, yaw, roll]))


def test_wrap_around_at_180_degrees():
    d = np.rad2deg(
        metrics.wrapped_angle_difference(np.deg2rad([179, 10, -170, 90]), np.deg2rad([-179, 350, 170, -90]))
    )
    assert np.allclose(d, [2, 20, 20, 180])
    assert np.allclose(np.rad2deg(metrics.angle_difference(np.deg2rad(-179), np.deg2rad(179))), 2)


def test_euler_errors_use_the_aflw_convention():
    # AFLW2000-3D's Pose_Para (pitch, yaw, roll) means Rotation.from_euler("XYZ", [-pitch, yaw, roll]).
    true = Rotation.from_euler("XYZ", np.deg2rad([-10, 20, 30])).as_quat()
    pred = Rotation.from_euler("XYZ", np.deg2rad([-12, 17, 30])).as_quat()
    assert np.allclose(np.rad2deg(quat_to_euler(true)), [10, 20, 30])
    err = np.rad2deg(metrics.euler_errors(pred[None], true[None]))
    assert np.allclose(err, [[2, 3, 0]])


def test_roll_error_wraps_around():
    err = np.rad2deg(metrics.euler_errors(deg_quat(5, 10, 179)[None], deg_quat(5, 10, -179)[None]))
    assert np.allclose(err, [[0, 0, 2]], atol=1e-9)


def test_errors_are_blind_to_the_quaternion_sign():
    rng = np.random.default_rng(0)
    true = Rotation.random(20, random_state=1).as_quat()
    pred = Rotation.from_rotvec(rng.normal(scale=0.2, size=(20, 3))) * Rotation.from_quat(true)
    pred = pred.as_quat()
    assert np.allclose(metrics.euler_errors(-pred, true), metrics.euler_errors(pred, true))
    assert np.allclose(metrics.geodesic_errors(-pred, true), metrics.geodesic_errors(pred, true))
    assert np.allclose(metrics.geodesic_errors(pred, pred), 0, atol=1e-7)


def test_geodesic_error_is_the_angle_between_rotations():
    a = Rotation.from_euler("z", 10, degrees=True).as_quat()
    b = Rotation.from_euler("x", 0, degrees=True).as_quat()
    assert np.isclose(np.rad2deg(metrics.geodesic_errors(a[None], b[None]))[0], 10)
    # Two 90 deg rotations about different axes are 120 deg apart.
    c, d = (
        Rotation.from_euler("x", 90, degrees=True).as_quat(),
        Rotation.from_euler("y", 90, degrees=True).as_quat(),
    )
    assert np.isclose(np.rad2deg(metrics.geodesic_errors(c[None], d[None]))[0], 120)


def test_position_errors_are_relative_to_the_roi_width():
    rois = np.array([[0, 0, 100, 50], [10, 10, 30, 90]], float)
    e = metrics.position_errors([[103, 96, 48], [22, 30, 20]], [[100, 100, 50], [20, 30, 21]], rois)
    assert np.allclose(e, [[0.03, 0.04, 0.02], [0.1, 0.0, 0.05]])
    assert np.isclose(metrics.xy_rms(e), np.sqrt((0.05**2 + 0.1**2) / 2))
    assert np.isclose(metrics.size_rms(e), np.sqrt((0.02**2 + 0.05**2) / 2))


def test_landmark_nme_normalises_by_the_true_box_and_ignores_mean_depth():
    rng = np.random.default_rng(0)
    true = np.zeros((1, 68, 3))
    true[0, :, 0] = rng.uniform(0, 10, 68)
    true[0, :, 1] = rng.uniform(0, 40, 68)
    true[0, :, 0] = (true[0, :, 0] - true[0, :, 0].min()) / np.ptp(true[0, :, 0]) * 10
    true[0, :, 1] = (true[0, :, 1] - true[0, :, 1].min()) / np.ptp(true[0, :, 1]) * 40
    true[0, :, 2] = rng.normal(size=68)
    shifted = true + [1.0, 0.0, 5.0]  # 1 px in x; the depth offset is removed by depth centring
    assert np.allclose(metrics.landmark_nme(shifted, true, dims=2), 1 / 20)  # sqrt(10 * 40) = 20
    assert np.allclose(metrics.landmark_nme(shifted, true, dims=3), 1 / 20)
    deeper = true.copy()
    deeper[0, 0, 2] += 68.0  # one point 68 deep: 67 deep after centring; the others move 1 the other way
    assert np.allclose(metrics.landmark_nme(deeper, true, dims=3), (67 + 67) / 68 / 20)
    assert np.allclose(metrics.landmark_nme(deeper, true, dims=2), 0)


def test_yaw_bins_and_their_means():
    quats = np.stack([deg_quat(0, y, 0) for y in (10, -45, 75, 31, -89.9)])
    masks = metrics.yaw_bin_masks(quats)
    assert masks.tolist() == [[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 1, 0], [0, 0, 1]]
    means = metrics.mean_by_bins([1.0, 2.0, 3.0, 4.0, 5.0], masks)
    assert np.allclose(means, [1, 3, 4, 8 / 3])
    empty = metrics.mean_by_bins([1.0], [[True, False, False]])
    assert empty[0] == 1 and np.isnan(empty[1]) and np.isnan(empty[3])


def test_summary_reports_degrees_and_percent_and_none_for_missing_parts():
    euler = np.deg2rad([[1.0, 2.0, 3.0], [3.0, 4.0, 5.0]])
    s = metrics.summarize(euler, np.deg2rad([4.0, 6.0]))
    assert (s.samples, s.pitch_deg, s.yaw_deg, s.roll_deg, s.mean_deg) == (
        2,
        pytest.approx(2),
        pytest.approx(3),
        pytest.approx(4),
        pytest.approx(3),
    )
    assert s.geodesic_deg == pytest.approx(5) and s.xy_pct is None and s.nme3d_pct is None
    full = metrics.summarize(
        euler,
        [0.1, 0.1],
        [[0.03, 0.04, 0.02], [0.03, 0.04, 0.02]],
        [0.01, 0.03],
        [0.02, 0.04],
        [[True, False, False], [True, False, False]],
    )
    assert (
        full.xy_pct == pytest.approx(5)
        and full.size_pct == pytest.approx(2)
        and full.nme3d_pct == pytest.approx(2)
    )
    assert (
        full.nme2d_0_30_pct == pytest.approx(3)
        and full.nme2d_30_60_pct is None
        and full.nme2d_avg_pct is None
    )


@given(st.floats(-3.1, 3.1), st.floats(-1.5, 1.5), st.floats(-3.1, 3.1), st.floats(-0.3, 0.3))
def test_euler_error_of_a_pure_yaw_change_is_that_change(pitch, yaw, roll, delta):
    true = euler_to_quat([pitch, yaw, roll])
    pred = euler_to_quat([pitch, np.clip(yaw + delta, -1.55, 1.55), roll])
    err = metrics.euler_errors(pred[None], true[None])[0]
    assert np.allclose(err, [0, abs(np.clip(yaw + delta, -1.55, 1.55) - yaw), 0], atol=1e-6)
