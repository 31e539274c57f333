"""The pieces of the scene: closed head mesh, mirror map, texture fill, surroundings sheet, eye closing."""

from __future__ import annotations

import numpy as np
import pytest

from opnet.augment3d.eyes import close_eyes
from opnet.augment3d.generate import face_assets
from opnet.augment3d.head import ellipsoid_mesh, is_closed, mirror_map
from opnet.augment3d.scene import head_depth
from opnet.augment3d.surround import surroundings
from opnet.augment3d.texture import diffuse_colours
from opnet.facemodel import project
from opnet.facemodel.procedural import procedural_head
from opnet.geometry import euler_to_quat


@pytest.fixture(scope="module")
def assets():
    return face_assets(None)


def test_procedural_head_is_closed_and_its_mirror_map_is_the_grids(assets):
    model, mesh = assets
    assert is_closed(model.triangles) and len(mesh.extra) == 0
    np.testing.assert_array_equal(mesh.mirror, procedural_head().mirror)
    np.testing.assert_array_equal(mesh.mirror[mesh.mirror], np.arange(mesh.num_vertices))


def test_ellipsoid_is_closed_and_faces_outwards():
    vertices, triangles = ellipsoid_mesh([0.0, 0.1, 0.2], [1.0, 2.0, 3.0], 10, 16)
    assert is_closed(triangles)
    a, b, c = (vertices[triangles[:, k]] for k in range(3))
    outward = np.einsum("ij,ij->i", np.cross(b - a, c - a), a - [0.0, 0.1, 0.2])
    assert np.all(outward > 0)
    assert not is_closed(triangles[:-1])
    np.testing.assert_array_equal(mirror_map(vertices)[mirror_map(vertices)], np.arange(len(vertices)))


def test_fill_keeps_seen_colours_and_blends_them_into_the_unseen(assets):
    _, mesh = assets
    rng = np.random.default_rng(0)
    colours = rng.uniform(0.2, 0.8, (mesh.num_vertices, 3))
    quality = (mesh.model.mean[:, 2] < -0.3).astype(np.float64)  # the face seen, the rest not
    fill = diffuse_colours(colours, quality, mesh)
    seen = quality == 1
    np.testing.assert_allclose(fill[seen], colours[seen], atol=1e-9)
    assert np.all(fill[~seen] >= 0.2 - 1e-9) and np.all(fill[~seen] <= 0.8 + 1e-9)
    assert fill[~seen].std() < colours[seen].std()


def test_sheet_is_inside_the_head_there_and_pinned_at_the_border(assets):
    model, mesh = assets
    quat, coords = euler_to_quat([0.1, 0.3, 0.0]), np.array([60.0, 64.0, 24.0])
    points = project(model.mean, quat, coords)
    front, back = head_depth(points, mesh.triangles, 128, 120)
    sheet = surroundings(front, back, 24.0, plane_depth=float(project(np.zeros(3), quat, coords)[2]))
    x, y, z = sheet.points.T
    assert {x.min(), x.max(), y.min(), y.max()} == {0.0, 120.0, 128.0}
    column, row = np.clip(x.astype(int), 0, 119), np.clip(y.astype(int), 0, 127)
    on_head = np.isfinite(front[row, column])
    assert on_head.any() and np.all(sheet.weights[on_head] > 0.99)
    assert np.all((z[on_head] > front[row, column][on_head]) & (z[on_head] < back[row, column][on_head]))
    border = (x == 0) | (y == 0) | (x == 120) | (y == 128)
    assert np.all(sheet.weights[border] == 0.0)
    distance = np.hypot(x - coords[0], y - coords[1])
    far, near = ~on_head & (distance > 2.5 * 24), ~on_head & (distance < 1.2 * 24)
    assert sheet.weights[far].max() < sheet.weights[near].min()


def test_closing_the_eyes_moves_only_the_eye_region(assets):
    model, _ = assets
    vertices = model.vertices()
    np.testing.assert_array_equal(close_eyes(vertices, model.landmark_indices, 0.0), vertices)
    closed = close_eyes(vertices, model.landmark_indices, 1.0)
    lm = closed[model.landmark_indices]
    for upper, lower in ((37, 41), (38, 40), (43, 47), (44, 46)):
        assert abs(lm[upper, 1] - lm[lower, 1]) < 0.1 * abs(
            vertices[model.landmark_indices][upper, 1] - vertices[model.landmark_indices][lower, 1]
        )
    moved = np.linalg.norm(closed - vertices, axis=1) > 1e-9
    assert np.all(np.abs(vertices[moved, 1] - vertices[model.landmark_indices][36:48, 1].mean()) < 0.4)
    assert np.all(vertices[moved, 2] < -0.5)  # the front of the face only
    np.testing.assert_array_equal(closed[:, [0, 2]], vertices[:, [0, 2]])
