"""Named loss recipes, the options that tell them apart, and the paper recipe on OpNet's own networks."""

from __future__ import annotations

import dataclasses
import logging
import math

import pytest
import torch
from scipy.stats import laplace, norm

from opnet.errors import OpNetError
from opnet.losses import (
    NLL_TERM_NAMES,
    TERM_NAMES,
    LossConfig,
    PoseLoss,
    box_nll,
    landmark_point_weights,
    loss_recipe,
    points_loss,
    points_nll,
    recipe_names,
    rotation_nll,
    shapeparams_nll,
    unsupported_terms,
)
from opnet.models import KeypointModel, ModelConfig, create_model
from opnet.targets import PoseTargets

D = torch.float64
K = 50


def test_recipes_and_their_nll_switch():
    assert recipe_names() == ("paper", "opnet")
    assert loss_recipe("opnet", nll=True) == LossConfig()
    for name in recipe_names():
        with_nll, without = loss_recipe(name, nll=True), loss_recipe(name, nll=False)
        assert all(getattr(without, t) == 0 for t in NLL_TERM_NAMES)
        assert all(getattr(without, t) == getattr(with_nll, t) for t in TERM_NAMES if t not in NLL_TERM_NAMES)
        assert dataclasses.replace(without, **{t: getattr(with_nll, t) for t in NLL_TERM_NAMES}) == with_nll
    paper = loss_recipe("paper", nll=True)
    assert paper.points_metric == "l1" and paper.nll_points_distribution == "laplace"
    assert paper.shapeparams == 0.05 and paper.nll_shapeparams == pytest.approx(0.0005)
    with pytest.raises(OpNetError, match="loss recipe 'papers' is unknown; expected one of paper, opnet"):
        loss_recipe("papers", nll=True)


def test_new_options_are_validated():
    with pytest.raises(OpNetError, match="points_divisor='all'"):
        LossConfig(points_divisor="all")
    with pytest.raises(OpNetError, match="nll_points_distribution='cauchy'"):
        LossConfig(nll_points_distribution="cauchy")
    with pytest.raises(OpNetError, match="nll_coordinates='max'"):
        LossConfig(nll_coordinates="max")
    with pytest.raises(OpNetError, match="nll_outlier_weight=1"):
        LossConfig(nll_outlier_weight=1)
    with pytest.raises(OpNetError, match="align_depth='no'"):
        LossConfig(align_depth="no")  # type: ignore[arg-type]
    with pytest.raises(OpNetError, match="shapeparams=-0.1"):
        LossConfig(shapeparams=-0.1)


def test_points_divisor_and_depth_alignment():
    g = torch.Generator().manual_seed(0)
    pts, target = torch.randn(3, 68, 3, generator=g, dtype=D), torch.randn(3, 68, 3, generator=g, dtype=D)
    has_z, w = torch.ones(3, dtype=torch.bool), landmark_point_weights().to(D)
    weighted = points_loss(pts, target, has_z, w, "l1", "weights", align=False)
    counted = points_loss(pts, target, has_z, w, "l1", "count", align=False)
    assert torch.allclose(counted, ((pts - target).abs().sum(-1) * w).sum(-1) / 68)
    assert torch.allclose(counted * 68, weighted * w.sum())
    shifted = target + torch.tensor([0.0, 0.0, 0.3], dtype=D)  # a depth offset
    assert torch.allclose(
        points_loss(target, shifted, has_z, w, align=True), torch.zeros(3, dtype=D), atol=1e-12
    )
    assert (points_loss(target, shifted, has_z, w, align=False) > 0.05).all()


def test_laplace_points_nll_averaged_over_the_coordinates_each_sample_has():
    g = torch.Generator().manual_seed(1)
    pts, target = torch.randn(2, 68, 3, generator=g, dtype=D), torch.randn(2, 68, 3, generator=g, dtype=D)
    scales = torch.rand(2, 68, 3, generator=g, dtype=D) + 0.1
    has_z, w = torch.tensor([True, False]), landmark_point_weights().to(D)
    got = points_nll(pts, scales, target, has_z, w, "laplace", "mean", "count", align=False)
    nll = -laplace.logpdf(target.numpy(), pts.numpy(), scales.numpy())
    assert float(got[0]) == pytest.approx(float((nll[0].mean(-1) * w.numpy()).sum() / 68), rel=1e-12)
    assert float(got[1]) == pytest.approx(float((nll[1, :, :2].mean(-1) * w.numpy()).sum() / 68), rel=1e-12)


def test_box_and_shape_nll_sum_or_average_their_coordinates():
    g = torch.Generator().manual_seed(2)
    value, target = torch.randn(4, K, generator=g, dtype=D), torch.randn(4, K, generator=g, dtype=D)
    scales = torch.rand(4, K, generator=g, dtype=D) + 0.2
    expected = -norm.logpdf(target.numpy(), value.numpy(), scales.numpy())
    assert shapeparams_nll(value, scales, target, "sum").numpy() == pytest.approx(expected.sum(-1), rel=1e-12)
    assert shapeparams_nll(value, scales, target, "mean").numpy() == pytest.approx(
        expected.mean(-1), rel=1e-12
    )
    assert box_nll(value[:, :4], scales[:, :4], target[:, :4], "mean").numpy() == pytest.approx(
        expected[:, :4].mean(-1), rel=1e-12
    )


def test_zero_outlier_weight_gives_the_plain_gaussian():
    q = torch.nn.functional.normalize(
        torch.tensor([[0.1, 0.2, 0.3, 0.9], [0.5, -0.5, 0.1, 0.7]], dtype=D), dim=-1
    )
    truth = torch.tensor([[0.0, 0.0, 0.0, 1.0]] * 2, dtype=D)
    tril = torch.eye(3, dtype=D).expand(2, 3, 3) * 0.05
    plain = rotation_nll(q, tril, truth, outlier_weight=0.0)
    assert (plain > rotation_nll(q, tril, truth)).all()  # the mixture caps gross errors
    angles = 2 * torch.atan2(q[:, :3].norm(dim=-1), q[:, 3])
    expected = 0.5 * (angles / 0.05) ** 2 + 3 * math.log(0.05) + 1.5 * math.log(2 * math.pi)
    assert torch.allclose(plain, expected, rtol=1e-10)


def _targets(b: int, has_shapeparams: bool = True) -> PoseTargets:
    g = torch.Generator().manual_seed(3)
    yes = torch.ones(b, dtype=torch.bool)
    return PoseTargets(
        quat=torch.nn.functional.normalize(torch.randn(b, 4, generator=g), dim=-1).abs(),
        pos_size=torch.tensor([[0.0, 0.0, 1.0]]).repeat(b, 1),
        box=torch.tensor([[-0.8, -0.8, 0.8, 0.8]]).repeat(b, 1),
        points=torch.randn(b, 68, 3, generator=g) * 0.5,
        shapeparams=torch.randn(b, K, generator=g) * 0.3,
        has_quat=yes,
        has_pos_size=yes,
        has_box=yes,
        has_points=yes,
        has_points_z=yes,
        has_shapeparams=yes if has_shapeparams else ~yes,
        weight=torch.ones(b),
        dataset=torch.zeros(b, dtype=torch.long),
    )


def test_the_paper_recipe_trains_every_term_on_an_opnet_network():
    """OpNet's networks predict shape-coefficient scales, so the paper's shape NLL runs on them."""
    torch.manual_seed(0)
    config = ModelConfig(width=0.25, num_shape_params=K, dropout=0.0)
    g = torch.Generator().manual_seed(0)
    net = create_model(
        config,
        KeypointModel(torch.randn(68, 3, generator=g) * 0.4, torch.randn(K, 68, 3, generator=g) * 0.02),
    )
    loss = PoseLoss(loss_recipe("paper", nll=True), config)
    assert set(loss.terms) == set(TERM_NAMES)
    out = net(torch.randn(2, 1, 65, 65))
    assert out.shapeparams_scales is not None and out.shapeparams_scales.shape == (2, K)
    losses = loss(out, _targets(2))
    assert all(torch.isfinite(v) for v in losses.values())
    losses["total"].backward()
    grad = net.uncertainty.shapeparams.raw.grad
    assert grad is not None and grad.abs().sum() > 0
    without_labels = loss(net(torch.randn(2, 1, 65, 65)), _targets(2, has_shapeparams=False))
    assert float(without_labels["shapeparams"]) == 0.0 and float(without_labels["nll_shapeparams"]) == 0.0


def test_terms_a_model_cannot_train_are_off_with_a_reason(caplog):
    paper = loss_recipe("paper", nll=True)
    small = ModelConfig(num_shape_params=8)
    assert set(unsupported_terms(paper, small)) == {"shapeparams", "nll_shapeparams"}
    assert "8 shape coefficients" in unsupported_terms(paper, small)["shapeparams"]
    with caplog.at_level(logging.INFO, logger="opnet.losses.combine"):
        assert "shapeparams" not in PoseLoss(paper, small).terms
    assert "loss term shapeparams is off" in caplog.text
    no_head = unsupported_terms(paper, dataclasses.replace(small, num_shape_params=K, landmarks=False))
    assert set(no_head) == {"points", "nll_points", "shapeparams", "nll_shapeparams"}
    assert not unsupported_terms(loss_recipe("paper", nll=False), ModelConfig(uncertainty=False))
