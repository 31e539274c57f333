"""Safe output files: never half-written (temp name, then rename), never overwritten without ``overwrite``."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from opnet.errors import OpNetError


def check_writable(path: Path, overwrite: bool) -> None:
    """Raises if ``path`` exists and may not be replaced, or if its folder does not exist."""
    if path.exists() and not overwrite:
        raise OpNetError(f"{path}: already exists; pass --force to overwrite it")
    if not path.parent.is_dir():
        raise OpNetError(f"{path}: folder {path.parent} does not exist")


def temp_path_for(path: Path, keep_suffix: bool = False) -> Path:
    """A hidden sibling of ``path`` in the same folder (so that the final rename is atomic).

    ``keep_suffix``: the temporary name ends in ``path``'s suffix too, for writers that choose the
    format by suffix (``cv2.VideoWriter``).
    """
    return path.with_name(f".{path.name}.tmp-{os.getpid()}{path.suffix if keep_suffix else ''}")


def remove_path(path: Path) -> None:
    """Removes a file or a folder tree if it exists."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_output(
    path: str | os.PathLike, overwrite: bool = False, keep_suffix: bool = False
) -> Iterator[Path]:
    """Yields a temporary path to write; renames it to ``path`` on success, deletes it on error.

    Works for files and folders alike (an existing folder at ``path`` is replaced as a whole).
    ``keep_suffix``: see :func:`temp_path_for`.
    """
    path = Path(path)
    check_writable(path, overwrite)
    tmp = temp_path_for(path, keep_suffix)
    remove_path(tmp)
    try:
        yield tmp
        if not tmp.exists():
            raise RuntimeError(f"{path}: nothing was written")
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        os.replace(tmp, path)
    finally:
        remove_path(tmp)
