"""The --ds spec language and default weights."""

from __future__ import annotations

import pytest

from opnet.cli.common import KNOWN_DATASETS
from opnet.errors import OpNetError
from opnet.train import DEFAULT_WEIGHTS, SpecEntry, parse_dataset_spec


def test_parses_names_weights_and_paths_in_order():
    assert parse_dataset_spec("repro_300_wlp+lapa_megaface_lp:20000+wflw_lp") == [
        SpecEntry("repro_300_wlp"),
        SpecEntry("lapa_megaface_lp", 20000.0),
        SpecEntry("wflw_lp"),
    ]
    assert parse_dataset_spec(" 300wlp:92 + synface:8 ") == [
        SpecEntry("300wlp", 92.0),
        SpecEntry("synface", 8.0),
    ]
    assert parse_dataset_spec("data/my set.h5:1.5e3") == [SpecEntry("data/my set.h5", 1500.0)]


def test_the_path_of_an_existing_file_is_one_entry_even_with_plus_or_colon(tmp_path):
    folder = tmp_path / "run+1:a"
    folder.mkdir()
    (folder / "train.h5").write_bytes(b"")
    path = str(folder / "train.h5")
    assert parse_dataset_spec(path) == [SpecEntry(path)]
    assert parse_dataset_spec(f"{path}:500") == [SpecEntry(path, 500.0)]
    with pytest.raises(OpNetError, match="is not a number"):
        parse_dataset_spec(f"{path}:many")
    missing = str(tmp_path / "other+set.h5")
    assert parse_dataset_spec(missing) == [SpecEntry(str(tmp_path / "other")), SpecEntry("set.h5")]


@pytest.mark.parametrize(
    "spec, message",
    [
        ("", "--ds: empty"),
        ("a++b", "empty part between '+'"),
        ("a+", "empty part between '+'"),
        ("a:x", "weight 'x' in 'a:x' is not a number"),
        ("a:", "weight '' in 'a:' is not a number"),
        ("a:-3", "weight '-3' in 'a:-3' must be a positive number"),
        ("a:0", "must be a positive number"),
        ("a:nan", "must be a positive number"),
        (":5", "':5' has a weight but no dataset name"),
        ("a+b+a:3", "a given more than once"),
    ],
)
def test_errors_are_one_line_and_name_the_flag_and_the_part(spec, message):
    with pytest.raises(OpNetError) as info:
        parse_dataset_spec(spec)
    text = str(info.value)
    assert message in text and text.startswith("--ds") and "\n" not in text


def test_every_known_dataset_has_a_default_weight():
    assert set(KNOWN_DATASETS) <= set(DEFAULT_WEIGHTS)
    assert DEFAULT_WEIGHTS["repro_300_wlp"] == 60000 and DEFAULT_WEIGHTS["wflw_lp"] == 40000
    assert DEFAULT_WEIGHTS["lapa_megaface_lp"] == 10000 and DEFAULT_WEIGHTS["synface"] == 10000
