"""Training recipes: how they resolve and are recorded, the paper recipe's validation, SWA, model
choice and precision, and the training crop that now matches the evaluation crop."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest
import torch
import yaml
from conftest import one_line_error
from test_recipe_paper import reference_cut, reference_window
from test_train_run import SMALL, files, train_cli, write_dataset  # noqa: F401 (fixture)

from opnet.augment import AugmentConfig, FaceLabels, augment_batch, neutral_params
from opnet.data import DatasetWriter
from opnet.data.images import decode_gray_reduced, encode_image
from opnet.errors import OpNetError
from opnet.models import ModelConfig, create_model
from opnet.preprocess import crop_patch, patch_around
from opnet.train import EvalDataset, TrainConfig
from opnet.train.recipes import resolve_config
from opnet.train.swa import SwaCallback
from opnet.train.validation import pose_loss_weights, score_of


def test_paper_recipe_settings_and_precedence():
    paper = resolve_config("paper")
    assert paper.recipe == "paper" and paper.model.input_norm == "div256-centred"
    assert (paper.precision, paper.swa_bn, paper.val_crop, paper.best_metric) == (
        "32-true",
        "average",
        "training",
        "pose_loss",
    )
    a = paper.augment
    assert (a.crop, a.border, a.box_target, a.intensity_style, a.contrast, a.flipped_shapeparams) == (
        "original",
        "zero",
        "corners",
        "kornia",
        "multiply",
        True,
    )
    opnet = resolve_config("opnet")
    assert opnet == dataclasses.replace(TrainConfig(), recipe="opnet", loss=opnet.loss)
    # defaults < recipe < file < flags
    config = resolve_config(
        "paper", ({"precision": "bf16-mixed", "lr": 0.5}, "run.yaml"), ({"lr": 0.1}, "cli")
    )
    assert (config.precision, config.lr, config.augment.crop) == ("bf16-mixed", 0.1, "original")
    with pytest.raises(OpNetError, match=r"--recipe 'fast': expected one of paper, opnet"):
        resolve_config("fast")
    with pytest.raises(OpNetError, match=r"run.yaml: AugmentConfig.crop must be one of original, subpixel"):
        resolve_config("paper", ({"augment": {"crop": "bicubic"}}, "run.yaml"))


def test_the_paper_recipe_trains_in_float32_everywhere():
    from opnet.train.run import resolved_precision

    assert resolved_precision(resolve_config("paper", ({"accelerator": "gpu"}, "test"))) == "32-true"
    assert resolve_config("opnet").precision == "auto"


def test_paper_validates_on_aflw2k3d_0_399_when_datadir_has_it(files, tmp_path, monkeypatch, caplog):  # noqa: F811
    import logging

    from opnet.cli.common import KNOWN_DATASETS

    caplog.set_level(logging.DEBUG, logger="opnet")
    monkeypatch.setenv("DATADIR", str(tmp_path))
    out = tmp_path / "run"
    assert train_cli("--ds", files["a"], "--outdir", out, "--dry-run", "-v", SMALL) == 0
    assert yaml.safe_load((out / "config.yaml").read_text())["val"] is None
    assert "the paper recipe validates on AFLW2000-3D samples 0-399" in caplog.text
    write_dataset(tmp_path / KNOWN_DATASETS["aflw2k3d"], 6, 2, seed=5)
    assert train_cli("--ds", files["a"], "--outdir", out, "--dry-run", "--force", SMALL) == 0
    assert yaml.safe_load((out / "config.yaml").read_text())["val"] == "aflw2k3d"
    assert "--val aflw2k3d: 6 samples" in caplog.text


def test_the_recipes_loss_follows_the_final_uncertainty_setting_and_takes_loss_settings():
    from opnet.losses import loss_recipe

    assert resolve_config("paper").loss == loss_recipe("paper", nll=False)
    assert resolve_config("opnet").loss == loss_recipe("opnet", nll=False)
    nll = resolve_config("paper", ({"model": {"uncertainty": True}}, "command line"))
    assert nll.loss == loss_recipe("paper", nll=True) and nll.loss.nll_rot > 0
    given = resolve_config("paper", ({"loss": {"points": 0.3}}, "run.yaml"))
    assert given.loss == dataclasses.replace(loss_recipe("paper", nll=False), points=0.3)


def test_shapeparams_terms_are_off_with_a_log_line_without_3ddfas_keypoint_model(caplog):
    """The paper's shape-coefficient terms compare against 3DDFA coefficients: a run whose keypoint
    model is fitted to its landmarks trains them at weight 0 and says so."""
    from opnet.train.run import without_shapeparams_terms

    paper = resolve_config("paper", ({"model": {"uncertainty": True}}, "command line"))
    assert paper.loss.shapeparams > 0 and paper.loss.nll_shapeparams > 0
    with caplog.at_level("INFO", logger="opnet.train.run"):
        off = without_shapeparams_terms(paper)
    assert off.loss.shapeparams == 0 and off.loss.nll_shapeparams == 0
    assert dataclasses.replace(off.loss, shapeparams=0.05, nll_shapeparams=0.0005) == paper.loss
    assert "nll_shapeparams=0.0005, shapeparams=0.05 set to 0" in caplog.text and "3DDFA" in caplog.text
    caplog.clear()
    assert without_shapeparams_terms(resolve_config("opnet")) == resolve_config("opnet")
    assert not caplog.text


def test_the_command_line_defaults_to_paper_records_it_and_refuses_it_on_resume(files, tmp_path, capsys):  # noqa: F811
    out = tmp_path / "run"
    assert train_cli("--ds", files["a"], "--outdir", out, "--dry-run", SMALL) == 0
    saved = yaml.safe_load((out / "config.yaml").read_text())
    assert saved["recipe"] == "paper" and saved["model"]["input_norm"] == "div256-centred"
    assert saved["augment"]["crop"] == "original" and saved["swa_bn"] == "average"
    assert saved["loss"]["shapeparams"] == 0 and saved["loss"]["points"] == 0.7  # fitted keypoint model
    other = tmp_path / "opnet"
    assert train_cli("--ds", files["a"], "--outdir", other, "--dry-run", "--recipe opnet", SMALL) == 0
    assert yaml.safe_load((other / "config.yaml").read_text())["recipe"] == "opnet"
    # A settings file's recipe is the base unless --recipe says otherwise.
    again = tmp_path / "again"
    assert (
        train_cli(
            "--ds", files["a"], "--outdir", again, "--config", other / "config.yaml", "--dry-run", SMALL
        )
        == 0
    )
    assert yaml.safe_load((again / "config.yaml").read_text())["recipe"] == "opnet"
    capsys.readouterr()
    code = train_cli("--resume", out, "--recipe", "opnet")
    assert one_line_error(
        "train", code, capsys.readouterr().err, "--resume keeps the run's settings", "recipe"
    )
    with pytest.raises(SystemExit) as exit_info:  # argparse checks the choice
        train_cli("--ds", files["a"], "--outdir", tmp_path / "x", "--recipe", "fast", SMALL)
    code = exit_info.value.code
    assert one_line_error("train", code, capsys.readouterr().err, "--recipe", "'fast'", "paper", "opnet")
    bad = tmp_path / "bad.yaml"
    bad.write_text("recipe: fast\n")
    code = train_cli("--ds", files["a"], "--outdir", tmp_path / "y", "--config", bad, SMALL)
    assert one_line_error("train", code, capsys.readouterr().err, f"{bad}: recipe 'fast'", "paper, opnet")


def test_paper_validation_crops_the_stored_box_times_1_1_like_the_original(tmp_path):
    rng = np.random.default_rng(3)
    path = tmp_path / "val.h5"
    rois = []
    with DatasetWriter(path, jpeg_quality=95) as w:
        for k in range(3):
            image = cv2.GaussianBlur(rng.integers(0, 256, (240, 200)).astype(np.uint8), (3, 3), 1)
            roi = np.array([30.4 + 20 * k, 50.2, 150.7 + 15 * k, 190.9], np.float32)
            w.append({"images": image, "rois": roi})
            rois.append(roi)
    paper = resolve_config("paper")
    val = EvalDataset(path, training_crop=paper.augment, norm=paper.model.input_norm)
    batch = val.__getitems__([0, 1, 2])
    from opnet.data import open_dataset

    ds = open_dataset(path)
    for k in range(3):
        decoded = ds.read_image(k, color=False)
        expected = reference_cut(decoded, reference_window(rois[k], 1.1, (0.0, 0.0)))
        np.testing.assert_array_equal(batch.image[k, 0].numpy(), (expected + 0.5) / 256 - 0.5)
    assert not batch.targets.has_quat.any() and batch.targets.has_box.all()


def test_swa_averages_batch_norm_buffers_with_the_weights_in_the_paper_recipe(tmp_path):
    small = {"width": 0.25, "input_size": 33, "landmarks": False}
    config = resolve_config("paper", ({"swa": True, "model": small}, "test"))
    net = create_model(config.model)
    swa = SwaCallback(config, tmp_path / "swa.ckpt")
    for value in (1.0, 3.0):
        for module in net.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.fill_(value)
        swa._average_of(net).update_parameters(net)
    bn = next(m for m in swa.averaged.module.modules() if isinstance(m, torch.nn.BatchNorm2d))
    assert torch.allclose(bn.running_mean, torch.tensor(2.0))
    opnet = SwaCallback(resolve_config("opnet", ({"swa": True}, "test")), tmp_path / "o.ckpt")
    assert not opnet._average_of(create_model(ModelConfig(**small))).use_buffers


def test_the_paper_recipe_keeps_the_epoch_with_the_lowest_weighted_pose_loss():
    with_nll = resolve_config("paper", ({"model": {"uncertainty": True}}, "test"))
    assert pose_loss_weights("pose_loss", with_nll.loss.weights()) == {
        "rot": 0.5,
        "xy": 0.25,
        "size": 0.25,
        "nll_rot": 0.003,
        "nll_pos_size": 0.003,
    }
    weights = pose_loss_weights("pose_loss", resolve_config("paper").loss.weights())
    assert weights == {"rot": 0.5, "xy": 0.25, "size": 0.25}
    a = {"val_rot": 0.1, "val_xy": 0.2, "val_size": 0.0, "val_mean_deg": 3.0}
    b = {"val_rot": 0.2, "val_xy": 0.0, "val_size": 0.0, "val_mean_deg": 4.0}
    assert score_of(a, weights) == pytest.approx(0.1) and score_of(b, weights) == pytest.approx(0.1)
    assert score_of(a) == 3.0 and pose_loss_weights("mae", {}) is None


def fine_texture(size: int, seed: int = 0) -> np.ndarray:
    """Gray noise with detail down to two pixels: what aliases when a crop is shrunk without filtering."""
    noise = np.random.default_rng(seed).normal(128, 60, (size, size))
    return np.clip(cv2.GaussianBlur(noise, (0, 0), 1.0) * 1.8 - 100, 0, 255).astype(np.uint8)


@pytest.mark.parametrize(("size", "side", "tolerance"), [(720, 420.5, 0.0), (1400, 1100.0, 1.2)])
def test_the_opnet_training_crop_matches_the_evaluation_crop(size, side, tolerance):
    """Without augmentation the training crop is the evaluation protocol's (sub-pixel window, then
    INTER_AREA): the very same pixels from a JPEG decoded at full size, within a gray level where a
    large crop is decoded at reduced size; a single bilinear warp (the training crop before) differs
    several times more."""
    from opnet.geometry import to_cv2_affine

    buffer = encode_image(fine_texture(size), lossy=True, jpeg_quality=97)
    decoded = decode_gray_reduced(buffer, 1)
    box = np.array([151.3, 140.6, 151.3 + side, 140.6 + side * 1.07])
    config = AugmentConfig(roi_mode="original", intensity=False)
    decode = lambda i, r: decode_gray_reduced(buffer, r)  # noqa: E731
    out = augment_batch(decode, FaceLabels.one(roi=box), neutral_params(1, config), config)
    evaluation, _ = crop_patch(decoded, patch_around(box, 1.1), 129)
    difference = np.abs(out.patches[0].astype(float) - evaluation).mean()
    assert difference <= tolerance
    single = cv2.warpAffine(decoded, to_cv2_affine(out.affines[0]), (129, 129), flags=cv2.INTER_LINEAR)
    assert np.abs(single.astype(float) - evaluation).mean() > 4 * max(difference, 0.5)


def test_rotated_opnet_crops_are_filtered_like_the_evaluation_crop():
    """A rotated training crop (bilinear at about 1:1, then INTER_AREA) is the evaluation crop of the
    image turned about the crop's centre, to interpolation noise; a single warp straight to the
    input aliases and differs several times more."""
    from opnet.geometry import rotation_about, to_cv2_affine

    image = fine_texture(720)
    box = np.array([151.3, 140.6, 571.8, 590.0])
    config = AugmentConfig(roi_mode="original", intensity=False)
    p = neutral_params(1, config)
    p = dataclasses.replace(p, angle_rad=np.radians([30.0]))
    out = augment_batch(
        lambda i, r: decode_gray_reduced(encode_image(image, False), r), FaceLabels.one(roi=box), p, config
    )
    patch = patch_around(box, 1.1)
    turned = cv2.warpAffine(
        image,
        to_cv2_affine(rotation_about(np.radians(30.0), patch.centre)),
        (720, 720),
        flags=cv2.INTER_LINEAR,
    )
    reference, _ = crop_patch(turned, patch, 129)
    inside = (slice(20, -20), slice(20, -20))  # away from the corners the turned image leaves empty
    difference = np.abs(out.patches[0].astype(float) - reference)[inside].mean()
    single = cv2.warpAffine(image, to_cv2_affine(out.affines[0]), (129, 129), flags=cv2.INTER_LINEAR)
    assert difference < 1.5  # about 1 gray level
    assert np.abs(single.astype(float) - reference)[inside].mean() > 6 * difference  # about 11


def test_paper_training_and_validation_crops_are_one_computation(tmp_path):
    """The paper recipe validates with its own training crop (no jitter): the same pixels."""
    path = write_dataset(tmp_path / "a.h5", 4, 2, size=150)
    paper = resolve_config("paper")
    val = EvalDataset(path, training_crop=paper.augment, norm=paper.model.input_norm).__getitems__([0, 1])
    from opnet.data import open_dataset
    from opnet.train.labels import load_label_table

    ds = open_dataset(path)
    labels = load_label_table(ds).rows([0, 1])
    config = dataclasses.replace(paper.augment, intensity=False)
    buffers = ds.read_image_bytes_many([0, 1])
    out = augment_batch(
        lambda i, r: decode_gray_reduced(buffers[i], r),
        labels,
        neutral_params(2, config),
        config,
        "div256-centred",
    )
    assert torch.equal(val.image, torch.from_numpy(out.inputs))


def test_the_original_validation_crop_needs_stored_boxes(tmp_path):
    from opnet.errors import DataError

    path = write_dataset(tmp_path / "nobox.h5", 2, 2, drop=("rois",))
    EvalDataset(path)  # the protocol's crop uses the landmarks
    with pytest.raises(DataError, match=r"sample 0 has no face box \('rois'\)"):
        EvalDataset(path, training_crop=resolve_config("paper").augment)
