"""The numpy rasteriser, texture look-ups and supersampled windows, against brute-force references."""

from __future__ import annotations

import numpy as np
import pytest

from opnet.render.raster import rasterize
from opnet.render.texture import sample_texture
from opnet.render.window import RenderWindow


def _inside(points: np.ndarray, tri: np.ndarray) -> np.ndarray:
    """Brute force: which points (N, 2) lie in the triangle (3, 2) (either orientation)."""
    a, b, c = tri

    def cross(p, q, r):
        return (q[0] - p[0]) * (r[:, 1] - p[1]) - (q[1] - p[1]) * (r[:, 0] - p[0])

    d = np.stack([cross(a, b, points), cross(b, c, points), cross(c, a, points)])
    return np.all(d >= 0, axis=0) | np.all(d <= 0, axis=0)


def _pixel_centres(height: int, width: int) -> np.ndarray:
    ys, xs = np.mgrid[0:height, 0:width]
    return np.stack([xs.ravel() + 0.5, ys.ravel() + 0.5], axis=-1)


def test_triangle_covers_exactly_the_pixel_centres_inside_it(rng):
    for _ in range(20):
        tri = rng.uniform(-5, 45, (3, 2))
        e1, e2 = tri[1] - tri[0], tri[2] - tri[0]
        if e1[0] * e2[1] - e1[1] * e2[0] > 0:  # make it face the camera
            tri = tri[::-1]
        vertices = np.concatenate([tri, np.zeros((3, 1))], axis=1)
        fragments = rasterize(vertices, [[0, 1, 2]], 40, 40)
        expected = _inside(_pixel_centres(40, 40), tri)
        # Points on an edge may go either way: compare away from the edges only.
        assert np.array_equal(fragments.mask().ravel()[expected], np.ones(expected.sum(), bool))
        assert fragments.mask().sum() <= expected.sum() + 3


def test_barycentrics_reproduce_pixel_positions_and_depth(rng):
    vertices = np.array([[3.2, 4.1, 10.0], [30.7, 8.3, 20.0], [12.5, 35.9, 40.0]])[[0, 2, 1]]
    fragments = rasterize(vertices, [[0, 1, 2]], 40, 40)
    centres = _pixel_centres(40, 40)[fragments.pixels]
    np.testing.assert_allclose(fragments.interpolate(vertices[:, :2]), centres, atol=1e-3)
    np.testing.assert_allclose(fragments.interpolate(vertices[:, 2]), fragments.depth, atol=1e-3)
    np.testing.assert_allclose(fragments.barycentric.sum(axis=1), 1.0, atol=1e-5)


def test_nearest_triangle_wins_whatever_the_order():
    square = np.array([[0, 0], [20, 0], [20, 20], [0, 20]], float)
    near = np.concatenate([square, np.full((4, 1), 1.0)], axis=1)
    far = np.concatenate([square + 5, np.full((4, 1), 2.0)], axis=1)
    vertices = np.concatenate([near, far])
    quads = [[0, 3, 2], [0, 2, 1]]  # counter-clockwise on screen (y down) = facing the camera
    for triangles in ([*quads, *(np.array(quads) + 4)], [*(np.array(quads) + 4), *quads]):
        fragments = rasterize(vertices, triangles, 30, 30)
        owner = fragments.to_image(fragments.corners[:, 0] >= 4, fill=False)
        assert not owner[:20, :20].any()  # the near square everywhere it is
        assert owner[21:25, 21:25].all()


def test_back_faces_are_culled_unless_asked():
    vertices = np.array([[2.0, 2.0, 0.0], [2.0, 18.0, 0.0], [18.0, 2.0, 0.0]])
    assert len(rasterize(vertices, [[0, 1, 2]], 20, 20)) > 0
    assert len(rasterize(vertices, [[0, 2, 1]], 20, 20)) == 0
    assert len(rasterize(vertices, [[0, 2, 1]], 20, 20, cull_backfaces=False)) > 0


def test_shared_edges_leave_no_cracks(rng):
    # A fan of thin triangles around a centre: every pixel centre inside the polygon is covered.
    angles = np.sort(rng.uniform(0, 2 * np.pi, 40))
    ring = np.stack([30 + 25 * np.cos(angles), 30 + 25 * np.sin(angles), np.zeros(40)], axis=-1)
    vertices = np.concatenate([[[30.3, 29.7, 0.0]], ring])
    triangles = [[0, 1 + (k + 1) % 40, 1 + k] for k in range(40)]
    mask = rasterize(vertices, triangles, 60, 60, cull_backfaces=False).mask()
    centres = _pixel_centres(60, 60)
    inside = np.zeros(len(centres), bool)
    for a, b, c in triangles:
        inside |= _inside(centres, vertices[[a, b, c], :2])
    assert np.array_equal(mask.ravel() | ~inside, np.ones(len(centres), bool))


def test_per_corner_attributes_follow_their_triangle():
    vertices = np.array([[0.0, 0.0, 0.0], [0.0, 20.0, 0.0], [20.0, 20.0, 0.0], [20.0, 0.0, 0.0]])
    triangles = np.array([[0, 1, 2], [0, 2, 3]])
    uv = np.array([[0.0], [0.0], [0.0], [5.0], [5.0], [5.0]])
    fragments = rasterize(vertices, triangles, 20, 20)
    values = fragments.interpolate(uv, np.array([[0, 1, 2], [3, 4, 5]]))
    np.testing.assert_allclose(values[:, 0], np.where(fragments.triangles == 0, 0.0, 5.0))


def test_texture_samples_are_bilinear_at_texel_coordinates(rng):
    texture = rng.uniform(0, 1, (50, 70, 3)).astype(np.float32)
    texel = np.array([[3.0, 4.0], [10.5, 20.0], [69.0, 49.0]])
    out = sample_texture(texture, texel)
    np.testing.assert_allclose(out[0], texture[4, 3], atol=1e-3)
    np.testing.assert_allclose(out[1], 0.5 * (texture[20, 10] + texture[20, 11]), atol=1e-3)
    np.testing.assert_allclose(out[2], texture[49, 69], atol=1e-3)
    many = rng.uniform(0, 49, (40000, 2))  # more points than OpenCV maps take in one row
    np.testing.assert_allclose(
        sample_texture(texture, many)[-5:], sample_texture(texture, many[-5:]), atol=1e-5
    )


@pytest.mark.parametrize("factor", [1, 2, 3])
def test_supersampled_window_gives_area_coverage(factor):
    window = RenderWindow(x0=4, y0=6, width=20, height=16, factor=factor)
    # A rectangle x in [10.3, 17.1], y in [9.1, 12.4] in image pixels, as two triangles.
    corners = np.array([[10.3, 9.1, 0.0], [10.3, 12.4, 0.0], [17.1, 12.4, 0.0], [17.1, 9.1, 0.0]])
    fragments = rasterize(window.to_window(corners), [[0, 1, 2], [0, 2, 3]], *window.shape)
    image = np.zeros((30, 30, 3), np.float32)
    coverage = fragments.to_image(np.ones(len(fragments), np.float32))
    window.composite(image, np.repeat(coverage[..., None], 3, axis=-1), coverage)
    # Each edge pixel is off by less than 1 / factor of its covered fraction.
    assert image[..., 0].sum() == pytest.approx(6.8 * 3.3, abs=(6.8 + 3.3) / factor)
    assert image[10, 12, 0] == pytest.approx(1.0)
    assert image[10, 9, 0] == 0.0 and image[8, 12, 0] == 0.0
    expected_edge = {1: 1.0, 2: 0.5, 3: 2 / 3}[factor]  # pixel column 10 is 70% covered
    assert image[10, 10, 0] == pytest.approx(expected_edge)
