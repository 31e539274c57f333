"""Running pose networks as OpenTrack does: model files, raw outputs, decoding into the image.

- :class:`PoseModel`: what any runnable model offers (``input_size``, ``max_batch``, ``run``).
- :func:`load_pose_model`: opens a model file by suffix (``.onnx``; more via :func:`register_model_loader`).
- :class:`PoseOutputs` (patch units) and :class:`PosePrediction` (image pixels), :func:`decode_outputs`.
- :func:`predict_face`: one face in one frame, cropped like OpenTrack's tracker;
  :func:`predict_patch` the same for any crop.
"""

from opnet.runtime.model import PoseModel, input_norm_of
from opnet.runtime.outputs import PoseOutputs, PosePrediction, concatenate, decode_outputs
from opnet.runtime.registry import load_pose_model, model_suffixes, register_model_loader
from opnet.runtime.single import TRACKER_EXPANSION, predict_face, predict_patch, tracker_patch

__all__ = [
    "TRACKER_EXPANSION",
    "PoseModel",
    "PoseOutputs",
    "PosePrediction",
    "concatenate",
    "decode_outputs",
    "input_norm_of",
    "load_pose_model",
    "model_suffixes",
    "predict_face",
    "predict_patch",
    "register_model_loader",
    "tracker_patch",
]
