"""Training and validation batches as the network sees them: normalised patches + targets in patch units.

Both datasets answer ``__getitems__`` (what a DataLoader calls with a whole batch of keys) with a
ready :class:`opnet.targets.PoseBatch`: labels are transformed for the whole batch at once, images
are read in one HDF5 access per dataset file.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from numpy.typing import ArrayLike, NDArray
from torch.utils.data import Dataset

from opnet.augment import (
    AugmentConfig,
    FaceLabels,
    RoiMode,
    augment_batch,
    face_boxes,
    neutral_params,
    sample_params,
)
from opnet.data import PoseDataset, open_dataset
from opnet.data.images import ImageTooLarge, decode_gray_reduced
from opnet.errors import DataError
from opnet.geometry import crop_transform
from opnet.normalization import InputNorm, normalize_batch
from opnet.preprocess import INPUT_SIZE, Patch, crop_patch, patch_around
from opnet.targets import PoseBatch, PoseTargets
from opnet.train.labels import load_label_table
from opnet.train.mixing import DatasetMix, MixSource, build_mix
from opnet.train.sampler import SampleKey, augment_rng, batch_rng

EVAL_EXPANSION = 1.1
"""Crop side / max(w, h) of the landmark box in the evaluation protocol."""


def _tensor(values: ArrayLike, mask: NDArray[np.bool_]) -> torch.Tensor:
    """float32 tensor of ``values`` with rows where ``mask`` is False zeroed."""
    values = np.asarray(values, dtype=np.float32)
    return torch.from_numpy(values * mask.reshape(-1, *([1] * (values.ndim - 1))))


def encode_batch(
    inputs: NDArray[np.float32],
    labels: FaceLabels,
    boxes: ArrayLike,
    has_box: NDArray[np.bool_],
    weights: ArrayLike,
    datasets: ArrayLike,
) -> PoseBatch:
    """Network inputs (B, 1, S, S) (normalised, :mod:`opnet.normalization`) and their labels in patch
    pixels -> a :class:`PoseBatch` in patch units; missing labels are zeros."""
    side = inputs.shape[-1]
    units = Patch((0.5 * side, 0.5 * side), float(side))
    targets = PoseTargets(
        quat=_tensor(labels.quat, labels.has_quat),
        pos_size=_tensor(units.encode_pos_size(labels.coords), labels.has_coords),
        box=_tensor(units.encode_box(boxes), has_box),
        points=_tensor(units.encode_points(labels.points), labels.has_points),
        shapeparams=_tensor(labels.shapeparams, labels.has_shapeparams),
        has_quat=torch.from_numpy(labels.has_quat.copy()),
        has_pos_size=torch.from_numpy(labels.has_coords.copy()),
        has_box=torch.from_numpy(np.asarray(has_box, bool).copy()),
        has_points=torch.from_numpy(labels.has_points.copy()),
        has_points_z=torch.from_numpy(labels.has_points_z.copy()),
        has_shapeparams=torch.from_numpy(labels.has_shapeparams.copy()),
        weight=torch.as_tensor(np.asarray(weights, np.float32)),
        dataset=torch.as_tensor(np.asarray(datasets, np.int64)),
    )
    return PoseBatch(torch.from_numpy(np.ascontiguousarray(inputs, np.float32)), targets)


class MixDataset(Dataset[PoseBatch]):
    """Augmented training batches of a :class:`DatasetMix`, addressed by :class:`SampleKey` (see MixSampler).

    Every sample is a pure function of (seed, key): the same in any worker, for any number of
    workers and any batch it lands in. ``norm``: the network's input normalisation.
    """

    def __init__(
        self, mix: DatasetMix, config: AugmentConfig, seed: int, norm: InputNorm = InputNorm.OPENTRACK
    ):
        self.mix = mix
        self.config = config
        self.seed = int(seed)
        self.norm = InputNorm(norm)

    def __getitem__(self, key: SampleKey) -> PoseBatch:
        return self.__getitems__([key])

    def _read(
        self, keys: Sequence[SampleKey]
    ) -> tuple[FaceLabels, dict[int, bytes], dict[int, tuple[PoseDataset, int]]]:
        """Labels (in key order), encoded images and (file, row) of each key; one image read per file."""
        members = np.array([k.member for k in keys], np.int64)
        parts, positions = [], []
        buffers: dict[int, bytes] = {}
        origins: dict[int, tuple[PoseDataset, int]] = {}
        for m in np.unique(members).tolist():
            member = self.mix.members[m]
            where = np.flatnonzero(members == m).tolist()
            rows = member.rows[[keys[i].item for i in where]]
            parts.append(member.labels.rows(rows))
            positions += where
            for i, row, buffer in zip(
                where, rows.tolist(), member.dataset.read_image_bytes_many(rows.tolist()), strict=True
            ):
                buffers[i], origins[i] = buffer, (member.dataset, row)
        labels = FaceLabels.concatenate(parts).take(np.argsort(positions))
        return labels, buffers, origins

    def __getitems__(self, keys: Sequence[SampleKey]) -> PoseBatch:
        labels, buffers, origins = self._read(keys)

        def decode(i: int, reduction: int) -> NDArray[np.uint8]:
            try:
                image = decode_gray_reduced(buffers[i], reduction)
                problem = "image does not decode as JPEG or PNG" if image is None else None
            except ImageTooLarge as e:
                image, problem = None, str(e)
            if image is None:
                dataset, row = origins[i]
                raise DataError(dataset.path, str(problem), dataset.image_field, row)
            return image

        rngs = [augment_rng(self.seed, k.epoch, k.position) for k in keys]
        params = sample_params(rngs, self.config, batch_rng(self.seed, keys[0].epoch, keys[0].position))
        out = augment_batch(decode, labels, params, self.config, self.norm)
        members = np.array([k.member for k in keys], np.int64)
        weights = self.mix.loss_weights[members]
        return encode_batch(out.inputs, out.labels, out.boxes, out.has_box, weights, members)


class EvalDataset(Dataset[PoseBatch]):
    """Validation samples without augmentation.

    Crop (``training_crop`` None): the evaluation protocol's, a square of side max(w, h) *
    ``expansion`` around the 68-landmark box (the stored ROI where a sample has no landmarks), cut
    with :func:`opnet.preprocess.crop_patch` (OpenTrack's crop and INTER_AREA resize). With an
    :class:`AugmentConfig` ``training_crop``: the training crop of that config without jitter,
    rotation, flip or intensity changes (the face box of its ``roi_mode`` times that mode's
    expansion; the original's validation). The box target is the face box of ``roi_mode``, as in
    training; ``norm`` is the network's input normalisation.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        indices: Sequence[int] | NDArray[np.integer] | None = None,
        roi_mode: RoiMode = RoiMode.ORIGINAL,
        expansion: float = EVAL_EXPANSION,
        out_size: int = INPUT_SIZE,
        norm: InputNorm = InputNorm.OPENTRACK,
        training_crop: AugmentConfig | None = None,
    ):
        self.dataset = open_dataset(path)
        self.table = load_label_table(self.dataset)
        self.rows = np.arange(len(self.dataset)) if indices is None else np.asarray(indices, dtype=np.int64)
        self.roi_mode = RoiMode(roi_mode)
        crop_mode = RoiMode.LANDMARKS if training_crop is None else self.roi_mode
        missing = self.rows[~self.table.has_face_box(crop_mode)[self.rows]]
        if len(missing):
            need = "'rois'" if crop_mode == RoiMode.ORIGINAL else "'rois' or landmarks"
            raise DataError(self.dataset.path, f"sample {missing[0]} has no face box ({need})")
        self.expansion = expansion
        self.out_size = out_size
        self.norm = InputNorm(norm)
        self.training_crop = (
            None
            if training_crop is None
            else dataclasses.replace(
                training_crop, roi_mode=self.roi_mode, out_size=out_size, intensity=False
            )
        )

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: int) -> PoseBatch:
        return self.__getitems__([index])

    def __getitems__(self, indices: Sequence[int]) -> PoseBatch:
        rows = self.rows[np.asarray(indices, dtype=np.int64)]
        if self.training_crop is not None:
            return self._training_crops(rows)
        labels = self.table.rows(rows)
        crop_boxes, _ = face_boxes(labels, RoiMode.LANDMARKS)
        patches, affines = [], []
        for row, box in zip(rows.tolist(), crop_boxes, strict=True):
            pixels, patch = crop_patch(
                self.dataset.read_image(row, color=False), patch_around(box, self.expansion), self.out_size
            )
            patches.append(pixels)
            affines.append(crop_transform(patch.centre, patch.side, self.out_size))
        out = labels.transformed(np.stack(affines))
        boxes, has_box = face_boxes(out, self.roi_mode)
        ones, zeros = np.ones(len(rows)), np.zeros(len(rows))
        return encode_batch(normalize_batch(np.stack(patches), self.norm), out, boxes, has_box, ones, zeros)

    def _training_crops(self, rows: NDArray[np.int64]) -> PoseBatch:
        config = self.training_crop
        assert config is not None
        buffers = self.dataset.read_image_bytes_many(rows.tolist())

        def decode(i: int, reduction: int) -> NDArray[np.uint8]:
            image = decode_gray_reduced(buffers[i], reduction)
            if image is None:
                raise DataError(
                    self.dataset.path,
                    "image does not decode as JPEG or PNG",
                    self.dataset.image_field,
                    rows[i],
                )
            return image

        labels = self.table.rows(rows)
        out = augment_batch(decode, labels, neutral_params(len(rows), config), config, self.norm)
        ones, zeros = np.ones(len(rows)), np.zeros(len(rows))
        return encode_batch(out.inputs, out.labels, out.boxes, out.has_box, ones, zeros)


def augmented_examples(
    path: str | os.PathLike,
    indices: Sequence[int],
    config: AugmentConfig,
    seed: int,
    norm: InputNorm = InputNorm.OPENTRACK,
) -> PoseBatch:
    """Samples ``indices`` of one file as training shows them to the network (positions 0.. of epoch 0)."""
    source = MixSource(Path(path).stem, path, indices=range(len(open_dataset(path))))
    samples = MixDataset(build_mix([source], roi_mode=config.roi_mode), config, seed, norm)
    return samples.__getitems__([SampleKey(0, k, 0, int(i)) for k, i in enumerate(indices)])
