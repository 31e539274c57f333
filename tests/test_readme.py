"""The README's Python blocks run as written (in a fresh folder, with a photo and a model cache)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import pytest
from conftest import AFLW_MINI, POSE_MODEL, needs_shared

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), re.DOTALL)


def test_the_readme_has_the_python_blocks():
    assert len(BLOCKS) >= 2 and any("opnet.load(" in b for b in BLOCKS)


@pytest.mark.slow
@needs_shared(POSE_MODEL)
@needs_shared(AFLW_MINI)
@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_python_block_runs(index, tmp_path):
    from opnet.data import open_dataset

    with open_dataset(AFLW_MINI) as ds:
        cv2.imwrite(str(tmp_path / "photo.jpg"), ds.read_image(2, color=True)[:, :, ::-1])
    cache = tmp_path / "cache" / "opnet"
    cache.mkdir(parents=True)
    shutil.copy(POSE_MODEL, cache)  # as `opnet download` leaves it
    env = {
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "PYTHONPATH": str(README.parent / "src"),
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-c", BLOCKS[index]],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
