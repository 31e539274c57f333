"""NLL losses: conventions (checked with scipy), finite gradients, minimum at the truth, scale MLE."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation
from scipy.stats import multivariate_normal, norm

from opnet.geometry import geodesic_distance
from opnet.losses import (
    align_depth,
    box_nll,
    landmark_point_weights,
    mix_with_uniform,
    points_nll,
    pos_size_nll,
    rotation_error_vector,
    rotation_nll,
)
from opnet.losses.nll import POS_SIZE_VOLUME, ROTATION_VOLUME, UNIFORM_WEIGHT

D = torch.float64


def quats(n: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    q = torch.nn.functional.normalize(torch.randn(n, 4, generator=g, dtype=D), dim=-1)
    return torch.where(q[:, 3:] < 0, -q, q)


def trils(n: int, seed: int, scale: float = 0.2) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    m = torch.randn(n, 3, 3, generator=g, dtype=D).tril() * scale
    return (
        m
        - torch.diag_embed(m.diagonal(dim1=-2, dim2=-1))
        + torch.diag_embed(torch.rand(n, 3, generator=g, dtype=D) * scale + 0.05)
    )


def test_rotation_error_vector_is_log_of_q_inverse_q_gt():
    """q_gt = q * exp(v): the error lives in the predicted head frame, as OpenTrack's filter applies it."""
    q, q_gt = quats(20, 0), quats(20, 1)
    v = rotation_error_vector(q, q_gt).numpy()
    composed = Rotation.from_quat(q.numpy()) * Rotation.from_rotvec(v)
    assert (composed.inv() * Rotation.from_quat(q_gt.numpy())).magnitude() == pytest.approx(
        np.zeros(20), abs=1e-9
    )
    assert np.linalg.norm(v, axis=1) == pytest.approx(geodesic_distance(q.numpy(), q_gt.numpy()), abs=1e-9)
    assert torch.allclose(rotation_error_vector(q, -q_gt), rotation_error_vector(q, q_gt))


def test_rotation_nll_matches_a_gaussian_mixed_with_a_uniform_density():
    q, q_gt, tril = quats(10, 2), quats(10, 3), trils(10, 4, scale=1.0)
    nll = rotation_nll(q, tril, q_gt).numpy()
    v = rotation_error_vector(q, q_gt).numpy()
    for i in range(10):
        gauss = multivariate_normal(np.zeros(3), tril[i].numpy() @ tril[i].numpy().T).pdf(v[i])
        expected = -math.log((1 - UNIFORM_WEIGHT) * gauss + UNIFORM_WEIGHT / ROTATION_VOLUME)
        assert nll[i] == pytest.approx(expected, rel=1e-9)


def test_pos_size_box_and_points_nll_match_scipy():
    g = torch.Generator().manual_seed(5)
    mean, target, tril = (
        torch.randn(3, 3, generator=g, dtype=D),
        torch.randn(3, 3, generator=g, dtype=D),
        trils(3, 6),
    )
    for i, value in enumerate(pos_size_nll(mean, tril, target).numpy()):
        gauss = multivariate_normal(mean[i].numpy(), tril[i].numpy() @ tril[i].numpy().T).pdf(
            target[i].numpy()
        )
        assert value == pytest.approx(
            -math.log((1 - UNIFORM_WEIGHT) * gauss + UNIFORM_WEIGHT / POS_SIZE_VOLUME), rel=1e-9
        )
    box, box_t, scales = torch.rand(2, 4, dtype=D), torch.rand(2, 4, dtype=D), torch.rand(2, 4, dtype=D) + 0.1
    expected = -norm.logpdf(box_t.numpy(), box.numpy(), scales.numpy()).sum(axis=1)
    assert box_nll(box, scales, box_t).numpy() == pytest.approx(expected, rel=1e-9)
    pts, pts_t, pscales = (
        torch.randn(2, 68, 3, dtype=D),
        torch.randn(2, 68, 3, dtype=D),
        torch.rand(2, 68, 3, dtype=D) + 0.1,
    )
    weights = landmark_point_weights().to(D)
    per_point = -norm.logpdf(align_depth(pts_t).numpy(), align_depth(pts).numpy(), pscales.numpy()).sum(
        axis=-1
    )
    expected = (per_point * weights.numpy()).sum(axis=1) / weights.sum().item()
    assert points_nll(pts, pscales, pts_t, torch.ones(2, dtype=torch.bool), weights).numpy() == pytest.approx(
        expected, rel=1e-9
    )


def test_gradients_are_finite_at_the_truth_and_vanish_there():
    q = quats(6, 7).requires_grad_(True)
    tril = trils(6, 8).requires_grad_(True)
    for target in (q.detach().clone(), -q.detach().clone()):
        loss = rotation_nll(q, tril, target).sum()
        grad_q, grad_tril = torch.autograd.grad(loss, (q, tril))
        assert torch.isfinite(grad_q).all() and torch.isfinite(grad_tril).all()
        assert grad_q.abs().max() < 1e-9
    mean = torch.randn(6, 3, dtype=D, requires_grad=True)
    (grad_mean,) = torch.autograd.grad(pos_size_nll(mean, tril, mean.detach()).sum(), (mean,))
    assert grad_mean.abs().max() < 1e-12


@pytest.mark.parametrize("which", ["rotation", "pos_size", "box", "points"])
def test_nll_is_minimal_at_the_truth(which):
    g = torch.Generator().manual_seed(9)
    if which == "rotation":
        truth, tril = quats(4, 10), trils(4, 11)
        loss = lambda pred: rotation_nll(torch.nn.functional.normalize(pred, dim=-1), tril, truth)  # noqa: E731
    elif which == "pos_size":
        truth, tril = torch.randn(4, 3, generator=g, dtype=D), trils(4, 12)
        loss = lambda pred: pos_size_nll(pred, tril, truth)  # noqa: E731
    elif which == "box":
        truth, scales = torch.randn(4, 4, generator=g, dtype=D), torch.rand(4, 4, generator=g, dtype=D) + 0.05
        loss = lambda pred: box_nll(pred, scales, truth)  # noqa: E731
    else:
        truth, scales = (
            align_depth(torch.randn(4, 68, 3, generator=g, dtype=D)),
            torch.rand(4, 68, 3, dtype=D) + 0.05,
        )
        has_z, weights = torch.ones(4, dtype=torch.bool), landmark_point_weights(0.8, 0.5).to(D)
        loss = lambda pred: points_nll(pred, scales, truth, has_z, weights)  # noqa: E731
    at_truth = loss(truth)
    for k in range(20):
        step = torch.randn(truth.shape, generator=g, dtype=D) * (0.02 if k % 2 else 0.3)
        assert (loss(truth + step) > at_truth).all()


def test_scales_maximising_the_likelihood_are_the_error_covariance():
    """The mean NLL over errors drawn from N(0, S) is stationary at L = chol(sample covariance)."""
    rng = np.random.default_rng(0)
    true_l = np.array([[0.05, 0, 0], [0.02, 0.03, 0], [-0.01, 0.01, 0.08]])
    errors = rng.normal(size=(4000, 3)) @ true_l.T
    mle = torch.tensor(np.linalg.cholesky(errors.T @ errors / len(errors)), dtype=D, requires_grad=True)
    target = torch.tensor(errors, dtype=D)
    nll = pos_size_nll(torch.zeros(len(errors), 3, dtype=D), mle.expand(len(errors), 3, 3), target).mean()
    (grad,) = torch.autograd.grad(nll, (mle,))
    off = torch.tensor(true_l * 1.3, dtype=D, requires_grad=True)
    (grad_off,) = torch.autograd.grad(
        pos_size_nll(torch.zeros(len(errors), 3, dtype=D), off.expand(len(errors), 3, 3), target).mean(),
        (off,),
    )
    assert grad.tril().abs().max() < 1e-3 * grad_off.abs().max()  # stationary (up to the tiny uniform share)
    wider = pos_size_nll(
        torch.zeros(len(errors), 3, dtype=D), (1.3 * mle.detach()).expand(len(errors), 3, 3), target
    ).mean()
    narrower = pos_size_nll(
        torch.zeros(len(errors), 3, dtype=D), (0.7 * mle.detach()).expand(len(errors), 3, 3), target
    ).mean()
    assert nll < wider and nll < narrower


def test_gross_errors_are_capped_by_the_uniform_share():
    q = quats(1, 13)
    flipped = torch.tensor([[1.0, 0.0, 0.0, 0.0]], dtype=D)  # 180 degrees away from identity
    tiny = torch.eye(3, dtype=D)[None] * 1e-4
    identity = torch.tensor([[0.0, 0.0, 0.0, 1.0]], dtype=D, requires_grad=True)
    nll = rotation_nll(identity, tiny, flipped)
    cap = -math.log(UNIFORM_WEIGHT / ROTATION_VOLUME)
    assert float(nll.detach()) == pytest.approx(cap, rel=1e-6)
    (grad,) = torch.autograd.grad(nll.sum(), (identity,))
    assert torch.isfinite(grad).all()
    assert float(rotation_nll(q, tiny, q)) < 0  # a confident, correct prediction has negative NLL
    assert mix_with_uniform(torch.tensor([-1e6]), 2.0).item() == pytest.approx(math.log(UNIFORM_WEIGHT / 2.0))


def test_points_nll_uses_only_xy_for_2d_labels_and_ignores_depth_offsets():
    g = torch.Generator().manual_seed(14)
    pred, target = torch.randn(2, 68, 3, generator=g, dtype=D), torch.randn(2, 68, 3, generator=g, dtype=D)
    scales, weights = torch.full((2, 68, 3), 0.5, dtype=D), landmark_point_weights().to(D)
    has_z = torch.tensor([True, False])
    base = points_nll(pred, scales, target, has_z, weights)
    moved_z = target.clone()
    moved_z[:, :, 2] += torch.randn(2, 68, generator=g, dtype=D)
    changed = points_nll(pred, scales, moved_z, has_z, weights)
    assert changed[1] == base[1] and changed[0] != base[0]
    offset = points_nll(pred + torch.tensor([0.0, 0.0, 3.0], dtype=D), scales, target, has_z, weights)
    assert torch.allclose(offset, base)
