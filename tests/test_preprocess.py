"""The shared crop / normalisation / decoding pipeline (opnet.preprocess)."""

from __future__ import annotations

import numpy as np

from opnet.normalization import brightness_scale, normalize_brightness
from opnet.preprocess import Patch, crop_patch, network_input, patch_around


def test_patch_round_trips():
    p = Patch((100.0, 80.0), 50.0)
    coords = np.array([110.0, 70.0, 20.0])
    assert np.allclose(p.encode_pos_size(coords), [0.4, -0.4, 0.8])
    assert np.allclose(p.decode_pos_size(p.encode_pos_size(coords)), coords)
    box = np.array([90.0, 60.0, 125.0, 105.0])
    assert np.allclose(p.decode_box(p.encode_box(box)), box)
    pts = np.random.default_rng(0).uniform(50, 150, (68, 3))
    assert np.allclose(p.decode_points(p.encode_points(pts)), pts)


def test_patch_around_is_square_on_the_box_centre():
    p = patch_around([10, 20, 50, 100], expansion=1.1)
    assert p.centre == (30.0, 60.0) and np.isclose(p.side, 88.0)


def test_crop_puts_image_points_where_the_patch_says():
    img = np.zeros((200, 300), np.uint8)
    img[60:70, 140:150] = 255  # a block centred at (145, 65) in corner coordinates
    crop, patch = crop_patch(img, Patch((130.0, 75.0), 60.0), out_size=60)
    ys, xs = np.nonzero(crop > 127)
    centre_in_crop = np.array([xs.mean() + 0.5, ys.mean() + 0.5])
    expected = (patch.from_image([145.0, 65.0]) + 1) * 30
    assert np.allclose(centre_in_crop, expected, atol=0.5)


def test_brightness_normalisation_matches_opentrack():
    bright = np.full((129, 129), 200, np.uint8)
    assert brightness_scale(bright) == 1 / 255
    assert np.allclose(normalize_brightness(bright), 200 / 255 - 0.5)
    dark = np.zeros((129, 129), np.uint8)
    dark[:, :65] = 40  # 90th percentile: first level whose cumulative count exceeds 0.9 * N -> 40
    assert np.isclose(brightness_scale(dark), 0.45 / 40)
    assert np.allclose(normalize_brightness(dark)[0, 0], 40 * 0.45 / 40 - 0.5)
    black = np.zeros((129, 129), np.uint8)
    assert np.isclose(brightness_scale(black), 0.45 / 5)


def test_network_input_shape_and_dtype():
    img = np.random.default_rng(0).integers(0, 255, (240, 320), dtype=np.uint8)
    x, patch = network_input(img, [100, 50, 180, 150], expansion=1.1)
    assert x.shape == (1, 1, 129, 129) and x.dtype == np.float32
    assert patch.side == 110.0
