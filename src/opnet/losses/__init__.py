"""Training losses: small per-sample terms and :class:`PoseLoss`, which combines them.

Each term takes network outputs and labels in patch units and returns per-sample values (B,).
Named recipes (``loss_recipe("paper" | "opnet", nll)``) give complete settings.
"""

from opnet.losses.box import box_loss
from opnet.losses.combine import PoseLoss, active_terms, unsupported_terms, with_safe_labels
from opnet.losses.config import NLL_TERM_NAMES, TERM_NAMES, LossConfig
from opnet.losses.landmarks import align_depth, landmark_point_weights, points_loss, weighted_point_mean
from opnet.losses.nll import (
    box_nll,
    coordinate_nll,
    mix_with_uniform,
    points_nll,
    pos_size_nll,
    rotation_error_vector,
    rotation_nll,
    shapeparams_nll,
)
from opnet.losses.position import size_loss, xy_loss
from opnet.losses.recipes import loss_recipe, recipe_names
from opnet.losses.regularizers import quat_norm_loss
from opnet.losses.rotation import rotation_loss
from opnet.losses.shapeparams import shapeparams_loss

__all__ = [
    "NLL_TERM_NAMES",
    "TERM_NAMES",
    "LossConfig",
    "PoseLoss",
    "active_terms",
    "align_depth",
    "box_loss",
    "box_nll",
    "coordinate_nll",
    "landmark_point_weights",
    "loss_recipe",
    "mix_with_uniform",
    "points_loss",
    "points_nll",
    "pos_size_nll",
    "quat_norm_loss",
    "recipe_names",
    "rotation_error_vector",
    "rotation_loss",
    "rotation_nll",
    "shapeparams_loss",
    "shapeparams_nll",
    "size_loss",
    "unsupported_terms",
    "weighted_point_mean",
    "with_safe_labels",
    "xy_loss",
]
