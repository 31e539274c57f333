"""Input normalisation belongs to the model: formulas, configs, checkpoints, ONNX metadata, and every
place that feeds a network (predict, evaluate, training batches) using the model's own."""

from __future__ import annotations

import dataclasses

import numpy as np
import onnx
import pytest
import torch
from conftest import crops_file, small_net

from opnet.data import open_dataset
from opnet.errors import OpNetError
from opnet.evaluate.runner import predict_dataset
from opnet.export import ExportOptions, export_model
from opnet.models import ModelConfig, create_model, load_model, save_checkpoint
from opnet.normalization import (
    INPUT_NORMS,
    ONNX_METADATA_KEY,
    InputNorm,
    input_norm,
    normalize_batch,
    normalize_input,
)
from opnet.preprocess import Patch, crop_patch, patch_around
from opnet.runtime import PoseOutputs, input_norm_of, load_pose_model, predict_patch
from opnet.settings import from_plain, to_plain

PIXELS = np.array([[0, 1, 128, 254, 255]], np.uint8)


@pytest.mark.parametrize(
    ("norm", "expected"),
    [
        ("div256", PIXELS / 256.0 - 0.5),
        ("div256-centred", (PIXELS + 0.5) / 256.0 - 0.5),
        ("div255", PIXELS / 255.0 - 0.5),
        ("opentrack", PIXELS / 255.0 - 0.5),  # 90th percentile 255 >= 127: scale 1/255
    ],
)
def test_each_normalisation_is_its_formula(norm, expected):
    got = normalize_input(PIXELS, norm)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expected, atol=1e-7)


def test_opentrack_stretches_dark_crops_and_batches_normalise_each_crop_alone():
    dark = np.full((4, 4), 40, np.uint8)
    assert normalize_input(dark, "opentrack")[0, 0] == pytest.approx(40 * 0.45 / 40 - 0.5)
    crops = np.stack([dark, np.full((4, 4), 200, np.uint8)])
    for norm in INPUT_NORMS:
        batch = normalize_batch(crops, norm)
        assert batch.shape == (2, 1, 4, 4)
        for k in range(2):
            np.testing.assert_array_equal(batch[k, 0], normalize_input(crops[k], norm))


def test_unknown_names_are_refused_with_the_choices():
    with pytest.raises(
        OpNetError, match=r"input normalisation 'u8' is unknown; expected one of opentrack, div256"
    ):
        input_norm("u8")
    with pytest.raises(OpNetError, match="model input_norm 'x'"):
        ModelConfig(input_norm="x")


def test_model_config_keeps_a_plain_name_and_old_configs_mean_opentrack():
    config = ModelConfig(input_norm=InputNorm.DIV256)
    assert type(config.input_norm) is str and to_plain(config)["input_norm"] == "div256"
    old = to_plain(ModelConfig())
    del old["input_norm"]  # checkpoints written before the field existed
    assert from_plain(ModelConfig, old, "old.ckpt").input_norm == "opentrack"
    with pytest.raises(OpNetError, match="input_norm: 3 should be a str"):
        from_plain(ModelConfig, {**old, "input_norm": 3}, "old.ckpt")


def _net(norm: str):
    net = small_net(seed=3)
    return create_model(dataclasses.replace(net.config, input_norm=norm), net.landmark_head.keypoints)


def test_checkpoints_and_exports_record_the_normalisation(tmp_path):
    net = _net("div256-centred").eval()
    ckpt = save_checkpoint(tmp_path / "net.ckpt", net)
    assert load_model(ckpt).config.input_norm == "div256-centred"
    assert load_pose_model(ckpt, threads=1).input_norm is InputNorm.DIV256_CENTRED
    options = ExportOptions(data=crops_file(tmp_path), num_validation=2, progress=False, threads=1)
    onnx_path = export_model(net, tmp_path / "net.onnx", options).path
    props = {p.key: p.value for p in onnx.load(str(onnx_path)).metadata_props}
    assert props[ONNX_METADATA_KEY] == "div256-centred"
    assert load_pose_model(onnx_path, threads=1).input_norm is InputNorm.DIV256_CENTRED


def test_files_that_name_no_normalisation_get_the_callers_default(tmp_path):
    net = _net("div256").eval()
    options = ExportOptions(data=crops_file(tmp_path), num_validation=2, progress=False, threads=1)
    path = export_model(net, tmp_path / "net.onnx", options).path
    model = onnx.load(str(path))
    kept = [p for p in model.metadata_props if p.key != ONNX_METADATA_KEY]
    del model.metadata_props[:]
    model.metadata_props.extend(kept)
    onnx.save(model, str(tmp_path / "bare.onnx"))
    bare = load_pose_model(tmp_path / "bare.onnx", threads=1)
    assert bare.input_norm is None
    assert input_norm_of(bare) is InputNorm.OPENTRACK
    assert input_norm_of(bare, InputNorm.DIV256) is InputNorm.DIV256


class RecordingModel:
    """Answers a fixed pose and keeps the inputs it was given."""

    name, input_size, max_batch, has_points = "recording", 33, None, False

    def __init__(self, norm: InputNorm | None):
        self.input_norm = norm
        self.inputs: list[np.ndarray] = []

    def run(self, x):
        self.inputs.append(x.copy())
        b = len(x)
        quat = np.tile(np.float32([0, 0, 0, 1]), (b, 1))
        box = np.tile(np.float32([-0.5, -0.5, 0.5, 0.5]), (b, 1))
        return PoseOutputs(quat=quat, pos_size=np.tile(np.float32([0, 0, 1]), (b, 1)), box=box)

    def describe(self) -> str:
        return self.name


def test_predict_feeds_each_model_its_own_normalisation():
    image = (np.arange(80 * 80) % 97).astype(np.uint8).reshape(80, 80)
    patch = Patch((40.0, 40.0), 50.0)
    crop, _ = crop_patch(image, patch, 33)
    for norm in InputNorm:
        model = RecordingModel(norm)
        predict_patch(model, image, patch)
        np.testing.assert_array_equal(model.inputs[0][0, 0], normalize_input(crop, norm))


def test_evaluation_feeds_each_model_its_own_normalisation(tmp_path):
    models = [RecordingModel(InputNorm.DIV256), RecordingModel(None), RecordingModel(InputNorm.OPENTRACK)]
    with open_dataset(crops_file(tmp_path)) as ds:
        rois = np.asarray(ds.read_field("rois")[:3], np.float64)
        predict_dataset(
            ds, [0, 1, 2], rois, 1.1, models, threads=1, progress=False, default_norm=InputNorm.DIV255
        )
        crop, _ = crop_patch(ds.read_image(0), patch_around(rois[0], 1.1), 33)
    for model, norm in zip(models, ("div256", "div255", "opentrack"), strict=True):
        np.testing.assert_array_equal(model.inputs[0][0, 0], normalize_input(crop, norm))


def test_training_batches_use_the_model_normalisation(tmp_path):
    from opnet.augment import AugmentConfig
    from opnet.train.data import augmented_examples

    path = crops_file(tmp_path)
    config = AugmentConfig(rotation_deg=0.0, intensity=False)
    a = augmented_examples(path, [0, 1], config, seed=5, norm=InputNorm.DIV256)
    b = augmented_examples(path, [0, 1], config, seed=5, norm=InputNorm.DIV255)
    pixels_a = (a.image.numpy() + 0.5) * 256.0
    pixels_b = (b.image.numpy() + 0.5) * 255.0
    np.testing.assert_allclose(pixels_a, pixels_b, atol=1e-3)
    np.testing.assert_allclose(pixels_a, np.round(pixels_a), atol=1e-3)
    assert torch.equal(a.targets.quat, b.targets.quat)
