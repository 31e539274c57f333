"""``prepare synface``: face boxes from the segmentation, 68 of the 70 landmarks, JPEG or PNG storage."""

from __future__ import annotations

import numpy as np
from prepare_fixtures import synface_members, write_zip

from opnet.data import open_dataset
from opnet.data.images import ImageFormat, image_format
from opnet.prepare import Synface, run_conversion


def _segmentation(box: tuple[int, int, int, int] | None, label: int = 1, size: int = 96) -> np.ndarray:
    seg = np.zeros((size, size), np.uint8)
    seg[60:90, 5:20] = 13  # hair
    if box is not None:
        x0, y0, x1, y1 = box
        seg[y0 : y1 + 1, x0 : x1 + 1] = label
        seg[y0 + 5, x0 + 5] = 2  # nose, inside
    return seg


def test_boxes_landmarks_and_skips(tmp_path, rng):
    points = {i: rng.uniform(0, 96, (70, 2)) for i in range(4)}
    samples = {
        0: (_segmentation((20, 10, 70, 60)), points[0]),
        1: (_segmentation((30, 15, 62, 50), label=2), points[1]),
        2: (_segmentation((40, 40, 60, 60)), points[2]),  # 21 px: too small
        3: (_segmentation(None), points[3]),  # no skin: box of every class (the hair)
    }
    members = synface_members(rng, samples)
    write_zip(tmp_path / "dataset_100.zip", members)
    summary = run_conversion(Synface(min_face_px=10), tmp_path / "dataset_100.zip", tmp_path / "s.h5")
    assert summary.written == 4
    summary = run_conversion(Synface(), tmp_path / "dataset_100.zip", tmp_path / "s32.h5")
    assert summary.written == 2 and summary.skipped == {"face box not larger than 32 px": 2}
    with open_dataset(tmp_path / "s.h5") as ds:
        # Pixel (i, j) covers [j, j + 1] x [i, i + 1]: the box of columns 20..70 is [20, 71].
        np.testing.assert_array_equal(
            ds.read_field("rois"), [[20, 10, 71, 61], [30, 15, 63, 51], [40, 40, 61, 61], [5, 60, 20, 90]]
        )
        for i in range(4):
            np.testing.assert_allclose(ds.read_field("pt2d_68", [i])[0], points[i][:68] + 0.5, atol=1e-3)
        assert image_format(ds.read_image_bytes(0)) == ImageFormat.JPEG
        assert ds.read_image(0).shape == (96, 96)


def test_lossless_keeps_the_png_files(tmp_path, rng):
    members = synface_members(rng, {7: (_segmentation((20, 10, 70, 60)), rng.uniform(0, 96, (70, 2)))})
    write_zip(tmp_path / "d.zip", members)
    run_conversion(Synface(lossless=True), tmp_path / "d.zip", tmp_path / "s.h5")
    with open_dataset(tmp_path / "s.h5") as ds:
        assert ds.read_image_bytes(0) == members["000007.png"]
        assert ds.fields["images"].attrs["lossy"] == np.False_
