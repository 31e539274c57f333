"""New views of a photo of a known head agree with rendering that head at the new pose."""

from __future__ import annotations

import numpy as np
import pytest

from opnet.augment3d.fitting import fit_shape
from opnet.augment3d.generate import face_assets
from opnet.augment3d.scene import ViewSettings, build_scene, head_depth, render_view
from opnet.augment3d.spotlight import sample_spotlight
from opnet.facemodel import landmarks_to_label, project
from opnet.geometry import euler_to_quat, geodesic_distance, hpb_to_quat, quat_to_hpb
from opnet.render import Lighting
from opnet.synth.background import random_background
from opnet.synth.person import sample_person, scene_assets
from opnet.synth.scene import render_shot
from opnet.synth.shot import Shot

SIZE = 160
UNLIT = Lighting(direction=(0.0, 0.0, -1.0), diffuse=(0.0, 0.0, 0.0), ambient=(1.0, 1.0, 1.0))


def photo_of(person, quat, coords, seed: int = 0) -> np.ndarray:
    """The person under flat light (so that shading does not depend on the pose) on a fixed background."""
    rng = np.random.default_rng(seed)
    shot = Shot(np.asarray(quat, float), np.asarray(coords, float), np.eye(3), UNLIT, 0.0, 0.0)
    background = random_background(np.random.default_rng(99), SIZE, SIZE)
    return render_shot(scene_assets(), person, shot, SIZE, rng, background=background).image


def true_pt3d(person, quat, coords) -> np.ndarray:
    model = scene_assets().model
    return landmarks_to_label(project(model.landmarks(person.shape), quat, coords))


@pytest.fixture(scope="module")
def known_photo():
    """A synthetic person at a near-frontal pose, its photo, and a scene fitted to its labels."""
    person = sample_person(np.random.default_rng(5), scene_assets())
    quat = euler_to_quat(np.deg2rad([8.0, 12.0, -4.0]))
    coords = np.array([78.0, 84.0, 42.0])
    photo = photo_of(person, quat, coords)
    model, mesh = face_assets(None)
    fit = fit_shape(model, true_pt3d(person, quat, coords), quat, coords)
    scene = build_scene(photo.astype(np.float32) / 255.0, mesh, fit.params)
    return person, quat, coords, photo, scene


def turned(quat, yaw_deg: float) -> np.ndarray:
    h, p, b = quat_to_hpb(quat)
    return hpb_to_quat([h + np.deg2rad(yaw_deg), p, b])


def face_region(pt3d: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(H, W) True inside the hull of the eyes, nose and mouth landmarks, shrunk a little."""
    import cv2

    inner = pt3d[17:, :2]
    centre = inner.mean(axis=0)
    hull = cv2.convexHull((centre + 0.85 * (inner - centre)).astype(np.float32)).astype(np.int32)
    mask = np.zeros(shape, np.uint8)
    cv2.fillConvexPoly(mask, hull, 1)
    return mask.astype(bool)


def test_the_source_pose_gives_back_the_photo(known_photo):
    _, quat, coords, photo, scene = known_photo
    image, labels = render_view(scene, quat)
    assert np.abs(image.astype(int) - photo.astype(int)).max() <= 1
    np.testing.assert_allclose(labels["coords"], coords, atol=1e-4)


@pytest.mark.parametrize("yaw_deg", [25.0, 50.0])
def test_new_view_agrees_with_rendering_the_known_head_there(known_photo, yaw_deg):
    person, quat, _, photo, scene = known_photo
    new = turned(quat, yaw_deg)
    image, labels = render_view(scene, new)
    assert geodesic_distance(labels["quats"], new) < 1e-6
    truth = true_pt3d(person, new, labels["coords"])
    box = np.sqrt(np.prod(np.ptp(truth[:, :2], axis=0)))
    assert np.abs(labels["pt3d_68"] - truth).max() < 0.01 * box
    np.testing.assert_allclose(labels["rois"], [*truth[:, :2].min(0), *truth[:, :2].max(0)], atol=0.01 * box)
    reference = photo_of(person, new, labels["coords"]).astype(float)
    face = face_region(truth, image.shape[:2])
    error = np.abs(image.astype(float) - reference)[face].mean()
    unturned = np.abs(photo.astype(float) - reference)[face].mean()
    assert error < 6.0 and error < 0.3 * unturned


def test_the_head_leaves_no_trace_where_it_was(known_photo):
    """Paint the head magenta in the photo: after a large turn, magenta may only remain on the head."""
    _, quat, _, photo, scene = known_photo
    front, _ = head_depth(scene.points, scene.mesh.triangles, *photo.shape[:2])
    marked = scene.photo.copy()
    marked[np.isfinite(front)] = (1.0, 0.0, 1.0)
    from dataclasses import replace

    image, labels = render_view(replace(scene, photo=marked), turned(quat, 70.0))
    moved = project(
        scene.mesh.vertices(scene.params.shape, scene.params.expression), labels["quats"], labels["coords"]
    )
    head_now, _ = head_depth(moved, scene.mesh.triangles, *photo.shape[:2])
    import cv2

    near_head = cv2.dilate(np.isfinite(head_now).astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    magenta = (image[..., 0] > 200) & (image[..., 1] < 60) & (image[..., 2] > 200)
    assert magenta[near_head].mean() > 0.3  # the test can see magenta
    assert magenta[~near_head].mean() < 0.002


def test_closed_eyes_bring_the_lids_together_and_leave_the_rest(known_photo):
    _, quat, _, _, scene = known_photo
    new = turned(quat, 20.0)
    _, open_labels = render_view(scene, new)
    _, closed = render_view(scene, new, ViewSettings(eyes_closed=1.0))
    lids = closed["pt3d_68"]
    for upper, lower in ((37, 41), (38, 40), (43, 47), (44, 46)):
        opened = abs(open_labels["pt3d_68"][upper, 1] - open_labels["pt3d_68"][lower, 1])
        assert abs(lids[upper, 1] - lids[lower, 1]) < 0.1 * opened
    others = np.setdiff1d(np.arange(68), np.arange(36, 48))
    np.testing.assert_allclose(closed["pt3d_68"][others], open_labels["pt3d_68"][others], atol=1e-6)
    np.testing.assert_allclose(closed["quats"], open_labels["quats"])


def test_spotlight_lights_the_side_the_face_turns_to(known_photo):
    _, quat, _, photo, scene = known_photo
    new = turned(quat, 40.0)
    plain, labels = render_view(scene, new)
    light = sample_spotlight(np.random.default_rng(0), new)
    lit, _ = render_view(scene, new, ViewSettings(spotlight=light))
    ratio = ((lit.astype(float) + 1) / (plain.astype(float) + 1)).mean(axis=-1)
    moved = project(
        scene.mesh.vertices(scene.params.shape, scene.params.expression), labels["quats"], labels["coords"]
    )
    head = np.isfinite(head_depth(moved, scene.mesh.triangles, *photo.shape[:2])[0])
    columns = np.nonzero(head.any(axis=0))[0]
    middle = 0.5 * (columns.min() + columns.max())
    x = np.arange(head.shape[1])[None, :]
    face_side = head & ((x < middle) if labels["pt3d_68"][30, 0] < labels["pt3d_68"][27, 0] else (x > middle))
    assert np.sign(light.direction[0]) == np.sign(labels["pt3d_68"][30, 0] - labels["pt3d_68"][27, 0])
    assert ratio[face_side].mean() > ratio[head & ~face_side].mean() + 0.2
