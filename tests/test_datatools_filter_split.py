"""``opnet filter`` and ``opnet split``: dropping samples and splitting by whole sequences, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from prepare_fixtures import assert_same_sample, make_dataset

from opnet.cli import main
from opnet.data import open_dataset
from opnet.datatools import filter_dataset, split_dataset
from opnet.datatools.split import assign_sequences, sample_targets
from opnet.errors import OpNetError


def test_filter_drops_sequences_and_samples(tmp_path, small_dataset):
    # small_dataset: sequences [0, 5), [5, 9), [9, 12); a sequence with a hole stays one sequence
    kept = filter_dataset(small_dataset, tmp_path / "f.h5", drop_sequences=[1], drop_indices=[0, 10])
    assert kept == 6
    with open_dataset(tmp_path / "f.h5") as out, open_dataset(small_dataset) as source:
        np.testing.assert_array_equal(out.sequence_starts, [0, 4, 6])
        for j, i in enumerate([1, 2, 3, 4, 9, 11]):
            assert_same_sample(source, i, out, j)


def test_filter_cli_and_range_checks(tmp_path, small_dataset, capsys):
    assert main(["filter", str(small_dataset), "-o", str(tmp_path / "f.h5"), "--drop-sequences", "0-1"]) == 0
    with open_dataset(tmp_path / "f.h5") as out:
        assert len(out) == 3 and list(out.sequence_starts) == [0, 3]
    assert main(["filter", str(small_dataset), "-o", str(tmp_path / "g.h5"), "--drop-indices", "12"]) == 2
    assert "--drop-indices: 12 not in 0..11" in capsys.readouterr().err
    with pytest.raises(OpNetError, match="nothing left"):
        filter_dataset(small_dataset, tmp_path / "h.h5", drop_sequences=[0, 1, 2])


def test_filter_without_sequences(tmp_path, rng):
    plain = make_dataset(tmp_path / "plain.h5", rng, 6)
    filter_dataset(plain, tmp_path / "f.h5", drop_sequences=[1], drop_indices=[4])
    with open_dataset(tmp_path / "f.h5") as out, open_dataset(plain) as source:
        assert out.sequence_starts is None and len(out) == 4
        for j, i in enumerate([0, 2, 3, 5]):
            assert_same_sample(source, i, out, j)


@pytest.mark.parametrize("sizes", [{"fractions": [0.5, 0.5]}, {"counts": [4, None]}])
def test_split_keeps_sequences_whole_and_in_order(tmp_path, rng, sizes):
    starts = [0, 3, 4, 8, 9, 10, 15, 16, 18]
    source_path = make_dataset(tmp_path / "s.h5", rng, 20, starts=set(starts))
    outputs = [tmp_path / "a.h5", tmp_path / "b.h5"]
    written = split_dataset(source_path, outputs, seed=3, **sizes)
    assert sum(written) == 20 and min(written) > 0
    with open_dataset(source_path) as source:
        first_images = {source.read_image_bytes(s): s for s in starts}
        seen = []
        for path in outputs:
            with open_dataset(path) as part:
                # every output sequence is one whole source sequence, in the source's order
                picked = [first_images[part.read_image_bytes(int(j))] for j in part.sequence_starts[:-1]]
                assert picked == sorted(picked)
                j = 0
                for s in picked:
                    length = source.sequences[starts.index(s), 1] - s
                    for k in range(length):
                        assert_same_sample(source, s + k, part, j + k)
                    j += length
                assert j == len(part)
                seen += picked
        assert sorted(seen) == starts


def test_split_is_deterministic_for_a_seed_and_exact_without_sequences(tmp_path, rng):
    plain = make_dataset(tmp_path / "p.h5", rng, 10)
    for tag in ("x", "y"):
        split_dataset(plain, [tmp_path / f"{tag}1.h5", tmp_path / f"{tag}2.h5"], counts=[7, 3], seed=5)
    with open_dataset(tmp_path / "x1.h5") as x, open_dataset(tmp_path / "y1.h5") as y:
        assert len(x) == 7 and x.sequence_starts is None
        assert [x.read_image_bytes(i) for i in range(7)] == [y.read_image_bytes(i) for i in range(7)]
    split_dataset(plain, [tmp_path / "z1.h5", tmp_path / "z2.h5"], counts=[7, 3], seed=6)
    with open_dataset(tmp_path / "x1.h5") as x, open_dataset(tmp_path / "z1.h5") as z:
        assert [x.read_image_bytes(i) for i in range(7)] != [z.read_image_bytes(i) for i in range(7)]


def test_assignment_reaches_the_targets():
    lengths = np.ones(1000, dtype=np.int64)
    part = assign_sequences(lengths, sample_targets(1000, fractions=[0.7, 0.2, 0.1]), seed=0)
    np.testing.assert_array_equal(np.bincount(part), [700, 200, 100])
    lengths = np.random.default_rng(0).integers(1, 20, 300)
    part = assign_sequences(lengths, sample_targets(int(lengths.sum()), fractions=[0.8, 0.2]), seed=1)
    share = lengths[part == 1].sum() / lengths.sum()
    assert abs(share - 0.2) < 20 / lengths.sum()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"fractions": [0.5, 0.6]}, "sum to 1"),
        ({"counts": [5, 5]}, "sum to 10, the file has 12"),
        ({"counts": [None, None]}, "at most one 'rest'"),
        ({"counts": [20, None]}, "sum to 20"),
    ],
)
def test_bad_sizes_are_refused(tmp_path, small_dataset, kwargs, message):
    with pytest.raises(OpNetError, match=message):
        split_dataset(small_dataset, [tmp_path / "a.h5", tmp_path / "b.h5"], **kwargs)
    assert not (tmp_path / "a.h5").exists()


def test_split_cli(tmp_path, small_dataset, capsys):
    args = ["split", str(small_dataset), "-o", str(tmp_path / "a.h5"), str(tmp_path / "b.h5")]
    assert main([*args, "--counts", "rest", "4"]) == 0
    out = capsys.readouterr().out
    assert f"wrote {tmp_path / 'a.h5'}:" in out
    assert main([*args, "--fractions", "0.5", "0.5"]) == 2
    assert "already exists" in capsys.readouterr().err
