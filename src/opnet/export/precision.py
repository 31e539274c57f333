"""Smaller models from the float32 graph: float16 weights, or int8 by post-training quantisation.

Both keep float32 inputs and outputs (OpenTrack requires float32 tensors).

- float16: onnxruntime's converter (``onnxruntime.transformers.float16``, the one of
  onnxconverter-common) with ``keep_io_types``: casts at the input and outputs, half the file
  size. onnxruntime's CPU provider runs it but is not faster than float32 (docs/opentrack.md).
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

from opnet.errors import OpNetError
from opnet.export.outputs import INPUT_NAME

PRECISIONS = ("float32", "float16", "int8")


def constant_computations(model: onnx.ModelProto) -> list[str]:
    """Names of the computing nodes (not Constant/Identity) whose outputs do not depend on the input."""
    constant = {t.name for t in model.graph.initializer} | {""}
    names = []
    for node in model.graph.node:  # topological order
        if all(i in constant for i in node.input):
            constant.update(node.output)
            if node.op_type not in ("Constant", "Identity"):
                names.append(node.name)
    return names


def to_float16(model: onnx.ModelProto) -> onnx.ModelProto:
    """A float16 copy of a float32 model with float32 input and outputs."""
    from onnxruntime.transformers.float16 import convert_float_to_float16

    copy = onnx.ModelProto()
    copy.CopyFrom(model)  # the converter changes its argument
    # Input-independent nodes stay float32: onnxruntime folds them at load time, which it cannot do
    # for float16 nodes without CPU kernels (Elu, Add).
    return convert_float_to_float16(copy, keep_io_types=True, node_block_list=constant_computations(model))


def backbone_nodes(model: onnx.ModelProto) -> list[str]:
    """Names of the nodes the global average pooling depends on (the convolutional backbone)."""
    nodes = {node.name: node for node in model.graph.node}
    producer = {out: node.name for node in model.graph.node for out in node.output}
    pools = [n.name for n in model.graph.node if n.op_type == "GlobalAveragePool"]
    if len(pools) != 1:
        raise OpNetError(f"int8: expected one GlobalAveragePool in the graph, found {len(pools)}")
    seen: set[str] = set()
    stack = [producer[i] for i in nodes[pools[0]].input if i in producer]
    while stack:
        name = stack.pop()
        if name not in seen:
            seen.add(name)
            stack.extend(producer[i] for i in nodes[name].input if i in producer)
    return sorted(seen)


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
        quantize_static(str(shaped), str(target), Inputs(), quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        nodes_to_quantize=backbone_nodes(model))
        return onnx.load(target)
