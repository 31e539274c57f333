"""PyTorch network -> ONNX graph (TorchScript exporter, opset 13) with OpenTrack's metadata.

The graph takes one float32 input ``x`` (B, 1, S, S) and returns the outputs of
:func:`opnet.export.outputs.output_names` in that order. OpenTrack's export has a fixed batch of
1; a ``full`` export has a dynamic batch axis on the input and every output. Batch norm is folded
into the convolutions by the exporter; every weight is stored inside the one file.
"""

from __future__ import annotations

import copy
import io
import json
import warnings

import onnx
import torch

from opnet import __version__
from opnet.export.outputs import (
    INPUT_NAME,
    OPENTRACK_MODEL_VERSION,
    ExportedOutputs,
    output_names,
    output_shapes,
)
from opnet.models import PoseNet
from opnet.normalization import ONNX_METADATA_KEY
from opnet.settings import to_plain

OPSET = 13
"""ONNX opset of the exported graph (OpenTrack's released models use 13)."""

BATCH_AXIS = "batch"


def export_graph(net: PoseNet, full: bool = False) -> onnx.ModelProto:
    """The network in evaluation mode as an ONNX model (float32); ``net`` itself is left untouched."""
    names = output_names(net.config, full)
    wrapper = ExportedOutputs(copy.deepcopy(net).cpu().float().eval(), names).eval()
    size = net.config.input_size
    dynamic = {name: {0: BATCH_AXIS} for name in (INPUT_NAME, *names)} if full else None
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer and deprecation notices of the TorchScript exporter
        torch.onnx.export(
            wrapper,
            (torch.zeros(1, 1, size, size),),
            buffer,  # type: ignore[arg-type]  # the TorchScript exporter writes to file objects too
            dynamo=False,
            opset_version=OPSET,
            input_names=[INPUT_NAME],
            output_names=list(names),
            dynamic_axes=dynamic,
            do_constant_folding=True,
        )
    model = onnx.load_from_string(buffer.getvalue())
    _inline_shared_initializers(model)
    _declare_output_shapes(model, output_shapes(net.config, full))
    return model


def _inline_shared_initializers(model: onnx.ModelProto) -> None:
    """In place: every ``Identity`` of a weight replaced by a copy of the weight under its output's name.

    The exporter stores equal tensors once (e.g. the zero biases of an untrained network) and
    reads them through Identity nodes; onnxruntime's quantiser only quantises weights and biases
    that are plain initializers of their node.
    """
    weights = {t.name: t for t in model.graph.initializer}
    outputs = {o.name for o in model.graph.output}
    shared = [
        n
        for n in model.graph.node
        if n.op_type == "Identity" and n.input[0] in weights and n.output[0] not in outputs
    ]
    for node in shared:
        copy = onnx.TensorProto()
        copy.CopyFrom(weights[node.input[0]])
        copy.name = node.output[0]
        model.graph.initializer.append(copy)
        model.graph.node.remove(node)
    used = {i for n in model.graph.node for i in n.input}
    unused = [t for t in model.graph.initializer if t.name not in used]
    for tensor in unused:
        model.graph.initializer.remove(tensor)


def _declare_output_shapes(model: onnx.ModelProto, shapes: dict[str, tuple[int, ...]]) -> None:
    """In place: the per-sample dimensions of every output as numbers.

    With a dynamic batch the exporter's shape inference names some of them (e.g. after a
    normalisation); onnxruntime infers them anyway, but the declared shapes are the contract.
    """
    for output in model.graph.output:
        dims = output.type.tensor_type.shape.dim
        for dim, size in zip(list(dims)[1:], shapes[output.name], strict=True):
            dim.Clear()
            dim.dim_value = size
    onnx.checker.check_model(model, full_check=True)


def set_metadata(model: onnx.ModelProto, net: PoseNet, precision: str, full: bool, source: str = "") -> None:
    """In place: OpenTrack's ``model_version`` 4, producer, a description and OpNet's settings.

    Metadata properties: ``opnet_config`` (the ModelConfig as JSON), ``opnet_input_norm`` (the
    input normalisation, :mod:`opnet.normalization`), ``opnet_precision``, ``opnet_outputs``
    ("opentrack" or "full") and ``opnet_source`` (the checkpoint, if given).
    """
    config = net.config
    model.model_version = OPENTRACK_MODEL_VERSION
    model.producer_name = "opnet"
    model.producer_version = __version__
    kind = "full outputs, dynamic batch" if full else "OpenTrack outputs"
    model.doc_string = (
        f"Head pose prediction (OpNet {__version__}: {config.backbone} width "
        f"{config.width:g}, {config.input_size}x{config.input_size}, {precision}, {kind})"
    )
    props = {
        "opnet_config": json.dumps(to_plain(config), sort_keys=True),
        ONNX_METADATA_KEY: config.input_norm,
        "opnet_precision": precision,
        "opnet_outputs": "full" if full else "opentrack",
    }
    if source:
        props["opnet_source"] = source
    del model.metadata_props[:]
    onnx.helper.set_model_props(model, props)
