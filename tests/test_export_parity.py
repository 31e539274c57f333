"""onnxruntime reproduces PyTorch for exported models; the export refuses files that do not."""

from __future__ import annotations

import json

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from conftest import NUM_SHAPE_PARAMS, small_net

from opnet.errors import OpNetError
from opnet.export import ExportOptions, export_log_path, export_model, verify
from opnet.export.samples import dataset_inputs
from opnet.export.verify import Tolerance, compare, onnx_outputs, pytorch_outputs
from opnet.geometry import euler_to_quat, quat_multiply
from opnet.runtime import load_pose_model

FULL_SHAPES = {
    "pos_size": (3,),
    "quat": (4,),
    "box": (4,),
    "rotaxis_scales_tril": (3, 3),
    "pos_size_scales_tril": (3, 3),
    "pt3d_68": (68, 3),
    "shapeparams": (NUM_SHAPE_PARAMS,),
    "pt3d_68_scales": (68, 3),
    "box_scales": (4,),
}
FIELDS = {"pt3d_68": "points", "pt3d_68_scales": "points_scales"}


@pytest.fixture(scope="module")
def inputs(crops_data):
    return dataset_inputs(crops_data, 5, 129)


def options(crops_data, **kw) -> ExportOptions:
    return ExportOptions(
        data=crops_data, num_validation=8, num_calibration=16, progress=False, threads=1, **kw
    )


def test_full_export_matches_pytorch_on_a_batch(tmp_path, crops_data, inputs):
    net = small_net(seed=1)
    report = export_model(net, tmp_path / "full.onnx", options(crops_data, full=True))
    session = ort.InferenceSession(str(report.path), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    assert names == list(FULL_SHAPES) and session.get_inputs()[0].shape[0] == "batch"
    got = dict(zip(names, session.run(names, {"x": inputs}), strict=True))  # one call, batch of 5
    with torch.inference_mode():
        want = net(torch.from_numpy(inputs))
    for name, shape in FULL_SHAPES.items():
        expected = getattr(want, FIELDS.get(name, name)).numpy()
        assert got[name].shape == (5, *shape) and got[name].dtype == np.float32, name
        np.testing.assert_allclose(got[name], expected, rtol=1e-4, atol=2e-6, err_msg=name)
    assert np.ptp(got["pt3d_68"][:, :, 0], axis=0).max() > 1e-3  # the inputs give different answers
    model = load_pose_model(report.path, threads=1)
    assert model.has_points and model.max_batch is None  # opnet evaluate reads the landmarks
    log = json.loads(export_log_path(report.path).read_text())
    assert log["schema"] == "opnet-export/1" and log["full"] and log["parity"]["samples"] == 8
    assert max(d["max_abs"] for d in log["parity"]["outputs"]) < 1e-4


def test_models_without_uncertainty_or_landmarks_export_what_they_have(tmp_path, crops_data):
    report = export_model(small_net(uncertainty=False), tmp_path / "plain.onnx", options(crops_data))
    assert report.outputs == ["pos_size", "quat", "box"]
    report = export_model(small_net(landmarks=False), tmp_path / "nolm.onnx", options(crops_data, full=True))
    assert report.outputs == [
        "pos_size",
        "quat",
        "box",
        "rotaxis_scales_tril",
        "pos_size_scales_tril",
        "box_scales",
    ]


def test_a_wrong_file_is_reported_naming_the_output(tmp_path, crops_data, inputs):
    net = small_net(seed=2)
    report = export_model(net, tmp_path / "good.onnx", options(crops_data))
    model = onnx.load(str(report.path))
    bias = next(t for t in model.graph.initializer if t.name == "net.pos_size_head.linear.bias")
    shifted = onnx.numpy_helper.to_array(bias) + np.float32(0.01)
    bias.CopyFrom(onnx.numpy_helper.from_array(shifted, bias.name))
    onnx.save(model, tmp_path / "bad.onnx")
    names = {n: n for n in ("pos_size", "quat", "box", "rotaxis_scales_tril", "pos_size_scales_tril")}
    exported = onnx_outputs(tmp_path / "bad.onnx", inputs)
    parity = compare(exported, pytorch_outputs(net, inputs, names), "float32")
    problems = parity.problems()
    assert len(problems) == 1 and "'pos_size'" in problems[0] and "0.01" in problems[0]
    with pytest.raises(OpNetError, match="bad.onnx: onnxruntime does not reproduce PyTorch .*'pos_size'"):
        verify.check_parity(parity, tmp_path / "bad.onnx")


def test_rotations_are_compared_as_angles(inputs):
    rng = np.random.default_rng(0)
    quat = euler_to_quat(rng.uniform(-0.5, 0.5, (20, 3))).astype(np.float32)
    reference = {"quat": quat, "pos_size": rng.normal(size=(20, 3)).astype(np.float32)}
    for degrees, float32_ok, int8_ok in ((0.001, True, True), (3.0, False, True), (30.0, False, False)):
        turn = euler_to_quat(np.radians([[0.0, degrees, 0.0]]))
        exported = {**reference, "quat": quat_multiply(quat, turn).astype(np.float32)}
        for precision, ok in (("float32", float32_ok), ("int8", int8_ok)):
            parity = compare(exported, reference, precision)
            assert parity.max_angle_deg == pytest.approx(degrees, rel=1e-2, abs=1e-3)
            assert (not any("'quat'" in p for p in parity.problems())) == ok, (degrees, precision)


def test_int8_export_is_quantised_smaller_and_reports_the_accuracy_change(tmp_path, crops_data):
    net = small_net(seed=3)
    float_report = export_model(net, tmp_path / "f.onnx", options(crops_data))
    report = export_model(net, tmp_path / "q.onnx", options(crops_data, precision="int8"))
    assert report.path.stat().st_size < 0.5 * float_report.path.stat().st_size
    ops = {n.op_type for n in onnx.load(str(report.path)).graph.node}
    assert {"QuantizeLinear", "DequantizeLinear", "Gemm"} <= ops  # quantised backbone, float heads
    assert report.parity.max_angle_deg < 2.0
    change = report.accuracy
    assert [r.model for r in change.rows] == ["float32", "int8"] and change.samples >= 12
    assert abs(change.deltas()["mean_deg"]) < 1.0
    assert "| int8 " in report.summary() and "change: mean_deg" in report.summary()
    log = json.loads(export_log_path(report.path).read_text())
    assert log["accuracy"]["rows"][1]["model"] == "int8" and "mean_deg" in log["accuracy"]["change"]


def test_float16_export_stores_half_precision_weights_and_float32_io(tmp_path, crops_data):
    report = export_model(small_net(seed=4), tmp_path / "h.onnx", options(crops_data, precision="float16"))
    model = onnx.load(str(report.path))
    types = [t.data_type for t in model.graph.initializer if len(t.dims) == 4]
    assert types and all(t == onnx.TensorProto.FLOAT16 for t in types)
    io_types = {o.type.tensor_type.elem_type for o in [*model.graph.input, *model.graph.output]}
    assert io_types == {onnx.TensorProto.FLOAT}
    assert report.parity.max_angle_deg < 0.5 and report.accuracy is not None


def test_nothing_is_written_when_a_check_fails_or_the_file_exists(tmp_path, crops_data, monkeypatch):
    net = small_net(seed=5)
    target = tmp_path / "model.onnx"
    monkeypatch.setitem(
        verify.TOLERANCES, "float32", Tolerance(atol=-1.0, rtol=0.0, max_angle_deg=1.0, mean_angle_deg=1.0)
    )
    with pytest.raises(
        OpNetError,
        match="model.onnx: not written, the export failed its checks: "
        "onnxruntime does not reproduce PyTorch .*'quat'",
    ):
        export_model(net, target, options(crops_data))
    assert list(tmp_path.iterdir()) == []
    monkeypatch.undo()
    export_model(net, target, options(crops_data))
    before = target.read_bytes()
    with pytest.raises(OpNetError, match="already exists; pass --force"):
        export_model(small_net(seed=6), target, options(crops_data))
    assert target.read_bytes() == before
    export_model(small_net(seed=6), target, options(crops_data), overwrite=True)
    assert target.read_bytes() != before and sorted(p.name for p in tmp_path.iterdir()) == [
        "model.export.json",
        "model.onnx",
    ]
