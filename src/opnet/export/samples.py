"""Real-looking network inputs for checking and calibrating exports: crops of dataset images.

Inputs are cut as the evaluation protocol cuts them (the 68-landmark box, else the stored ROI,
times 1.1; :mod:`opnet.evaluate.protocol`) and normalised as the network expects
(:mod:`opnet.normalization`). Without a dataset file, :func:`synthetic_dataset` renders labelled
heads with :mod:`opnet.synth`.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from opnet.data import open_dataset
from opnet.evaluate.protocol import dataset_rois, roi_choices
from opnet.normalization import InputNorm
from opnet.preprocess import network_input
from opnet.synth import SynthConfig, generate_dataset


def spread_indices(total: int, count: int) -> NDArray[np.int64]:
    """Up to ``count`` distinct sample indices spread evenly over ``0 .. total - 1``."""
    if total <= 0 or count <= 0:
        return np.zeros(0, dtype=np.int64)
    return np.unique(np.linspace(0, total - 1, min(count, total)).round().astype(np.int64))


def dataset_inputs(
    path: str | os.PathLike, count: int, input_size: int, norm: str | InputNorm = InputNorm.OPENTRACK
) -> NDArray[np.float32]:
    """(N, 1, S, S) crops of up to ``count`` samples spread over the dataset file, normalised by ``norm``."""
    with open_dataset(path) as ds:
        choice = roi_choices(ds)[0]
        rois = dataset_rois(ds, choice.source)
        crops = [
            network_input(ds.read_image(int(i)), rois[i], choice.expansion, input_size, norm)[0]
            for i in spread_indices(len(ds), count)
        ]
    return np.concatenate(crops).astype(np.float32)


def synthetic_dataset(
    path: str | os.PathLike, count: int, seed: int = 0, workers: int = 1, progress: bool = False
) -> Path:
    """Renders ``count`` labelled synthetic heads (opnet synth's defaults) into ``path``."""
    generate_dataset(
        path, count, SynthConfig(), seed=seed, workers=workers, overwrite=True, progress=progress
    )
    return Path(path)
