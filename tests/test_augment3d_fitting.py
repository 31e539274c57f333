"""Fitting the face model to 68 landmarks: pose recovered, shape recovered, residuals in percent."""

from __future__ import annotations

import numpy as np
import pytest

from opnet.augment3d.fitting import fit_landmarks, fit_shape, landmark_weights, neutral_params, residual_pct
from opnet.augment3d.generate import face_assets
from opnet.facemodel import landmarks_to_label, project
from opnet.geometry import IBUG68_MIRROR, euler_to_quat, geodesic_distance


@pytest.fixture(scope="module")
def model():
    return face_assets(None)[0]


def projected(model, pyr_deg, shape, coords=(200.0, 210.0, 120.0)):
    quat = euler_to_quat(np.deg2rad(pyr_deg))
    return quat, np.asarray(coords), landmarks_to_label(project(model.landmarks(shape), quat, coords))


@pytest.mark.parametrize("pyr_deg", [(5, 10, -3), (-20, -35, 10), (15, 60, 5), (10, -75, -10)])
def test_pose_from_2d_landmarks_within_2_degrees(model, pyr_deg):
    rng = np.random.default_rng(3)
    shape = 0.5 * np.clip(rng.standard_normal(len(model.shape_basis)), -2, 2)
    quat, coords, points = projected(model, pyr_deg, shape)
    noisy = points[:, :2] + rng.normal(0.0, 0.3, (68, 2))
    fit = fit_landmarks(model, noisy)
    assert np.rad2deg(geodesic_distance(fit.params.quat, quat)) < 2.0
    np.testing.assert_allclose(fit.params.coords[:2], coords[:2], atol=2.0)
    assert abs(fit.params.coords[2] / coords[2] - 1) < 0.05
    assert fit.residual_pct < 1.0


def test_a_start_pose_is_used_and_gives_the_same_answer(model):
    quat, coords, points = projected(model, (0, 40, 0), np.zeros(len(model.shape_basis)))
    start = neutral_params(model, euler_to_quat(np.deg2rad([5, 30, 5])), coords + [4, -3, 10])
    fit = fit_landmarks(model, points[:, :2], start)
    assert np.rad2deg(geodesic_distance(fit.params.quat, quat)) < 0.1
    assert fit.residual_pct < 0.05


def test_shape_from_3d_landmarks_at_a_known_pose(model):
    shape = np.clip(np.random.default_rng(1).standard_normal(len(model.shape_basis)), -2, 2)
    quat, coords, points = projected(model, (10, 20, 0), shape)
    fit = fit_shape(model, points, quat, coords)
    np.testing.assert_array_equal(fit.params.quat, neutral_params(model, quat, coords).quat)
    assert np.abs(fit.params.pt3d_68(model) - points).max() < 0.01 * 120
    assert fit.residual_pct < 0.2


def test_residual_is_a_percentage_of_the_landmark_box(model):
    quat, coords, points = projected(model, (0, 0, 0), np.zeros(len(model.shape_basis)))
    params = neutral_params(model, quat, coords)
    shifted = points.copy()
    shifted[:, 0] += 0.02 * np.sqrt(np.prod(np.ptp(points[:, :2], axis=0)))
    assert residual_pct(params, model, shifted, np.ones(68)) == pytest.approx(2.0, rel=1e-6)


def test_far_side_jaw_weights_fade_with_yaw():
    np.testing.assert_array_equal(landmark_weights(0.0), np.ones(68))
    turned = landmark_weights(np.deg2rad(60.0))
    assert np.all(turned[:8] == 0.0) and np.all(turned[8:] == 1.0)
    assert np.allclose(landmark_weights(np.deg2rad(-60.0)), turned[IBUG68_MIRROR])
    halfway = landmark_weights(np.deg2rad(30.0))[0]
    assert 0.0 < halfway < 1.0
