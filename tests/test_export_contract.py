"""OpenTrack's pose-model contract, written from ../shared/REFERENCE.md §6 and OpenTrack's
tracker-neuralnet/model_adapters.cpp, checked on our exports and on OpenTrack's released model.

The checks here are written out independently of opnet.export's own contract checks:
- exactly one input, float32, fixed shape (1, 1, 129, 129);
- outputs pos_size (1, 3), quat (1, 4), box (1, 4), rotaxis_scales_tril (1, 3, 3) and
  pos_size_scales_tril (1, 3, 3), float32, exact shapes (OpenTrack throws on any other shape);
- ONNX model_version 4 (<= 0 or > 4 is read as the legacy version 1);
- on real crops: unit quaternions with w >= 0, lower-triangular factors with exact zeros above
  the diagonal (OpenTrack asserts them) and a positive diagonal (Cholesky factors).
"""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from conftest import POSE_MODEL, needs_shared, small_net

from opnet.export import ExportOptions, export_model
from opnet.export.samples import dataset_inputs
from opnet.runtime import load_pose_model

CONTRACT_OUTPUTS = {
    "pos_size": [1, 3],
    "quat": [1, 4],
    "box": [1, 4],
    "rotaxis_scales_tril": [1, 3, 3],
    "pos_size_scales_tril": [1, 3, 3],
}
TRIL_OUTPUTS = ("rotaxis_scales_tril", "pos_size_scales_tril")


def declared_dims(value: onnx.ValueInfoProto) -> list:
    return [d.dim_param if d.HasField("dim_param") else d.dim_value for d in value.type.tensor_type.shape.dim]


def contract_problems(path, inputs: np.ndarray) -> list[str]:
    """Every way the file breaks the contract (empty if it keeps it)."""
    problems = []
    model = onnx.load(str(path))
    ins = [(i.name, i.type.tensor_type.elem_type, declared_dims(i)) for i in model.graph.input]
    if len(ins) != 1 or ins[0][1] != onnx.TensorProto.FLOAT or ins[0][2] != [1, 1, 129, 129]:
        problems.append(f"inputs {ins}")
    outs = {o.name: (o.type.tensor_type.elem_type, declared_dims(o)) for o in model.graph.output}
    for name, shape in CONTRACT_OUTPUTS.items():
        if outs.get(name) != (onnx.TensorProto.FLOAT, shape):
            problems.append(f"{name}: {outs.get(name)}")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    if session.get_modelmeta().version != 4 or model.model_version != 4:
        problems.append(f"model_version {model.model_version}")
    runtime = {o.name: (o.type, o.shape) for o in session.get_outputs()}
    problems += [
        f"runtime {n}: {runtime.get(n)}"
        for n, s in CONTRACT_OUTPUTS.items()
        if runtime.get(n) != ("tensor(float)", s)
    ]
    if problems:
        return problems
    feed = session.get_inputs()[0].name
    results = [dict(zip(runtime, session.run(list(runtime), {feed: x[None]}), strict=True)) for x in inputs]
    quat = np.concatenate([r["quat"] for r in results])
    if np.any(quat[:, 3] < 0) or not np.allclose(np.linalg.norm(quat, axis=1), 1.0, atol=1e-4):
        problems.append("quat not unit with w >= 0")
    for name in TRIL_OUTPUTS:
        tril = np.concatenate([r[name] for r in results])
        if np.any(tril[:, [0, 0, 1], [1, 2, 2]] != 0.0) or np.any(tril[:, [0, 1, 2], [0, 1, 2]] <= 0):
            problems.append(f"{name} not lower-triangular with positive diagonal")
    if not all(np.all(np.isfinite(v)) for r in results for v in r.values()):
        problems.append("non-finite outputs")
    return problems


@pytest.fixture(scope="module")
def inputs(crops_data):
    return dataset_inputs(crops_data, 8, 129)


@pytest.fixture(scope="module")
def exports(tmp_path_factory, crops_data):
    """Contract exports of one small network in every precision: precision -> path."""
    folder = tmp_path_factory.mktemp("exports")
    net = small_net()

    def export(precision: str):
        options = ExportOptions(
            precision=precision,
            data=crops_data,
            num_calibration=16,
            num_validation=8,
            progress=False,
            threads=1,
        )
        return export_model(net, folder / f"{precision}.onnx", options).path

    return {p: export(p) for p in ("float32", "float16", "int8")}


@pytest.mark.parametrize("precision", ["float32", "float16", "int8"])
def test_exports_keep_opentracks_contract(exports, inputs, precision):
    path = exports[precision]
    assert contract_problems(path, inputs) == []
    model = onnx.load(str(path))
    assert [(o.domain, o.version) for o in model.opset_import] == [("", 13)]  # as OpenTrack's own models
    assert all(t.data_location != onnx.TensorProto.EXTERNAL for t in model.graph.initializer)  # one file
    assert [o.name for o in model.graph.output] == list(CONTRACT_OUTPUTS)  # nothing else, OpenTrack's order
    pose_model = load_pose_model(path, threads=1)
    assert pose_model.max_batch == 1 and pose_model.input_size == 129 and not pose_model.has_points


@needs_shared(POSE_MODEL)
def test_opentracks_released_model_keeps_the_same_contract(inputs):
    assert contract_problems(POSE_MODEL, inputs) == []


def test_the_contract_check_finds_broken_files(tmp_path, exports, inputs):
    """The checks above can fail: a wrong version, a missing output, a batch axis, a full triangle."""
    model = onnx.load(str(exports["float32"]))
    model.model_version = 3
    onnx.save(model, tmp_path / "v3.onnx")
    assert any("model_version 3" in p for p in contract_problems(tmp_path / "v3.onnx", inputs))
    model = onnx.load(str(exports["float32"]))
    model.graph.input[0].type.tensor_type.shape.dim[0].dim_param = "batch"
    model.graph.output.remove(next(o for o in model.graph.output if o.name == "box"))
    onnx.save(model, tmp_path / "broken.onnx")
    problems = contract_problems(tmp_path / "broken.onnx", inputs)
    assert any(p.startswith("inputs") for p in problems) and any(p.startswith("box") for p in problems)
    model = onnx.load(str(exports["float32"]))
    tril = next(n for n in model.graph.node if n.output[0] == "rotaxis_scales_tril")
    tril.output[0] = "tril_raw"
    model.graph.node.append(onnx.helper.make_node("Add", ["tril_raw", "one"], ["rotaxis_scales_tril"]))
    model.graph.initializer.append(onnx.numpy_helper.from_array(np.float32(1.0), "one"))
    onnx.save(model, tmp_path / "full.onnx")
    assert contract_problems(tmp_path / "full.onnx", inputs) == [
        "rotaxis_scales_tril not lower-triangular with positive diagonal"
    ]
