"""Original-code checkpoints become OpNet networks that compute exactly what the original computes."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from conftest import SHARED, needs_shared
from original_reference import OriginalPoseNet, master_checkpoint, randomised

from opnet.errors import OpNetError
from opnet.models import ModelConfig, create_model, load_checkpoint, load_model, save_checkpoint
from opnet.models.original import import_original
from opnet.models.output import ORIGINAL_OUTPUT_NAMES

ORIGINAL = SHARED / "original"
TOL = 1e-4


def max_differences(
    net: torch.nn.Module, reference: dict[str, np.ndarray], x: np.ndarray
) -> dict[str, float]:
    """Max abs difference of every reference output (original names) to the network's own."""
    with torch.no_grad():
        ours = net(torch.from_numpy(x)).as_dict()
    return {
        name: float(np.abs(ours[field].numpy() - reference[name]).max())
        for name, field in ORIGINAL_OUTPUT_NAMES.items()
        if name in reference
    }


@pytest.mark.parametrize(
    ("name", "branch", "norm"),
    [("orig-mnv1-paper", "paper", "div256-centred"), ("orig-mnv1-paper-master", "master", "div256")],
)
@needs_shared(ORIGINAL / "orig-mnv1-paper.ref.npz")
def test_reference_outputs_are_reproduced(name, branch, norm):
    net = load_model(ORIGINAL / f"{name}.ckpt")
    ref = dict(np.load(ORIGINAL / f"{name}.ref.npz"))
    assert net.config.style == f"original-{branch}" and net.config.input_norm == norm
    diffs = max_differences(net, ref, ref["x"])
    assert set(diffs) == set(ref) - {"x", "rot__QuatRepr.value"}, "every reference output is compared"
    assert max(diffs.values()) < TOL, diffs


LAYOUTS = [(b, blur, master) for b in ["mobilenetv1"] for blur in (False, True) for master in (False, True)]


@pytest.mark.parametrize(
    ("backbone", "blur", "master"), [*LAYOUTS, ("resnet18", False, False), ("resnet18", True, True)]
)
def test_original_layouts_are_reproduced(tmp_path, backbone, blur, master):
    """Networks in the original key layout (tests/original_reference.py), both formats (the heads do
    not depend on the backbone: ResNet-18 runs once without and once with BlurPool)."""
    width = 0.25 if backbone == "mobilenetv1" else 1.0
    ref = randomised(OriginalPoseNet(backbone, blur, master, width), seed=3)
    content = master_checkpoint(ref, backbone, blur) if master else ref.state_dict()
    torch.save(content, tmp_path / "orig.ckpt")
    net = load_model(tmp_path / "orig.ckpt")
    assert (net.config.backbone, net.config.blurpool, net.config.width) == (backbone, blur, width)
    assert net.config.pose_offset == master
    x = torch.rand(2, 1, 65, 65, generator=torch.Generator().manual_seed(0)) - 0.5
    with torch.no_grad():
        expected = {k: v.numpy() for k, v in ref(x).items()}
    diffs = max_differences(net, expected, x.numpy())
    assert len(diffs) == 11 and max(diffs.values()) < TOL, diffs


def test_bare_master_state_dict_is_recognised_as_master(tmp_path):
    ref = randomised(OriginalPoseNet("mobilenetv1", False, True, 0.25, uncertainty=False), seed=4)
    torch.save(ref.state_dict(), tmp_path / "bare.ckpt")
    net = load_model(tmp_path / "bare.ckpt")
    assert (net.config.style, net.config.uncertainty, net.config.pose_offset) == (
        "original-master",
        False,
        True,
    )
    x = torch.rand(2, 1, 65, 65) - 0.5
    with torch.no_grad():
        assert torch.allclose(net(x).points, ref(x)["pt3d_68"], atol=TOL)


def test_conversion_says_what_it_inferred():
    ref = randomised(OriginalPoseNet("mobilenetv1", True, False, 0.5), seed=5)
    net, spec = import_original(ref.state_dict(), "orig.ckpt")
    text = "\n".join(spec.notes)
    assert "paper branch" in text and "width 0.5" in text and "BlurPool: on" in text
    assert "50 shape parameters" in text and "div256-centred" in text
    assert spec.describe() == "paper-branch mobilenetv1 x0.5 (BlurPool on, landmarks, uncertainty)"


def test_converted_checkpoint_round_trips(tmp_path):
    ref = randomised(OriginalPoseNet("mobilenetv1", True, True, 0.25), seed=6)
    net, _ = import_original(master_checkpoint(ref, "mobilenetv1", True), "orig.ckpt")
    loaded = load_model(save_checkpoint(tmp_path / "net.ckpt", net))
    assert loaded.config == net.config
    x = torch.randn(1, 1, 65, 65)
    with torch.no_grad():
        a, b = net.eval()(x).as_dict(), loaded(x).as_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_checkpoints_without_the_new_settings_still_load(tmp_path):
    config = ModelConfig(width=0.25, landmarks=False)
    path = save_checkpoint(tmp_path / "old.ckpt", create_model(config))
    content = torch.load(path, weights_only=True)
    for key in ("style", "pose_offset"):
        del content["config"][key]
    torch.save(content, path)
    assert load_model(path).config == config


@pytest.fixture(scope="module")
def small_original() -> dict:
    return randomised(OriginalPoseNet("mobilenetv1", False, False, 0.25), seed=7).state_dict()


def refused(tmp_path, content, *messages: str) -> None:
    path = tmp_path / "bad.ckpt"
    torch.save(content, path)
    with pytest.raises(OpNetError) as info:
        load_checkpoint(path)
    text = str(info.value)
    assert "\n" not in text and text.startswith(str(path)), text
    for message in messages:
        assert message in text, text


def test_other_networks_state_dict_is_refused(tmp_path):
    refused(
        tmp_path, {"conv1.weight": torch.zeros(8, 3, 3, 3), "fc.bias": torch.zeros(2)}, "convnet.conv1.weight"
    )


def test_missing_extra_and_misshapen_keys_are_named(tmp_path, small_original):
    missing = {k: v for k, v in small_original.items() if k != "posnet.linear_size.bias"}
    refused(tmp_path, missing, "missing key 'posnet.linear_size.bias'")
    refused(
        tmp_path,
        {**small_original, "posnet.extra.weight": torch.zeros(3)},
        "unexpected key 'posnet.extra.weight'",
    )
    shapes = {**small_original, "boxnet.linear.weight": torch.zeros(4, 7)}
    refused(tmp_path, shapes, "key 'boxnet.linear.weight' has shape (4, 7), expected (4, 256)")
    bad_blur = randomised(OriginalPoseNet("mobilenetv1", True, False, 0.25), seed=1).state_dict()
    bad_blur["convnet.dw2_2.conv_dw.0.kernel"] = torch.ones(3, 3)
    refused(tmp_path, bad_blur, "'convnet.dw2_2.conv_dw.0.kernel' is not the 3x3 binomial BlurPool kernel")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"enable_gaze": True}, "config setting 'enable_gaze' is not one the original code has"),
        ({"enable_face_detector": True}, "enable_face_detector=True: OpNet has no face-detector head"),
        ({"enable_6drot": True}, "enable_6drot=True"),
        ({"config": "hybrid_vit"}, "config config='hybrid_vit'"),
        ({"backbone_args": {"use_blurpool": False, "depth": 3}}, "backbone_args setting 'depth'"),
        ({"enable_uncertainty": "yes"}, "enable_uncertainty='yes' has the wrong type"),
    ],
)
def test_master_config_settings_are_validated(tmp_path, changes, message):
    ref = OriginalPoseNet("mobilenetv1", False, True, 0.25)
    refused(tmp_path, master_checkpoint(ref, "mobilenetv1", False, **changes), message)


def test_master_config_that_disagrees_with_the_weights_names_the_key(tmp_path):
    ref = OriginalPoseNet("mobilenetv1", False, True, 0.25, uncertainty=False)
    content = master_checkpoint(ref, "mobilenetv1", False, enable_uncertainty=True)
    refused(tmp_path, content, "missing key 'quatnet.uncertainty_net.min_diag'")
    content = master_checkpoint(ref, "mobilenetv1", False)
    refused(tmp_path, {**content, "optimizer": {}}, "unexpected entry 'optimizer'")
    refused(tmp_path, {**content, "class_name": "LocalizerNet"}, "class_name 'LocalizerNet'")


class Payload:
    def __reduce__(self):
        return (print, ("code ran",))


def test_truncated_and_malicious_files_get_one_clean_line(tmp_path, small_original):
    whole = tmp_path / "whole.ckpt"
    torch.save(small_original, whole)
    truncated = tmp_path / "truncated.ckpt"
    truncated.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    evil = tmp_path / "evil.ckpt"
    evil.write_bytes(pickle.dumps({"convnet.conv1.weight": Payload()}, protocol=2))
    for path in (truncated, evil):
        with pytest.raises(OpNetError, match=f"{path.name}: not a readable PyTorch checkpoint") as info:
            load_model(path)
        assert "\n" not in str(info.value)
