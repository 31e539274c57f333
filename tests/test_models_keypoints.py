"""The keypoint model: learned from labels (PCA in the head frame) or taken from a face model."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import AFLW_MINI, needs_shared

from opnet.errors import OpNetError
from opnet.facemodel import HEAD_CENTRE, FaceModel, landmarks_to_label, project
from opnet.geometry import IBUG68_MIRROR, euler_to_quat
from opnet.models import (
    KeypointModel,
    fit_keypoint_model,
    fit_shape_params,
    keypoint_model_from_datasets,
    keypoint_model_from_face_model,
    pose_keypoints,
)


def reconstruct(model: KeypointModel, quats, coords, pt3d) -> np.ndarray:
    """Labels -> best-fit coefficients -> landmarks posed with the labels' own pose, like the network does."""
    params = torch.from_numpy(fit_shape_params(model, quats, coords, pt3d))
    local = model.double()(params)
    return pose_keypoints(
        local, torch.as_tensor(quats, dtype=torch.float64), torch.as_tensor(coords, dtype=torch.float64)
    ).numpy()


def relative_rms(points: np.ndarray, target: np.ndarray, coords: np.ndarray) -> np.ndarray:
    """Per-sample RMS landmark distance divided by the head size."""
    return np.sqrt((np.linalg.norm(points - target, axis=-1) ** 2).mean(axis=-1)) / coords[:, 2]


def synthetic_face(rng: np.random.Generator, num_shape: int = 4, num_expr: int = 2) -> FaceModel:
    """A FaceModel with 68 vertices (the landmarks themselves): a random face in the head frame."""
    mean = rng.normal(size=(68, 3)) * np.array([0.35, 0.4, 0.15]) + HEAD_CENTRE + np.array([0.0, 0.3, 0.1])
    return FaceModel(
        mean=mean.astype(np.float32),
        triangles=np.zeros((0, 3), np.int32),
        shape_basis=(rng.normal(size=(num_shape, 68, 3)) * 0.04).astype(np.float32),
        expression_basis=(rng.normal(size=(num_expr, 68, 3)) * 0.02).astype(np.float32),
        landmark_indices=np.arange(68),
    )


def synthetic_labels(face: FaceModel, rng: np.random.Generator, n: int, max_yaw: float = 1.3):
    """pt3d_68 labels made the way datasets make them: project, then eye-corner depth 0."""
    quats = euler_to_quat(rng.uniform(-1, 1, (n, 3)) * np.array([0.6, max_yaw, 0.5]))
    coords = np.column_stack([rng.uniform(60, 160, n), rng.uniform(60, 160, n), rng.uniform(40, 120, n)])
    shape = rng.normal(size=(n, len(face.shape_basis)))
    expr = rng.normal(size=(n, len(face.expression_basis)))
    pts = np.stack(
        [
            landmarks_to_label(project(face.landmarks(shape[i], expr[i]), quats[i], coords[i]))
            for i in range(n)
        ]
    )
    return quats, coords, pts


@pytest.fixture(scope="module")
def aflw_labels():
    from opnet.data import open_dataset

    ds = open_dataset(AFLW_MINI, require_images=False)
    return ds.read_field("quats"), ds.read_field("coords"), ds.read_field("pt3d_68")


@needs_shared(AFLW_MINI)
def test_fit_reproduces_aflw_labels_from_their_own_pose(aflw_labels):
    quats, coords, pt3d = aflw_labels
    model = fit_keypoint_model(quats, coords, pt3d, num_params=50)
    err = relative_rms(reconstruct(model, quats, coords, pt3d), pt3d, coords)
    assert err.max() < 1e-4  # 16 labels (+ mirrored): 50 components span them exactly
    model = fit_keypoint_model(quats, coords, pt3d, num_params=8)
    err = relative_rms(reconstruct(model, quats, coords, pt3d), pt3d, coords)
    assert err.mean() < 0.02 and err.max() < 0.04  # measured: 1.5% of the head size (about 2 px) RMS


@needs_shared(AFLW_MINI)
def test_fit_generalises_to_a_held_out_aflw_label(aflw_labels):
    quats, coords, pt3d = aflw_labels
    errors = []
    for i in (0, 5, 10, 15):
        keep = np.arange(len(quats)) != i
        model = fit_keypoint_model(quats[keep], coords[keep], pt3d[keep], num_params=8)
        held = slice(i, i + 1)
        errors.append(
            relative_rms(reconstruct(model, quats[held], coords[held], pt3d[held]), pt3d[held], coords[held])[
                0
            ]
        )
    assert np.mean(errors) < 0.045  # measured: about 3% of the head size


def test_fit_recovers_a_synthetic_face_model_exactly():
    rng = np.random.default_rng(0)
    face = synthetic_face(rng)
    model = fit_keypoint_model(*synthetic_labels(face, rng, 300), num_params=6, mirror=False)
    held_out = synthetic_labels(face, rng, 40)
    err = relative_rms(reconstruct(model, *held_out), held_out[2], held_out[1])
    assert err.max() < 1e-4  # only the weak centroid prior biases the solution
    # the mean lies in the true model's affine space (depth offsets were recovered, not absorbed)
    true_basis = np.concatenate([face.shape_basis, face.expression_basis]).reshape(6, -1).T
    residual = model.mean.numpy().ravel() - face.mean.ravel()
    coef, *_ = np.linalg.lstsq(true_basis, residual, rcond=None)
    assert np.abs(true_basis @ coef - residual).max() < 1e-4


def test_fit_scales_coefficients_to_unit_variance_and_pads_unused_components():
    rng = np.random.default_rng(1)
    face = synthetic_face(rng, num_shape=3, num_expr=0)
    quats, coords, pt3d = synthetic_labels(face, rng, 200)
    model = fit_keypoint_model(quats, coords, pt3d, num_params=5, mirror=False)
    assert model.num_params == 5
    norms = model.basis.reshape(5, -1).norm(dim=1)
    assert (norms[:3] > 1e-3).all() and (norms[3:] == 0).all()
    params = fit_shape_params(model, quats, coords, pt3d)
    assert params[:, :3].std(axis=0) == pytest.approx(1.0, abs=0.02)


def test_mirrored_fit_gives_a_symmetric_mean():
    rng = np.random.default_rng(2)
    model = fit_keypoint_model(*synthetic_labels(synthetic_face(rng), rng, 100), num_params=4)
    mean = model.mean.numpy()
    mirrored = (mean * np.array([-1.0, 1.0, 1.0]))[IBUG68_MIRROR]
    assert np.abs(mirrored - mean).max() < 1e-6


def test_fit_works_for_frontal_faces_only():
    """Little spread of viewing axes: the prior fixes what is not observed; the fit stays finite and exact."""
    rng = np.random.default_rng(3)
    face = synthetic_face(rng)  # not left/right symmetric: fit without mirrored copies
    model = fit_keypoint_model(*synthetic_labels(face, rng, 100, max_yaw=0.0), num_params=6, mirror=False)
    held_out = synthetic_labels(face, rng, 10, max_yaw=0.0)
    assert torch.isfinite(model.mean).all() and torch.isfinite(model.basis).all()
    assert relative_rms(reconstruct(model, *held_out), held_out[2], held_out[1]).max() < 1e-3


def test_fit_skips_bad_samples_and_subsamples():
    rng = np.random.default_rng(4)
    quats, coords, pt3d = synthetic_labels(synthetic_face(rng), rng, 60)
    pt3d[3, 5, 0] = np.nan
    coords[7, 2] = 0.0
    model = fit_keypoint_model(quats, coords, pt3d, num_params=4, max_samples=20)
    assert torch.isfinite(model.basis).all()
    with pytest.raises(OpNetError, match="at least 2 samples"):
        fit_keypoint_model(quats[3:4], coords[3:4], pt3d[3:4])
    with pytest.raises(OpNetError, match=r"pt3d_68 \(N, 68, 3\)"):
        fit_keypoint_model(quats, coords, pt3d[..., :2])


def test_keypoint_model_from_face_model():
    rng = np.random.default_rng(5)
    face = synthetic_face(rng, num_shape=3, num_expr=2)
    model = keypoint_model_from_face_model(face, num_params=8)
    shape, expr = rng.normal(size=3), rng.normal(size=2)
    params = torch.tensor(np.concatenate([shape, expr, np.zeros(3)]), dtype=torch.float32)[None]
    assert model(params)[0].numpy() == pytest.approx(face.landmarks(shape, expr), abs=1e-5)
    assert keypoint_model_from_face_model(face, num_params=2).basis.numpy() == pytest.approx(
        face.shape_basis[:2]
    )


def test_keypoint_model_checks_shapes():
    with pytest.raises(ValueError, match="mean"):
        KeypointModel(torch.zeros(60, 3), torch.zeros(2, 68, 3))
    assert KeypointModel.empty(7).basis.shape == (7, 68, 3)


def test_keypoint_model_from_dataset_files(tmp_path, small_dataset):
    from opnet.data import DatasetWriter, open_dataset

    two_d = tmp_path / "landmarks2d.h5"
    with DatasetWriter(two_d) as w:  # no pose, no 3D landmarks: skipped
        w.append({"images": np.zeros((8, 8), np.uint8), "pt2d_68": np.zeros((68, 2), np.float32)})
    model = keypoint_model_from_datasets([small_dataset, two_d], num_params=6)
    ds = open_dataset(small_dataset)
    expected = fit_keypoint_model(
        ds.read_field("quats"), ds.read_field("coords"), ds.read_field("pt3d_68"), 6
    )
    assert torch.allclose(model.basis, expected.basis) and torch.allclose(model.mean, expected.mean)
    with pytest.raises(OpNetError, match="landmarks2d.h5: no dataset has quats, coords, pt3d_68"):
        keypoint_model_from_datasets([two_d])
