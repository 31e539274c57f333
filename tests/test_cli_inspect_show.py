"""``opnet inspect`` and ``opnet show`` through the command-line entry point."""

from __future__ import annotations

import json

import cv2
import numpy as np
from conftest import AFLW_MINI, needs_shared

from opnet.cli import main


def test_inspect_prints_layout_and_statistics(small_dataset, capsys):
    assert main(["inspect", str(small_dataset)]) == 0
    out = capsys.readouterr().out
    assert "/quats shape=(12, 4), dtype=float32" in out
    assert '    ATTRIBUTE category: "q" (str)' in out
    assert '    ATTRIBUTE lossy: "True" (bool_)' in out
    assert "samples: 12" in out
    assert "sequences: 3 (length min 3, median 4, max 5)" in out
    assert "yaw_deg" in out and "roi_width_px" in out


def test_inspect_json(small_dataset, capsys):
    assert main(["inspect", "--json", str(small_dataset)]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["samples"] == 12 and stats["sequences"]["count"] == 3
    assert -46 < stats["yaw_deg"]["min"] <= stats["yaw_deg"]["max"] < 46
    assert stats["roi_width_px"]["median"] == 48.0


@needs_shared(AFLW_MINI)
def test_inspect_real_file(capsys):
    assert main(["inspect", str(AFLW_MINI)]) == 0
    out = capsys.readouterr().out
    assert "/shapeparams shape=(16, 50), dtype=float32" in out
    assert "450x450 (16)" in out
    yaw = next(line for line in out.splitlines() if "yaw_deg" in line)
    assert "min    -78.8" in yaw and "max     50.7" in yaw


def test_bad_file_gives_one_line_error(tmp_path, capsys):
    (tmp_path / "x.h5").write_text("not hdf5")
    assert main(["inspect", str(tmp_path / "x.h5")]) == 2
    err = capsys.readouterr().err
    assert err.strip().count("\n") == 0 and "x.h5: not an HDF5 file" in err and "Traceback" not in err


def test_show_writes_a_grid(small_dataset, tmp_path, capsys):
    out = tmp_path / "grid.png"
    assert main(["show", str(small_dataset), "-o", str(out), "--indices", "0 2-4"]) == 0
    img = cv2.imread(str(out))
    assert img.shape[0] == 2 * 256 + 22 and img.shape[1] == 2 * 256
    assert main(["show", str(small_dataset), "-o", str(out)]) == 2
    assert "already exists; pass --force" in capsys.readouterr().err
    assert main(["show", str(small_dataset), "-o", str(out), "--force", "--random", "9"]) == 0
    assert cv2.imread(str(out)).shape[:2] == (3 * 256 + 22, 3 * 256)


def test_show_pdf(small_dataset, tmp_path):
    out = tmp_path / "grid.pdf"
    assert main(["show", str(small_dataset), "-o", str(out)]) == 0
    assert out.read_bytes()[:4] == b"%PDF"


def test_show_bad_indices(small_dataset, tmp_path, capsys):
    assert main(["show", str(small_dataset), "-o", str(tmp_path / "g.png"), "--indices", "3 40"]) == 2
    assert "--indices: 40 not in 0..11" in capsys.readouterr().err
    assert not (tmp_path / "g.png").exists()


@needs_shared(AFLW_MINI)
def test_show_draws_axes_along_the_face_direction(tmp_path):
    """Sample 8 of aflw2kmini looks to image right (yaw -79): the blue forward axis must point right."""
    from opnet.data import open_dataset
    from opnet.viz.draw import AXIS_COLORS
    from opnet.viz.grid import render_tile

    tile = render_tile(open_dataset(AFLW_MINI, color=True)[8])
    blue = np.all(np.abs(tile.astype(int) - AXIS_COLORS[2]) < 40, axis=-1)
    ys, xs = np.nonzero(blue)
    assert xs.mean() > 128 + 20


def test_resolve_dataset(tmp_path, monkeypatch, small_dataset):
    import pytest

    from opnet.cli.common import resolve_dataset
    from opnet.errors import OpNetError

    assert resolve_dataset(str(small_dataset), "--data") == small_dataset
    monkeypatch.delenv("DATADIR", raising=False)
    with pytest.raises(OpNetError, match="--data aflw2k3d: set DATADIR to the folder that holds aflw2k.h5"):
        resolve_dataset("aflw2k3d", "--data")
    monkeypatch.setenv("DATADIR", str(tmp_path))
    with pytest.raises(OpNetError, match="aflw2k.h5 not found"):
        resolve_dataset("aflw2k3d", "--data")
    (tmp_path / "aflw2k.h5").write_bytes(small_dataset.read_bytes())
    assert resolve_dataset("aflw2k3d", "--data") == tmp_path / "aflw2k.h5"
    with pytest.raises(OpNetError, match="--ds nope: no such file, and not a dataset name"):
        resolve_dataset("nope", "--ds")
