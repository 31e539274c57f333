"""OpenTrack's model contract (``../shared/REFERENCE.md`` §6), checked on an exported file.

First the file is opened by :class:`opnet.runtime.onnx_model.OnnxPoseModel`, whose checks mirror
OpenTrack's ``model_adapters.cpp`` (names, shapes, float32, ``model_version``). Then what an
export promises beyond that: exactly one input ``x`` of the expected shape, ``model_version`` 4,
every expected output with its exact shape, opset 13 of the standard domain only, all weights
inside the file; and, on the outputs for real inputs: finite values, unit quaternions with
w >= 0, lower-triangular Cholesky factors with a positive diagonal (OpenTrack asserts the
zeros above the diagonal).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import onnx
from numpy.typing import NDArray

from opnet.errors import OpNetError
from opnet.export.graph import BATCH_AXIS, OPSET
from opnet.export.outputs import INPUT_NAME, OPENTRACK_MODEL_VERSION, UNCERTAINTY_OUTPUTS

UNIT_NORM_TOL = 1e-3


def _dims(value: onnx.ValueInfoProto) -> list[int | str]:
    return [d.dim_param if d.HasField("dim_param") else d.dim_value for d in value.type.tensor_type.shape.dim]


def _check_graph(
    path: Path, model: onnx.ModelProto, expected: dict[str, tuple[int, ...]], input_size: int, full: bool
) -> None:
    batch = BATCH_AXIS if full else 1
    inputs = [(i.name, i.type.tensor_type.elem_type, _dims(i)) for i in model.graph.input]
    if inputs != [(INPUT_NAME, onnx.TensorProto.FLOAT, [batch, 1, input_size, input_size])]:
        raise OpNetError(
            f"{path}: inputs {inputs}; expected one float32 '{INPUT_NAME}' "
            f"{[batch, 1, input_size, input_size]}"
        )
    outputs = {o.name: (o.type.tensor_type.elem_type, _dims(o)) for o in model.graph.output}
    for name, shape in expected.items():
        if outputs.get(name) != (onnx.TensorProto.FLOAT, [batch, *shape]):
            raise OpNetError(
                f"{path}: output '{name}' is {outputs.get(name)}; expected float32 {[batch, *shape]}"
            )
    if model.model_version != OPENTRACK_MODEL_VERSION:
        raise OpNetError(f"{path}: model_version {model.model_version}; expected {OPENTRACK_MODEL_VERSION}")
    opsets = {(o.domain or "ai.onnx", o.version) for o in model.opset_import}
    if opsets != {("ai.onnx", OPSET)}:
        raise OpNetError(f"{path}: opsets {sorted(opsets)}; expected only ai.onnx {OPSET}")
    external = [t.name for t in model.graph.initializer if t.data_location == onnx.TensorProto.EXTERNAL]
    if external:
        raise OpNetError(f"{path}: weights stored outside the file ({', '.join(external[:3])})")


def check_file(
    path: str | os.PathLike, expected: dict[str, tuple[int, ...]], input_size: int, full: bool
) -> None:
    """Raises OpNetError unless the file loads as OpenTrack loads it and has exactly the expected I/O.

    ``expected``: output name -> per-sample shape of every output the export should have.
    """
    from opnet.runtime.onnx_model import OnnxPoseModel

    path = Path(path)
    OnnxPoseModel(path, threads=1)
    _check_graph(path, onnx.load(str(path)), expected, input_size, full)


def check_values(path: str | os.PathLike, outputs: dict[str, NDArray[np.floating]]) -> None:
    """Raises OpNetError if outputs for real inputs break the contract's value conventions."""
    for name, value in outputs.items():
        if not np.all(np.isfinite(value)):
            raise OpNetError(f"{path}: output '{name}' is not finite for some inputs")
    quat = outputs["quat"].astype(np.float64)
    norm_error = float(np.max(np.abs(np.linalg.norm(quat, axis=-1) - 1.0)))
    if norm_error > UNIT_NORM_TOL or np.any(quat[:, 3] < 0):
        raise OpNetError(
            f"{path}: output 'quat' is not a unit quaternion with w >= 0 "
            f"(norm off by {norm_error:.2g}, smallest w {quat[:, 3].min():.3g})"
        )
    upper = np.triu_indices(3, k=1)
    for name in UNCERTAINTY_OUTPUTS:
        if name in outputs:
            tril = outputs[name]
            if np.any(tril[:, upper[0], upper[1]] != 0) or np.any(np.diagonal(tril, axis1=1, axis2=2) <= 0):
                raise OpNetError(f"{path}: output '{name}' is not lower-triangular with a positive diagonal")
