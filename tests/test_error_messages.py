"""Quieter errors: one line that says what is wrong, without library noise or endless lists."""

from __future__ import annotations

import pytest
from bad_inputs import run_on_screen, tiny_checkpoint, wrong_onnx

from opnet.errors import summarise_indices


@pytest.mark.parametrize(
    ("indices", "text"),
    [
        ([7], "7"),
        ([3, 4, 5, 9], "3-5, 9 (4 in all)"),
        (range(12, 100_012), "12-100011 (100000 in all)"),
        ([1, 3, 5, 7, 9, 11, 13], "1, 3, 5, 7, 9, ... (7 in all)"),
        ([5, 5, 4], "4-5 (2 in all)"),
    ],
)
def test_index_lists_are_summarised(indices, text: str) -> None:
    assert summarise_indices(indices) == text


def test_show_with_a_long_list_of_bad_indices(small_dataset, tmp_path, capfd) -> None:
    code, _, err = run_on_screen(
        "show", [small_dataset, "--indices", "0-99999", "-o", tmp_path / "g.png"], capfd
    )
    assert code == 2 and len(err) == 1, err
    assert err[0].endswith(f"--indices: 12-99999 (99988 in all) not in 0..11 ({small_dataset})")


def test_export_of_an_onnx_file_says_so(tmp_path, capfd) -> None:
    model = wrong_onnx(tmp_path / "model.onnx")
    code, _, err = run_on_screen("export", [model, "-o", tmp_path / "out.onnx"], capfd)
    assert code == 2 and len(err) == 1, err
    assert (
        err[0]
        == f"opnet export: error: {model}: expected a training checkpoint, got ONNX (an exported model)"
    )


def test_no_library_warnings_before_the_error(tmp_path, capfd) -> None:
    """A checkpoint given where a dataset belongs: torch, Lightning and h5py stay quiet."""
    checkpoint = tiny_checkpoint(tmp_path / "net.ckpt")
    code, _, err = run_on_screen("evaluate", [checkpoint, "--data", checkpoint], capfd)
    assert code == 2 and len(err) == 1 and err[0].startswith("opnet evaluate: error: "), err
