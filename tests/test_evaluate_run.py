"""evaluate_models end to end on tiny synthetic AFLW- and BIWI-like files, with models whose answers are
known."""

from __future__ import annotations

from dataclasses import astuple
from pathlib import Path

import numpy as np
import pytest

from opnet.data import DatasetWriter, open_dataset
from opnet.errors import DataError
from opnet.evaluate import EvaluationSettings, evaluate_models, metrics
from opnet.evaluate.alignment import camera_ray_rotation
from opnet.evaluate.protocol import RoiSource, dataset_rois
from opnet.evaluate.runner import predict_dataset
from opnet.geometry import euler_to_quat, geodesic_distance, matrix_to_quat, quat_to_euler
from opnet.preprocess import patch_around
from opnet.runtime import PoseOutputs

QUIET = dict(progress=False, threads=2)


class FakeModel:
    """A PoseModel with fixed outputs; with ``yaw_gain`` its yaw follows the mean input value."""

    def __init__(
        self, quat=(0, 0, 0, 1), pos_size=(0, 0, 0.5), name="fake", input_size=32, yaw_gain=0.0, points=False
    ):
        self.name, self.input_size, self.max_batch, self.has_points = name, input_size, None, points
        self.input_norm = None
        self.quat, self.pos_size, self.yaw_gain = (
            np.asarray(quat, np.float32),
            np.asarray(pos_size, np.float32),
            yaw_gain,
        )

    def run(self, x):
        b = len(x)
        quat = np.tile(self.quat, (b, 1))
        if self.yaw_gain:
            yaw = self.yaw_gain * x.mean(axis=(1, 2, 3))
            quat = euler_to_quat(np.stack([np.zeros(b), yaw, np.zeros(b)], axis=-1)).astype(np.float32)
        points = np.zeros((b, 68, 3), np.float32) if self.has_points else None
        return PoseOutputs(
            quat,
            np.tile(self.pos_size, (b, 1)),
            np.tile([-0.5, -0.5, 0.5, 0.5], (b, 1)).astype(np.float32),
            points=points,
        )

    def describe(self):
        return self.name


def test_constant_model_errors_are_the_true_angles_and_the_offsets_of_the_crop_centre(small_dataset):
    with open_dataset(small_dataset) as ds:
        result = evaluate_models([FakeModel()], ds, EvaluationSettings(protocol="opentrack", **QUIET))
        true_q, coords = ds.read_field("quats"), ds.read_field("coords")
        rois = dataset_rois(ds, RoiSource.LANDMARKS)
    (row,) = result.rows
    assert (result.total_samples, result.kept_samples, row.roi.label) == (12, 12, "landmarks x1.1")
    true_deg = np.rad2deg(np.abs(quat_to_euler(true_q)))
    assert np.allclose(
        [row.metrics.pitch_deg, row.metrics.yaw_deg, row.metrics.roll_deg], true_deg.mean(axis=0)
    )
    assert row.metrics.mean_deg == pytest.approx(true_deg.mean())
    sides = np.array([round(patch_around(r, 1.1).side) for r in rois])
    pred = np.column_stack([0.5 * (rois[:, :2] + rois[:, 2:]), 0.25 * sides])
    expected = metrics.position_errors(pred, coords, rois)
    assert row.metrics.xy_pct == pytest.approx(100 * metrics.xy_rms(expected))
    assert row.metrics.size_pct == pytest.approx(100 * metrics.size_rms(expected))


def test_table_numbers_are_the_metric_functions_of_the_per_sample_results(small_dataset):
    with open_dataset(small_dataset) as ds:
        result = evaluate_models(
            [FakeModel(yaw_gain=3.0, points=True)], ds, EvaluationSettings(comprehensive_roi=True, **QUIET)
        )
    assert len(result.rows) == 6
    for row in result.rows:
        e = row.samples
        assert np.allclose(e.euler_err, metrics.euler_errors(e.pred_quat, e.true_quat))
        again = metrics.summarize(
            e.euler_err,
            metrics.geodesic_errors(-e.pred_quat, e.true_quat),
            e.position_err,
            e.nme3d,
            e.nme2d,
            metrics.yaw_bin_masks(e.true_quat),
        )
        assert again == row.metrics
        assert row.metrics.nme3d_pct is not None and row.metrics.nme2d_0_30_pct is not None


def test_ensemble_of_one_model_is_that_model_and_runs_are_deterministic(small_dataset):
    model = FakeModel(yaw_gain=2.0)
    with open_dataset(small_dataset) as ds:
        result = evaluate_models([model], ds, EvaluationSettings(ensemble=True, **QUIET))
        rois = dataset_rois(ds, RoiSource.STORED)
        a = predict_dataset(ds, range(12), rois, 1.2, [model], threads=1, batch_size=1, progress=False)
        b = predict_dataset(ds, range(12), rois, 1.2, [model], threads=2, batch_size=5, progress=False)
    model_row, ensemble_row = result.rows
    assert ensemble_row.model == "ensemble"
    for mine, theirs in zip(astuple(ensemble_row.metrics), astuple(model_row.metrics), strict=True):
        assert (mine is None and theirs is None) or mine == pytest.approx(theirs, rel=1e-12)
    assert np.array_equal(a.per_model[0].quat, b.per_model[0].quat)
    assert np.array_equal(a.per_model[0].coords, b.per_model[0].coords)


def test_filter_drops_samples_and_missing_labels_are_reported(tmp_path, rng):
    from conftest import random_sample

    path = tmp_path / "mixed.h5"
    with DatasetWriter(path) as w:
        for pitch in (0.0, 2.0, -0.5):  # radians: the second is beyond 99 deg
            sample = random_sample(rng)
            sample["quats"] = euler_to_quat([pitch, 0.1, 0.0]).astype(np.float32)
            w.append(sample)
    with open_dataset(path) as ds:
        result = evaluate_models([FakeModel()], ds, EvaluationSettings(**QUIET))
        assert (result.kept_samples, result.dropped_samples) == (2, 1)
        assert result.rows[0].samples.indices.tolist() == [0, 2]
        assert (
            evaluate_models(
                [FakeModel()], ds, EvaluationSettings(filter_limit_deg=None, **QUIET)
            ).kept_samples
            == 3
        )
    path = tmp_path / "no-quats.h5"
    with DatasetWriter(path) as w:
        w.append({k: v for k, v in random_sample(rng).items() if k != "quats"})
    with open_dataset(path) as ds, pytest.raises(DataError, match="has no field 'quats'"):
        evaluate_models([FakeModel()], ds, EvaluationSettings(**QUIET))


def biwi_like(path: Path, persons: list[int], quat_of, size=(64, 48)) -> Path:
    """Uniform gray images with one 20 px face box each, one sequence per person.

    ``quat_of(roi, person)`` gives each sample's label; the head centre is the box centre.
    """
    w_img, h_img = size
    rng = np.random.default_rng(7)
    with DatasetWriter(path) as w:
        for person, count in enumerate(persons):
            w.start_sequence()
            for _ in range(count):
                x0, y0 = rng.uniform(2, w_img - 22), rng.uniform(2, h_img - 22)
                roi = np.array([x0, y0, x0 + 20, y0 + 20], np.float32)
                w.append(
                    {
                        "images": np.full((h_img, w_img), 128, np.uint8),
                        "rois": roi,
                        "coords": np.array([x0 + 10, y0 + 10, 8], np.float32),
                        "quats": np.asarray(quat_of(roi, person), np.float32),
                    }
                )
    return path


def test_opal23_alignment_removes_each_persons_constant_offset(tmp_path):
    per_person = euler_to_quat(np.deg2rad([[10, 20, 0], [-5, -30, 10]]))
    path = biwi_like(tmp_path / "biwi.h5", [4, 3], lambda roi, person: per_person[person])
    model = FakeModel(quat=euler_to_quat(np.deg2rad([3, 4, 5])))
    with open_dataset(path) as ds:
        plain = (
            evaluate_models([model], ds, EvaluationSettings(protocol="opentrack", **QUIET)).rows[0].metrics
        )
        aligned = (
            evaluate_models(
                [model], ds, EvaluationSettings(alignment="opal23", protocol="opentrack", **QUIET)
            )
            .rows[0]
            .metrics
        )
    assert plain.mean_deg > 5 and aligned.mean_deg < 1e-4 and aligned.geodesic_deg < 1e-4
    assert aligned.xy_pct == pytest.approx(0, abs=1e-4)  # the crop is centred on the labelled head


def test_perspective_correction_turns_a_frontal_prediction_into_the_camera_ray(tmp_path):
    def ray(roi, person):
        centre = 0.5 * (roi[:2] + roi[2:])
        return matrix_to_quat(camera_ray_rotation([centre], [[64, 48]], 57.0))[0]

    path = biwi_like(tmp_path / "biwi.h5", [6], ray)
    with open_dataset(path) as ds:
        plain = evaluate_models([FakeModel()], ds, EvaluationSettings(protocol="opentrack", **QUIET)).rows[0]
        corrected = evaluate_models(
            [FakeModel()], ds, EvaluationSettings(alignment="perspective", protocol="opentrack", **QUIET)
        ).rows[0]
    assert plain.metrics.geodesic_deg > 5
    assert corrected.metrics.geodesic_deg < 1e-3
    assert np.allclose(
        geodesic_distance(corrected.samples.pred_quat, corrected.samples.true_quat), 0, atol=1e-5
    )


def test_opal23_needs_one_sequence_per_person(small_dataset, tmp_path, rng):
    from conftest import random_sample

    path = tmp_path / "flat.h5"
    with DatasetWriter(path) as w:
        w.append(random_sample(rng))
    with open_dataset(path) as ds, pytest.raises(DataError, match="needs 'sequence_starts'"):
        evaluate_models([FakeModel()], ds, EvaluationSettings(alignment="opal23", **QUIET))
