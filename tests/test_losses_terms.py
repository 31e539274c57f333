"""The plain loss terms: values at and away from the truth, invariances, per-point weights, 2D labels."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from opnet.geometry import geodesic_distance
from opnet.losses import (
    align_depth,
    box_loss,
    landmark_point_weights,
    points_loss,
    quat_norm_loss,
    rotation_loss,
    size_loss,
    xy_loss,
)


def random_quats(n: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.nn.functional.normalize(torch.randn(n, 4, generator=g, dtype=torch.float64), dim=-1)


def test_rotation_loss_is_half_angle_sine_squared_and_sign_invariant():
    a, b = random_quats(50, 1), random_quats(50, 2)
    angle = geodesic_distance(a.numpy(), b.numpy())
    loss = rotation_loss(a, b)
    assert loss.numpy() == pytest.approx(np.sin(angle / 2) ** 2, abs=1e-12)
    assert torch.allclose(rotation_loss(a, -b), loss)
    assert torch.allclose(rotation_loss(a, a), torch.zeros(50, dtype=torch.float64), atol=1e-12)
    assert loss.shape == (50,)


def test_sine_rotation_loss_grows_linearly_with_the_angle_and_has_a_gradient_at_zero():
    a, b = random_quats(50, 3), random_quats(50, 4)
    angle = geodesic_distance(a.numpy(), b.numpy())
    loss = rotation_loss(a, b, "sin")
    assert loss.numpy() == pytest.approx(np.abs(np.sin(angle / 2)), abs=2e-4)  # smoothed by 1e-4 at 0
    assert torch.allclose(rotation_loss(a, -b, "sin"), loss)
    q = a[:1].clone().requires_grad_(True)
    rotation_loss(q, a[:1], "sin").sum().backward()
    assert torch.isfinite(q.grad).all()
    small = rotation_loss(a[:1], torch.nn.functional.normalize(a[:1] + 1e-3 * b[:1], dim=-1), "sin")
    assert float(small) > float(
        rotation_loss(a[:1], torch.nn.functional.normalize(a[:1] + 1e-3 * b[:1], dim=-1))
    )
    with pytest.raises(ValueError, match="rotation metric 'l7'"):
        rotation_loss(a, b, "l7")


def test_position_and_box_losses():
    pred = torch.tensor([[0.1, 0.2, 1.0], [0.0, 0.0, 0.5]])
    target = torch.tensor([[0.3, 0.2, 1.5], [0.0, 0.0, 0.5]])
    assert xy_loss(pred, target).tolist() == pytest.approx([0.02, 0.0])
    assert size_loss(pred, target).tolist() == pytest.approx([0.25, 0.0])
    box = torch.tensor([[-1.0, -1.0, 1.0, 1.0]])
    assert box_loss(box, box + torch.tensor([0.2, 0.0, 0.0, -0.2])).tolist() == pytest.approx([0.02])


def test_quat_norm_loss():
    raw = torch.tensor([[0.0, 0.0, 0.0, 1.0], [0.0, 2.0, 0.0, 0.0], [0.3, 0.0, 0.4, 0.0]])
    assert quat_norm_loss(raw).tolist() == pytest.approx([0.0, 1.0, 0.25])


def test_point_weights_follow_the_original():
    w = landmark_point_weights(0.8, 0.0)
    assert w[[0, 7, 9, 16]].tolist() == pytest.approx([0.8] * 4)
    assert w[8] == 1.0  # the chin tip
    assert w[[37, 38, 40, 41, 43, 44, 46, 47]].sum() == 0
    assert w[[36, 39, 42, 45, 30, 48]].tolist() == [1.0] * 6  # eye corners, nose, mouth
    assert w.sum() == pytest.approx(68 - 16 * 0.2 - 8)


@pytest.fixture
def landmarks():
    g = torch.Generator().manual_seed(3)
    target = align_depth(torch.randn(4, 68, 3, generator=g))
    return target, target + 0.1 * torch.randn(4, 68, 3, generator=g)


def test_points_loss_ignores_a_depth_offset(landmarks):
    target, pred = landmarks
    weights, has_z = landmark_point_weights(), torch.ones(4, dtype=torch.bool)
    shifted = pred + torch.tensor([0.0, 0.0, 5.0])
    assert torch.allclose(
        points_loss(shifted, target, has_z, weights), points_loss(pred, target, has_z, weights)
    )
    moved = pred + torch.tensor([0.5, 0.0, 0.0])
    assert (points_loss(moved, target, has_z, weights) > points_loss(pred, target, has_z, weights)).all()


def test_points_loss_uses_only_xy_for_2d_labels(landmarks):
    target, pred = landmarks
    weights = landmark_point_weights()
    has_z = torch.tensor([True, False, True, False])
    garbage_z = target.clone()
    garbage_z[~has_z, :, 2] = torch.randn(2, 68) * 100
    loss = points_loss(pred, garbage_z, has_z, weights)
    flat_pred = torch.cat([pred[..., :2], torch.zeros(4, 68, 1)], dim=-1)
    flat_target = torch.cat([target[..., :2], torch.zeros(4, 68, 1)], dim=-1)
    expected = points_loss(flat_pred, flat_target, torch.ones(4, dtype=torch.bool), weights)
    assert torch.allclose(loss[~has_z], expected[~has_z])
    assert (loss[has_z] > expected[has_z]).all()


def test_points_loss_metrics_and_weights(landmarks):
    target, _ = landmarks
    has_z, weights = torch.ones(4, dtype=torch.bool), landmark_point_weights()
    pred = target.clone()
    pred[:, 37] += 10.0  # an eyelid point: weight 0
    assert torch.allclose(points_loss(pred, target, has_z, weights), torch.zeros(4), atol=1e-6)
    pred = target.clone()
    pred[:, 30, 0] += 0.3  # the nose: weight 1
    total = float(weights.sum())
    assert points_loss(pred, target, has_z, weights, "l2").tolist() == pytest.approx(
        [0.09 / total] * 4, rel=1e-4
    )
    assert points_loss(pred, target, has_z, weights, "l1").tolist() == pytest.approx(
        [0.3 / total] * 4, rel=1e-4
    )
    assert math.isfinite(float(points_loss(pred, target, has_z, weights).sum()))
