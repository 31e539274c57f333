"""Mixing datasets: weights -> frequencies or loss weights, statistics of the draws, label masks, errors."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import random_sample
from scipy.stats import chisquare

from opnet.augment import AugmentConfig
from opnet.data import DatasetWriter
from opnet.errors import DataError, OpNetError
from opnet.train import MixSampler, MixSource, SampleKey, aflw2k3d_split, build_mix
from opnet.train.data import MixDataset
from opnet.train.sampler import draw_members


def write(path, count, drop=(), edit=None, seed=0):
    """``count`` random samples without the fields in ``drop``; ``edit(k, sample)`` may change one."""
    rng = np.random.default_rng(seed)
    with DatasetWriter(path) as w:
        for k in range(count):
            sample = {n: v for n, v in random_sample(rng).items() if n not in drop}
            if edit:
                edit(k, sample)
            w.append(sample)
    return path


@pytest.fixture
def three(tmp_path):
    return [write(tmp_path / f"d{i}.h5", n, seed=i) for i, n in enumerate((5, 7, 11))]


def test_sampling_weighting(three):
    mix = build_mix(
        [
            MixSource("repro_300_wlp", three[0]),
            MixSource("wflw_lp", three[1]),
            MixSource("other", three[2], weight=20000),
        ]
    )
    assert [m.weight for m in mix.members] == [60000, 40000, 20000]
    assert np.allclose(mix.frequencies, [0.5, 1 / 3, 1 / 6]) and np.all(mix.loss_weights == 1)
    assert "wflw_lp" in mix.describe() and "33.3" in mix.describe()


def test_loss_weighting_draws_uniformly_and_scales_losses(three):
    mix = build_mix(
        [MixSource("a", three[0], 300), MixSource("b", three[1], 100), MixSource("c", three[2])],
        loss_weighting=True,
    )
    assert np.allclose(mix.frequencies, 1 / 3)
    assert np.allclose(mix.loss_weights, [1.0, 1 / 3, 11 / 300])  # a path's default weight: its sample count
    batch = MixDataset(mix, AugmentConfig(), 0).__getitems__([SampleKey(0, k, k % 3, 0) for k in range(6)])
    assert np.allclose(batch.targets.weight.numpy(), [1.0, 1 / 3, 11 / 300] * 2)
    assert batch.targets.dataset.tolist() == [0, 1, 2, 0, 1, 2]


def test_draws_match_the_frequencies_chi_square():
    frequencies = np.array([0.6, 0.25, 0.1, 0.05])
    members = draw_members(frequencies, seed=3, epoch=0, length=20000)
    counts = np.bincount(members, minlength=4)
    assert chisquare(counts, 20000 * frequencies).pvalue > 1e-3
    sampler = MixSampler(frequencies, [50, 40, 30, 20], seed=9)
    plan = np.concatenate([sampler.plan(e)[0] for e in range(2)])
    assert chisquare(np.bincount(plan, minlength=4), len(plan) * frequencies).pvalue > 1e-3
    wrong = np.array([0.5, 0.3, 0.15, 0.05])
    assert chisquare(counts, 20000 * wrong).pvalue < 1e-6  # the test can tell a wrong mix


def test_aflw2k3d_trains_without_its_validation_split(tmp_path):
    path = write(tmp_path / "aflw.h5", 450)
    val, train = aflw2k3d_split(450)
    assert val.tolist() == list(range(400)) and train.tolist() == list(range(400, 450))
    mix = build_mix([MixSource("aflw2k3d", path)])
    assert mix.members[0].rows.tolist() == list(range(400, 450)) and mix.members[0].weight == 1000


def test_masks_follow_the_labels_each_file_has(tmp_path):
    def as_2d(k, s):
        s["pt2d_68"] = s.pop("pt3d_68")[:, :2]

    def broken(k, s):
        if k == 1:
            s["quats"][:] = np.nan
            s["coords"][2] = -1.0

    files = [
        write(tmp_path / "full.h5", 2),
        write(tmp_path / "noquat.h5", 2, drop=("quats", "shapeparams")),
        write(tmp_path / "pt2d.h5", 2, edit=as_2d),
        write(tmp_path / "nopts.h5", 2, drop=("pt3d_68",)),
        write(tmp_path / "broken.h5", 2, edit=broken),
    ]
    mix = build_mix([MixSource(p.stem, p) for p in files])
    keys = [SampleKey(0, k, m, k % 2) for m in range(5) for k in range(2)]
    t = MixDataset(mix, AugmentConfig(flip_prob=0.0), 1).__getitems__(keys).targets
    expect = {  # per file: quat, pos_size, points, points_z, shapeparams
        "full": (1, 1, 1, 1, 1),
        "noquat": (0, 1, 1, 1, 0),
        "pt2d": (1, 1, 1, 0, 1),
        "nopts": (1, 1, 0, 0, 1),
    }
    for m, name in enumerate(["full", "noquat", "pt2d", "nopts"]):
        for i in (2 * m, 2 * m + 1):
            got = (t.has_quat[i], t.has_pos_size[i], t.has_points[i], t.has_points_z[i], t.has_shapeparams[i])
            assert tuple(int(v) for v in got) == expect[name], name
    assert t.has_quat[8] and not t.has_quat[9] and not t.has_pos_size[9] and t.has_points[9]
    assert t.has_box.all()
    missing = ~t.has_quat | ~t.has_pos_size
    assert not t.quat[~t.has_quat].any() and not t.pos_size[~t.has_pos_size].any() and missing.sum() == 3
    assert not t.points[~t.has_points].any() and not t.points[t.has_points & ~t.has_points_z][..., 2].any()


def test_files_without_images_or_face_boxes_are_refused_by_name(tmp_path):
    no_images = write(tmp_path / "noimg.h5", 2, drop=("images",))
    with pytest.raises(DataError, match="noimg.h5: holds no images"):
        build_mix([MixSource("x", no_images)])

    def no_roi(k, s):
        if k == 1:
            s["rois"][:] = np.nan

    bad = write(tmp_path / "noroi.h5", 3, edit=no_roi)
    with pytest.raises(DataError, match=r"noroi.h5: 1 samples have no face box \('rois'\), e.g. sample 1"):
        build_mix([MixSource("x", bad)])
    assert build_mix([MixSource("x", bad)], roi_mode="landmarks").sizes.tolist() == [3]
    no_box = write(tmp_path / "nobox.h5", 2, drop=("rois", "pt3d_68"))
    with pytest.raises(DataError, match="nobox.h5: 2 samples have no face box"):
        build_mix([MixSource("x", no_box)], roi_mode="landmarks")
    with pytest.raises(OpNetError, match="no training datasets"):
        build_mix([])
    with pytest.raises(DataError, match="missing.h5: no such file"):
        build_mix([MixSource("x", tmp_path / "missing.h5")])


def test_an_undecodable_image_names_its_file_and_sample(tmp_path):
    def corrupt(k, s):
        if k == 2:
            s["images"] = b"\xff\xd8\xff" + bytes(200)

    path = write(tmp_path / "corrupt.h5", 3, edit=corrupt)
    samples = MixDataset(build_mix([MixSource("c", path)]), AugmentConfig(), 0)
    samples.__getitems__([SampleKey(0, 0, 0, 1)])
    with pytest.raises(DataError, match=r"corrupt.h5: field 'images', sample 2: image does not decode"):
        samples.__getitems__([SampleKey(0, 0, 0, 0), SampleKey(0, 1, 0, 2)])


def test_reading_many_images_at_once_keeps_order_and_repeats(tmp_path, small_dataset):
    from opnet.data import open_dataset

    ds = open_dataset(small_dataset)
    rows = [5, 0, 5, 11, 3]
    assert ds.read_image_bytes_many(rows) == [ds.read_image_bytes(i) for i in rows]
    assert ds.read_image_bytes_many([]) == []
    files = tmp_path / "files.h5"
    from opnet.data.fields import ImageStorage, image_spec

    with DatasetWriter(files, specs={"images": image_spec(storage=ImageStorage.FILENAME)}) as w:
        for k in range(3):
            w.append({"images": ds.read_image_bytes(k), "rois": np.array([0, 0, 9, 9], np.float32)})
    stored = open_dataset(files)
    assert stored.read_image_bytes_many([2, 0]) == [ds.read_image_bytes(2), ds.read_image_bytes(0)]
