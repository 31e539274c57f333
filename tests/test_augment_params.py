"""Sampled augmentation parameters: the original's probabilities and ranges, flags, replayability."""

from __future__ import annotations

import numpy as np
import pytest

from opnet.augment import INTENSITY_OPS, AugmentConfig, sample_params
from opnet.augment.params import draw, params_from_draws

N = 20000


def many(config: AugmentConfig, n: int = N, seed: int = 0):
    rng = np.random.default_rng(seed)
    u, z = zip(*(draw(rng, config) for _ in range(n)), strict=True)
    return params_from_draws(np.stack(u), np.stack(z), config)


def within(p_hat: float, p: float, n: int = N) -> bool:
    return abs(p_hat - p) < 5 * np.sqrt(p * (1 - p) / n) + 1e-12


def test_geometry_draws_follow_the_original():
    p = many(AugmentConfig())
    assert within(p.flip.mean(), 0.5)
    rot = np.round(np.degrees(p.total_angle_rad)).astype(int)
    assert set(np.unique(rot)) <= {0, 30, -30, 90, -90, 60, -60, 120, -120}
    assert within(np.mean(np.abs(rot) % 90 == 30), 1 / 3)
    assert within(np.mean(np.abs(rot) >= 60), 0.01)
    assert within(np.mean(rot == 30), 1 / 6) and within(np.mean(rot == -30), 1 / 6)
    assert abs(np.std(p.scale) - 0.1) < 0.005 and abs(np.mean(p.scale) - 1.1) < 0.005
    assert p.scale.min() >= 0.6 and p.scale.max() <= 1.6
    assert np.abs(p.shift).max() <= 1.0 and np.mean(np.abs(p.shift) == 1.0) > 0.03  # clipped N(0, 0.5)


def test_raug_zero_keeps_only_the_rare_quarter_turns():
    rot = np.degrees(many(AugmentConfig(rotation_deg=0.0)).total_angle_rad)
    assert set(np.unique(np.round(rot))) <= {0.0, 90.0, -90.0}
    assert within(np.mean(rot != 0), 0.01)


def test_roi_modes_set_the_expansion():
    assert abs(np.mean(many(AugmentConfig(roi_mode="landmarks"), 2000).scale) - 1.2) < 0.01
    assert abs(np.mean(many(AugmentConfig(roi_mode="extent_to_forehead"), 2000).scale) - 1.1) < 0.01


def test_intensity_ops_apply_with_two_thirds_of_their_probability():
    config = AugmentConfig()
    p = many(config)
    counts = {name: 0 for name in INTENSITY_OPS}
    for ops in p.intensity:
        assert len(ops) <= 4 and len({name for name, _ in ops}) == len(ops)
        for name, value in ops:
            counts[name] += 1
            low, high = {
                "gamma": (0.5, 2.0),
                "contrast": (0.7, 1.5),
                "brightness": (0.7, 1.5),
                "posterize": (4, 6),
                "blur": (1.5, 1.5),
                "equalize": (0, 0),
            }[name]
            assert low <= value <= high
    for name in INTENSITY_OPS:
        assert within(counts[name] / N, getattr(config, f"{name}_prob") * 4 / 6), name
    posterize_bits = {v for ops in p.intensity for n, v in ops if n == "posterize"}
    assert posterize_bits <= {4.0, 5.0, 6.0}


def test_noise_levels():
    p = many(AugmentConfig())
    expected = {0.0: 0.5 * 0.9, 4.0: 0.5 * 0.9, 16.0: 0.5 * 0.1, np.sqrt(16 + 256): 0.5 * 0.1}
    for std, prob in expected.items():
        assert within(np.mean(np.isclose(p.noise_std, std)), prob)
    assert len(set(p.noise_seed.tolist())) > N * 0.99


def test_no_imgaug_turns_off_intensity_and_noise():
    p = many(AugmentConfig(intensity=False), 2000)
    assert all(ops == () for ops in p.intensity) and not p.noise_std.any()


def test_parameters_replay_from_the_same_generator_and_select_rows():
    config = AugmentConfig()
    a = sample_params([np.random.default_rng(s) for s in (5, 6, 7)], config)
    b = sample_params([np.random.default_rng(7)], config)
    assert np.allclose(a.scale[2], b.scale[0]) and a.intensity[2] == b.intensity[0]
    assert a.noise_seed[2] == b.noise_seed[0] and np.allclose(a[[2]].shift, b.shift)
    assert len(a[1:]) == 2


@pytest.mark.parametrize(
    "bad",
    [
        dict(flip_prob=1.5),
        dict(gamma_range=(2.0, 0.5)),
        dict(rotation_deg=-1),
        dict(roi_mode="nose"),
        dict(noise=((4.0, 2.0),)),
    ],
)
def test_config_validation(bad):
    with pytest.raises(ValueError):
        AugmentConfig(**bad)
