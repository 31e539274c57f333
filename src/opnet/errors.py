"""User-facing errors: one line that names the file, field or flag and what was expected."""

from __future__ import annotations


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
