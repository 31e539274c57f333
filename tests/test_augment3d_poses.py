"""New poses of a source face: yaw bins to profile, in-plane parts pulled to zero, reproducible."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from opnet.augment3d.poses import heading_samples_deg, sample_poses
from opnet.geometry import (
    euler_to_quat,
    geodesic_distance,
    hpb_to_quat,
    inplane_rotation_quat,
    quat_multiply,
    quat_to_euler,
    quat_to_hpb,
)

hpb_angles = arrays(np.float64, (3,), elements=st.floats(-1.5, 1.5, allow_nan=False))


@given(hpb_angles)
def test_hpb_round_trip(hpb):
    assert np.allclose(quat_to_hpb(hpb_to_quat(hpb)), hpb, atol=1e-9)


def test_hpb_agrees_with_aflw_angles_one_at_a_time():
    for k in range(3):
        angles = np.zeros(3)
        angles[k] = 0.4
        aflw = np.zeros(3)
        aflw[[1, 0, 2][k]] = 0.4  # (heading, pitch, bank) -> AFLW (pitch, yaw, roll)
        assert geodesic_distance(hpb_to_quat(angles), euler_to_quat(aflw)) < 1e-12


def test_at_profile_pitch_is_an_inplane_rotation():
    profile = hpb_to_quat([np.pi / 2, 0.0, 0.0])
    pitched = hpb_to_quat([np.pi / 2, 0.3, 0.0])
    assert (
        geodesic_distance(pitched, quat_multiply(inplane_rotation_quat(0.3), profile)) < 1e-9
        or geodesic_distance(pitched, quat_multiply(inplane_rotation_quat(-0.3), profile)) < 1e-9
    )


@pytest.mark.parametrize("heading, step", [(12.0, 5.0), (-33.0, 5.0), (0.0, 10.0), (80.0, 5.0), (89.5, 5.0)])
def test_one_heading_per_bin_from_the_source_to_90(heading, step):
    rng = np.random.default_rng(0)
    samples = heading_samples_deg(heading, step, rng)
    count = max(1, round((90 - abs(heading)) / step))
    assert len(samples) == count
    if heading != 0:
        assert np.all(np.sign(samples) == np.sign(heading))
    edges = np.linspace(abs(heading), 90.0, count + 1)
    magnitudes = np.abs(samples)
    assert np.all((magnitudes >= edges[:-1]) & (magnitudes <= edges[1:]))


def test_a_frontal_source_turns_either_way():
    signs = {np.sign(heading_samples_deg(0.0, 5.0, np.random.default_rng(s))[0]) for s in range(20)}
    assert signs == {-1.0, 1.0}


def test_bad_step_is_refused():
    with pytest.raises(ValueError):
        heading_samples_deg(10.0, 0.0, np.random.default_rng(0))


def test_source_pose_first_and_same_seed_same_poses():
    quat = euler_to_quat(np.deg2rad([10.0, -20.0, 5.0]))
    a = sample_poses(quat, 5.0, np.random.default_rng(7))
    b = sample_poses(quat, 5.0, np.random.default_rng(7))
    c = sample_poses(quat, 5.0, np.random.default_rng(8))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    assert geodesic_distance(a[0], quat) < 1e-9
    assert len(a) == 1 + 14
    assert np.all(a[:, 3] >= 0)


def test_pitch_fades_towards_profile_and_bank_towards_frontal():
    quat = hpb_to_quat(np.deg2rad([5.0, 20.0, 15.0]))
    draws = np.concatenate([sample_poses(quat, 5.0, np.random.default_rng(s))[1:] for s in range(200)])
    heading, pitch, bank = np.rad2deg(quat_to_hpb(draws)).T
    near_profile, near_source = np.abs(heading) > 85, np.abs(heading) < 10
    assert abs(np.mean(pitch[near_profile])) < 1.5 and np.std(pitch[near_profile]) < 2.5
    assert abs(np.mean(pitch[near_source]) - 20.0 * (1 - np.mean(np.abs(heading[near_source])) / 90)) < 2.5
    assert abs(np.mean(bank[near_profile]) - 15.0 * np.mean(np.abs(heading[near_profile])) / 90) < 2.5
    assert np.all(np.abs(quat_to_euler(draws)[:, 1]) <= np.pi / 2 + 1e-9)
