"""Checkpoints: self-describing, safe to load, refused clearly when foreign or broken."""

from __future__ import annotations

import pytest
import torch

from opnet.errors import OpNetError
from opnet.models import (
    KeypointModel,
    ModelConfig,
    create_model,
    load_checkpoint,
    load_model,
    save_checkpoint,
)


def keypoints(num_params: int) -> KeypointModel:
    g = torch.Generator().manual_seed(1)
    return KeypointModel(torch.randn(68, 3, generator=g), torch.randn(num_params, 68, 3, generator=g))


@pytest.fixture
def trained(tmp_path):
    """A small network whose weights and statistics are no longer the initial ones, saved to disk."""
    torch.manual_seed(0)
    config = ModelConfig(backbone="resnet18", width=0.25, blurpool=False, num_shape_params=7)
    net = create_model(config, keypoints(7))
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn_like(p) * 0.01)
    net(torch.randn(4, 1, 65, 65))  # updates batch-norm running statistics
    path = save_checkpoint(
        tmp_path / "net.ckpt", net, extra={"epoch": 7, "history": [0.5, 0.25], "note": None}
    )
    return net.eval(), path


def test_round_trip_reproduces_outputs_config_and_keypoint_model(trained):
    net, path = trained
    loaded = load_model(path)
    assert not loaded.training
    assert loaded.config == net.config
    assert torch.equal(loaded.landmark_head.keypoints.basis, net.landmark_head.keypoints.basis)
    x = torch.randn(2, 1, 65, 65)
    with torch.no_grad():
        a, b = net(x).as_dict(), loaded(x).as_dict()
    assert a.keys() == b.keys()
    for name in a:
        assert torch.equal(a[name], b[name]), name


def test_extra_values_come_back(trained):
    _, path = trained
    model, extra = load_checkpoint(path)
    assert extra == {"epoch": 7, "history": [0.5, 0.25], "note": None}
    assert model.training


def test_file_is_plain_content_for_weights_only_loading(trained):
    _, path = trained
    content = torch.load(path, weights_only=True)
    assert content["format"] == "opnet-posenet"
    assert content["config"]["backbone"] == "resnet18"
    assert "landmark_head.keypoints.mean" in content["state_dict"]


def test_model_without_landmarks_round_trips(tmp_path):
    net = create_model(ModelConfig(width=0.25, landmarks=False, uncertainty=False)).eval()
    loaded = load_model(save_checkpoint(tmp_path / "plain.ckpt", net))
    x = torch.randn(1, 1, 65, 65)
    with torch.no_grad():
        assert torch.equal(net(x).quat, loaded(x).quat)
    assert loaded.landmark_head is None and loaded.uncertainty is None


def test_existing_file_is_kept_unless_overwrite(trained):
    net, path = trained
    before = path.read_bytes()
    with pytest.raises(OpNetError, match="already exists"):
        save_checkpoint(path, net)
    assert path.read_bytes() == before
    save_checkpoint(path, net, extra={"epoch": 8}, overwrite=True)
    assert load_checkpoint(path)[1] == {"epoch": 8}
    assert sorted(p.name for p in path.parent.iterdir()) == ["net.ckpt"]  # no temporary file left


def test_extra_must_be_plain(tmp_path, trained):
    net, _ = trained
    with pytest.raises(ValueError, match=r"extra\.when: datetime"):
        import datetime

        save_checkpoint(tmp_path / "x.ckpt", net, extra={"when": datetime.datetime.now()})
    assert not (tmp_path / "x.ckpt").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"definitely not a checkpoint", "not a readable PyTorch checkpoint"),
        ({"weights": torch.zeros(3)}, "not an OpNet pose-network checkpoint"),
        (torch.zeros(3), "not an OpNet pose-network checkpoint"),
        ({"format": "opnet-posenet", "format_version": 99}, "format version 99"),
        (
            {"format": "opnet-posenet", "format_version": 1, "config": {}, "state_dict": [], "extra": {}},
            "'state_dict'",
        ),
        (
            {
                "format": "opnet-posenet",
                "format_version": 1,
                "config": {"backbone": "vgg"},
                "state_dict": {},
                "extra": {},
            },
            "backbone 'vgg'",
        ),
        (
            {
                "format": "opnet-posenet",
                "format_version": 1,
                "config": {"width": 0.25},
                "state_dict": {},
                "extra": {},
            },
            "weights do not match",
        ),
    ],
)
def test_foreign_or_broken_files_are_refused_naming_the_file(tmp_path, content, message):
    path = tmp_path / "bad.ckpt"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        torch.save(content, path)
    with pytest.raises(OpNetError, match=message) as info:
        load_model(path)
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)


def test_unsafe_pickles_are_not_executed(tmp_path):
    path = tmp_path / "evil.ckpt"
    torch.save({"format": "opnet-posenet", "payload": ModelConfig()}, path)  # a class instance: needs pickle
    with pytest.raises(OpNetError, match="not a readable PyTorch checkpoint"):
        load_model(path)


def test_missing_file(tmp_path):
    with pytest.raises(OpNetError, match="no such file"):
        load_model(tmp_path / "nope.ckpt")


def test_weights_of_another_architecture_are_refused(tmp_path, trained):
    net, path = trained
    content = torch.load(path, weights_only=True)
    content["config"]["backbone"] = "mobilenetv1"
    torch.save(content, tmp_path / "swapped.ckpt")
    with pytest.raises(OpNetError, match="swapped.ckpt: weights do not match the stored config"):
        load_model(tmp_path / "swapped.ckpt")


def test_checkpoints_from_before_the_shape_coefficient_scales_still_load(trained, tmp_path):
    net, path = trained
    content = torch.load(path, weights_only=True)
    assert "uncertainty.shapeparams.raw" in content["state_dict"]
    del content["state_dict"]["uncertainty.shapeparams.raw"]
    older = tmp_path / "older.ckpt"
    torch.save(content, older)
    loaded = load_model(older)
    with torch.no_grad():
        scales = loaded(torch.randn(1, 1, 65, 65)).shapeparams_scales
    assert torch.allclose(scales, torch.full((1, 7), 1.0), atol=1e-5)  # the head's starting value
