"""int8 ONNX models run with exact integer arithmetic (opnet.runtime.exact_int8) on any CPU."""

from __future__ import annotations

from collections import Counter

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from conftest import POSE_MODEL, SHARED, crops_file, needs_shared, small_net

from opnet.export import ExportOptions, export_model
from opnet.export.samples import dataset_inputs
from opnet.geometry import geodesic_distance
from opnet.runtime.exact_int8 import QUANTISED_OPS, _fused, is_quantised, unshare_constants
from opnet.runtime.onnx_model import OnnxPoseModel


def _shared_quantised_inputs(model: onnx.ModelProto) -> int:
    constants = {t.name for t in model.graph.initializer}
    uses = Counter(i for n in model.graph.node for i in n.input)
    quantised = [n for n in model.graph.node if n.op_type in QUANTISED_OPS]
    return sum(1 for n in quantised for i in n.input if i in constants and uses[i] > 1)


ORIGINAL_INPUTS = SHARED / "original" / "inputs-aflw2kmini-0-7.npz"


def quat_angle_deg(a, b) -> np.ndarray:
    return np.rad2deg(geodesic_distance(a, b))


def _simulated(path, x: np.ndarray) -> np.ndarray:
    """The quaternions of the int8 model with its quantised layers simulated in float32."""
    options = ort.SessionOptions()
    options.add_session_config_entry("session.disable_quant_qdq", "1")
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return np.concatenate([session.run(["quat"], {"x": x[i : i + 1]})[0] for i in range(len(x))])


@pytest.fixture(scope="module")
def int8_export(tmp_path_factory):
    folder = tmp_path_factory.mktemp("int8")
    data = crops_file(folder)
    options = ExportOptions(data=data, precision="int8", num_validation=4, num_calibration=16, progress=False)
    return export_model(small_net(seed=5), folder / "q.onnx", options).path, dataset_inputs(data, 6, 129)


def test_quantised_operators_get_their_own_constants(int8_export):
    fused = _fused(int8_export[0])
    assert is_quantised(onnx.load(str(int8_export[0])))
    shared = _shared_quantised_inputs(fused)
    assert unshare_constants(fused) >= shared
    assert _shared_quantised_inputs(fused) == 0


def test_exact_kernels_agree_with_the_float_simulation_of_the_same_int8_model(int8_export):
    path, x = int8_export
    exact = OnnxPoseModel(path, threads=1)
    assert exact.exact_int8 and not OnnxPoseModel(path, threads=1, exact_int8=False).exact_int8
    quat = exact.run(x).quat
    angles = quat_angle_deg(quat, _simulated(path, x))
    assert np.all(angles < 1.0), angles  # the same integer graph; only float rounding differs
    np.testing.assert_array_equal(quat, exact.run(x).quat)


@needs_shared(POSE_MODEL)
@needs_shared(ORIGINAL_INPUTS)
def test_opentracks_int8_model_opens_with_exact_kernels_despite_shared_constants():
    assert _shared_quantised_inputs(_fused(POSE_MODEL)) > 0  # what onnxruntime's own option fails on
    model = OnnxPoseModel(POSE_MODEL, threads=1)
    assert model.exact_int8
    x = np.load(ORIGINAL_INPUTS)["x"]  # 8 real faces as the original evaluation crops them
    angles = quat_angle_deg(model.run(x).quat, _simulated(POSE_MODEL, x))
    assert angles.mean() < 1.0 and angles.max() < 3.0, angles


def test_float_models_are_opened_as_they_are(tmp_path):
    options = ExportOptions(data=crops_file(tmp_path), num_validation=2, progress=False)
    path = export_model(small_net(seed=2), tmp_path / "f.onnx", options).path
    assert not OnnxPoseModel(path, threads=1).exact_int8
