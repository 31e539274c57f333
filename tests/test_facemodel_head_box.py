"""The head box: the posed mean face mask, checked on heads whose true box is known."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import random_sample
from prepare_fixtures import bfm_pickle
from test_evaluate_run import FakeModel

from opnet.data import DatasetWriter, open_dataset
from opnet.evaluate import EvaluationSettings, evaluate_models, metrics
from opnet.evaluate.protocol import RoiSource, dataset_rois
from opnet.facemodel import HEAD_CENTRE, project
from opnet.facemodel.bfm import load_3ddfa
from opnet.facemodel.head_box import (
    EAR_PLANE_Z,
    HAIRLINE_Y,
    HALF_WIDTH,
    face_mask_hull,
    forehead_depth,
    head_boxes,
    mask_half_spaces,
    model_mask_hull,
)
from opnet.facemodel.procedural import procedural_face_model
from opnet.geometry import euler_to_quat, roi_from_points
from opnet.original_crop import crop_box


def random_poses(rng, n, max_deg=80.0):
    quats = euler_to_quat(np.deg2rad(rng.uniform(-max_deg, max_deg, (n, 3))))
    coords = np.column_stack([rng.uniform(100, 300, (n, 2)), rng.uniform(20, 120, n)])
    return quats, coords


def test_frontal_box_spans_the_hairline_to_the_chin_and_temple_to_temple():
    x, y, size = 200.0, 150.0, 50.0
    ((x0, y0, x1, y1),) = head_boxes(euler_to_quat([0.0, 0.0, 0.0])[None], np.array([[x, y, size]]))
    assert (x0, x1) == pytest.approx((x - HALF_WIDTH * size, x + HALF_WIDTH * size))
    assert y0 == pytest.approx(y + (HAIRLINE_Y - HEAD_CENTRE[1]) * size, abs=0.01 * size)
    chin = project(procedural_face_model().landmarks()[8], [0, 0, 0, 1], [x, y, size])[1]
    assert chin < y1 < chin + 0.1 * size  # the mesh goes on under the chin landmark
    hull = face_mask_hull()
    assert hull[:, 2].max() == pytest.approx(EAR_PLANE_Z) and np.abs(hull[:, 0]).max() == pytest.approx(
        HALF_WIDTH
    )


def test_box_is_that_of_every_posed_vertex_of_the_mask(rng):
    """Procedural heads at random poses: the vertices of the mean mesh inside the mask all project
    into the box, and the box is no larger than the mask's cut between vertices (mesh spacing)."""
    model = procedural_face_model()
    v = model.mean.astype(np.float64)
    hull = face_mask_hull()
    normals, offsets = mask_half_spaces(forehead_depth(v))
    inside = v[np.all(v @ normals.T <= offsets, axis=1)]
    quats, coords = random_poses(rng, 40)
    boxes = head_boxes(quats, coords)
    for q, c, box in zip(quats, coords, boxes, strict=True):
        pts = roi_from_points(project(inside, q, c))
        assert np.all(pts[:2] >= box[:2] - 1e-9) and np.all(pts[2:] <= box[2:] + 1e-9)
        whole = roi_from_points(project(hull, q, c))
        assert np.allclose(whole, box)


def test_the_face_lies_inside_its_head_box(rng):
    landmarks = procedural_face_model().landmarks()
    quats, coords = random_poses(rng, 60, max_deg=70.0)
    for q, c, box in zip(quats, coords, head_boxes(quats, coords), strict=True):
        pts = project(landmarks, q, c)[:, :2]
        assert np.all(pts >= box[:2]) and np.all(pts <= box[2:])


def test_boxes_move_and_scale_with_the_head(rng):
    quats, coords = random_poses(rng, 5)
    moved = coords * [1, 1, 2] + [7, -3, 0]
    a, b = head_boxes(quats, coords), head_boxes(quats, moved)
    centre = lambda box: 0.5 * (box[:, :2] + box[:, 2:])  # noqa: E731
    assert np.allclose(b[:, 2:] - b[:, :2], 2 * (a[:, 2:] - a[:, :2]))
    assert np.allclose(centre(b) - moved[:, :2], 2 * (centre(a) - coords[:, :2]))


def test_a_3ddfa_model_gives_the_originals_box_the_box_of_its_posed_mean_mesh(tmp_path, rng):
    path = tmp_path / "bfm_noneck_v3.pkl"
    bfm_pickle(path, rng)
    model = load_3ddfa(path)
    quats, coords = random_poses(rng, 20)
    boxes = head_boxes(quats, coords, model_mask_hull(model))
    for q, c, box in zip(quats, coords, boxes, strict=True):
        assert np.allclose(box, roi_from_points(project(model.mean, q, c)))
    data = tmp_path / "data.h5"
    with DatasetWriter(data) as w:
        for _ in range(3):
            w.append(random_sample(rng))
    with open_dataset(data) as ds:
        quats, coords = ds.read_field("quats"), ds.read_field("coords")
        expected = roi_from_points(
            np.stack([project(model.mean, q, c) for q, c in zip(quats, coords, strict=True)])
        )
        assert np.allclose(dataset_rois(ds, RoiSource.HEAD, head_hull=model_mask_hull(model)), expected)
        settings = EvaluationSettings(face_model=path, progress=False, threads=1)
        row = evaluate_models([FakeModel()], ds, settings).rows[0]
    # FakeModel puts the head at the crop's centre with size 0.5: errors are relative to the head box.
    regions = [crop_box(box, 1.1) for box in expected]
    pred = np.array([[*r.centre, 0.5 * r.half] for r in regions])
    assert row.roi.source == RoiSource.HEAD
    assert np.allclose(row.samples.position_err, metrics.position_errors(pred, coords, expected))
