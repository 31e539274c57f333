"""Stability spreads: zero for a model that ignores its input, noise-only for a uniform image."""

from __future__ import annotations

import numpy as np
import pytest
from test_evaluate_run import QUIET, FakeModel

from opnet.data import DatasetWriter, open_dataset
from opnet.evaluate import EvaluationSettings, StabilitySettings, evaluate_models
from opnet.evaluate.stability import all_variants, perturbation_families, spread
from opnet.geometry import euler_to_quat

SETTINGS = StabilitySettings(
    shifts_px=(0.5, 1.0, 2.0), scales=(0.98, 1.02), noise_stds=(2.0, 8.0), noise_draws=3
)


@pytest.fixture
def uniform_faces(tmp_path):
    path = tmp_path / "uniform.h5"
    with DatasetWriter(path) as w:
        for k in range(4):
            w.append(
                {
                    "images": np.full((60, 80), 90, np.uint8),
                    "rois": np.array([20, 10, 40, 34], np.float32) + k,
                    "coords": np.array([30 + k, 22 + k, 9], np.float32),
                    "quats": euler_to_quat([0.1 * k, 0.2, 0.0]).astype(np.float32),
                }
            )
    return path


def test_families_and_variant_layout():
    families = perturbation_families(SETTINGS)
    assert list(families) == ["shift", "scale", "noise 2", "noise 8"]
    assert [len(v) for v in families.values()] == [12, 2, 3, 3]
    variants = all_variants(SETTINGS)
    assert len(variants) == 21 and variants[0].shift_px == (0.0, 0.0) and variants[0].noise_std == 0


def test_a_model_blind_to_its_input_has_no_angle_spread(uniform_faces):
    with open_dataset(uniform_faces) as ds:
        result = evaluate_models(
            [FakeModel()], ds, EvaluationSettings(stability=SETTINGS, protocol="opentrack", **QUIET)
        )
    spreads = {s.family: s for s in result.stability["fake"]}
    for s in spreads.values():
        assert (s.pitch_deg, s.yaw_deg, s.roll_deg) == (0, 0, 0) and s.geodesic_deg < 1e-6
    # Its head centre sits on the crop centre, so it moves with the crop: shifts 0, +-0.5, +-1, +-2 px
    # along x and y give var_x = var_y = 2 * (0.25 + 1 + 4) / 13 per sample; the ROI is 20 px wide.
    assert spreads["shift"].xy_pct == pytest.approx(100 * np.sqrt(2 * 10.5 / 13) / 20)
    assert spreads["noise 8"].xy_pct == 0 and spreads["noise 8"].size_pct == 0


def test_on_a_uniform_image_only_noise_moves_an_input_dependent_model(uniform_faces):
    with open_dataset(uniform_faces) as ds:
        result = evaluate_models(
            [FakeModel(yaw_gain=5.0)],
            ds,
            EvaluationSettings(stability=SETTINGS, protocol="opentrack", **QUIET),
        )
    spreads = {s.family: s for s in result.stability["fake"]}
    assert spreads["shift"].yaw_deg < 1e-9 and spreads["scale"].yaw_deg < 1e-9
    assert 0 < spreads["noise 2"].yaw_deg < spreads["noise 8"].yaw_deg
    assert spreads["noise 8"].pitch_deg < 1e-9 and spreads["noise 8"].geodesic_deg == pytest.approx(
        spreads["noise 8"].yaw_deg, rel=0.05
    )


def test_spread_of_hand_made_predictions():
    roll = np.deg2rad([[0.0, 2.0, -2.0], [179.0, -179.0, 180.0]])  # the second sample straddles +-180 deg
    quat = euler_to_quat(np.stack([np.zeros_like(roll), np.zeros_like(roll), roll], axis=-1))
    coords = np.zeros((2, 3, 3))
    s = spread(quat, coords, np.array([10.0, 10.0]), "test")
    # Roll deviations from the first prediction (0, 2, -2) and, wrapped, (0, 2, 1): variances 8/3
    # and 2/3 deg^2, pooled as the root of their mean.
    assert s.roll_deg == pytest.approx(np.sqrt((8 / 3 + 2 / 3) / 2))
    assert s.variants == 2 and s.pitch_deg == pytest.approx(0, abs=1e-6)
