"""``--protocol original``: the original evaluation's crop, inputs, box choices and rows, exactly."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import AFLW_MINI, POSE_MODEL, SHARED, needs_shared, one_line_error, random_sample, run_cli
from test_evaluate_run import QUIET, FakeModel
from test_runtime_onnx import IDENTITY_OUTPUTS, make_pose_onnx

from opnet.data import DatasetWriter, open_dataset
from opnet.errors import DataError
from opnet.evaluate import EvaluationSettings, evaluate_models
from opnet.evaluate.protocol import RoiChoice, RoiSource, dataset_rois, roi_choices
from opnet.geometry import roi_from_points
from opnet.normalization import normalize_input
from opnet.original_crop import CropBox, crop_box, cut_region, original_crop
from opnet.runtime import load_pose_model

ORIGINAL_INPUTS = SHARED / "original" / "inputs-aflw2kmini-0-7.npz"

ORIGINAL_ROWS = {  # the original evaluator (master, unmodified) on aflw2kmini, 68-landmark box
    1.0: (3.95, 3.42, 3.51, 3.63, 6.26, 3.61, 4.96),
    1.1: (4.08, 3.55, 3.93, 3.85, 6.78, 3.54, 4.12),
    1.2: (4.00, 3.59, 4.15, 3.91, 6.60, 3.04, 4.01),
}


class Recorder(FakeModel):
    """A FakeModel (input size 129, no normalisation of its own) that keeps every input it is fed."""

    def __init__(self):
        super().__init__(input_size=129)
        self.inputs = []

    def run(self, x):
        self.inputs.append(np.array(x))
        return super().run(x)


def test_crop_rounds_corners_half_to_even_fills_outside_black_and_maps_both_axes():
    region = crop_box([10.0, 20.0, 30.0, 41.0], 1.0)  # centre (20, 30.5), side 21: corners at .5
    assert region == CropBox(10, 20, 30, 41)  # 9.5 -> 10, 30.5 -> 30, 20.0, 41.0
    assert region.x1 - region.x0 == 20 and region.y1 - region.y0 == 21
    assert np.allclose(region.to_image([[-1, -1], [1, 1]]), [[10, 20], [30, 41]])
    assert np.allclose(region.from_image(region.to_image([0.3, -0.7])), [0.3, -0.7])
    assert region.half == pytest.approx(np.sqrt((10**2 + 10.5**2) / 2))
    assert region.depth_scale == pytest.approx(np.sqrt(10 * 10.5))
    image = np.full((8, 8), 200, np.uint8)
    cut = cut_region(image, CropBox(-2, 5, 4, 10))
    assert cut.shape == (5, 6) and cut[:3, 2:].min() == 200 and cut[:, :2].max() == 0 and cut[3:].max() == 0
    crop, frame = original_crop(image, [2.0, 2.0, 6.0, 6.0], 1.0, 16)  # 4 px upsampled: bilinear
    assert crop.shape == (16, 16) and frame == CropBox(2, 2, 6, 6) and crop.min() == 200
    with pytest.raises(ValueError, match="no crop region"):
        crop_box([5.0, 5.0, 5.0, 5.0], 1.1)


@needs_shared(ORIGINAL_INPUTS)
def test_crop_reproduces_the_inputs_the_original_fed_its_network():
    ref = np.load(ORIGINAL_INPUTS)
    with open_dataset(AFLW_MINI) as ds:
        boxes = roi_from_points(ds.read_field("pt3d_68"))
        for k, index in enumerate(ref["sample_index"]):
            assert np.allclose(boxes[index], ref["roi_pixels"][k], atol=1e-4)
            crop, region = original_crop(ds.read_image(index), boxes[index], 1.1, 129)
            assert np.array_equal(normalize_input(crop, "div256"), ref["x"][k, 0])
            affine = ref["image_backtransform"][k]  # network units [-1, 1] -> image pixels
            corners = np.array([[-1.0, -1.0], [1.0, 1.0], [0.25, -0.5]])
            assert np.allclose(region.to_image(corners), corners @ affine[:, :2].T + affine[:, 2], atol=1e-4)


@needs_shared(ORIGINAL_INPUTS)
def test_evaluation_feeds_a_model_without_a_normalisation_the_original_inputs():
    ref = np.load(ORIGINAL_INPUTS)
    model = Recorder()
    with open_dataset(AFLW_MINI) as ds:
        settings = EvaluationSettings(roi_source="landmarks", batch_size=8, **QUIET)
        result = evaluate_models([model], ds, settings)
    assert result.rows[0].roi == RoiChoice(RoiSource.LANDMARKS, 1.1)
    assert np.array_equal(model.inputs[0], ref["x"])


@pytest.mark.slow
@needs_shared(POSE_MODEL)
@needs_shared(AFLW_MINI)
def test_landmark_rows_match_the_original_evaluator():
    """OpenTrack's int8 model, computed exactly (opnet.runtime.exact_int8), gives the original
    evaluator's rows to the second decimal."""
    model = load_pose_model(POSE_MODEL, 2)
    with open_dataset(AFLW_MINI) as ds:
        result = evaluate_models([model], ds, EvaluationSettings(comprehensive_roi=True, **QUIET))
    rows = {r.roi.label: r.metrics for r in result.rows}
    assert list(rows) == [f"{s} x{e}" for s in ("head", "landmarks") for e in ("1.2", "1.1", "1.0")]
    for expansion, expected in ORIGINAL_ROWS.items():
        m = rows[f"landmarks x{expansion:.1f}"]
        angles = (m.pitch_deg, m.yaw_deg, m.roll_deg, m.mean_deg, m.geodesic_deg)
        assert np.allclose(angles, expected[:5], atol=0.01), (expansion, angles)
        assert np.allclose((m.xy_pct, m.size_pct), expected[5:], atol=0.01), (expansion, m.xy_pct, m.size_pct)


def test_original_protocol_defaults_to_the_head_box_and_gives_the_originals_six_rows(small_dataset):
    with open_dataset(small_dataset) as ds:
        assert roi_choices(ds, protocol="original") == [RoiChoice(RoiSource.HEAD, 1.1)]
        labels = [c.label for c in roi_choices(ds, comprehensive=True, protocol="original")]
        assert labels == [f"{s} x{e}" for s in ("head", "landmarks") for e in ("1.2", "1.1", "1.0")]
        result = evaluate_models([FakeModel()], ds, EvaluationSettings(comprehensive_roi=True, **QUIET))
        heads = dataset_rois(ds, RoiSource.HEAD)
    assert result.settings.protocol == "original" and len(result.rows) == 6
    # The head box reaches from the forehead to the chin: above the landmarks, the chin inside it.
    assert np.all(heads[:, 2] > heads[:, 0]) and np.all(heads[:, 3] > heads[:, 1])


def test_without_landmarks_the_original_keeps_the_stored_box(tmp_path, rng):
    path = tmp_path / "biwi-like.h5"
    with DatasetWriter(path) as w:
        sample = random_sample(rng)
        w.append({k: sample[k] for k in ("images", "rois", "quats", "coords")})
    with open_dataset(path) as ds:
        assert roi_choices(ds, protocol="original") == [RoiChoice(RoiSource.STORED, 1.1)]
        assert [c.label for c in roi_choices(ds, comprehensive=True, protocol="original")] == [
            "stored x1.2",
            "stored x1.1",
            "stored x1.0",
        ]
        assert roi_choices(ds, "head", protocol="original") == [RoiChoice(RoiSource.HEAD, 1.1)]


def test_head_box_without_poses_or_sizes_names_the_missing_field(tmp_path, rng, capsys):
    model = make_pose_onnx(tmp_path / "id.onnx", IDENTITY_OUTPUTS, size=32)
    path = tmp_path / "no-coords.h5"
    with DatasetWriter(path) as w:
        w.append({k: v for k, v in random_sample(rng).items() if k != "coords"})
    with open_dataset(path) as ds:
        assert roi_choices(ds, protocol="original") == [RoiChoice(RoiSource.LANDMARKS, 1.1)]
        with pytest.raises(DataError, match="--roi head needs the field 'coords'"):
            roi_choices(ds, "head", protocol="original")
    code, _, err = run_cli(
        "evaluate", [model, "--data", path, "--protocol", "original", "--roi", "head"], capsys
    )
    assert one_line_error("evaluate", code, err, "no-coords.h5", "--roi head needs the field 'coords'")


def test_non_finite_labels_are_dropped_with_their_own_count(tmp_path, rng, capsys):
    path = tmp_path / "bad-labels.h5"
    with DatasetWriter(path) as w:
        for k in range(5):
            sample = random_sample(rng)
            if k == 1:
                sample["coords"][:2] = np.nan
            if k == 3:
                sample["coords"][2] = np.inf
            w.append(sample)
    with open_dataset(path) as ds:
        result = evaluate_models([FakeModel()], ds, EvaluationSettings(**QUIET))
    assert (result.total_samples, result.kept_samples, result.dropped_samples) == (5, 3, 0)
    assert result.dropped_not_finite == 2 and result.not_finite == {"coords": 2}
    assert result.rows[0].samples.indices.tolist() == [0, 2, 4]
    assert np.isfinite(result.rows[0].metrics.size_pct) and np.isfinite(result.rows[0].metrics.xy_pct)
    model = make_pose_onnx(tmp_path / "id.onnx", IDENTITY_OUTPUTS, size=32)
    out_json = tmp_path / "r.json"
    code, out, err = run_cli("evaluate", [model, "--data", path, "--json", out_json], capsys)
    assert code == 0, err
    assert (
        "0 dropped by the pose filter" in out
        and "2 dropped for labels that are not finite (coords: 2)" in out
    )
    doc = json.loads(out_json.read_text())["dataset"]
    assert (doc["dropped_by_filter"], doc["dropped_not_finite"], doc["not_finite"]) == (0, 2, {"coords": 2})


def test_stability_runs_on_the_originals_crop(small_dataset):
    from opnet.evaluate.stability import StabilitySettings

    stability = StabilitySettings(shifts_px=(1.0,), scales=(1.02,), noise_stds=(4.0,), noise_draws=1)
    with open_dataset(small_dataset) as ds:
        result = evaluate_models([FakeModel()], ds, EvaluationSettings(stability=stability, **QUIET))
    spreads = {s.family: s for s in result.stability["fake"]}
    assert set(spreads) == {"shift", "scale", "noise 4"}
    for s in spreads.values():  # a model blind to its input: no angle spread, whatever the crop
        assert (s.pitch_deg, s.yaw_deg, s.roll_deg) == (0, 0, 0)
    assert spreads["shift"].xy_pct > 0 and spreads["noise 4"].xy_pct == 0
