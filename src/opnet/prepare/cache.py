"""The user's cache of downloaded model files, and how model arguments find their file.

Files live in one folder (``$XDG_CACHE_HOME/opnet``, default ``~/.cache/opnet``; the entry points
pass the environment to :func:`cache_dir_from_env`, the library takes the folder as an argument),
under the catalog's file names. They arrive as :func:`opnet.prepare.download.download` fetches them:
resumable (``NAME.part``), checked (size and sha256 where known) and renamed into place when whole.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from opnet.errors import OpNetError
from opnet.prepare.download import MODELS, Remote, download, file_sha256

log = logging.getLogger(__name__)

POSE_MODELS = (
    "head-pose-0.4-small-int8",
    "head-pose-0.5-small",
    "head-pose-0.5-big",
    "head-pose-0.2-small",
    "head-pose-0.2-big",
)
"""Pose models of the catalog in the order a default is chosen: the first one cached."""

LOCALIZER = "head-localizer"
"""The catalog's face localizer (``opnet track``'s detector)."""


def cache_dir_from_env(environ: Mapping[str, str]) -> Path:
    """``$XDG_CACHE_HOME/opnet``, else ``~/.cache/opnet`` (``environ``: the process environment)."""
    base = environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "opnet"


def cached_file(remote: Remote, cache_dir: str | os.PathLike) -> Path | None:
    """The entry's file in the cache if it is there whole (its size as listed), else None."""
    path = Path(cache_dir) / remote.filename
    if not path.is_file():
        return None
    if remote.size is not None and path.stat().st_size != remote.size:
        log.warning("%s: %d bytes, expected %d; ignored", path, path.stat().st_size, remote.size)
        return None
    return path


def fetch_model(
    remote: Remote,
    cache_dir: str | os.PathLike,
    mirror: str | None = None,
    force: bool = False,
    progress: bool = False,
) -> Path:
    """The entry's file in the cache, downloaded first if it is missing or incomplete (or ``force``).

    Entries without a known sha256 are fetched all the same, with a warning that gives the sha256
    of what arrived so that it can be compared with another source.
    """
    folder = Path(cache_dir)
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    present = cached_file(remote, folder)
    if present is not None and not force:
        return present
    if present is None and (folder / remote.filename).exists():
        (folder / remote.filename).unlink()
    try:
        path = download(remote, folder, force=force, progress=progress, mirror=mirror)
    except BaseException:
        if created:  # a failed first download leaves no empty cache behind (a partial one stays)
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
    if not remote.verified:
        log.warning(
            "%s: not verified: no sha256 is known for %s; the file that arrived has sha256 %s",
            remote.name,
            remote.filename,
            file_sha256(path),
        )
    return path


def _missing(name: str, flag: str) -> OpNetError:
    return OpNetError(
        f"{flag} {name}: not downloaded yet; fetch it with `opnet download {name}` (or add --download)"
    )


def resolve_model(
    value: str | os.PathLike | None,
    cache_dir: str | os.PathLike,
    flag: str = "--model",
    defaults: Sequence[str] = POSE_MODELS,
    download: bool = False,
    mirror: str | None = None,
    progress: bool = False,
) -> Path:
    """A model argument -> its file: an existing path as given, a catalog name from the cache, or
    (``value`` None) the first of ``defaults`` that is cached.

    Missing files are downloaded with ``download``; otherwise the error names the one command that
    fetches them.
    """
    if value is None:
        for name in defaults:
            path = cached_file(MODELS[name], cache_dir)
            if path is not None:
                return path
        if download:
            return fetch_model(MODELS[defaults[0]], cache_dir, mirror, progress=progress)
        raise OpNetError(
            f"no model given ({flag}) and none downloaded; fetch OpenTrack's with "
            f"`opnet download {defaults[0]}` (or add --download)"
        )
    text = os.fspath(value)
    if text in MODELS:
        path = cached_file(MODELS[text], cache_dir)
        if path is not None:
            return path
        if download:
            return fetch_model(MODELS[text], cache_dir, mirror, progress=progress)
        raise _missing(text, flag)
    path = Path(text)
    if not path.is_file():
        names = ", ".join(n for n in MODELS)
        raise OpNetError(f"{flag} {text}: no such file, and not a known model ({names})")
    return path
