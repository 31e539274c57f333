"""Safe output files: never half-written (temp name, then rename), never overwritten without ``overwrite``.

A temporary is a hidden sibling ``.NAME.tmp-PID`` of the output. The final step cannot replace a file
that appeared meanwhile (another writer of the same name) unless ``overwrite``: a file is published
with a hard link, which fails if the name exists; a folder by first reserving its name (``mkdir``).
Temporaries left by processes that no longer run (killed with -9) are removed by the next writer in
that folder.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

from opnet.errors import OpNetError

_TEMP_NAME = re.compile(r"^\..+\.tmp-(?P<pid>[0-9]+)(\.[^.]*)?$")


def check_writable(path: Path, overwrite: bool) -> None:
    """Raises if ``path`` exists and may not be replaced, or if its folder does not exist or does not
    take new files (permissions, a read-only disk: tried by creating and removing the temporary)."""
    if path.exists() and not overwrite:
        raise OpNetError(f"{path}: already exists; pass --force to overwrite it")
    if not path.parent.is_dir():
        raise OpNetError(f"{path}: folder {path.parent} does not exist")
    _probe(path, path)


def _probe(path: Path, named: Path) -> None:
    """Raises, naming ``named``, unless the folder of ``path`` takes a new file (its temporary)."""
    tmp = temp_path_for(path)
    if tmp.exists():
        return  # this process is writing it already
    try:
        os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        os.unlink(tmp)
    except OSError as e:
        raise OpNetError(f"{named}: cannot write into {path.parent} ({e.strerror})") from None


def check_folder_creatable(folder: Path) -> None:
    """Raises unless ``folder`` is a folder that takes new files, or can be made in the nearest folder
    above it that exists."""
    existing = folder
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    if not existing.is_dir():
        raise OpNetError(f"{folder}: {existing} is not a folder")
    _probe(existing / folder.name, folder)


def temp_path_for(path: Path, keep_suffix: bool = False) -> Path:
    """A hidden sibling of ``path`` in the same folder (so that the final rename is atomic).

    ``keep_suffix``: the temporary name ends in ``path``'s suffix too, for writers that choose the
    format by suffix (``cv2.VideoWriter``).
    """
    return path.with_name(f".{path.name}.tmp-{os.getpid()}{path.suffix if keep_suffix else ''}")


def process_is_running(pid: int) -> bool:
    """Whether a process with this id runs on this machine (a zombie counts as running)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Removes the temporaries (``.NAME.tmp-PID...``) in ``folder`` whose process no longer runs;
    returns them. A temporary of a running process (this one included) is left alone."""
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = _TEMP_NAME.match(entry.name)
        if match is None or process_is_running(int(match["pid"])):
            continue
        with contextlib.suppress(OSError):
            remove_path(Path(entry.path))
            removed.append(Path(entry.path))
    return removed


_CLEARED: set[str] = set()
"""Folders whose stale temporaries this process removed already (once is enough: many outputs in one
folder, e.g. annotated images, would otherwise list it again for each)."""


def fresh_temp_path(path: Path, keep_suffix: bool = False) -> Path:
    """The temporary of ``path`` (:func:`temp_path_for`), after removing stale temporaries of dead
    processes in its folder (the first time this process writes there); raises :class:`OpNetError`
    if the folder does not take new files."""
    folder = os.path.realpath(path.parent)
    if folder not in _CLEARED:
        remove_stale_temporaries(path.parent)
        _CLEARED.add(folder)
    tmp = temp_path_for(path, keep_suffix)
    remove_path(tmp)
    check_writable(path, overwrite=True)
    return tmp


def remove_path(path: Path) -> None:
    """Removes a file or a folder tree if it exists."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def _appeared(path: Path) -> OpNetError:
    return OpNetError(
        f"{path}: already exists (it appeared while this was written); pass --force to overwrite it"
    )


def publish(tmp: Path, path: Path, overwrite: bool) -> None:
    """Moves the finished temporary ``tmp`` (file or folder) to ``path`` in one step.

    Without ``overwrite`` an existing ``path`` is never replaced, even one that appeared after the
    writer started: :class:`OpNetError` then, and ``tmp`` stays for the caller to remove.
    """
    if overwrite:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        os.replace(tmp, path)
    elif tmp.is_dir():
        _publish_folder(tmp, path)
    else:
        _publish_file(tmp, path)


def _publish_file(tmp: Path, path: Path) -> None:
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise _appeared(path) from None
    except OSError as e:
        if e.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
            raise
        _reserve_and_replace(tmp, path)  # a file system without hard links
        return
    os.unlink(tmp)


def _reserve_and_replace(tmp: Path, path: Path) -> None:
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        raise _appeared(path) from None
    os.replace(tmp, path)


def _publish_folder(tmp: Path, path: Path) -> None:
    try:
        path.mkdir()  # reserves the name; renaming a folder onto an empty folder replaces it
    except FileExistsError:
        raise _appeared(path) from None
    try:
        os.rename(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            path.rmdir()
        raise


@contextlib.contextmanager
def atomic_output(
    path: str | os.PathLike, overwrite: bool = False, keep_suffix: bool = False
) -> Iterator[Path]:
    """Yields a temporary path to write; moves it to ``path`` on success (:func:`publish`), deletes it
    on error.

    Works for files and folders alike (an existing folder at ``path`` is replaced as a whole).
    ``keep_suffix``: see :func:`temp_path_for`.
    """
    path = Path(path)
    check_writable(path, overwrite)
    tmp = fresh_temp_path(path, keep_suffix)
    try:
        yield tmp
        if not tmp.exists():
            raise RuntimeError(f"{path}: nothing was written")
        publish(tmp, path, overwrite)
    finally:
        with contextlib.suppress(OSError):
            remove_path(tmp)
