"""A batch of training samples end to end: images + labels + sampled parameters -> network inputs + labels."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from opnet.augment import original_crop
from opnet.augment.config import AugmentConfig
from opnet.augment.geometric import crop_affines, cut, decode_reductions
from opnet.augment.intensity import add_noise, apply_intensity
from opnet.augment.intensity_float import add_float_noise, apply_float_intensity
from opnet.augment.labels import FaceLabels, face_boxes
from opnet.augment.params import AugmentParams
from opnet.geometry import FloatArray
from opnet.normalization import InputNorm, inputs_from_unit, unit_intensities

Decoder = Callable[[int, int], NDArray[np.uint8]]
"""decode(i, reduction) -> the gray image of sample i at 1/reduction of its size (opnet.data.images)."""


class AugmentedBatch(NamedTuple):
    """patches (B, S, S) uint8 gray crops (with ``intensity_style="lut"`` also intensity and noise);
    inputs (B, 1, S, S) float32 network inputs (normalised, every augmentation applied); labels,
    boxes (B, 4) and has_box (B,) in patch pixels; affines (B, 2, 3) image -> patch pixels."""

    patches: NDArray[np.uint8]
    inputs: NDArray[np.float32]
    labels: FaceLabels
    boxes: FloatArray
    has_box: NDArray[np.bool_]
    affines: FloatArray


def _subpixel_crops(
    decode: Decoder, boxes: FloatArray, params: AugmentParams, config: AugmentConfig
) -> tuple[NDArray[np.uint8], FloatArray]:
    """OpNet's crops: one warp per image, large crops decoded at reduced size (faster;
    :data:`opnet.augment.geometric.DECODE_MARGIN`)."""
    affines = crop_affines(boxes, params, config.out_size, config.beyond_border)
    patches = np.empty((len(boxes), config.out_size, config.out_size), np.uint8)
    for i, reduction in enumerate(decode_reductions(affines).tolist()):
        patches[i], affines[i] = cut(
            decode(i, reduction), affines[i], config.out_size, reduction, config.border
        )
    return patches, affines


def _original_crops(
    decode: Decoder, boxes: FloatArray, params: AugmentParams, config: AugmentConfig
) -> tuple[NDArray[np.uint8], FloatArray]:
    """The original's crops from the full-size images (:mod:`opnet.augment.original_crop`)."""
    windows, affines = original_crop.crop_affines(boxes, params, config.out_size, config.beyond_border)
    patches = np.empty((len(boxes), config.out_size, config.out_size), np.uint8)
    for i, window in enumerate(windows):
        patches[i] = original_crop.original_crop(
            decode(i, 1),
            window,
            float(params.angle_rad[i]),
            bool(params.flip[i]),
            int(params.quarter_turns[i]),
            config.out_size,
            config.border,
        )
    return patches, affines


def _inputs(
    patches: NDArray[np.uint8], params: AugmentParams, config: AugmentConfig, norm: InputNorm
) -> NDArray[np.float32]:
    """Normalised inputs; with ``intensity_style="kornia"`` the intensity operations and noise act
    on the 0..1 scale between the two steps of the normalisation."""
    unit = unit_intensities(patches, norm)
    if config.intensity_style == "kornia":
        for i in range(len(unit)):
            x = apply_float_intensity(unit[i], params.intensity[i], config.contrast)
            unit[i] = add_float_noise(x, float(params.noise_std[i]), int(params.noise_seed[i]))
    return inputs_from_unit(unit)


def augment_batch(
    decode: Decoder,
    labels: FaceLabels,
    params: AugmentParams,
    config: AugmentConfig,
    norm: str | InputNorm = InputNorm.OPENTRACK,
) -> AugmentedBatch:
    """Crops, rotates and flips each image (``config.crop``), changes intensities and adds noise
    (``config.intensity_style``), normalises (``norm``, the network's); labels follow.

    ``labels`` are in image pixels and every face needs a box in ``config.roi_mode``
    (:func:`face_boxes`).
    """
    boxes, has_box = face_boxes(labels, config.roi_mode)
    if not has_box.all():
        raise ValueError(f"augment_batch: rows {np.flatnonzero(~has_box).tolist()} have no face box")
    crops = _original_crops if config.crop == "original" else _subpixel_crops
    patches, affines = crops(decode, boxes, params, config)
    if config.intensity_style == "lut":
        for i in range(len(patches)):
            patch = apply_intensity(patches[i], params.intensity[i], config.contrast)
            patches[i] = add_noise(patch, float(params.noise_std[i]), int(params.noise_seed[i]))
    out = labels.transformed(affines, config.box_target, config.flipped_shapeparams)
    out_boxes, out_has_box = face_boxes(out, config.roi_mode)
    inputs = _inputs(patches, params, config, InputNorm(norm))
    return AugmentedBatch(patches, inputs, out, out_boxes, out_has_box, affines)
