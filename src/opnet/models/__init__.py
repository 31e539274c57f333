"""The pose network: ``create_model(config)``, its typed output, keypoint model and checkpoints.

See docs/model.md for the outputs, their units and conventions.
"""

from opnet.models.backbones import Backbone, backbone_names, create_backbone, register_backbone
from opnet.models.checkpoint import convert_original_checkpoint, load_checkpoint, load_model, save_checkpoint
from opnet.models.config import ModelConfig
from opnet.models.keypoint_fit import (
    fit_keypoint_model,
    fit_shape_params,
    keypoint_model_from_datasets,
    keypoint_model_from_face_model,
)
from opnet.models.keypoints import KeypointModel, pose_keypoints
from opnet.models.output import PoseNetOutput
from opnet.models.posenet import PoseNet, create_model

__all__ = [
    "Backbone",
    "KeypointModel",
    "ModelConfig",
    "PoseNet",
    "PoseNetOutput",
    "backbone_names",
    "create_backbone",
    "convert_original_checkpoint",
    "create_model",
    "fit_keypoint_model",
    "fit_shape_params",
    "keypoint_model_from_datasets",
    "keypoint_model_from_face_model",
    "load_checkpoint",
    "load_model",
    "pose_keypoints",
    "register_backbone",
    "save_checkpoint",
]
