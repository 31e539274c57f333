"""What a run trains and validates on: the dataset mix of ``--ds``, the validation set, the keypoint model.

Validation data, in order of preference:

1. ``val`` given: that file (the name ``aflw2k3d`` means its validation split, the first 400
   samples); it may not be a file of the training mix, except ``aflw2k3d`` (the mix uses 400..).
2. ``aflw2k3d`` in the mix: its first 400 samples (the original's validation set).
3. Otherwise whole sequences (persons) of the first dataset, about 10 % of its samples and at most
   400 (at least one sequence), chosen with the run's seed, are held out of training.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from opnet.data import open_dataset
from opnet.errors import DataError, OpNetError
from opnet.models import KeypointModel, fit_keypoint_model
from opnet.normalization import InputNorm
from opnet.train.config import TrainConfig
from opnet.train.data import EvalDataset
from opnet.train.mixing import AFLW2K3D_VALIDATION_SAMPLES, DatasetMix, MixSource, aflw2k3d_split, build_mix
from opnet.train.spec import parse_dataset_spec

log = logging.getLogger(__name__)

HOLDOUT_FRACTION = 0.1
AFLW2K3D = "aflw2k3d"


@dataclass(frozen=True)
class TrainingData:
    """The training mix, the validation samples and a one-line description of where they come from."""

    mix: DatasetMix
    val: EvalDataset
    val_description: str


def dataset_file(config: TrainConfig, name: str, flag: str) -> Path:
    """The file of a dataset name (``config.dataset_files``) or path; it must exist."""
    path = Path(config.dataset_files.get(name, name))
    if not path.is_file():
        hint = "" if name in config.dataset_files else " (dataset names are resolved by the command line)"
        raise OpNetError(f"{flag} {name}: {path} not found{hint}")
    return path


def _count(path: Path) -> int:
    with open_dataset(path, require_images=False) as ds:
        return len(ds)


def holdout_sequences(
    path: str | os.PathLike, seed: int, max_samples: int = AFLW2K3D_VALIDATION_SAMPLES
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(held-out, remaining) sample indices of a file: whole sequences in a seeded random order until
    they hold 10 % of the samples (at most ``max_samples``, at least one sequence)."""
    with open_dataset(path, require_images=False) as ds:
        sequences, sequence_ids = ds.sequences, ds.sequence_ids
    wanted = min(max_samples, max(1, round(HOLDOUT_FRACTION * len(sequence_ids))))
    order = np.random.default_rng(seed).permutation(len(sequences))
    filled = np.cumsum(sequences[order, 1] - sequences[order, 0])
    chosen = order[: int(np.searchsorted(filled, wanted)) + 1]
    if len(chosen) >= len(sequences):
        raise OpNetError(
            f"{path}: cannot hold out whole sequences for validation "
            f"({len(sequences)} sequence(s)); give --val"
        )
    held = np.isin(sequence_ids, chosen)
    return np.flatnonzero(held), np.flatnonzero(~held)


def _eval_set(config: TrainConfig, path: str | os.PathLike, indices: NDArray[np.int64] | None) -> EvalDataset:
    """Validation samples of a file, cropped as ``config.val_crop`` says, normalised for the model."""
    return EvalDataset(
        path,
        indices,
        config.augment.roi_mode,
        out_size=config.model.input_size,
        norm=InputNorm(config.model.input_norm),
        training_crop=config.augment if config.val_crop == "training" else None,
    )


def _validation(config: TrainConfig, sources: list[MixSource]) -> tuple[EvalDataset, list[MixSource], str]:
    """The validation set, the training sources without it, and a description."""
    if config.val is not None:
        path = dataset_file(config, config.val, "--val")
        clash = [s.name for s in sources if Path(s.path).resolve() == path.resolve() and s.name != AFLW2K3D]
        if clash:
            raise OpNetError(
                f"--val {config.val}: also a training dataset ({clash[0]}); validate on other data"
            )
        indices = aflw2k3d_split(_count(path))[0] if config.val == AFLW2K3D else None
        val = _eval_set(config, path, indices)
        return val, sources, f"--val {config.val}: {len(val)} samples"
    aflw = next((s for s in sources if s.name == AFLW2K3D), None)
    if aflw is not None:
        held = aflw2k3d_split(_count(Path(aflw.path)))[0]
        val = _eval_set(config, aflw.path, held)
        return val, sources, f"aflw2k3d samples 0..{len(val) - 1} (not trained on)"
    first = sources[0]
    held, rest = holdout_sequences(first.path, config.seed)
    val = _eval_set(config, first.path, held)
    remaining = [MixSource(first.name, first.path, first.weight, rest), *sources[1:]]
    return val, remaining, f"{len(held)} samples of {first.name} held out (whole sequences; not trained on)"


def prepare_training_data(config: TrainConfig) -> TrainingData:
    """Opens the files of ``config.ds`` and the validation data; see the module docstring."""
    entries = parse_dataset_spec(config.ds)
    sources = [MixSource(e.source, dataset_file(config, e.source, "--ds"), e.weight) for e in entries]
    for source in sources:
        if _count(Path(source.path)) == 0:
            raise DataError(source.path, "has no samples to train on")
    val, sources, description = _validation(config, sources)
    mix = build_mix(sources, config.ds_weighting, config.augment.roi_mode)
    return TrainingData(mix, val, description)


def fit_training_keypoints(mix: DatasetMix, num_params: int, seed: int) -> KeypointModel | None:
    """The keypoint model fitted on the 3D landmarks of the training rows; None if fewer than 2 have them."""
    quats, coords, points = [], [], []
    for member in mix.members:
        labels = member.labels.rows(member.rows)
        usable = labels.has_quat & labels.has_coords & labels.has_points_z
        quats.append(labels.quat[usable])
        coords.append(labels.coords[usable])
        points.append(labels.points[usable])
    if sum(len(q) for q in quats) < 2:
        return None
    return fit_keypoint_model(
        np.concatenate(quats), np.concatenate(coords), np.concatenate(points), num_params, seed=seed
    )
