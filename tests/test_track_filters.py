"""Smoothing (opnet.track.filters): OpenTrack's deadzone filter with a linear world map, One-Euro steps."""

from __future__ import annotations

import numpy as np
import pytest

from opnet.geometry import quat_to_matrix, rotvec_to_quat
from opnet.runtime import PosePrediction
from opnet.track.filters import DeadzoneFilter, NoFilter, OneEuroFilter, SigmaPoints, make_filter
from opnet.track.world import WorldPose


def linear_world(quat, x, y, size):
    """A world map that is linear in the image values: position (x, y, size) mm, rotation as predicted."""
    return WorldPose(quat_to_matrix(quat), np.stack(np.broadcast_arrays(x, y, size), axis=-1).astype(float))


def face(coords, rotvec=(0, 0, 0), coord_std=(2.0, 2.0, 1.0), rot_std=(0.02, 0.02, 0.02), uncertain=True):
    tril = (lambda d: np.diag(d)[None]) if uncertain else (lambda d: None)
    return PosePrediction(
        rotvec_to_quat(rotvec)[None],
        np.asarray(coords, float)[None],
        np.zeros((1, 4)),
        tril(rot_std),
        tril(coord_std),
    )


def test_sigma_points_reproduce_mean_and_covariance_of_a_linear_map():
    sigma = SigmaPoints()
    wm, wc = sigma.weights()
    assert wm.sum() == pytest.approx(1.0)
    rng = np.random.default_rng(0)
    tril = np.tril(rng.normal(size=(6, 6))) + 3 * np.eye(6)
    a, b = rng.normal(size=(4, 6)), rng.normal(size=4)
    mean, cov = sigma.statistics(sigma.points(tril) @ a.T + b)
    assert np.allclose(mean, b) and np.allclose(cov, a @ tril @ tril.T @ a.T, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("step_px", [0.0, 1.0, 3.0, 20.0])
def test_deadzone_scales_the_step_by_a_sigmoid_of_its_mahalanobis_length(step_px):
    f = DeadzoneFilter(size=1.0, hardness=1.5)
    first = f.update(face((100, 50, 30)), linear_world, 0.0)
    assert np.allclose(first.position_mm, (100, 50, 30))
    out = f.update(face((100 + step_px, 50, 30 + step_px)), linear_world, 0.04)
    d = np.hypot(
        step_px / 2.0, step_px / 1.0
    )  # step over the standard deviations (2 px for x, 1 px for size)
    gain = 1 / (1 + np.exp(-(d - 1.0) * 1.5))
    assert np.allclose(out.position_mm, (100 + gain * step_px, 50, 30 + gain * step_px), atol=1e-6)
    assert np.allclose(out.rotation, np.eye(3), atol=1e-9)


def test_deadzone_damps_small_rotations_and_passes_large_ones():
    f = DeadzoneFilter()
    f.update(face((0, 0, 30)), linear_world, 0.0)
    small = f.update(face((0, 0, 30), rotvec=(0, 0.01, 0)), linear_world, 0.04)
    turned = np.arccos((np.trace(small.rotation) - 1) / 2)
    assert 0 < turned < 0.01 * 0.35  # 0.5 sigma: attenuation sigmoid(-0.75) = 0.32
    large = f.update(face((0, 0, 30), rotvec=(0, 0.5, 0)), linear_world, 0.08)
    # passes whole, up to the unscented transform's second-order term (~ variance x angle)
    assert np.allclose(large.rotation, quat_to_matrix(rotvec_to_quat([0, 0.5, 0])), atol=1e-4)


def test_deadzone_without_uncertainty_outputs_passes_raw_poses():
    f = DeadzoneFilter()
    f.update(face((0, 0, 30), uncertain=False), linear_world, 0.0)
    out = f.update(face((0.5, 0, 30), uncertain=False), linear_world, 0.04)
    assert np.allclose(out.position_mm, (0.5, 0, 30))


def test_one_euro_first_step_by_hand_and_rest_is_kept():
    f = OneEuroFilter(min_cutoff_hz=1.0, beta=0.05, derivative_cutoff_hz=1.0)
    assert np.allclose(f.update(face((0, 0, 0)), linear_world, 0.0).position_mm, 0)
    dt, jump_mm = 0.1, 10.0
    out = f.update(face((jump_mm, 0, 0)), linear_world, dt)

    def alpha(cutoff):
        return 1 / (1 + 1 / (2 * np.pi * cutoff) / dt)

    speed = alpha(1.0) * (jump_mm / 10 / dt)  # cm/s, low-passed from 0
    assert out.position_mm[0] == pytest.approx(alpha(1.0 + 0.05 * speed) * jump_mm)
    again = f.update(face((jump_mm, 0, 0)), linear_world, 2 * dt)
    assert out.position_mm[0] < again.position_mm[0] < jump_mm


def test_one_euro_follows_fast_motion_more_closely_with_a_larger_beta():
    lag = {}
    for beta in (0.0, 0.5):
        f = OneEuroFilter(min_cutoff_hz=0.5, beta=beta)
        for k in range(10):
            out = f.update(face((0, 0, 0), rotvec=(0, 0.1 * k, 0)), linear_world, k / 30)
        lag[beta] = 0.9 - np.arccos((np.trace(out.rotation) - 1) / 2)
    assert 0 < lag[0.5] < lag[0.0]


def test_make_filter_by_name():
    assert isinstance(make_filter("none"), NoFilter)
    assert isinstance(make_filter("deadzone", deadzone_size=2.0), DeadzoneFilter)
    assert isinstance(make_filter("one-euro"), OneEuroFilter)
    with pytest.raises(ValueError, match="unknown smoothing 'kalman'"):
        make_filter("kalman")
