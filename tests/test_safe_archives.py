"""Bounded memory on archives: a .mat bomb inside a stored zip member is refused before it is inflated."""

from __future__ import annotations

import io
import os
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import scipy.io
from bad_inputs import aflw_zip_with, mat_bomb, screen_lines

from opnet.prepare.matfile import MAX_MAT_BYTES, bounded_mat_bytes, load_mat

SRC = Path(__file__).resolve().parents[1] / "src"
PEAK_LIMIT_MB = 600


def _savemat(compress: bool, **fields: object) -> bytes:
    out = io.BytesIO()
    scipy.io.savemat(out, fields, do_compression=compress)
    return out.getvalue()


@pytest.mark.parametrize("compress", [False, True])
def test_valid_files_read_as_scipy_reads_them(compress: bool) -> None:
    fields = {
        "Pose_Para": np.arange(7.0)[None],
        "pt3d_68": np.random.default_rng(0).normal(size=(3, 68)),
        "name": "image00002",
        "cell": np.array([[np.ones(3), "abc"]], dtype=object),
        "s": {"a": 1.0, "b": np.eye(2)},
    }
    data = _savemat(compress, **fields)
    ours, theirs = load_mat(data), scipy.io.loadmat(io.BytesIO(data))
    assert sorted(k for k in ours if not k.startswith("__")) == sorted(fields)
    np.testing.assert_array_equal(ours["pt3d_68"], theirs["pt3d_68"])
    np.testing.assert_array_equal(ours["s"]["b"][0, 0], np.eye(2))


def test_a_compressed_element_is_not_inflated_beyond_the_limit() -> None:
    bomb = mat_bomb(1_500_000_000)
    assert len(bomb) < 2_000_000
    with pytest.raises(ValueError, match="beyond the limit of 16 MiB"):
        bounded_mat_bytes(bomb)
    small = mat_bomb(MAX_MAT_BYTES // 2)  # the same structure within the limit reads
    assert load_mat(small)["Pose_Par"].shape == (MAX_MAT_BYTES // 16, 1)


def _element(kind: int, payload: bytes) -> bytes:
    return struct.pack("<II", kind, len(payload)) + payload + b"\0" * (-len(payload) % 8)


def _array(mx_class: int, dims: tuple[int, ...], name: bytes, *content: bytes) -> bytes:
    body = _element(6, struct.pack("<II", mx_class, 0)) + _element(5, struct.pack(f"<{len(dims)}i", *dims))
    return _element(14, body + _element(1, name) + b"".join(content))


HEADER = b"MATLAB 5.0 MAT-file".ljust(116, b" ") + b"\0" * 8 + b"\x00\x01IM"


def test_dimensions_beyond_the_bytes_are_refused() -> None:
    """A cell array declaring a billion cells in a few bytes (scipy would allocate them all)."""
    cells = HEADER + _array(1, (1_000_000_000, 1), b"c")
    with pytest.raises(ValueError, match="declares 1000000000 elements"):
        load_mat(cells)
    nested = HEADER + _array(1, (1, 1), b"c", _array(1, (50_000_000, 2), b""))
    with pytest.raises(ValueError, match="declares 100000000 elements"):
        load_mat(nested)
    doubles = HEADER + _array(6, (4096, 4096), b"x", _element(9, b"\0" * 64))
    with pytest.raises(ValueError, match="declares 16777216 elements"):
        load_mat(doubles)


@pytest.mark.parametrize("data", [b"", b"MATLAB", b"\0" * 200, HEADER + b"\x0f\0\0\0\xff\xff\0\0"])
def test_damaged_files_raise_value_error(data: bytes) -> None:
    with pytest.raises(ValueError):
        load_mat(data)


def _tree_pss_mb(sid: int) -> float:
    """The memory of every process in session ``sid`` together, in MB (proportional set sizes, so pages
    that forked workers share with their parent count once)."""
    total_kb = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[3]) != sid:
                continue
            rollup = (entry / "smaps_rollup").read_text()
        except (OSError, IndexError, ValueError):
            continue
        total_kb += sum(int(line.split()[1]) for line in rollup.splitlines() if line.startswith("Pss:"))
    return total_kb / 1024


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/smaps_rollup").exists(), reason="needs Linux /proc")
def test_prepare_refuses_the_mat_bomb_with_bounded_memory(tmp_path: Path) -> None:
    """The probe's file: a 1.5 MB zip, its .mat member stored 1:1, inflating to 1.5 GB. The whole
    command (main process and its two workers) is sampled every 20 ms."""
    archive = aflw_zip_with(tmp_path / "AFLW2000-3D.zip", mat_bomb(1_500_000_000))
    assert archive.stat().st_size < 2_000_000
    command = [sys.executable, "-m", "opnet", "prepare", "aflw2k3d", str(archive), str(tmp_path / "x.h5")]
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    run = subprocess.Popen(
        [*command, "--workers", "2"], env=env, stderr=subprocess.PIPE, start_new_session=True
    )
    peak_mb = 0.0
    while run.poll() is None:
        peak_mb = max(peak_mb, _tree_pss_mb(run.pid))
        time.sleep(0.02)
    lines = screen_lines(run.stderr.read().decode())  # type: ignore[union-attr]  # bytes: keep the bars' \r
    assert run.returncode == 2, lines
    assert len(lines) == 1 and lines[0].startswith("opnet prepare: error: "), lines
    assert "bad .mat file" in lines[0] and "16 MiB" in lines[0]
    assert 0 < peak_mb < PEAK_LIMIT_MB, f"peak memory {peak_mb:.0f} MB"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["AFLW2000-3D.zip"]
