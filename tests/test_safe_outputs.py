"""Outputs are never clobbered, never half-written, and leave no debris: the faults found by probing.

- Two writers of one output: the second fails at its final step instead of replacing the first.
- Temporaries of processes killed with -9 are removed by the next writer in that folder.
- Worker processes end when the process that started them is killed.
- A folder that takes no new files is refused before any work, in one line.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest
from bad_inputs import screen_lines
from conftest import random_sample

from opnet.data import DatasetWriter
from opnet.errors import OpNetError
from opnet.fileio import atomic_output, check_folder_creatable, check_writable, remove_stale_temporaries

SRC = Path(__file__).resolve().parents[1] / "src"


def dead_pid() -> int:
    """The id of a process that has ended (and been reaped)."""
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_a_file_that_appears_while_writing_is_not_replaced(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    with pytest.raises(OpNetError, match="already exists .*appeared while this was written"):
        with atomic_output(target) as tmp:
            tmp.write_text("mine")
            target.write_text("theirs")  # another writer finished first
    assert target.read_text() == "theirs"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]


def test_a_folder_that_appears_while_writing_is_not_replaced(tmp_path: Path) -> None:
    target = tmp_path / "report"
    with pytest.raises(OpNetError, match="appeared while this was written"):
        with atomic_output(target) as tmp:
            tmp.mkdir()
            (tmp / "a.txt").write_text("mine")
            target.mkdir()
            (target / "b.txt").write_text("theirs")
    assert [p.name for p in target.iterdir()] == ["b.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


def test_overwrite_still_replaces(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old")
    with atomic_output(target, overwrite=True) as tmp:
        tmp.write_text("new")
    assert target.read_text() == "new"


def test_dataset_writer_does_not_replace_a_file_that_appeared(tmp_path: Path, rng) -> None:
    target = tmp_path / "d.h5"
    writer = DatasetWriter(target)
    writer.append(random_sample(rng))
    target.write_bytes(b"someone else's file")
    with pytest.raises(OpNetError, match="appeared while this was written"):
        writer.close()
    assert target.read_bytes() == b"someone else's file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.h5"]


@pytest.mark.slow
def test_two_synth_runs_of_one_output_one_fails(tmp_path: Path) -> None:
    """Both start while the file does not exist; only the first to finish may write it."""
    out = tmp_path / "x.h5"
    command = [sys.executable, "-m", "opnet", "synth", str(out), "-n", "8", "--size", "64", "--workers", "1"]
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    runs = [subprocess.Popen(command, env=env, stderr=subprocess.PIPE) for _ in range(2)]
    results = [(run.wait(timeout=300), run.stderr.read().decode()) for run in runs]  # type: ignore[union-attr]
    codes = sorted(code for code, _ in results)
    assert codes == [0, 2], results
    loser = screen_lines(next(err for code, err in results if code == 2))  # its progress bar, then:
    assert loser[-1].startswith("opnet synth: error: ") and "already exists" in loser[-1], loser
    assert not [line for line in loser[:-1] if "error" in line.lower()], loser
    with h5py.File(out) as f:
        assert len(f["images"]) == 8
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.h5"]


def test_stale_temporaries_of_dead_processes_are_removed(tmp_path: Path) -> None:
    dead = dead_pid()
    stale = [tmp_path / f".a.h5.tmp-{dead}", tmp_path / f".clip.mp4.tmp-{dead}.mp4"]
    for path in stale:
        path.write_bytes(b"x" * 1000)
    (tmp_path / f".images.tmp-{dead}").mkdir()
    (tmp_path / f".images.tmp-{dead}" / "00000000.jpg").write_bytes(b"x")
    live = tmp_path / f".b.h5.tmp-{os.getpid()}"
    live.write_bytes(b"in progress")
    unrelated = [tmp_path / ".hidden", tmp_path / "notes.tmp-12", tmp_path / "kept.h5"]
    for path in unrelated:
        path.write_bytes(b"mine")
    with atomic_output(tmp_path / "c.txt") as tmp:
        tmp.write_text("done")
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted([live.name, "c.txt", *(p.name for p in unrelated)])
    assert remove_stale_temporaries(tmp_path) == []


def test_an_unwritable_folder_is_refused_in_one_line(tmp_path: Path, monkeypatch) -> None:
    def refuse(path, flags, mode=0o777):  # noqa: ANN001 - os.open's signature
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(os, "open", refuse)
    with pytest.raises(OpNetError, match=r"out.h5: cannot write into .* \(Permission denied\)$"):
        check_writable(tmp_path / "out.h5", overwrite=False)
    with pytest.raises(OpNetError, match=r"run/sub: cannot write into .* \(Permission denied\)$"):
        check_folder_creatable(tmp_path / "run" / "sub")


def _session(sid: int) -> dict[int, int]:
    """{pid: parent pid} of the live processes in session ``sid``."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid and fields[0] != "Z":
            found[int(entry.name)] = int(fields[1])
    return found


def _workers(sid: int) -> list[int]:
    """Processes started by a child of the session leader (the fork server's workers)."""
    session = _session(sid)
    return [pid for pid, parent in session.items() if parent in session and parent != sid]


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_workers_end_when_the_main_process_is_killed(tmp_path: Path) -> None:
    """``kill -9`` of ``opnet synth`` leaves no fork server or worker running (they used to spin on)."""
    command = [sys.executable, "-m", "opnet", "synth", str(tmp_path / "x.h5"), "-n", "4000"]
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    proc = subprocess.Popen(
        [*command, "--size", "64", "--workers", "2"],
        env=env,
        start_new_session=True,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while len(_workers(proc.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(_workers(proc.pid)) == 2, f"the workers did not start: {_session(proc.pid)}"
        time.sleep(1.0)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 15
        while _session(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _session(proc.pid) == {}
    finally:
        for pid in _session(proc.pid):
            os.kill(pid, signal.SIGKILL)
    leftovers = [p.name for p in tmp_path.iterdir()]
    assert leftovers and all(".tmp-" in name for name in leftovers)  # the killed run's temporary
    with atomic_output(tmp_path / "next.txt") as tmp:  # the next writer in the folder clears it
        tmp.write_text("x")
    assert [p.name for p in tmp_path.iterdir()] == ["next.txt"]


def test_dataset_temporaries_are_cleared_too(tmp_path: Path, rng) -> None:
    stale = tmp_path / f".old.h5.tmp-{dead_pid()}"
    stale.write_bytes(np.zeros(1000, np.uint8).tobytes())
    with DatasetWriter(tmp_path / "new.h5") as w:
        w.append(random_sample(rng))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.h5"]
