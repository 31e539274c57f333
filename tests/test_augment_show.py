"""``opnet show --augmented``: the network inputs of training with their targets drawn."""

from __future__ import annotations

import cv2
import numpy as np
from conftest import AFLW_MINI, needs_shared

from opnet.cli import main
from opnet.viz.draw import LANDMARK_COLOR


def cyan_mask(image_bgr: np.ndarray) -> np.ndarray:
    rgb = image_bgr[..., ::-1].astype(int)
    return np.all(np.abs(rgb - LANDMARK_COLOR) < 60, axis=-1)


def test_show_augmented_draws_inputs_and_targets(small_dataset, tmp_path):
    out = tmp_path / "aug.png"
    assert main(["show", str(small_dataset), "--augmented", "--indices", "0-3", "-o", str(out)]) == 0
    picture = cv2.imread(str(out))
    assert picture.shape[:2] == (2 * 256 + 22, 2 * 256)
    assert cyan_mask(picture[:256, :256]).sum() > 50  # landmarks drawn on the first tile
    other = tmp_path / "aug2.png"
    assert (
        main(
            [
                "show",
                str(small_dataset),
                "--augmented",
                "--indices",
                "0-3",
                "-o",
                str(other),
                "--seed",
                "1",
                "--raug",
                "0",
                "--no-imgaug",
                "--roi-override",
                "landmarks",
            ]
        )
        == 0
    )
    assert not np.array_equal(picture, cv2.imread(str(other)))


@needs_shared(AFLW_MINI)
def test_show_augmented_real_faces(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["show", str(AFLW_MINI), "--augmented", "--random", "4", "--columns", "4"]) == 0
    picture = cv2.imread(str(tmp_path / "aflw2kmini-augmented.png"))
    assert picture.shape[:2] == (256 + 22, 4 * 256)
