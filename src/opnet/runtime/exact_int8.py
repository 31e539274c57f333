"""int8 ONNX models computed exactly, whatever the CPU.

onnxruntime runs the quantised layers of int8 models (quantise/dequantise pairs, as in OpenTrack's
``head-pose-*-int8.onnx``) with fused integer kernels. On x86 CPUs without VNNI instructions its
default u8 x s8 kernels add pairs of products in saturating 16-bit registers, which moves the
predictions of OpenTrack's int8 model by 2 deg per face on average (up to 10 deg) compared with
exact integer arithmetic, which VNNI CPUs compute. The session option ``session.x64quantprecision``
switches to exact u8 x u8 kernels, but onnxruntime fails to apply it to models whose layers share a
weight or zero-point tensor ("Attempt to replace the existing tensor"), as exported PyTorch models
do. :func:`exact_int8_session` works around that: it lets onnxruntime fuse the graph into its
integer operators, gives every quantised operator its own copy of shared constants, and opens the
result with the precise kernels. The outputs then equal those of a VNNI CPU (checked: the original
evaluation's published rows of OpenTrack's int8 model are reproduced to 0.005 deg).
"""

from __future__ import annotations

import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import onnx

PRECISE_KERNELS = "session.x64quantprecision"
QUANTISED_OPS = frozenset({"QLinearConv", "QLinearMatMul", "MatMulInteger", "ConvInteger", "QGemm"})
"""Operators whose int8 weights the precise kernels convert (each needs its constants to itself)."""


def is_quantised(model: onnx.ModelProto) -> bool:
    """True if the graph holds int8 quantise/dequantise pairs or integer operators."""
    return any(n.op_type in ("QuantizeLinear", "DynamicQuantizeLinear") for n in model.graph.node)


def unshare_constants(model: onnx.ModelProto) -> int:
    """In place: every input of a quantised operator that is a constant used more than once gets a
    copy of its own; returns the number of copies."""
    constants = {t.name: t for t in model.graph.initializer}
    uses = Counter(name for node in model.graph.node for name in node.input)
    copies = 0
    for node in model.graph.node:
        if node.op_type not in QUANTISED_OPS:
            continue
        for k, name in enumerate(node.input):
            if name in constants and uses[name] > 1:
                copy = onnx.TensorProto()
                copy.CopyFrom(constants[name])
                copy.name = f"{name}.{node.name or 'node'}.{k}.{copies}"
                model.graph.initializer.append(copy)
                node.input[k] = copy.name
                copies += 1
    return copies


def _fused(path: Path) -> onnx.ModelProto:
    """The model as onnxruntime's extended graph optimisations leave it (integer operators fused)."""
    import onnxruntime as ort

    with tempfile.TemporaryDirectory() as tmp:
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
        options.optimized_model_filepath = str(Path(tmp) / "fused.onnx")
        options.log_severity_level = 3
        ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        return onnx.load(str(Path(tmp) / "fused.onnx"))


def exact_int8_session(path: str | Path, options: Any) -> Any:
    """An onnxruntime session of the int8 model at ``path`` with exact integer arithmetic.

    ``options``: the ``onnxruntime.SessionOptions`` to use (threads etc.); the precise-kernel option
    is added to them.
    """
    import onnxruntime as ort

    model = _fused(Path(path))
    unshare_constants(model)
    options.add_session_config_entry(PRECISE_KERNELS, "1")
    options.log_severity_level = 3  # not the notes on constants the fusion left unused
    return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
