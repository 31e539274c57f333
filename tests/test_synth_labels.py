"""Synthetic labels agree with the rendered pictures, and follow the conventions of real data."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest

from opnet.facemodel import EYE_CORNERS, landmarks_to_label, project
from opnet.geometry import euler_to_quat, quat_to_matrix, roi_from_points
from opnet.render.raster import rasterize
from opnet.synth.body import place_body
from opnet.synth.config import SynthConfig
from opnet.synth.generate import sample_at
from opnet.synth.person import sample_person, scene_assets
from opnet.synth.scene import render_shot
from opnet.synth.shot import sample_shot

CONFIG = SynthConfig(image_size=192, samples_per_identity=3)
FINE = 8


def reference_coverage(vertices: np.ndarray, triangles: np.ndarray, size: int) -> np.ndarray:
    """(size, size) fraction of each pixel inside the projected mesh, by OpenCV polygon filling at 8x.

    Independent of opnet.render: the outline of a closed mesh is the union of all its triangles.
    """
    fine = np.zeros((size * FINE, size * FINE), np.uint8)
    points = np.round((vertices[:, :2] * FINE - 0.5) * 16).astype(np.int32)  # pixel centres at integers
    for triangle in points[triangles]:  # one by one: fillPoly would XOR overlapping triangles
        cv2.fillConvexPoly(fine, triangle, 1, cv2.LINE_8, 4)
    return fine.reshape(size, FINE, size, FINE).mean(axis=(1, 3))


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.minimum(a, b).sum() / np.maximum(a, b).sum())


def centroid(weights: np.ndarray) -> np.ndarray:
    ys, xs = np.mgrid[0 : weights.shape[0], 0 : weights.shape[1]] + 0.5
    return np.array([(xs * weights).sum(), (ys * weights).sum()]) / weights.sum()


@pytest.fixture(scope="module")
def samples():
    return [sample_at(i, CONFIG, seed=7) for i in (0, 1, 4, 7)]


def test_stored_labels_are_the_projected_landmark_vertices(samples):
    landmark_indices = scene_assets().model.landmark_indices
    for s in samples:
        quat, coords = s.labels["quats"], s.labels["coords"]  # as stored (float32)
        expected = landmarks_to_label(project(s.person.vertices[landmark_indices], quat, coords))
        np.testing.assert_allclose(s.labels["pt3d_68"], expected, atol=2e-3)
        assert quat[3] >= 0.0 and np.linalg.norm(quat) == pytest.approx(1.0, abs=1e-6)
        assert s.labels["pt3d_68"][list(EYE_CORNERS), 2].mean() == pytest.approx(0.0, abs=1e-3)
        np.testing.assert_array_equal(s.labels["pt2d_68"], s.labels["pt3d_68"][:, :2])
        np.testing.assert_allclose(s.labels["rois"], roi_from_points(s.labels["pt3d_68"]), atol=1e-4)


def test_rendered_head_matches_the_outline_projected_from_the_labels(samples):
    assets = scene_assets()
    sizes = []
    for s in samples:
        quat, coords = s.labels["quats"], s.labels["coords"]
        vertices = project(s.person.vertices, quat, coords)
        body, _ = place_body(assets.body, quat, coords, s.shot.body_rotation)
        no_body = (
            reference_coverage(body, assets.body.mesh.triangles, CONFIG.image_size) == 0
        )  # the neck may hide the head
        expected = reference_coverage(vertices, assets.model.triangles, CONFIG.image_size) * no_body
        rendered = s.rendering.head_coverage * no_body
        assert iou(rendered, expected) > 0.98
        np.testing.assert_allclose(centroid(rendered), centroid(expected), atol=0.25)
        sizes.append(s.labels["coords"][2])
    assert min(sizes) < 55 < max(sizes)  # both supersampled and plain rendering were checked


def test_picture_shows_head_and_body_exactly_where_the_labels_put_them(rng):
    assets = scene_assets()
    person = sample_person(rng, assets)
    green = np.zeros((CONFIG.image_size, CONFIG.image_size, 3), np.float32)
    green[..., 1] = 1.0
    for _ in range(3):
        shot = dataclasses.replace(sample_shot(rng, CONFIG), blur_sigma=0.0, noise_sigma=0.0)
        image = render_shot(assets, person, shot, CONFIG.image_size, rng, background=green).image
        drawn = np.abs(image.astype(np.float32) / 255.0 - green).max(axis=-1) > 0.02
        head = project(person.vertices, shot.quat, shot.coords)
        body, _ = place_body(assets.body, shot.quat, shot.coords, shot.body_rotation)
        expected = np.maximum(
            reference_coverage(head, assets.model.triangles, CONFIG.image_size),
            reference_coverage(body, assets.body.mesh.triangles, CONFIG.image_size),
        )
        assert iou(drawn.astype(float), (expected > 0.5).astype(float)) > 0.97


def _visible(person_vertices, landmark_indices, quat, coords, size):
    """Which landmark vertices are the nearest surface at their own pixel (no other part in front)."""
    vertices = project(person_vertices, quat, coords)
    fragments = rasterize(vertices, scene_assets().model.triangles, size, size)
    depth = fragments.to_image(fragments.depth, fill=np.inf)
    points = vertices[landmark_indices]
    rows, cols = points[:, 1].astype(int), points[:, 0].astype(int)
    return depth[rows, cols] > points[:, 2] - 0.08 * coords[2]


def test_landmarks_are_visible_on_the_side_that_faces_the_camera(rng):
    person = sample_person(rng, scene_assets())
    indices = scene_assets().model.landmark_indices
    coords = np.array([96.0, 96.0, 60.0])
    frontal = _visible(person.vertices, indices, euler_to_quat([0.0, 0.0, 0.0]), coords, 192)
    assert frontal[17:].all()  # brows, nose, eyes, mouth
    # Positive yaw turns the nose towards image -x and shows the person's left side (landmarks 9-16).
    turned = _visible(person.vertices, indices, euler_to_quat([0.0, np.deg2rad(75), 0.0]), coords, 192)
    assert turned[[12, 13, 14, 15, 16, 44, 45, 46]].all()
    assert not turned[[0, 1, 2, 3]].any()


def test_pose_axes_point_at_the_facial_features(samples):
    for s in samples:
        r = quat_to_matrix(s.labels["quats"])
        points, centre = s.labels["pt3d_68"], s.labels["coords"][:2]
        forward, up = -r[:2, 2], -r[:2, 1]
        if np.linalg.norm(forward) > 0.3:
            assert np.dot(points[30, :2] - centre, forward) > 0  # the nose tip is ahead of the head centre
        if np.linalg.norm(up) > 0.3:
            assert np.dot(points[27, :2] - points[8, :2], up) > 0  # the chin is below the nose bridge
