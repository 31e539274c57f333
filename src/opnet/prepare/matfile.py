"""MATLAB 5 ``.mat`` files read with bounded memory (the 3DDFA fits of AFLW2000-3D and 300W-LP).

A ``.mat`` file can hold zlib-compressed elements: 1 MB of them can expand to 1 GB, and an element
can declare array dimensions far beyond its bytes. Before :func:`scipy.io.loadmat` sees a file, every
compressed element is inflated in bounded steps (never more than ``max_bytes`` in all), and every
array's dimensions are checked against the bytes that hold it (recursively, for cells and structs).
scipy then parses the checked, uncompressed file.
"""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any

import scipy.io

MAX_MAT_BYTES = 16 << 20
"""Largest uncompressed content of one ``.mat`` file (16 MiB; a 3DDFA fit holds a few KB)."""

_HEADER = 128
_MI_INT8, _MI_INT32, _MI_UINT32, _MI_MATRIX, _MI_COMPRESSED = 1, 5, 6, 14, 15
_MX_CELL, _MX_STRUCT, _MX_OBJECT, _MX_SPARSE = 1, 2, 3, 5
_MAX_DEPTH = 16
_CHUNK = 1 << 16


class MatLimitError(ValueError):
    """A ``.mat`` file that is malformed or would expand beyond the limit."""


def _tag(data: bytes, pos: int, endian: str, pad: bool = True) -> tuple[int, int, int, int]:
    """(type, size, start of the data, end of the element) of the element at ``pos``; elements inside
    arrays end on an 8-byte boundary (``pad``), top-level ones right after their data (as scipy reads)."""
    if pos + 8 > len(data):
        raise MatLimitError(f"element at byte {pos} is cut off")
    first, second = struct.unpack_from(endian + "II", data, pos)
    if first >> 16:  # small data element: size and type in the first word, data in the second
        return first & 0xFFFF, first >> 16, pos + 4, pos + 8
    end = pos + 8 + second
    if end > len(data):
        raise MatLimitError(
            f"element at byte {pos} declares {second} bytes; only {len(data) - pos - 8} follow"
        )
    padded = pos + 8 + (-(-second // 8) * 8) if pad else end
    return first, second, pos + 8, min(padded, len(data))


def _inflate(payload: bytes, budget: int, max_bytes: int) -> bytes:
    """Decompresses one zlib stream, at most ``budget`` bytes of output, in bounded steps."""
    inflater = zlib.decompressobj()
    out = bytearray()
    pending = payload
    try:
        while pending or not inflater.eof:
            chunk = inflater.decompress(pending, min(_CHUNK, budget - len(out) + 1))
            out += chunk
            if len(out) > budget:
                raise MatLimitError(
                    f"compressed data expand beyond the limit of {max_bytes >> 20} MiB per file"
                )
            pending = inflater.unconsumed_tail
            if not chunk and not pending:
                break
    except zlib.error as e:
        raise MatLimitError(f"compressed element is corrupt ({e})") from None
    if not inflater.eof:
        raise MatLimitError("compressed element is cut off")
    return bytes(out)


def _check_matrix(data: bytes, start: int, end: int, endian: str, depth: int) -> None:
    """Checks an miMATRIX element's content: dimensions that its bytes can hold, nested arrays too."""
    if depth > _MAX_DEPTH:
        raise MatLimitError(f"arrays nested deeper than {_MAX_DEPTH}")
    if start == end:
        return  # an empty array
    kind, size, flags_at, pos = _tag(data, start, endian)
    if kind != _MI_UINT32 or size < 8:
        raise MatLimitError("array without flags")
    mx_class = struct.unpack_from(endian + "I", data, flags_at)[0] & 0xFF
    kind, size, dims_at, pos = _tag(data, pos, endian)
    if kind != _MI_INT32 or size % 4 or size == 0:
        raise MatLimitError("array without dimensions")
    count = 1
    for dim in struct.unpack_from(f"{endian}{size // 4}i", data, dims_at):
        if dim < 0:
            raise MatLimitError(f"negative array dimension {dim}")
        count *= dim
    per_element = 8 if mx_class in (_MX_CELL, _MX_STRUCT, _MX_OBJECT) else 1
    if mx_class != _MX_SPARSE and count * per_element > end - start:
        raise MatLimitError(f"array declares {count} elements in {end - start} bytes")
    if mx_class in (_MX_CELL, _MX_STRUCT, _MX_OBJECT):
        _check_children(data, _tag(data, pos, endian)[3], end, endian, depth + 1)


def _check_children(data: bytes, pos: int, end: int, endian: str, depth: int) -> None:
    """Checks the nested arrays of a cell or struct (its field names are skipped)."""
    while pos + 8 <= end:
        kind, _, data_at, after = _tag(data, pos, endian)
        if kind == _MI_MATRIX:
            _check_matrix(data, data_at, min(after, end), endian, depth)
        elif kind not in (_MI_INT8, _MI_INT32):
            raise MatLimitError(f"unexpected element type {kind} inside an array")
        pos = after


def bounded_mat_bytes(buffer: bytes, max_bytes: int = MAX_MAT_BYTES) -> bytes:
    """The MATLAB 5 file ``buffer`` with every compressed element inflated (at most ``max_bytes`` in
    all) and every array checked; raises :class:`MatLimitError` (a ValueError) otherwise."""
    if len(buffer) < _HEADER + 8 or buffer[:6] != b"MATLAB":
        raise MatLimitError("not a MATLAB 5 .mat file")
    endian = {b"IM": "<", b"MI": ">"}.get(buffer[126:128])
    if endian is None:
        raise MatLimitError("not a MATLAB 5 .mat file (no byte-order mark)")
    out = bytearray(buffer[:_HEADER])
    pos = _HEADER
    while pos + 8 <= len(buffer):
        kind, _, data_at, after = _tag(buffer, pos, endian, pad=False)
        element = buffer[pos:after]
        if kind == _MI_COMPRESSED:
            element = _inflate(buffer[data_at:after], max_bytes - len(out), max_bytes)
        out += element
        if len(out) > max_bytes:
            raise MatLimitError(f"file expands beyond the limit of {max_bytes >> 20} MiB")
        pos = after
    data = bytes(out)
    pos = _HEADER
    while pos + 8 <= len(data):
        kind, size, data_at, after = _tag(data, pos, endian, pad=False)
        if kind != _MI_MATRIX or size == 0:
            raise MatLimitError(f"unexpected top-level element type {kind}")
        _check_matrix(data, data_at, after, endian, 0)
        pos = after
    return data


def load_mat(buffer: bytes, max_bytes: int = MAX_MAT_BYTES) -> dict[str, Any]:
    """The variables of a MATLAB 5 ``.mat`` file (as :func:`scipy.io.loadmat`), with bounded memory;
    raises ValueError naming what is wrong."""
    data = bounded_mat_bytes(buffer, max_bytes)
    try:
        return scipy.io.loadmat(io.BytesIO(data))
    except Exception as e:  # noqa: BLE001 - scipy raises many types for a damaged file
        raise ValueError(f"not a readable .mat file ({type(e).__name__})") from None
