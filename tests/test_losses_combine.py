"""PoseLoss: masks, dataset weights, missing labels, the terms each model supports."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from opnet.errors import OpNetError
from opnet.losses import TERM_NAMES, LossConfig, PoseLoss, active_terms, rotation_loss
from opnet.models import ModelConfig, PoseNetOutput
from opnet.settings import to_plain
from opnet.targets import PoseTargets

B = 6
FULL = ModelConfig(num_shape_params=4)


def fake_output(seed: int = 0, requires_grad: bool = False) -> PoseNetOutput:
    g = torch.Generator().manual_seed(seed)
    raw = torch.randn(B, 4, generator=g)
    raw[:, 3] = raw[:, 3].abs()
    tril = torch.randn(B, 3, 3, generator=g).tril(diagonal=-1) * 0.1 + torch.eye(3) * 0.2  # positive diagonal
    out = PoseNetOutput(
        quat=torch.nn.functional.normalize(raw, dim=-1),
        quat_raw=raw,
        pos_size=torch.randn(B, 3, generator=g),
        box=torch.randn(B, 4, generator=g),
        points=torch.randn(B, 68, 3, generator=g),
        shapeparams=torch.zeros(B, 4),
        rotaxis_scales_tril=tril,
        pos_size_scales_tril=tril.clone(),
        points_scales=torch.full((B, 68, 3), 0.3),
        box_scales=torch.full((B, 4), 0.2),
    )
    if requires_grad:
        for v in out.as_dict().values():
            v.requires_grad_(True)
    return out


def fake_targets(seed: int = 1, **masks: list[bool]) -> PoseTargets:
    g = torch.Generator().manual_seed(seed)
    yes = torch.ones(B, dtype=torch.bool)
    values = dict(
        quat=torch.nn.functional.normalize(torch.randn(B, 4, generator=g), dim=-1),
        pos_size=torch.randn(B, 3, generator=g),
        box=torch.randn(B, 4, generator=g),
        points=torch.randn(B, 68, 3, generator=g),
        shapeparams=torch.zeros(B, 50),
        has_quat=yes,
        has_pos_size=yes,
        has_box=yes,
        has_points=yes,
        has_points_z=yes,
        has_shapeparams=~yes,
        weight=torch.ones(B),
        dataset=torch.zeros(B, dtype=torch.long),
    )
    values.update({k: torch.tensor(v) for k, v in masks.items()})
    return PoseTargets(**values)


def test_all_terms_for_the_full_model_and_fewer_for_smaller_models():
    weights = LossConfig().weights()
    shape_terms = {"shapeparams", "nll_shapeparams"}  # weight 0 in the defaults
    assert set(active_terms(LossConfig(), FULL)) == set(TERM_NAMES) - shape_terms
    no_points = active_terms(LossConfig(), dataclasses.replace(FULL, landmarks=False))
    assert "points" not in no_points and "nll_points" not in no_points and "rot" in no_points
    no_nll = active_terms(LossConfig(), dataclasses.replace(FULL, uncertainty=False))
    assert not any(name.startswith("nll") for name in no_nll)
    assert "box" not in active_terms(LossConfig(box=0.0), FULL)
    assert weights["rot"] == 0.5 and weights["nll_rot"] == pytest.approx(0.003)


def test_total_is_the_weighted_sum_over_samples_divided_by_batch_size():
    out, targets = fake_output(), fake_targets(has_quat=[True, True, False, True, False, True])
    targets.weight = torch.tensor([1.0, 2.0, 1.0, 0.5, 1.0, 1.0])
    config = LossConfig(**{name: 0.0 for name in TERM_NAMES} | {"rot": 0.5})
    losses = PoseLoss(config, FULL)(out, targets)
    assert set(losses) == {"rot", "total"}
    per_sample = rotation_loss(out.quat, targets.quat)
    mask = targets.has_quat.float()
    assert float(losses["total"]) == pytest.approx(
        0.5 * float((targets.weight * mask * per_sample).sum()) / B
    )
    assert float(losses["rot"]) == pytest.approx(
        float((targets.weight * mask * per_sample).sum() / (targets.weight * mask).sum())
    )


def test_samples_without_a_label_contribute_nothing_even_if_it_is_nan():
    loss_fn = PoseLoss(LossConfig(), FULL)
    masks = dict(
        has_quat=[True, False, True, True, False, True],
        has_points=[False, True, True, False, True, True],
        has_points_z=[True, False, True, False, True, True],
        has_box=[True] * 3 + [False] * 3,
    )
    clean = fake_targets(**masks)
    dirty = fake_targets(**masks)
    dirty.quat[~dirty.has_quat] = float("nan")
    dirty.points[~dirty.has_points] = float("nan")
    dirty.points[~dirty.has_points_z, :, 2] = float("inf")
    dirty.box[~dirty.has_box] = 1e30
    out = fake_output(requires_grad=True)
    a, b = loss_fn(out, clean), loss_fn(out, dirty)
    for name in a:
        assert torch.isfinite(b[name]), name
        assert float(a[name].detach()) == pytest.approx(float(b[name].detach()), rel=1e-6), name
    grads = torch.autograd.grad(
        b["total"], [v for v in out.as_dict().values() if v.requires_grad], allow_unused=True
    )
    assert all(g is None or torch.isfinite(g).all() for g in grads)


def test_a_batch_without_any_label_of_a_kind_gives_zero_for_that_term():
    targets = fake_targets(has_quat=[False] * B)
    losses = PoseLoss(LossConfig(), FULL)(fake_output(), targets)
    assert float(losses["rot"]) == 0.0 and float(losses["nll_rot"]) == 0.0
    assert float(losses["xy"]) > 0


def test_dataset_weights_scale_each_sample():
    out = fake_output()
    base = fake_targets()
    doubled = fake_targets()
    doubled.weight = torch.full((B,), 2.0)
    loss_fn = PoseLoss(LossConfig(), FULL)
    assert float(loss_fn(out, doubled)["total"]) == pytest.approx(
        2 * float(loss_fn(out, base)["total"]), rel=1e-6
    )
    zeroed = fake_targets()
    zeroed.weight = torch.tensor([0.0] + [1.0] * (B - 1))
    changed = fake_targets()
    changed.weight = zeroed.weight
    changed.pos_size[0] += 100.0
    assert float(loss_fn(out, changed)["total"]) == pytest.approx(
        float(loss_fn(out, zeroed)["total"]), rel=1e-6
    )


def test_named_terms_are_detached_and_total_is_differentiable():
    out = fake_output(requires_grad=True)
    losses = PoseLoss(LossConfig(), FULL)(out, fake_targets())
    assert losses["total"].requires_grad
    assert not any(v.requires_grad for k, v in losses.items() if k != "total")


def test_loss_config_validation():
    with pytest.raises(OpNetError, match="rot=-1"):
        LossConfig(rot=-1)
    with pytest.raises(OpNetError, match="nll_box=nan"):
        LossConfig(nll_box=float("nan"))
    with pytest.raises(OpNetError, match="points_metric='l3'"):
        LossConfig(points_metric="l3")
    assert to_plain(LossConfig(points_metric="l1"))["points_metric"] == "l1"


def test_losses_are_float32_under_mixed_precision():
    out = fake_output()
    half = PoseNetOutput(**{k: v.to(torch.bfloat16) for k, v in out.as_dict().items()})
    with torch.autocast("cpu", dtype=torch.bfloat16):
        losses = PoseLoss(LossConfig(), FULL)(half, fake_targets())
    assert all(v.dtype == torch.float32 and torch.isfinite(v) for v in losses.values())
    reference = PoseLoss(LossConfig(), FULL)(out, fake_targets())
    assert float(losses["total"]) == pytest.approx(float(reference["total"]), rel=0.05)
