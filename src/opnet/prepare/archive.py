"""Read-only access to a raw dataset: a zip archive read in place, or an unpacked folder.

Members are never extracted. Reading is guarded: member names that are absolute or climb out
with ``..`` are left out (and refused if asked for), a member whose declared size or compression
ratio is absurd (a decompression bomb) is refused, and at most the declared size is ever
decompressed. A truncated or corrupt archive raises one-line :class:`OpNetError`.

An :class:`Archive` can be pickled into worker processes: each process opens its own handle.
"""

from __future__ import annotations

import logging
import os
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from opnet.errors import OpNetError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReadLimits:
    """What a single member may expand to; larger members are refused as likely decompression bombs."""

    max_member_bytes: int = 1 << 30
    max_ratio: float = 200.0
    ratio_exempt_bytes: int = 1 << 20  # small members may compress arbitrarily well


def is_safe_member_name(name: str) -> bool:
    """True for a relative name that stays inside the archive's root (no absolute path, no ``..``)."""
    if not name or name.startswith(("/", "\\")) or "\\" in name or "\0" in name:
        return False
    if len(name) > 1 and name[1] == ":":  # a Windows drive letter
        return False
    return ".." not in PurePosixPath(name).parts


class Archive:
    """Members of a zip file or of a folder tree, addressed by '/'-separated relative names."""

    def __init__(self, path: str | os.PathLike, limits: ReadLimits = ReadLimits()):
        self.path = Path(path)
        self.limits = limits
        if not self.path.exists():
            raise OpNetError(f"{self.path}: no such file or folder")
        self.is_folder = self.path.is_dir()
        self._zip: zipfile.ZipFile | None = None
        self._pid = -1
        self.unsafe_names: list[str] = []
        self._names = self._list_names()
        self._name_set = frozenset(self._names)

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_zip"], state["_pid"] = None, -1
        return state

    def __repr__(self) -> str:
        return f"Archive('{self.path}', {len(self._names)} members)"

    def names(self) -> list[str]:
        """Sorted names of all regular members with safe names."""
        return self._names

    def __contains__(self, name: str) -> bool:
        return name in self._name_set

    def _handle(self) -> zipfile.ZipFile:
        if self._zip is None or self._pid != os.getpid():
            self._zip = _open_zip(self.path)
            self._pid = os.getpid()
        return self._zip

    def close(self) -> None:
        if self._zip is not None and self._pid == os.getpid():
            self._zip.close()
        self._zip, self._pid = None, -1

    def _list_names(self) -> list[str]:
        raw = self._folder_names() if self.is_folder else self._zip_names()
        names = []  # unsafe names are left out; see unsafe_note()
        for name in raw:
            if is_safe_member_name(name):
                names.append(name)
            else:
                self.unsafe_names.append(name)
        return sorted(names)

    def unsafe_note(self) -> str:
        """What was left out for unsafe names (empty if nothing)."""
        if not self.unsafe_names:
            return ""
        count, example = len(self.unsafe_names), self.unsafe_names[0]
        return f"ignored {count} archive member(s) with unsafe names, e.g. {example!r}"

    def _zip_names(self) -> list[str]:
        return [info.filename for info in self._handle().infolist() if not info.is_dir()]

    def _folder_names(self) -> list[str]:
        names: list[str] = []
        for folder, dirs, files in os.walk(self.path):
            dirs.sort()
            rel = Path(folder).relative_to(self.path)
            names.extend((rel / f).as_posix() if rel.parts else f for f in files)
        return names

    def read(self, name: str) -> bytes:
        """The bytes of one member; raises OpNetError if it is missing, unsafe, too large or corrupt."""
        if not is_safe_member_name(name):
            raise OpNetError(f"{self.path}: refusing member {name!r}: absolute or outside the archive")
        if self.is_folder:
            return self._read_file(name)
        return self._read_zip_member(name)

    def _read_file(self, name: str) -> bytes:
        path = self.path / name
        root = os.path.realpath(self.path)
        if os.path.commonpath([root, os.path.realpath(path)]) != root:
            raise OpNetError(f"{self.path}: refusing {name!r}: it leads outside the folder")
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            raise OpNetError(f"{self.path}: missing {name!r}") from None
        self._check_size(name, size, size)
        return path.read_bytes()

    def _read_zip_member(self, name: str) -> bytes:
        zf = self._handle()
        try:
            info = zf.getinfo(name)
        except KeyError:
            raise OpNetError(f"{self.path}: missing member {name!r}") from None
        self._check_size(name, info.file_size, info.compress_size)
        try:
            with zf.open(info) as f:
                data = f.read(info.file_size + 1)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as e:
            raise OpNetError(f"{self.path}: member {name!r} is corrupt or truncated ({e})") from None
        if len(data) != info.file_size:
            raise OpNetError(
                f"{self.path}: member {name!r} holds {len(data)} bytes, its header says {info.file_size}"
            )
        return data

    def _check_size(self, name: str, size: int, compressed: int) -> None:
        limits = self.limits
        if size > limits.max_member_bytes:
            raise OpNetError(
                f"{self.path}: refusing member {name!r}: it claims {size} bytes "
                f"(limit {limits.max_member_bytes}); a decompression bomb?"
            )
        ratio = size / max(compressed, 1)
        if size > limits.ratio_exempt_bytes and ratio > limits.max_ratio:
            raise OpNetError(
                f"{self.path}: refusing member {name!r}: compression ratio {ratio:.0f}:1 "
                f"(limit {limits.max_ratio:.0f}:1); a decompression bomb?"
            )


def _open_zip(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except zipfile.BadZipFile as e:
        raise OpNetError(f"{path}: not a zip archive, or truncated ({e})") from None
    except OSError as e:
        raise OpNetError(f"{path}: cannot be read ({e})") from None
