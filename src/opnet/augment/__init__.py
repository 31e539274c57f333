"""Training augmentation: sample parameters per face, then apply them to images and labels together.

``sample_params(rngs, config, batch_rng)`` draws :class:`AugmentParams` (one generator per
sample, one per batch for what a batch shares); ``augment_batch`` applies them (crop jitter,
rotation and flip, then intensity, noise and the network's normalisation) and moves the labels
with the same affines. Two styles (:data:`STYLE_CHOICES`): the original's (``paper`` recipe) and
OpNet's. See docs/augmentation.md.
"""

from opnet.augment.config import ROI_EXPANSION, STYLE_CHOICES, AugmentConfig, RoiMode
from opnet.augment.labels import NUM_POINTS, NUM_SHAPEPARAMS, FaceLabels, face_boxes, forehead_box
from opnet.augment.params import (
    INTENSITY_OPS,
    AugmentParams,
    neutral_params,
    params_from_draws,
    sample_params,
)
from opnet.augment.pipeline import AugmentedBatch, Decoder, augment_batch

__all__ = [
    "INTENSITY_OPS",
    "NUM_POINTS",
    "NUM_SHAPEPARAMS",
    "ROI_EXPANSION",
    "STYLE_CHOICES",
    "AugmentConfig",
    "AugmentParams",
    "AugmentedBatch",
    "Decoder",
    "FaceLabels",
    "RoiMode",
    "augment_batch",
    "face_boxes",
    "forehead_box",
    "neutral_params",
    "params_from_draws",
    "sample_params",
]
