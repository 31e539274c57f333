"""Opening the models an evaluation runs, as its protocol wants them run."""

from __future__ import annotations

import os
from pathlib import Path

from opnet.evaluate.protocol import Protocol
from opnet.runtime import PoseModel, load_pose_model


def load_evaluation_model(path: str | os.PathLike, threads: int | None, protocol: str) -> PoseModel:
    """:func:`opnet.runtime.load_pose_model`, except that under the ``original`` protocol ONNX files
    run their int8 operations simulated in float32 (``OnnxPoseModel(fused_int8=False)``): onnxruntime's
    fused int8 kernels saturate on CPUs without VNNI and move OpenTrack's int8 model's rows by up to
    0.8 deg, the simulation stays within 0.1 deg of the original's published rows."""
    path = Path(path)
    if Protocol(protocol) == Protocol.ORIGINAL and path.suffix.lower() == ".onnx" and path.is_file():
        from opnet.runtime.onnx_model import OnnxPoseModel

        return OnnxPoseModel(path, threads, fused_int8=False)
    return load_pose_model(path, threads)
