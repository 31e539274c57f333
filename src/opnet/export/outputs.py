"""Which network outputs an ONNX file carries, under which names, and the module that returns them.

OpenTrack's contract (``../shared/REFERENCE.md`` §6, ``tracker-neuralnet/model_adapters.cpp``)
names five outputs; a ``full`` export adds the landmarks and the other predictions for
evaluation. Names of the full export that :class:`opnet.runtime.onnx_model.OnnxPoseModel`
understands (``pt3d_68``) are read back by ``opnet evaluate``; the others are for people and tools.
"""

from __future__ import annotations

from torch import Tensor, nn

from opnet.models import ModelConfig, PoseNet

INPUT_NAME = "x"
OPENTRACK_MODEL_VERSION = 4
"""ONNX ``model_version`` OpenTrack reads as its current rotation convention."""

CONTRACT_OUTPUTS: dict[str, str] = {
    "pos_size": "pos_size",
    "quat": "quat",
    "box": "box",
    "rotaxis_scales_tril": "rotaxis_scales_tril",
    "pos_size_scales_tril": "pos_size_scales_tril",
}
"""ONNX output name -> :class:`~opnet.models.PoseNetOutput` field, in OpenTrack's order."""

ORIGINAL_CONTRACT_EXTRA: dict[str, str] = {"box_scales": "box_scales"}
"""Networks imported from the original code (``style`` original-*) keep the extra output of the
original's own OpenTrack export (OpenTrack ignores it)."""

FULL_EXTRA_OUTPUTS: dict[str, str] = {
    "pt3d_68": "points",
    "shapeparams": "shapeparams",
    "pt3d_68_scales": "points_scales",
    "box_scales": "box_scales",
}
"""Extra outputs of a ``full`` export: landmarks (patch units, like ``pt3d_68`` labels), keypoint
coefficients and the learned standard deviations of landmarks and box."""

UNCERTAINTY_OUTPUTS = ("rotaxis_scales_tril", "pos_size_scales_tril")

SAMPLE_SHAPES = {
    "pos_size": (3,),
    "quat": (4,),
    "box": (4,),
    "rotaxis_scales_tril": (3, 3),
    "pos_size_scales_tril": (3, 3),
    "pt3d_68": (68, 3),
    "pt3d_68_scales": (68, 3),
    "box_scales": (4,),
}
"""Per-sample shape of each output (``shapeparams`` has ``config.num_shape_params`` values)."""


def predicted_fields(config: ModelConfig) -> set[str]:
    """The :class:`~opnet.models.PoseNetOutput` fields a network with ``config`` fills."""
    fields = {"quat", "pos_size", "box"}
    if config.uncertainty:
        fields |= {"rotaxis_scales_tril", "pos_size_scales_tril", "box_scales"}
    if config.landmarks:
        fields |= {"points", "shapeparams"}
    if config.landmarks and config.uncertainty:
        fields.add("points_scales")
    return fields


def output_names(config: ModelConfig, full: bool) -> dict[str, str]:
    """ONNX name -> PoseNetOutput field of every output exported for ``config``, in file order."""
    original = ORIGINAL_CONTRACT_EXTRA if config.style != "opnet" else {}
    names = {**CONTRACT_OUTPUTS, **original, **(FULL_EXTRA_OUTPUTS if full else {})}
    present = predicted_fields(config)
    return {name: field for name, field in names.items() if field in present}


def output_shapes(config: ModelConfig, full: bool) -> dict[str, tuple[int, ...]]:
    """ONNX name -> per-sample shape of every output exported for ``config``, in file order."""
    return {name: SAMPLE_SHAPES.get(name, (config.num_shape_params,)) for name in output_names(config, full)}


class ExportedOutputs(nn.Module):
    """(B, 1, S, S) input -> the network's outputs as a tuple, in the order of ``names`` (float32)."""

    def __init__(self, net: PoseNet, names: dict[str, str]):
        super().__init__()
        self.net = net
        self.names = dict(names)

    def forward(self, x: Tensor) -> tuple[Tensor, ...]:
        out = self.net(x)
        return tuple(getattr(out, field) for field in self.names.values())
