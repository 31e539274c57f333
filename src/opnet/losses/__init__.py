"""Training losses: small per-sample terms and :class:`PoseLoss`, which combines them.

Each term takes network outputs and labels in patch units and returns per-sample values (B,).
"""

from opnet.losses.box import box_loss
from opnet.losses.combine import PoseLoss, active_terms, with_safe_labels
from opnet.losses.config import TERM_NAMES, LossConfig
from opnet.losses.landmarks import align_depth, landmark_point_weights, points_loss
from opnet.losses.nll import (
    box_nll,
    mix_with_uniform,
    points_nll,
    pos_size_nll,
    rotation_error_vector,
    rotation_nll,
)
from opnet.losses.position import size_loss, xy_loss
from opnet.losses.regularizers import quat_norm_loss
from opnet.losses.rotation import rotation_loss

__all__ = [
    "TERM_NAMES",
    "LossConfig",
    "PoseLoss",
    "active_terms",
    "align_depth",
    "box_loss",
    "box_nll",
    "landmark_point_weights",
    "mix_with_uniform",
    "points_loss",
    "points_nll",
    "pos_size_nll",
    "quat_norm_loss",
    "rotation_error_vector",
    "rotation_loss",
    "rotation_nll",
    "size_loss",
    "with_safe_labels",
    "xy_loss",
]
