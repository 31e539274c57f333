"""The pose filter and the ROI choices of the protocol."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import random_sample

from opnet.data import DatasetWriter, open_dataset
from opnet.errors import DataError
from opnet.evaluate.protocol import RoiChoice, RoiSource, dataset_rois, keep_mask, roi_choices
from opnet.geometry import euler_to_quat, roi_from_points


def test_filter_keeps_poses_below_99_degrees_and_non_negative_sizes():
    pyr = np.deg2rad([[98, 0, 0], [100, 0, 0], [0, 0, -120], [0, 98, 0], [-30, 60, 20], [0, 0, 0]])
    coords = np.array([[0, 0, 1]] * 5 + [[0, 0, -1]], float)
    keep = keep_mask(euler_to_quat(pyr), coords)
    # yaw 98 deg has no decomposition with |yaw| < 90 but pitch = roll = 180: dropped, as in the original.
    assert keep.tolist() == [True, False, False, False, True, False]
    assert keep_mask(euler_to_quat(pyr), coords, limit_deg=None).all()
    assert keep_mask(euler_to_quat(pyr), None, limit_deg=121).tolist() == [
        True,
        True,
        True,
        False,
        True,
        True,
    ]


@pytest.fixture
def labelled(tmp_path, rng):
    path = tmp_path / "labelled.h5"
    with DatasetWriter(path) as w:
        for _ in range(3):
            w.append(random_sample(rng))
    return path


def test_roi_choices(labelled, tmp_path, rng):
    with open_dataset(labelled) as ds:
        assert roi_choices(ds) == [RoiChoice(RoiSource.LANDMARKS, 1.1)]
        assert roi_choices(ds, "stored", 1.2) == [RoiChoice(RoiSource.STORED, 1.2)]
        every = roi_choices(ds, comprehensive=True)
        assert [c.label for c in every] == [
            "landmarks x1.0",
            "landmarks x1.1",
            "landmarks x1.2",
            "stored x1.0",
            "stored x1.1",
            "stored x1.2",
        ]
        pts = ds.read_field("pt3d_68")
        assert np.allclose(dataset_rois(ds, RoiSource.LANDMARKS), roi_from_points(pts))
        assert np.allclose(dataset_rois(ds, RoiSource.STORED), ds.read_field("rois"))
    path = tmp_path / "no-landmarks.h5"
    with DatasetWriter(path) as w:
        sample = random_sample(rng)
        w.append({k: sample[k] for k in ("images", "rois", "quats")})
    with open_dataset(path) as ds:
        assert roi_choices(ds) == [RoiChoice(RoiSource.STORED, 1.1)]
        with pytest.raises(DataError, match="--roi landmarks needs the field 'pt3d_68' or 'pt2d_68'"):
            roi_choices(ds, "landmarks")
