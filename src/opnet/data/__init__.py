"""The OpNet HDF5 dataset layout: field specs, image codec, lazy reader, streaming writer."""

from opnet.data.fields import Category, FieldSpec, ImageStorage, default_spec
from opnet.data.reader import FieldInfo, PoseDataset, open_dataset
from opnet.data.writer import DatasetWriter

__all__ = [
    "Category",
    "DatasetWriter",
    "FieldInfo",
    "FieldSpec",
    "ImageStorage",
    "PoseDataset",
    "default_spec",
    "open_dataset",
]
