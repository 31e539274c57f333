"""A batch of training samples end to end: images + labels + sampled parameters -> patches + labels."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from opnet.augment.config import AugmentConfig
from opnet.augment.geometric import crop_affines, decode_reductions, warp
from opnet.augment.intensity import add_noise, apply_intensity
from opnet.augment.labels import FaceLabels, face_boxes
from opnet.augment.params import AugmentParams
from opnet.geometry import FloatArray

Decoder = Callable[[int, int], NDArray[np.uint8]]
"""decode(i, reduction) -> the gray image of sample i at 1/reduction of its size (opnet.data.images)."""


class AugmentedBatch(NamedTuple):
    """patches (B, S, S) uint8 gray; labels, boxes (B, 4) and has_box (B,) in patch pixels;
    affines (B, 2, 3) image -> patch pixels."""

    patches: NDArray[np.uint8]
    labels: FaceLabels
    boxes: FloatArray
    has_box: NDArray[np.bool_]
    affines: FloatArray


def augment_batch(
    decode: Decoder, labels: FaceLabels, params: AugmentParams, config: AugmentConfig
) -> AugmentedBatch:
    """Crops, rotates and flips each image with ONE warp, then intensity and noise; labels follow.

    ``labels`` are in image pixels and every face needs a box in ``config.roi_mode``
    (:func:`face_boxes`). Each image is decoded at the largest reduction its crop allows, which
    both speeds decoding up and anti-aliases the downscaling.
    """
    boxes, has_box = face_boxes(labels, config.roi_mode)
    if not has_box.all():
        raise ValueError(f"augment_batch: rows {np.flatnonzero(~has_box).tolist()} have no face box")
    affines = crop_affines(boxes, params, config.out_size, config.beyond_border)
    patches = np.empty((len(labels), config.out_size, config.out_size), np.uint8)
    for i, reduction in enumerate(decode_reductions(affines).tolist()):
        patch = warp(decode(i, reduction), affines[i], config.out_size, reduction)
        patch = apply_intensity(patch, params.intensity[i])
        patches[i] = add_noise(patch, float(params.noise_std[i]), int(params.noise_seed[i]))
    out = labels.transformed(affines)
    out_boxes, out_has_box = face_boxes(out, config.roi_mode)
    return AugmentedBatch(patches, out, out_boxes, out_has_box, affines)
