"""Smaller models from the float32 graph: float16 weights, or int8 by post-training quantisation.

Both keep float32 inputs and outputs (OpenTrack requires float32 tensors).

- float16: the backbone computes in float16 (weights stored as float16, one cast at its input
  and one at its output); pooling and heads stay float32, so quaternions are normalised in
  float32 (unit to rounding, as OpenTrack assumes). About half the file size; onnxruntime's CPU
  provider runs it but is not faster than float32 (docs/opentrack.md).
- int8: ``onnxruntime.quantization.quantize_static`` in QDQ format (as OpenTrack's released int8
  models), weights int8 per output channel, activations uint8 per tensor calibrated by their
  min/max over real-looking inputs. Only the backbone (everything that feeds the global average
  pooling) is quantised; pooling and the small linear heads stay float32, as in the original
  OpNet export. QDQ with uint8 activations ran fastest on onnxruntime's CPU provider (int8
  activations were three times slower on an AVX-512 VNNI machine).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import onnx
from numpy.typing import NDArray
from onnx import helper, numpy_helper

from opnet.errors import OpNetError
from opnet.export.outputs import INPUT_NAME

PRECISIONS = ("float32", "float16", "int8")


def backbone_nodes(model: onnx.ModelProto) -> list[str]:
    """Names of the nodes the global average pooling depends on (the convolutional backbone)."""
    nodes = {node.name: node for node in model.graph.node}
    producer = {out: node.name for node in model.graph.node for out in node.output}
    pools = [n.name for n in model.graph.node if n.op_type == "GlobalAveragePool"]
    if len(pools) != 1:
        raise OpNetError(f"expected one GlobalAveragePool in the graph, found {len(pools)}")
    seen: set[str] = set()
    stack = [producer[i] for i in nodes[pools[0]].input if i in producer]
    while stack:
        name = stack.pop()
        if name not in seen:
            seen.add(name)
            stack.extend(producer[i] for i in nodes[name].input if i in producer)
    return sorted(seen)


def _half(tensor: onnx.TensorProto) -> onnx.TensorProto:
    """A float32 tensor as float16 (same name); other tensors unchanged."""
    if tensor.data_type != onnx.TensorProto.FLOAT:
        return tensor
    return numpy_helper.from_array(numpy_helper.to_array(tensor).astype(np.float16), tensor.name)


def to_float16(model: onnx.ModelProto) -> onnx.ModelProto:
    """A copy of a float32 model whose backbone computes in float16; heads, input and outputs stay float32.

    The input is cast to float16 before the first convolution and the backbone's output back to
    float32 before the global average pooling; backbone weights and constants are stored as float16.
    """
    half = onnx.ModelProto()
    half.CopyFrom(model)
    graph = half.graph
    backbone = [n for n in graph.node if n.name in set(backbone_nodes(model))]
    pool = next(n for n in graph.node if n.op_type == "GlobalAveragePool")
    used_by_heads = {i for n in graph.node if n not in backbone for i in n.input} - {pool.input[0]}
    weights = {i for n in backbone for i in n.input} & {t.name for t in graph.initializer}
    if weights & used_by_heads:
        shared = ", ".join(sorted(weights & used_by_heads))
        raise OpNetError(f"float16: weights shared by backbone and heads: {shared}")
    for k, tensor in enumerate(graph.initializer):
        if tensor.name in weights:
            graph.initializer[k].CopyFrom(_half(tensor))
    for node in backbone:
        node.input[:] = [f"{INPUT_NAME}_float16" if i == INPUT_NAME else i for i in node.input]
        for attribute in node.attribute:
            if node.op_type == "Constant" and attribute.name == "value":
                attribute.t.CopyFrom(_half(attribute.t))
    pooled = pool.input[0]
    pool.input[0] = f"{pooled}_float32"
    graph.node.insert(
        0, helper.make_node("Cast", [INPUT_NAME], [f"{INPUT_NAME}_float16"], to=onnx.TensorProto.FLOAT16)
    )
    graph.node.insert(
        list(graph.node).index(pool),
        helper.make_node("Cast", [pooled], [pool.input[0]], to=onnx.TensorProto.FLOAT),
    )
    del graph.value_info[:]
    onnx.checker.check_model(half, full_check=True)
    return half


def quantize_int8(model: onnx.ModelProto, calibration: NDArray[np.float32]) -> onnx.ModelProto:
    """The model with its backbone quantised to int8, calibrated on (N, 1, S, S) inputs."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Inputs(CalibrationDataReader):
        def __init__(self) -> None:
            self._rows = iter(np.asarray(calibration, dtype=np.float32))

        def get_next(self) -> dict[str, NDArray[np.float32]] | None:
            row = next(self._rows, None)
            return None if row is None else {INPUT_NAME: row[None]}

    with tempfile.TemporaryDirectory(prefix="opnet-int8-") as tmp:
        source, shaped, target = (Path(tmp) / f"{name}.onnx" for name in ("float32", "shaped", "int8"))
        onnx.save(model, source)
        quant_pre_process(str(source), str(shaped), skip_optimization=True)
        quantize_static(
            str(shaped),
            str(target),
            Inputs(),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            nodes_to_quantize=backbone_nodes(model),
        )
        return onnx.load(target)
