"""Pose, size and position of synthetic heads follow the requested distributions."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from opnet.errors import OpNetError
from opnet.geometry import quat_to_euler, quat_to_hpb
from opnet.synth.config import SynthConfig
from opnet.synth.shot import sample_coords, sample_euler, sample_quat, sample_shot


@pytest.mark.parametrize(
    "config", [SynthConfig(), SynthConfig(yaw_max_deg=30.0, pitch_max_deg=10.0, roll_max_deg=0.0)]
)
def test_euler_angles_are_uniform_in_the_requested_ranges(config):
    rng = np.random.default_rng(3)
    angles = np.rad2deg(np.array([sample_euler(rng, config) for _ in range(3000)]))
    limits = (config.pitch_max_deg, config.yaw_max_deg, config.roll_max_deg)
    for k, limit in enumerate(limits):
        assert np.all(np.abs(angles[:, k]) <= limit)
        if limit > 0:
            assert stats.kstest(angles[:, k], stats.uniform(-limit, 2 * limit).cdf).pvalue > 1e-3
    assert np.all(np.abs(np.corrcoef(angles[:, [0, 1]].T)[0, 1]) < 0.06)


def test_shot_quaternions_carry_the_sampled_angles():
    config = SynthConfig(yaw_max_deg=89.0)
    decoded, sampled = [], []
    for seed in range(300):
        sampled.append(sample_euler(np.random.default_rng(seed), config))
        decoded.append(quat_to_euler(sample_shot(np.random.default_rng(seed), config).quat))
    np.testing.assert_allclose(decoded, sampled, atol=1e-9)
    yaw = np.rad2deg(np.array(decoded)[:, 1])
    assert stats.kstest(yaw, stats.uniform(-89, 178).cdf).pvalue > 1e-3


def test_heading_pitch_bank_angles_turn_then_nod_in_the_heads_frame():
    config = SynthConfig(yaw_max_deg=89.0, pose_angles="hpb")
    sampled = np.array([sample_euler(np.random.default_rng(seed), config) for seed in range(2000)])
    quats = np.array([sample_quat(np.random.default_rng(seed), config) for seed in range(2000)])
    np.testing.assert_allclose(quat_to_hpb(quats), sampled[:, [1, 0, 2]], atol=1e-9)
    aflw = np.rad2deg(quat_to_euler(quats))
    profile_nodding = (np.abs(np.rad2deg(sampled[:, 1])) > 75) & (np.abs(np.rad2deg(sampled[:, 0])) > 30)
    assert profile_nodding.sum() > 10
    assert np.all(np.abs(aflw[profile_nodding, 0]) > 60), "AFLW's pitch of a nodding profile is beyond 60"
    assert np.abs(aflw[:, 0]).max() > 80 >= np.rad2deg(np.abs(sampled[:, 0])).max() + 20


def test_heads_are_in_view_with_log_uniform_sizes():
    config = SynthConfig(image_size=256)
    rng = np.random.default_rng(5)
    coords = np.array([sample_coords(rng, config) for _ in range(2000)])
    sizes = coords[:, 2] / 256
    assert sizes.min() >= config.head_size_min and sizes.max() <= config.head_size_max
    log_range = np.log([config.head_size_min, config.head_size_max])
    assert stats.kstest(np.log(sizes), stats.uniform(log_range[0], np.ptp(log_range)).cdf).pvalue > 1e-3
    assert np.all((coords[:, :2] > 0.5 * coords[:, 2:]) & (coords[:, :2] < 256 - 0.5 * coords[:, 2:]))


@pytest.mark.parametrize(
    "settings",
    [
        {"yaw_max_deg": 95.0},
        {"roll_max_deg": -1.0},
        {"image_size": 16},
        {"samples_per_identity": 0},
        {"head_size_min": 0.6},
        {"pose_angles": "xyz"},
    ],
)
def test_bad_settings_are_refused_naming_the_setting(settings):
    with pytest.raises(OpNetError, match="expected"):
        SynthConfig(**settings)
