"""``opnet join``: samples of all inputs, bit for bit, with sequence offsets kept."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from conftest import random_sample
from prepare_fixtures import assert_same_sample, make_dataset

from opnet.cli import main
from opnet.data import DatasetWriter, open_dataset
from opnet.data.fields import ImageStorage, image_spec
from opnet.datatools import join_datasets
from opnet.errors import OpNetError


def test_join_keeps_sequence_offsets_and_bytes(tmp_path, rng, small_dataset):
    plain = make_dataset(tmp_path / "plain.h5", rng, 3)
    other = make_dataset(tmp_path / "other.h5", rng, 4, starts={0, 1})
    assert join_datasets([small_dataset, plain, other], tmp_path / "joined.h5") == 19
    with open_dataset(tmp_path / "joined.h5") as joined:
        np.testing.assert_array_equal(joined.sequence_starts, [0, 5, 9, 12, 13, 14, 15, 16, 19])
        offset = 0
        for path in (small_dataset, plain, other):
            with open_dataset(path) as source:
                for i in range(len(source)):
                    assert_same_sample(source, i, joined, offset + i)
                offset += len(source)
    with h5py.File(small_dataset) as a, h5py.File(tmp_path / "joined.h5") as b:
        for name in a:
            if name != "sequence_starts":
                assert dict(a[name].attrs) == dict(b[name].attrs) and a[name].dtype == b[name].dtype


def test_files_without_sequences_join_without_sequences(tmp_path, rng):
    a, b = make_dataset(tmp_path / "a.h5", rng, 2), make_dataset(tmp_path / "b.h5", rng, 3)
    assert main(["join", str(a), str(b), "-o", str(tmp_path / "c.h5")]) == 0
    with open_dataset(tmp_path / "c.h5") as c:
        assert len(c) == 5 and c.sequence_starts is None


def test_fields_must_agree(tmp_path, rng, small_dataset):
    fewer = tmp_path / "fewer.h5"
    with DatasetWriter(fewer) as w:
        sample = random_sample(rng)
        del sample["shapeparams"]
        w.append(sample)
    with pytest.raises(OpNetError, match="joined files need the same fields"):
        join_datasets([small_dataset, fewer], tmp_path / "out.h5")
    png = make_dataset(tmp_path / "png.h5", rng, 2, specs={"images": image_spec(lossy=False)})
    with pytest.raises(OpNetError, match="field 'images' is stored differently"):
        join_datasets([small_dataset, png], tmp_path / "out.h5")
    assert not (tmp_path / "out.h5").exists()


def test_image_files_are_copied_into_the_output_folder(tmp_path, rng):
    spec = {"images": image_spec(storage=ImageStorage.FILENAME)}
    for folder in ("a", "out"):
        (tmp_path / folder).mkdir()
    a = make_dataset(tmp_path / "a" / "a.h5", rng, 2, specs=spec)
    b = make_dataset(tmp_path / "b.h5", rng, 2, specs=spec)
    join_datasets([a, b], tmp_path / "out" / "joined.h5")
    with open_dataset(tmp_path / "out" / "joined.h5") as joined, open_dataset(a) as sa, open_dataset(b) as sb:
        assert joined.fields["images"].storage == ImageStorage.FILENAME
        for i, (source, j) in enumerate([(sa, 0), (sa, 1), (sb, 0), (sb, 1)]):
            assert_same_sample(source, j, joined, i)
            assert joined.image_file(i).parent == tmp_path / "out" / "joined"
