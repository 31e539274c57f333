"""``opnet synth`` and the dataset generator: valid files, reproducible for a seed whatever the workers."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from opnet.cli import main
from opnet.data import open_dataset
from opnet.data.images import encode_image
from opnet.synth.config import SynthConfig
from opnet.synth.generate import JPEG_QUALITY, generate_dataset, sample_at

CONFIG = SynthConfig(image_size=64, samples_per_identity=4)


def _contents(path) -> dict[str, list]:
    with h5py.File(path, "r") as f:
        return {name: [bytes(x) for x in f[name][:]] if name == "images" else f[name][:] for name in f}


def _assert_same(a: dict, b: dict, count: int | None = None) -> None:
    for name in ("images", "quats", "coords", "pt3d_68", "pt2d_68", "rois"):
        left, right = a[name][:count], b[name][:count]
        assert len(left) == len(right) and all(
            np.array_equal(x, y) for x, y in zip(left, right, strict=True)
        ), name


def test_output_depends_on_the_seed_only_not_on_the_workers(tmp_path):
    generate_dataset(tmp_path / "one.h5", 10, CONFIG, seed=3, workers=1, progress=False)
    generate_dataset(tmp_path / "two.h5", 10, CONFIG, seed=3, workers=2, progress=False)
    generate_dataset(tmp_path / "short.h5", 6, CONFIG, seed=3, workers=1, progress=False)
    generate_dataset(tmp_path / "other.h5", 6, CONFIG, seed=4, workers=1, progress=False)
    one, two, short = (
        _contents(tmp_path / "one.h5"),
        _contents(tmp_path / "two.h5"),
        _contents(tmp_path / "short.h5"),
    )
    _assert_same(one, two)
    _assert_same(one, short, count=6)  # a smaller set is the start of a larger one
    assert not np.array_equal(_contents(tmp_path / "other.h5")["quats"], short["quats"])
    assert one["sequence_starts"].tolist() == [0, 4, 8, 10]


def test_a_passed_deadline_stops_at_a_whole_person_after_the_minimum(tmp_path):
    full, cut = tmp_path / "full.h5", tmp_path / "cut.h5"
    assert generate_dataset(full, 16, CONFIG, seed=5, workers=1, progress=False) == 16
    made = generate_dataset(cut, 16, CONFIG, seed=5, workers=1, progress=False, deadline=0.0, min_samples=6)
    assert made == 8  # two persons of four: the first whole person past 6 samples
    stored = _contents(cut)
    assert stored["sequence_starts"].tolist() == [0, 4, 8]
    _assert_same(_contents(full), stored, count=8)  # the first persons of the full file


def test_sample_at_reproduces_a_stored_sample(tmp_path):
    path = tmp_path / "s.h5"
    generate_dataset(path, 6, CONFIG, seed=11, progress=False)
    stored = _contents(path)
    sample = sample_at(5, CONFIG, seed=11)
    assert encode_image(sample.rendering.image, lossy=True, jpeg_quality=JPEG_QUALITY) == stored["images"][5]
    with open_dataset(path) as ds:  # stored in pixel-centre coordinates, read back in pixel corners
        np.testing.assert_allclose(ds.read_field("pt3d_68")[5], sample.labels["pt3d_68"], atol=1e-4)


def test_cli_writes_a_valid_dataset_and_refuses_to_overwrite(tmp_path, capsys):
    out = tmp_path / "synth.h5"
    args = [
        "synth",
        str(out),
        "-n",
        "5",
        "--size",
        "96",
        "--workers",
        "1",
        "--per-identity",
        "2",
        "--seed",
        "2",
    ]
    assert main(args) == 0
    with open_dataset(out, color=True) as ds:
        assert len(ds) == 5
        assert {"images", "rois", "coords", "quats", "pt3d_68", "pt2d_68"} <= set(ds.fields)
        sample = ds[4]
        assert sample["images"].shape == (96, 96, 3)
        x0, y0, x1, y1 = sample["rois"]
        assert 0 <= x0 < x1 <= 96 and 0 <= y0 < y1 <= 96
    assert main(args) == 2
    assert "--force" in capsys.readouterr().err
    assert main([*args, "--force"]) == 0


@pytest.mark.parametrize(
    "extra, message",
    [
        (["-n", "0"], "-n 0"),
        (["-n", "2", "--yaw-max", "120"], "--yaw-max"),
        (["-n", "2", "--seed", "-1"], "--seed"),
    ],
)
def test_cli_names_the_bad_flag(tmp_path, capsys, extra, message):
    assert main(["synth", str(tmp_path / "x.h5"), "--workers", "1", *extra]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "x.h5").exists()
