"""opnet.runtime: loading and checking OpenTrack-format ONNX pose models, running and decoding them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import AFLW_MINI, POSE_MODEL, needs_shared

from opnet.errors import OpNetError
from opnet.geometry import geodesic_distance
from opnet.preprocess import Patch
from opnet.runtime import (
    PoseModel,
    PoseOutputs,
    decode_outputs,
    load_pose_model,
    predict_face,
    register_model_loader,
    registry,
    tracker_patch,
)

SAMPLE_SHAPES = {
    "quat": (4,),
    "pos_size": (3,),
    "box": (4,),
    "rotaxis_scales_tril": (3, 3),
    "pos_size_scales_tril": (3, 3),
    "pos_size_scales": (3,),
    "pt3d_68": (68, 3),
}


def make_pose_onnx(
    path: Path,
    outputs: dict[str, tuple[np.ndarray, np.ndarray]],
    size: int = 33,
    batch: int | str = 1,
    version: int = 4,
    channels: int = 1,
    extra_input: bool = False,
    shapes: dict[str, tuple[int, ...]] | None = None,
) -> Path:
    """An ONNX pose model whose output k is mean(x) * weight_k + bias_k, reshaped to its sample shape.

    ``outputs`` maps names to (weight, bias), both flat with prod(sample shape) entries. Sample
    shapes come from ``shapes``, else SAMPLE_SHAPES, else (len(bias),).
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes = [
        helper.make_node("ReduceMean", ["x"], ["m"], axes=[1, 2, 3], keepdims=0),
        helper.make_node("Unsqueeze", ["m", "ax"], ["m1"]),
    ]
    inits = [numpy_helper.from_array(np.array([1], np.int64), "ax")]
    graph_outputs = []
    for name, (weight, bias) in outputs.items():
        shape = (shapes or {}).get(name) or SAMPLE_SHAPES.get(name, (len(bias),))
        inits += [
            numpy_helper.from_array(np.asarray(weight, np.float32).reshape(1, -1), f"{name}_w"),
            numpy_helper.from_array(np.asarray(bias, np.float32).reshape(-1), f"{name}_b"),
            numpy_helper.from_array(np.array([-1, *shape], np.int64), f"{name}_s"),
        ]
        nodes += [
            helper.make_node("MatMul", ["m1", f"{name}_w"], [f"{name}_mm"]),
            helper.make_node("Add", [f"{name}_mm", f"{name}_b"], [f"{name}_flat"]),
            helper.make_node("Reshape", [f"{name}_flat", f"{name}_s"], [name]),
        ]
        graph_outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, [batch, *shape]))
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, channels, size, size])]
    if extra_input:
        inputs.append(helper.make_tensor_value_info("h", TensorProto.FLOAT, [batch, 4]))
    graph = helper.make_graph(nodes, "pose", inputs, graph_outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], model_version=version)
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def constant(values) -> tuple[np.ndarray, np.ndarray]:
    """(weight, bias) of an output that ignores the input."""
    bias = np.asarray(values, np.float32).reshape(-1)
    return np.zeros_like(bias), bias


IDENTITY_OUTPUTS = {
    "quat": constant([0, 0, 0, 1]),
    "pos_size": constant([0.5, -0.5, 0.8]),
    "box": constant([-0.5, -0.5, 0.5, 0.5]),
}


def tril(diag) -> np.ndarray:
    return np.diag(np.asarray(diag, np.float32)).reshape(-1)


@pytest.fixture
def fixed_model(tmp_path) -> Path:
    outputs = {
        **IDENTITY_OUTPUTS,
        "quat": (np.array([0, 0.2, 0, 0], np.float32), np.array([0, 0, 0, 1], np.float32)),
        "rotaxis_scales_tril": constant(tril([0.1, 0.2, 0.3])),
        "pos_size_scales_tril": constant(tril([0.01, 0.02, 0.03])),
    }
    return make_pose_onnx(tmp_path / "fixed.onnx", outputs)


def test_fixed_batch_model_loads_runs_and_splits_batches(fixed_model):
    model = load_pose_model(fixed_model, threads=2)
    assert isinstance(model, PoseModel)
    assert (model.input_size, model.max_batch, model.has_points) == (33, 1, False)
    x = np.random.default_rng(0).uniform(-0.5, 0.5, (5, 1, 33, 33)).astype(np.float32)
    out = model.run(x)
    assert len(out) == 5 and out.rotaxis_scales_tril.shape == (5, 3, 3)
    single = [model.run(x[i : i + 1]).quat[0] for i in range(5)]
    assert np.array_equal(out.quat, np.stack(single))
    assert np.allclose(out.quat[:, 1], 0.2 * x.mean(axis=(1, 2, 3)), atol=1e-6)
    assert "rotaxis_scales_tril" in model.describe() and "model_version 4" in model.describe()


def test_dynamic_batch_model_runs_in_one_call(tmp_path):
    model = load_pose_model(make_pose_onnx(tmp_path / "dyn.onnx", IDENTITY_OUTPUTS, batch="B"), threads=1)
    assert model.max_batch is None
    out = model.run(np.zeros((7, 1, 33, 33), np.float32))
    assert out.quat.shape == (7, 4) and out.rotaxis_scales_tril is None
    with pytest.raises(ValueError, match="expected"):
        model.run(np.zeros((2, 1, 32, 32), np.float32))


def test_legacy_std_outputs_become_diagonal_factors_and_landmarks_are_read(tmp_path):
    outputs = {
        **IDENTITY_OUTPUTS,
        "pos_size_scales": constant([0.1, 0.2, 0.3]),
        "pt3d_68": constant(np.zeros(68 * 3)),
        "eyes": constant([1.0, 1.0]),
    }
    model = load_pose_model(make_pose_onnx(tmp_path / "old.onnx", outputs, version=3))
    out = model.run(np.zeros((1, 1, 33, 33), np.float32))
    assert np.allclose(out.pos_size_scales_tril[0], np.diag([0.1, 0.2, 0.3]))
    assert model.has_points and out.points.shape == (1, 68, 3)
    assert "eyes" in model.describe() and "(ignored)" in model.describe()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(outputs={"foo": constant([1, 2, 3])}), "no output named quat, pos_size, box"),
        (
            dict(outputs={**IDENTITY_OUTPUTS, "quat": constant([0, 0, 1])}, shapes={"quat": (3,)}),
            "output 'quat' is tensor(float) [1, 3]; expected float32 (1, 4)",
        ),
        (dict(outputs=IDENTITY_OUTPUTS, version=1), "model_version 1 is not supported"),
        (dict(outputs=IDENTITY_OUTPUTS, version=0), "model_version"),
        (dict(outputs=IDENTITY_OUTPUTS, channels=3), "expected float32 (1, 1, S, S)"),
        (dict(outputs=IDENTITY_OUTPUTS, extra_input=True), "has 2 inputs"),
    ],
)
def test_models_outside_the_contract_are_refused_with_one_line(tmp_path, kwargs, message):
    path = make_pose_onnx(tmp_path / "bad.onnx", **kwargs)
    with pytest.raises(OpNetError) as info:
        load_pose_model(path)
    assert message in str(info.value) and str(path) in str(info.value) and "\n" not in str(info.value)


def test_registry_dispatches_on_suffix(tmp_path, monkeypatch, fixed_model):
    with pytest.raises(OpNetError, match="no such model file"):
        load_pose_model(tmp_path / "missing.onnx")
    (tmp_path / "model.tflite").write_bytes(b"")
    with pytest.raises(OpNetError, match=r"unknown model format '\.tflite'; expected \.ckpt, \.onnx, \.pt"):
        load_pose_model(tmp_path / "model.tflite")
    (tmp_path / "bad.onnx").write_bytes(b"garbage")
    with pytest.raises(OpNetError, match="not a readable ONNX model"):
        load_pose_model(tmp_path / "bad.onnx")
    monkeypatch.setattr(registry, "_LOADERS", dict(registry._LOADERS))
    register_model_loader(".tflite", lambda path, threads: load_pose_model(fixed_model, threads))
    assert load_pose_model(tmp_path / "model.tflite").input_size == 33


def test_decoding_scales_positions_and_position_uncertainty_with_the_patch():
    out = PoseOutputs(
        quat=np.array([[0, 0, 0, -1.0]], np.float32),
        pos_size=np.array([[0.5, -0.5, 0.8]], np.float32),
        box=np.array([[-1, -1, 1, 1]], np.float32),
        rotaxis_scales_tril=np.eye(3, dtype=np.float32)[None] * 0.1,
        pos_size_scales_tril=np.eye(3, dtype=np.float32)[None] * 0.1,
    )
    pred = decode_outputs(out, [Patch((100.0, 80.0), 50.0)])
    assert np.allclose(pred.coords, [[112.5, 67.5, 20.0]]) and np.allclose(pred.box, [[75, 55, 125, 105]])
    assert np.allclose(pred.quat, [[0, 0, 0, 1]])  # canonical w >= 0
    assert np.allclose(pred.coords_scales_tril, np.eye(3) * 2.5) and np.allclose(
        pred.rotaxis_scales_tril, np.eye(3) * 0.1
    )
    with pytest.raises(ValueError, match="shape"):
        PoseOutputs(quat=np.zeros((2, 4)), pos_size=np.zeros((1, 3)), box=np.zeros((2, 4)))


def test_tracker_patch_follows_opentrack():
    patch = tracker_patch([10, 20, 110, 80], (640, 480))
    assert patch.centre == (60.0, 50.0) and patch.side == 105.0  # int(100 * 1.05)
    assert tracker_patch([600, 400, 700, 500], (640, 480)).centre == (640.0, 450.0)  # centre clamped


@needs_shared(POSE_MODEL)
@needs_shared(AFLW_MINI)
def test_real_model_single_face_prediction_is_close_to_the_label():
    from opnet.data import open_dataset

    model = load_pose_model(POSE_MODEL)
    assert (model.input_size, model.max_batch, model.version) == (129, 1, 4)
    with open_dataset(AFLW_MINI) as ds:
        sample = ds[2]
    pred = predict_face(model, sample["images"], sample["rois"])
    assert np.rad2deg(geodesic_distance(pred.quat[0], sample["quats"])) < 10
    assert np.linalg.norm(pred.coords[0, :2] - sample["coords"][:2]) < 0.1 * sample["coords"][2]
    assert pred.rotaxis_scales_tril is not None and pred.coords_scales_tril is not None
