"""Training augmentation: sample parameters per face, then apply them to images and labels together.

``sample_params(rngs, config)`` draws :class:`AugmentParams` (one generator per sample);
``augment_batch`` applies them (one affine warp per image for crop jitter, rotation and flip;
then intensity and noise) and moves the labels with the same affines. See docs/augmentation.md.
"""

from opnet.augment.config import ROI_EXPANSION, AugmentConfig, RoiMode
from opnet.augment.labels import NUM_POINTS, NUM_SHAPEPARAMS, FaceLabels, face_boxes, forehead_box
from opnet.augment.params import INTENSITY_OPS, AugmentParams, params_from_draws, sample_params
from opnet.augment.pipeline import AugmentedBatch, Decoder, augment_batch

__all__ = [
    "INTENSITY_OPS",
    "NUM_POINTS",
    "NUM_SHAPEPARAMS",
    "ROI_EXPANSION",
    "AugmentConfig",
    "AugmentParams",
    "AugmentedBatch",
    "Decoder",
    "FaceLabels",
    "RoiMode",
    "augment_batch",
    "face_boxes",
    "forehead_box",
    "params_from_draws",
    "sample_params",
]
