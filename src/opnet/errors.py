"""User-facing errors: one line that names the file, field or flag and what was expected."""

from __future__ import annotations

from collections.abc import Iterable


class OpNetError(Exception):
    """An error caused by the user's input. The CLI prints it as one line, without a traceback."""


class DataError(OpNetError):
    """A dataset file that cannot be read as the OpNet HDF5 layout."""

    def __init__(self, path: object, message: str, field: str | None = None, index: int | None = None):
        where = str(path)
        if field is not None:
            where += f": field '{field}'"
        if index is not None:
            where += f", sample {index}"
        super().__init__(f"{where}: {message}")
        self.path = path
        self.field = field
        self.index = index


def summarise_indices(indices: Iterable[int], parts: int = 5) -> str:
    """Sample or sequence numbers for a one-line message: runs as ranges, at most ``parts`` of them,
    then the count: ``[3, 4, 5, 9, 20, ..., 99]`` -> ``'3-5, 9, 20-24, ... (87 in all)'``."""
    values = sorted(set(int(i) for i in indices))
    runs: list[list[int]] = []
    for value in values:
        if runs and value == runs[-1][1] + 1:
            runs[-1][1] = value
        else:
            runs.append([value, value])
    shown = ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in runs[:parts])
    if len(runs) > parts:
        shown += ", ..."
    return shown + (f" ({len(values)} in all)" if len(values) > 1 else "")
