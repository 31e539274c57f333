"""Lazy, validating reader of OpNet HDF5 dataset files.

Opening a file checks its layout (metadata only); samples are read on demand. The HDF5 handle is
opened per process, so one :class:`PoseDataset` can be handed to several DataLoader workers.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import h5py
import numpy as np
from numpy.typing import NDArray

from opnet.data.fields import (
    FLOAT_CATEGORIES,
    IMAGE_CATEGORIES,
    SEQUENCE_STARTS,
    Category,
    FieldSpec,
    ImageStorage,
    expected_sample_shape,
    file_to_image_coords,
)
from opnet.data.images import ImageTooLarge, decode_image, decode_label_image
from opnet.errors import DataError

FieldInfo = FieldSpec
"""A field as found in a file: the same record the writer takes, so files copy field by field."""

_IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")


def _attrs_of(obj: h5py.HLObject) -> dict[str, Any]:
    return {key: obj.attrs[key] for key in obj.attrs}


def _category_of(path: Path, name: str, attrs: dict[str, Any]) -> Category:
    value = attrs.get("category", "")
    value = value.decode() if isinstance(value, bytes) else str(value)
    try:
        return Category(value)
    except ValueError:
        known = ", ".join(repr(c.value) for c in Category)
        raise DataError(path, f"unknown category {value!r}; expected one of {known}", name) from None


def _check_field(path: Path, name: str, ds: h5py.Dataset, category: Category, attrs: dict) -> None:
    expected = expected_sample_shape(category, ds.shape[1:])
    if expected is not None:
        raise DataError(
            path, f"category '{category.value}' needs per-sample shape {expected}, found {ds.shape}", name
        )
    if category in FLOAT_CATEGORIES and ds.dtype.kind != "f":
        raise DataError(path, f"category '{category.value}' needs float values, found {ds.dtype}", name)
    if category not in IMAGE_CATEGORIES:
        return
    storage = attrs.get("storage")
    if storage == ImageStorage.BUFFER:
        if h5py.check_vlen_dtype(ds.dtype) != np.dtype(np.uint8):
            raise DataError(path, f"'{storage}' needs variable-length uint8, found {ds.dtype}", name)
    elif storage == ImageStorage.FILENAME:
        if h5py.check_string_dtype(ds.dtype) is None:
            raise DataError(path, f"'{storage}' needs strings, found {ds.dtype}", name)
    else:
        expected_storage = " or ".join(repr(s.value) for s in ImageStorage)
        raise DataError(path, f"attribute 'storage' is {storage!r}; expected {expected_storage}", name)


def _read_layout(path: Path, f: h5py.File) -> tuple[dict[str, FieldSpec], int, NDArray[np.int64] | None]:
    fields: dict[str, FieldSpec] = {}
    lengths: dict[str, int] = {}
    for name, obj in f.items():
        if name == SEQUENCE_STARTS or not isinstance(obj, h5py.Dataset):
            continue
        if obj.ndim == 0:
            raise DataError(path, "is a scalar; every field needs the sample index as axis 0", name)
        attrs = _attrs_of(obj)
        category = _category_of(path, name, attrs)
        _check_field(path, name, obj, category, attrs)
        fields[name] = FieldSpec(name, category, tuple(obj.shape[1:]), obj.dtype, attrs)
        lengths[name] = obj.shape[0]
    if not fields:
        raise DataError(path, "holds no dataset fields")
    count = max(lengths.values())
    for name, n in lengths.items():
        if n != count:
            raise DataError(path, f"has {n} samples but other fields have {count}", name)
    starts = _read_sequence_starts(path, f, count)
    return fields, count, starts


def _read_sequence_starts(path: Path, f: h5py.File, count: int) -> NDArray[np.int64] | None:
    if SEQUENCE_STARTS not in f:
        return None
    raw = f[SEQUENCE_STARTS]
    if not isinstance(raw, h5py.Dataset) or raw.ndim != 1 or raw.dtype.kind not in "iu":
        raise DataError(path, "must be a 1-D integer array", SEQUENCE_STARTS)
    starts = raw[...].astype(np.int64)
    if len(starts) < 1 or starts[0] != 0 or starts[-1] != count or np.any(np.diff(starts) < 0):
        raise DataError(
            path,
            f"must rise from 0 to the sample count {count}, found {starts[:3]}...{starts[-3:]}",
            SEQUENCE_STARTS,
        )
    return starts


class PoseDataset(Sequence[dict[str, Any]]):
    """Samples of one dataset file as dicts keyed by field name.

    ``dataset[i]`` holds the decoded image under its field name ((H, W) uint8 gray, or (H, W, 3)
    RGB with ``color=True``) and every other field's row as stored (labels as numpy arrays).
    """

    def __init__(self, path: str | os.PathLike, color: bool = False, require_images: bool = True):
        self.path = Path(path)
        self.color = color
        if not self.path.is_file():
            raise DataError(self.path, "no such file")
        if not h5py.is_hdf5(self.path):
            raise DataError(self.path, "not an HDF5 file")
        self._file: h5py.File | None = None
        self._pid = -1
        self._handles: dict[str, h5py.Dataset] = {}
        try:
            with h5py.File(self.path, "r") as f:
                self.fields, self._count, self.sequence_starts = _read_layout(self.path, f)
        except OSError as e:
            raise DataError(self.path, f"cannot be read as HDF5 ({e})") from None
        images = [n for n, s in self.fields.items() if s.category == Category.IMAGE]
        self.image_field: str | None = images[0] if images else None
        if require_images and self.image_field is None:
            raise DataError(self.path, "holds no images (no field with category 'img')")
        self._image_root: Path | None = None
        if self.image_field and self.fields[self.image_field].storage == ImageStorage.FILENAME:
            self._image_root = self._find_image_root()

    def __len__(self) -> int:
        return self._count

    def __repr__(self) -> str:
        return f"PoseDataset('{self.path}', {self._count} samples, fields {list(self.fields)})"

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_file"], state["_pid"], state["_handles"] = None, -1, {}
        return state

    def _h5(self) -> h5py.File:
        if self._file is None or self._pid != os.getpid():
            self._file = h5py.File(self.path, "r")
            self._pid = os.getpid()
            self._handles = {}
        return self._file

    def _field(self, name: str) -> h5py.Dataset:
        """This process's handle of a field, kept open: looking a field up costs more than reading a row."""
        f = self._h5()
        handle = self._handles.get(name)
        if handle is None:
            handle = self._handles[name] = f[name]
        return handle

    def close(self) -> None:
        """Closes this process's handle (it reopens on the next read)."""
        if self._file is not None and self._pid == os.getpid():
            self._file.close()
        self._file, self._pid, self._handles = None, -1, {}

    def __enter__(self) -> PoseDataset:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _check_index(self, index: int) -> int:
        index = int(index)
        if not -self._count <= index < self._count:
            raise IndexError(f"{self.path}: sample {index} out of range (0..{self._count - 1})")
        return index % self._count

    def __getitem__(self, index: int) -> dict[str, Any]:  # type: ignore[override]
        index = self._check_index(index)
        f = self._h5()
        sample: dict[str, Any] = {}
        for name, spec in self.fields.items():
            if name == self.image_field:
                sample[name] = self.read_image(index)
            elif spec.category == Category.SEMSEG:
                sample[name] = self._decode_label_image(name, index)
            else:
                sample[name] = file_to_image_coords(spec.category, f[name][index])
        return sample

    @property
    def sequences(self) -> NDArray[np.int64]:
        """(S, 2) [start, end) sample ranges; one sequence per sample if the file has none."""
        starts = self.sequence_starts
        if starts is None:
            starts = np.arange(self._count + 1)
        return np.stack([starts[:-1], starts[1:]], axis=-1)

    @cached_property
    def sequence_ids(self) -> NDArray[np.int64]:
        """(N,) index of the sequence each sample belongs to."""
        seq = self.sequences
        return np.repeat(np.arange(len(seq)), seq[:, 1] - seq[:, 0])

    def has(self, name: str) -> bool:
        return name in self.fields

    def read_field(
        self, name: str, indices: Iterable[int] | slice | None = None, raw: bool = False
    ) -> np.ndarray:
        """All rows (or the given rows) of a non-image field as one array.

        Coordinates come in OpNet's pixel-corner convention (float64 for points and head centres, see
        :data:`opnet.data.fields.PIXEL_CENTRE_CATEGORIES`); ``raw=True`` returns the stored values.
        """
        if name not in self.fields:
            raise DataError(self.path, f"missing; the file has {', '.join(self.fields)}", name)
        values = self._read_rows(self._h5()[name], indices)
        return values if raw else file_to_image_coords(self.fields[name].category, values)

    @staticmethod
    def _read_rows(ds: h5py.Dataset, indices: Iterable[int] | slice | None) -> np.ndarray:
        if indices is None:
            return ds[...]
        if isinstance(indices, slice):
            return ds[indices]
        idx = np.asarray(list(indices), dtype=np.int64)
        if len(idx) == 0:
            return np.zeros((0, *ds.shape[1:]), ds.dtype)
        order = np.argsort(idx)
        unique, inverse = np.unique(idx[order], return_inverse=True)
        rows = ds[unique]
        out = np.empty((len(idx), *rows.shape[1:]), rows.dtype)
        out[order] = rows[inverse]
        return out

    def read_image_bytes(self, index: int) -> bytes:
        """The stored JPEG/PNG file of sample ``index``, byte for byte."""
        index = self._check_index(index)
        if self.image_field is None:
            raise DataError(self.path, "holds no images (no field with category 'img')")
        spec = self.fields[self.image_field]
        if spec.storage == ImageStorage.BUFFER:
            return self._field(self.image_field)[index].tobytes()
        return self.image_file(index).read_bytes()

    def read_image_bytes_many(self, indices: Sequence[int]) -> list[bytes]:
        """The stored files of several samples, in the given order; in-file images come in one HDF5 read
        (several times faster than one by one)."""
        rows = [self._check_index(i) for i in indices]
        spec = self.fields.get(self.image_field or "")
        if spec is None or spec.storage != ImageStorage.BUFFER or not rows:
            return [self.read_image_bytes(i) for i in rows]
        unique, inverse = np.unique(rows, return_inverse=True)
        buffers = self._field(spec.name)[unique]
        return [buffers[j].tobytes() for j in inverse.reshape(-1)]

    def read_image(self, index: int, color: bool | None = None) -> np.ndarray:
        """Decoded image of sample ``index``: (H, W) uint8, or (H, W, 3) RGB if ``color``."""
        buffer = self.read_image_bytes(index)
        try:
            image = decode_image(buffer, self.color if color is None else color)
        except ImageTooLarge as e:
            raise DataError(self.path, str(e), self.image_field, index) from None
        if image is None:
            raise DataError(self.path, "image does not decode as JPEG or PNG", self.image_field, index)
        return image

    def _decode_label_image(self, name: str, index: int) -> np.ndarray:
        try:
            image = decode_label_image(self._h5()[name][index].tobytes())
        except ImageTooLarge as e:
            raise DataError(self.path, str(e), name, index) from None
        if image is None:
            raise DataError(self.path, "label image does not decode as PNG", name, index)
        return image

    @cached_property
    def _image_names(self) -> list[str]:
        raw = self._h5()[self.image_field][...]
        return [n.decode("utf-8") if isinstance(n, bytes) else str(n) for n in raw]

    def _candidate(self, root: Path, name: str, index: int) -> Path:
        """``root/name`` (with an extension if ``name`` has none), refusing names that leave ``root``."""
        if not name or os.path.isabs(name):
            raise DataError(
                self.path, f"image file name {name!r} must be a relative path", self.image_field, index
            )
        candidate = root / name
        if not name.lower().endswith(_IMAGE_EXTENSIONS):
            candidate = next(
                (root / (name + e) for e in _IMAGE_EXTENSIONS if (root / (name + e)).exists()), candidate
            )
        real_root = os.path.realpath(root)
        if os.path.commonpath([real_root, os.path.realpath(candidate)]) != real_root:
            raise DataError(
                self.path,
                f"image file name {name!r} points outside the dataset folder {root}",
                self.image_field,
                index,
            )
        return candidate

    def _find_image_root(self) -> Path:
        """The folder that holds the image files: the file's own, or the one named like it."""
        roots = [self.path.parent, self.path.with_suffix("")]
        if self._count == 0:
            return roots[0]
        first = self._image_names[0]
        for root in roots:
            if self._candidate(root, first, 0).is_file():
                return root
        raise DataError(
            self.path, f"image file {first!r} not found in {roots[0]} or {roots[1]}", self.image_field, 0
        )

    def image_file(self, index: int) -> Path:
        """Path of the image file of sample ``index`` (``image_filename`` storage only)."""
        assert self._image_root is not None, "image_file() needs 'image_filename' storage"
        path = self._candidate(self._image_root, self._image_names[index], index)
        if not path.is_file():
            raise DataError(self.path, f"image file {path} not found", self.image_field, index)
        return path


def open_dataset(path: str | os.PathLike, color: bool = False, require_images: bool = True) -> PoseDataset:
    """Opens and validates a dataset file; raises :class:`opnet.errors.DataError` on a bad layout.

    >>> from opnet.synth import SynthConfig, generate_dataset
    >>> generate_dataset("heads.h5", 4, SynthConfig(image_size=64), progress=False)
    4
    >>> ds = open_dataset("heads.h5")
    >>> len(ds), ds.image_field
    (4, 'images')
    >>> {name: value.shape for name, value in ds[0].items()}  # a sample: decoded image and labels
    {'coords': (3,), 'images': (64, 64), 'pt2d_68': (68, 2), 'pt3d_68': (68, 3), 'quats': (4,), 'rois': (4,)}
    """
    return PoseDataset(path, color=color, require_images=require_images)
