"""Validation batches: the evaluation protocol's crop, targets that decode back to the labels, the loader."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import AFLW_MINI, needs_shared, random_sample

from opnet.data import DatasetWriter, open_dataset
from opnet.errors import DataError
from opnet.geometry import canonical_quat, roi_from_points
from opnet.preprocess import network_input
from opnet.targets import PoseBatch
from opnet.train import EvalDataset, aflw2k3d_split, make_eval_loader


def check_against_protocol(path, rows, batch: PoseBatch, roi_mode: str) -> None:
    ds = open_dataset(path)
    for i, row in enumerate(rows):
        sample = ds[row]
        landmarks = sample.get("pt3d_68", sample.get("pt2d_68"))
        expected, patch = network_input(sample["images"], roi_from_points(landmarks), expansion=1.1)
        assert torch.equal(batch.image[i], torch.from_numpy(expected[0]))
        t = batch.targets
        assert np.allclose(patch.decode_pos_size(t.pos_size[i].double().numpy()), sample["coords"], atol=1e-3)
        assert np.allclose(patch.decode_points(t.points[i].double().numpy()), landmarks, atol=1e-3)
        assert np.allclose(t.quat[i].numpy(), canonical_quat(sample["quats"]), atol=1e-6)
        box = sample["rois"] if roi_mode == "original" else roi_from_points(landmarks)
        assert np.allclose(patch.decode_box(t.box[i].double().numpy()), box, atol=1e-3)


@needs_shared(AFLW_MINI)
@pytest.mark.parametrize("roi_mode", ["original", "landmarks"])
def test_validation_crops_like_the_evaluation_protocol(roi_mode):
    val, _ = aflw2k3d_split(16)
    ds = EvalDataset(AFLW_MINI, indices=val[[3, 0, 9]], roi_mode=roi_mode)
    batch = ds.__getitems__([0, 1, 2])
    assert batch.image.shape == (3, 1, 129, 129) and batch.targets.has_points_z.all()
    check_against_protocol(AFLW_MINI, [3, 0, 9], batch, roi_mode)


def test_validation_loader_batches_in_order(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "val.h5"
    with DatasetWriter(path) as w:
        for _ in range(5):
            w.append(random_sample(rng, size=150))
    batches = list(make_eval_loader(EvalDataset(path), batch_size=2, workers=0))
    assert [len(b) for b in batches] == [2, 2, 1]
    check_against_protocol(path, [4], batches[2], "original")
    assert torch.equal(batches[1].image[0], EvalDataset(path)[2].image[0])


def test_validation_needs_a_face_box(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "nobox.h5"
    with DatasetWriter(path) as w:
        for _ in range(2):
            w.append({k: v for k, v in random_sample(rng).items() if k not in ("rois", "pt3d_68")})
    with pytest.raises(DataError, match="nobox.h5: sample 0 has no face box"):
        EvalDataset(path)
