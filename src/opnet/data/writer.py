"""Streaming writer of OpNet HDF5 dataset files.

Samples are buffered and flushed in blocks into resizable, chunked datasets, so memory stays
bounded for any number of samples. The file is written under a temporary name and renamed when
:meth:`DatasetWriter.close` succeeds; on an error nothing is left behind.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import h5py
import numpy as np

from opnet.data.fields import SEQUENCE_STARTS, FieldSpec, ImageStorage, default_spec, image_to_file_coords
from opnet.data.images import ImageFormat, encode_image, image_format
from opnet.errors import OpNetError
from opnet.fileio import check_writable, fresh_temp_path, publish, remove_path, temp_path_for

CHUNK_ROWS = 1024


class DatasetWriter:
    """Appends samples (dicts keyed by field name) to a new dataset file.

    Fields are fixed by ``specs`` plus the names in the first sample (known names get their
    documented layout, see :func:`opnet.data.fields.default_spec`). Image values may be encoded
    JPEG/PNG bytes (stored byte for byte) or pixel arrays (encoded here). With
    ``image_filename`` storage, a string value is stored as a file name relative to the output's
    folder; bytes or pixels are written as files into the folder named like the output.

    Label coordinates are taken in OpNet's pixel-corner convention and stored as the format says
    (points and head centres in pixel-centre coordinates); with ``raw_coordinates=True`` they are
    taken as already stored (e.g. copied from an original file with ``read_field(..., raw=True)``).
    """

    def __init__(
        self,
        path: str | os.PathLike,
        specs: Mapping[str, FieldSpec] | None = None,
        overwrite: bool = False,
        jpeg_quality: int = 95,
        flush_rows: int = 256,
        raw_coordinates: bool = False,
    ):
        self.path = Path(path)
        check_writable(self.path, overwrite)
        self._specs: dict[str, FieldSpec] = dict(specs or {})
        self._jpeg_quality = jpeg_quality
        self._flush_rows = flush_rows
        self._raw_coordinates = raw_coordinates
        self._overwrite = overwrite
        self._tmp = fresh_temp_path(self.path)
        self._image_dir = self.path.with_suffix("")
        self._tmp_image_dir = temp_path_for(self._image_dir)
        self._file = h5py.File(self._tmp, "w")
        self._datasets: dict[str, h5py.Dataset] = {}
        self._buffers: dict[str, list[Any]] = {}
        self._count = 0
        self._starts: list[int] = []
        self._closed = False

    def __len__(self) -> int:
        return self._count

    def __enter__(self) -> DatasetWriter:
        return self

    def __exit__(self, exc_type: type | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def start_sequence(self) -> None:
        """Marks the next appended sample as the start of a new sequence (person, video, source image)."""
        if not self._starts or self._starts[-1] != self._count:
            self._starts.append(self._count)

    def append(self, sample: Mapping[str, Any]) -> int:
        """Adds one sample; returns its index."""
        if self._closed:
            raise RuntimeError(f"{self.path}: writer is closed")
        if not self._datasets:
            self._create_datasets(sample)
        missing = set(self._datasets) - set(sample)
        extra = set(sample) - set(self._datasets)
        if missing or extra:
            raise OpNetError(
                f"{self.path}: sample {self._count} has fields {sorted(sample)}, "
                f"but the file has {sorted(self._datasets)}"
            )
        for name, value in sample.items():
            self._buffers[name].append(self._prepare(name, value))
        self._count += 1
        if len(self._buffers[next(iter(self._buffers))]) >= self._flush_rows:
            self._flush()
        return self._count - 1

    def _create_datasets(self, sample: Mapping[str, Any]) -> None:
        for name, value in sample.items():
            spec = self._specs.get(name) or default_spec(name, value)
            self._specs[name] = spec
            chunks = (CHUNK_ROWS, *spec.sample_shape)
            ds = self._file.create_dataset(
                name,
                shape=(0, *spec.sample_shape),
                maxshape=(None, *spec.sample_shape),
                dtype=spec.dtype,
                chunks=chunks,
            )
            for key, attr in spec.attrs.items():
                ds.attrs[key] = attr
            self._datasets[name] = ds
            self._buffers[name] = []

    def _prepare(self, name: str, value: Any) -> Any:
        spec = self._specs[name]
        if spec.is_image:
            return self._prepare_image(spec, value)
        if spec.dtype.kind == "O":
            return value
        array = np.asarray(value)
        if array.shape != spec.sample_shape:
            raise OpNetError(
                f"{self.path}: field '{name}' of sample {self._count} has shape {array.shape}, "
                f"expected {spec.sample_shape}"
            )
        return array if self._raw_coordinates else image_to_file_coords(spec.category, array)

    def _prepare_image(self, spec: FieldSpec, value: Any) -> Any:
        if spec.storage == ImageStorage.FILENAME:
            return value if isinstance(value, str) else self._write_image_file(spec, value)
        return np.frombuffer(self._encoded(spec, value), dtype=np.uint8)

    def _encoded(self, spec: FieldSpec, value: Any) -> bytes:
        """Encoded image bytes: passed through if already encoded (format checked), else encoded."""
        if isinstance(value, np.ndarray) and value.ndim >= 2:
            return encode_image(value, lossy=spec.lossy, jpeg_quality=self._jpeg_quality)
        buffer = bytes(value)
        found = image_format(buffer)
        wanted = ImageFormat.JPEG if spec.lossy else ImageFormat.PNG
        if found != wanted:
            raise OpNetError(
                f"{self.path}: field '{spec.name}' of sample {self._count} is "
                f"{found.value.upper() if found else 'not an image file'}; this field stores "
                f"{wanted.value.upper()} (lossy={spec.lossy})"
            )
        return buffer

    def _write_image_file(self, spec: FieldSpec, value: Any) -> str:
        buffer = self._encoded(spec, value)
        ext = "jpg" if image_format(buffer) == ImageFormat.JPEG else "png"
        name = f"{self._count:08d}.{ext}"
        if not self._tmp_image_dir.exists():
            check_writable(self._image_dir, self._overwrite)
            self._tmp_image_dir.mkdir()
        (self._tmp_image_dir / name).write_bytes(buffer)
        return name

    def _flush(self) -> None:
        n = len(self._buffers[next(iter(self._buffers))]) if self._buffers else 0
        if n == 0:
            return
        for name, ds in self._datasets.items():
            rows = self._buffers[name]
            start = ds.shape[0]
            ds.resize(start + n, axis=0)
            if ds.dtype.kind in "OV":
                # Row by row: h5py misreads an object array of equal-length buffers as 2-D.
                for i, row in enumerate(rows):
                    ds[start + i] = row
            else:
                ds[start:] = np.stack(rows).astype(ds.dtype, copy=False)
            rows.clear()

    def close(self) -> None:
        """Writes what is buffered and ``sequence_starts``, then renames the file into place."""
        if self._closed:
            return
        try:
            if not self._datasets and self._specs:
                self._create_datasets(dict.fromkeys(self._specs))
            self._flush()
            if self._starts:
                starts = [0, *self._starts] if self._starts[0] != 0 else self._starts
                self._file.create_dataset(SEQUENCE_STARTS, data=np.array([*starts, self._count], np.int64))
            self._file.close()
            self._publish()
        except BaseException:
            self.abort()
            raise
        self._closed = True

    def _publish(self) -> None:
        """Moves the image folder (if any), then the file into place; neither replaces a file or
        folder that appeared meanwhile unless ``overwrite`` (then the image folder is taken back)."""
        images = self._tmp_image_dir.exists()
        if images:
            publish(self._tmp_image_dir, self._image_dir, self._overwrite)
        try:
            publish(self._tmp, self.path, self._overwrite)
        except BaseException:
            if images:
                remove_path(self._image_dir)
            raise

    def abort(self) -> None:
        """Discards everything written so far."""
        self._closed = True
        try:
            self._file.close()
        finally:
            remove_path(self._tmp)
            remove_path(self._tmp_image_dir)
