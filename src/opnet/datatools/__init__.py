"""Tools on dataset files: join, filter and split, copying samples bit for bit."""

from opnet.datatools.filter import filter_dataset
from opnet.datatools.join import join_datasets
from opnet.datatools.split import split_dataset

__all__ = ["filter_dataset", "join_datasets", "split_dataset"]
