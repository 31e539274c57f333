"""What the fields of a dataset file are: categories, per-sample shapes, dtypes and attributes.

See docs/format.md for the layout. Every top-level HDF5 dataset is one field whose axis 0 is the
sample index, except ``sequence_starts``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import h5py
import numpy as np

from opnet.compat import StrEnum

SEQUENCE_STARTS = "sequence_starts"

VLEN_BYTES = h5py.vlen_dtype(np.dtype(np.uint8))
VLEN_STR = h5py.string_dtype("utf-8")


class Category(StrEnum):
    """The ``category`` attribute of a field."""

    GENERAL = ""
    IMAGE = "img"
    SEMSEG = "seg"
    QUAT = "q"
    XYS = "xys"
    ROI = "roi"
    POINTS = "pts"


IMAGE_CATEGORIES = (Category.IMAGE, Category.SEMSEG)
FLOAT_CATEGORIES = (Category.QUAT, Category.XYS, Category.ROI, Category.POINTS)
PIXEL_CENTRE_CATEGORIES = (Category.POINTS, Category.XYS)
"""Categories whose x, y are stored in pixel-centre coordinates (the original's files: pixel i at x = i).

OpNet works in pixel-corner coordinates (docs/format.md); the reader adds half a pixel to the x, y of
these fields and the writer subtracts it, in float64, so copies stay bit-exact. ROIs are stored as they
are used (pixel corners), as the original reads them.
"""


def file_to_image_coords(category: Category, values: np.ndarray) -> np.ndarray:
    """Stored label values -> OpNet's pixel-corner convention (float64; x, y + 0.5 where needed)."""
    if category not in PIXEL_CENTRE_CATEGORIES:
        return values
    out = np.array(values, dtype=np.float64)
    out[..., :2] += 0.5
    return out


def image_to_file_coords(category: Category, values: np.ndarray) -> np.ndarray:
    """OpNet's pixel-corner convention -> stored values (float64; x, y - 0.5 where needed)."""
    if category not in PIXEL_CENTRE_CATEGORIES:
        return values
    out = np.array(values, dtype=np.float64)
    out[..., :2] -= 0.5
    return out


class ImageStorage(StrEnum):
    """The ``storage`` attribute of an image field."""

    BUFFER = "varsize_image_buffer"
    FILENAME = "image_filename"


def expected_sample_shape(category: Category, shape: tuple[int, ...]) -> str | None:
    """Describes the per-sample shape a category requires, or None if ``shape`` satisfies it."""
    if category == Category.QUAT and shape != (4,):
        return "(4,) x, y, z, w"
    if category in (Category.ROI,) and shape != (4,):
        return "(4,) x0, y0, x1, y1"
    if category == Category.XYS and shape != (3,):
        return "(3,) x, y, size"
    if category == Category.POINTS and (len(shape) != 2 or shape[1] not in (2, 3)):
        return "(K, 2) or (K, 3) points"
    if category in IMAGE_CATEGORIES and shape != ():
        return "() one encoded image or file name per sample"
    return None


@dataclass(frozen=True)
class FieldSpec:
    """How a field is written: name, category, per-sample shape, dtype and HDF5 attributes.

    ``attrs`` holds every attribute written, ``category`` included (absent for fields that
    have none, like ``shapeparams`` in files of the original code).
    """

    name: str
    category: Category
    sample_shape: tuple[int, ...]
    dtype: np.dtype
    attrs: dict[str, Any] = field(default_factory=dict)

    @property
    def is_image(self) -> bool:
        return self.category in IMAGE_CATEGORIES

    @property
    def storage(self) -> ImageStorage | None:
        value = self.attrs.get("storage")
        return ImageStorage(value) if value in tuple(ImageStorage) else None

    @property
    def lossy(self) -> bool:
        return bool(self.attrs.get("lossy", self.category == Category.IMAGE))


def image_spec(
    name: str = "images",
    storage: ImageStorage = ImageStorage.BUFFER,
    lossy: bool = True,
    category: Category = Category.IMAGE,
) -> FieldSpec:
    """Spec of an image field: encoded files in the HDF5 file, or relative file names."""
    attrs: dict[str, Any] = {"category": category.value, "storage": storage.value, "lossy": np.bool_(lossy)}
    dtype = VLEN_BYTES if storage == ImageStorage.BUFFER else VLEN_STR
    return FieldSpec(name, category, (), dtype, attrs)


_LABEL_DEFAULTS: dict[str, tuple[Category, tuple[int, ...]]] = {
    "rois": (Category.ROI, (4,)),
    "coords": (Category.XYS, (3,)),
    "quats": (Category.QUAT, (4,)),
    "pt3d_68": (Category.POINTS, (68, 3)),
    "pt2d_68": (Category.POINTS, (68, 2)),
    "shapeparams": (Category.GENERAL, (50,)),
}

KNOWN_FIELDS = ("images", *_LABEL_DEFAULTS)


def default_spec(name: str, value: Any = None) -> FieldSpec:
    """The spec the writer uses for a field it is not told about.

    Known names get their documented layout (float32 labels); other names take category
    ``""`` and the shape and dtype of the first ``value``.
    """
    if name == "images":
        return image_spec()
    if name in _LABEL_DEFAULTS:
        category, shape = _LABEL_DEFAULTS[name]
        return FieldSpec(name, category, shape, np.dtype(np.float32), {"category": category.value})
    if value is None:
        raise ValueError(f"field '{name}' is not a known field; give its spec")
    array = np.asarray(value)
    dtype = VLEN_STR if array.dtype.kind in "US" else array.dtype
    return FieldSpec(name, Category.GENERAL, array.shape, np.dtype(dtype), {"category": ""})
