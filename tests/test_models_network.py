"""The pose network: configuration, output shapes and the constraints the output type promises."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from opnet.errors import OpNetError
from opnet.facemodel import EYE_CORNERS
from opnet.geometry import quat_to_matrix
from opnet.models import (
    KeypointModel,
    ModelConfig,
    PoseNetOutput,
    backbone_names,
    create_model,
    pose_keypoints,
)
from opnet.settings import from_plain, to_plain

K = 12


def keypoints(num_params: int = K, seed: int = 0) -> KeypointModel:
    g = torch.Generator().manual_seed(seed)
    return KeypointModel(
        torch.randn(68, 3, generator=g) * 0.4, torch.randn(num_params, 68, 3, generator=g) * 0.02
    )


def tiny(**changes) -> ModelConfig:
    return ModelConfig(width=0.25, num_shape_params=K, **changes)


@pytest.fixture(scope="module")
def full_output() -> PoseNetOutput:
    torch.manual_seed(0)
    net = create_model(tiny(), keypoints()).eval()
    with torch.no_grad():
        return net(torch.randn(5, 1, 129, 129) * 0.3)


@pytest.mark.parametrize("backbone", backbone_names())
@pytest.mark.parametrize(
    ("landmarks", "uncertainty"), [(True, True), (False, True), (True, False), (False, False)]
)
def test_output_shapes(backbone, landmarks, uncertainty):
    net = create_model(tiny(backbone=backbone, landmarks=landmarks, uncertainty=uncertainty), keypoints())
    out = net(torch.randn(3, 1, 65, 65))
    assert out.quat.shape == out.quat_raw.shape == (3, 4)
    assert out.pos_size.shape == (3, 3) and out.box.shape == (3, 4)
    assert (out.points is not None) == (out.shapeparams is not None) == landmarks
    assert (out.rotaxis_scales_tril is not None) == (out.pos_size_scales_tril is not None) == uncertainty
    assert (out.box_scales is not None) == uncertainty
    assert (
        (out.points_scales is not None) == (out.shapeparams_scales is not None) == (landmarks and uncertainty)
    )
    if landmarks:
        assert out.points.shape == (3, 68, 3) and out.shapeparams.shape == (3, K)
    if landmarks and uncertainty:
        assert out.shapeparams_scales.shape == (3, K) and (out.shapeparams_scales > 0).all()
    if uncertainty:
        assert out.rotaxis_scales_tril.shape == out.pos_size_scales_tril.shape == (3, 3, 3)
        assert out.box_scales.shape == (3, 4)
    if landmarks and uncertainty:
        assert out.points_scales.shape == (3, 68, 3)
    assert set(out.as_dict()) == {f.name for f in dataclasses.fields(out) if getattr(out, f.name) is not None}


def test_quaternions_are_unit_with_nonnegative_w(full_output):
    q = full_output.quat
    assert torch.allclose(q.norm(dim=-1), torch.ones(len(q)), atol=1e-6)
    assert (q[:, 3] >= 0).all()
    assert torch.allclose(q, torch.nn.functional.normalize(full_output.quat_raw, dim=-1))


def test_quaternions_stay_valid_for_extreme_features():
    net = create_model(tiny(landmarks=False), None)
    z = torch.randn(64, net.backbone.num_features) * 100
    q, _ = net.quat_head(z)
    assert torch.isfinite(q).all() and (q[:, 3] >= 0).all()
    assert torch.allclose(q.norm(dim=-1), torch.ones(64), atol=1e-5)


@pytest.mark.parametrize("field", ["rotaxis_scales_tril", "pos_size_scales_tril"])
def test_cholesky_factors_are_lower_triangular_with_positive_diagonal(full_output, field):
    factor = getattr(full_output, field)
    assert torch.equal(factor, factor.tril())
    assert (torch.diagonal(factor, dim1=-2, dim2=-1) > 0).all()
    assert not torch.equal(factor, torch.diag_embed(torch.diagonal(factor, dim1=-2, dim2=-1)))  # correlations


def test_scales_and_sizes_are_positive_and_boxes_ordered(full_output):
    assert (full_output.box_scales > 0).all() and (full_output.points_scales > 0).all()
    assert (full_output.pos_size[:, 2] > 0).all()
    assert (full_output.box[:, 2:] > full_output.box[:, :2]).all()


def test_landmarks_are_the_keypoint_model_posed_by_the_predicted_pose(full_output):
    out = full_output
    assert torch.allclose(out.points[:, list(EYE_CORNERS), 2].mean(dim=1), torch.zeros(len(out)), atol=1e-6)
    kp = keypoints()
    expected = pose_keypoints(kp(out.shapeparams), out.quat, out.pos_size)
    assert torch.allclose(out.points, expected, atol=1e-6)


def test_pose_keypoints_follows_the_face_model_convention():
    """Same as opnet.facemodel.project + landmarks_to_label, with a rotation from opnet.geometry."""
    from opnet.facemodel import landmarks_to_label, project

    g = torch.Generator().manual_seed(3)
    local = torch.randn(2, 68, 3, generator=g, dtype=torch.float64)
    quat = torch.nn.functional.normalize(torch.randn(2, 4, generator=g, dtype=torch.float64), dim=-1)
    pos_size = torch.tensor([[10.0, 20.0, 30.0], [-0.2, 0.1, 0.8]], dtype=torch.float64)
    posed = pose_keypoints(local, quat, pos_size).numpy()
    for i in range(2):
        expected = landmarks_to_label(project(local[i].numpy(), quat[i].numpy(), pos_size[i].numpy()))
        assert posed[i] == pytest.approx(expected, abs=1e-9)
    assert quat_to_matrix(quat[0].numpy()).shape == (3, 3)


def test_eval_mode_is_deterministic_and_train_mode_uses_dropout():
    torch.manual_seed(0)
    net = create_model(tiny(dropout=0.5), keypoints())
    x = torch.randn(2, 1, 65, 65)
    net.eval()
    assert torch.equal(net(x).quat, net(x).quat)
    net.train()
    assert not torch.equal(net(x).quat, net(x).quat)


def test_create_model_uses_channels_last():
    net = create_model(tiny(), keypoints())
    conv = next(m for m in net.modules() if isinstance(m, torch.nn.Conv2d) and m.in_channels > 1)
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)


def test_a_short_training_run_fits_a_fixed_batch():
    """Every head receives gradients, and Adam steps on one consistent batch reduce the loss."""
    from opnet.losses import LossConfig, PoseLoss
    from opnet.targets import PoseTargets

    torch.manual_seed(0)
    config = tiny(dropout=0.0)
    net = create_model(config, keypoints())
    loss_fn = PoseLoss(LossConfig(), config)
    b = 4
    quat = torch.nn.functional.normalize(torch.rand(b, 4), dim=-1)
    pos_size = torch.cat([torch.rand(b, 2) * 0.4 - 0.2, torch.rand(b, 1) * 0.5 + 0.8], dim=1)
    points = pose_keypoints(keypoints()(torch.randn(b, K)), quat, pos_size)
    yes, no = torch.ones(b, dtype=torch.bool), torch.zeros(b, dtype=torch.bool)
    targets = PoseTargets(
        quat=quat,
        pos_size=pos_size,
        box=torch.tensor([[-0.8, -0.8, 0.8, 0.8]]).repeat(b, 1),
        points=points,
        shapeparams=torch.zeros(b, 50),
        has_quat=yes,
        has_pos_size=yes,
        has_box=yes,
        has_points=yes,
        has_points_z=yes,
        has_shapeparams=no,
        weight=torch.ones(b),
        dataset=torch.zeros(b, dtype=torch.long),
    )
    x = torch.randn(b, 1, 65, 65)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    history = []
    for step in range(20):  # training mode throughout (batch-norm batch statistics, no dropout)
        opt.zero_grad()
        losses = loss_fn(net(x), targets)
        losses["total"].backward()
        if step == 0:
            for name, p in net.named_parameters():
                if name.startswith(
                    "uncertainty.shapeparams"
                ):  # only the shape NLL trains it (no labels here)
                    continue
                assert p.grad is not None and torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0, name
        opt.step()
        history.append({k: float(v.detach()) for k, v in losses.items()})
    first, last = history[0], history[-1]
    for name in ("rot", "box", "points", "nll_rot", "nll_points"):
        assert last[name] < first[name], name
    assert last["total"] < 0.3 * first["total"]


def test_config_validation():
    with pytest.raises(OpNetError, match="backbone 'vgg'"):
        ModelConfig(backbone="vgg")
    with pytest.raises(OpNetError, match="width"):
        ModelConfig(width=0)
    with pytest.raises(OpNetError, match="dropout"):
        ModelConfig(dropout=1.0)
    with pytest.raises(OpNetError, match="input_size"):
        ModelConfig(input_size=16)
    with pytest.raises(OpNetError, match="num_shape_params"):
        ModelConfig(num_shape_params=0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        ModelConfig().width = 2.0  # type: ignore[misc]


def test_config_plain_round_trip_and_refusals():
    config = tiny(backbone="resnet18", blurpool=False)
    assert from_plain(ModelConfig, to_plain(config), "x") == config
    assert from_plain(ModelConfig, {"width": 1}, "x") == ModelConfig(width=1.0)
    with pytest.raises(OpNetError, match=r"src.ckpt: unknown setting\(s\) model.colour"):
        from_plain(ModelConfig, {"colour": True}, "src.ckpt", prefix="model.")
    with pytest.raises(OpNetError, match="x: landmarks: 'yes' should be a bool"):
        from_plain(ModelConfig, {"landmarks": "yes"}, "x")
    with pytest.raises(OpNetError, match="x: model width 0.0 is out of range"):
        from_plain(ModelConfig, {"width": 0.0}, "x")


def test_create_model_needs_a_matching_keypoint_model():
    with pytest.raises(OpNetError, match="keypoint model"):
        create_model(tiny())
    with pytest.raises(OpNetError, match="5 parameters but num_shape_params is 12"):
        create_model(tiny(), keypoints(5))
    assert create_model(tiny(landmarks=False), keypoints(5)).landmark_head is None


def test_input_must_be_one_channel_4d():
    net = create_model(tiny(landmarks=False))
    with pytest.raises(ValueError, match=r"\(B, 1, S, S\)"):
        net(torch.zeros(1, 3, 65, 65))
