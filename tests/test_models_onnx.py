"""The network exports to ONNX (TorchScript exporter, opset 13) and onnxruntime reproduces PyTorch."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from torch import Tensor, nn

from opnet.models import KeypointModel, ModelConfig, PoseNet, backbone_names, create_model

ort = pytest.importorskip("onnxruntime", reason="onnxruntime is needed for the export parity test")

OPENTRACK_OUTPUTS = ("pos_size", "quat", "box", "rotaxis_scales_tril", "pos_size_scales_tril")


class OpenTrackOutputs(nn.Module):
    """Returns the outputs OpenTrack reads (and the landmarks) as a tuple, in a fixed order."""

    def __init__(self, net: PoseNet, names: tuple[str, ...]):
        super().__init__()
        self.net = net
        self.names = names

    def forward(self, x: Tensor) -> tuple[Tensor, ...]:
        out = self.net(x).as_dict()
        return tuple(out[name] for name in self.names)


@pytest.mark.parametrize("backbone", backbone_names())
def test_onnx_export_matches_pytorch(tmp_path, backbone):
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    keypoints = KeypointModel(
        torch.randn(68, 3, generator=g) * 0.3, torch.randn(10, 68, 3, generator=g) * 0.02
    )
    net = create_model(ModelConfig(backbone=backbone, width=0.25, num_shape_params=10), keypoints)
    net(torch.randn(8, 1, 129, 129))  # non-trivial batch-norm statistics
    names = (*OPENTRACK_OUTPUTS, "points")
    wrapper = OpenTrackOutputs(net, names).eval()
    x = torch.randn(1, 1, 129, 129) * 0.3
    path = tmp_path / "pose.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer and deprecation notices
        torch.onnx.export(
            wrapper,
            (x,),
            str(path),
            dynamo=False,
            opset_version=13,
            input_names=["x"],
            output_names=list(names),
        )
    wrapper.eval()  # export restores the wrapper's previous mode
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    results = dict(zip(names, session.run(None, {"x": x.numpy()}), strict=True))
    with torch.no_grad():
        expected = dict(zip(names, wrapper(x), strict=True))
    shapes = {
        "pos_size": (1, 3),
        "quat": (1, 4),
        "box": (1, 4),
        "rotaxis_scales_tril": (1, 3, 3),
        "pos_size_scales_tril": (1, 3, 3),
        "points": (1, 68, 3),
    }
    for name in names:
        assert results[name].dtype == np.float32 and results[name].shape == shapes[name], name
        np.testing.assert_allclose(results[name], expected[name].numpy(), atol=2e-5, rtol=1e-4, err_msg=name)
    tril = results["rotaxis_scales_tril"][0]
    assert tril[0, 1] == tril[0, 2] == tril[1, 2] == 0.0  # what OpenTrack asserts


def test_onnx_export_with_a_dynamic_batch_keeps_every_output_batched(tmp_path):
    """Evaluation may run exported models on batches: no output may freeze the export's batch size."""
    torch.manual_seed(0)
    keypoints = KeypointModel(torch.randn(68, 3) * 0.3, torch.randn(4, 68, 3) * 0.02)
    net = create_model(ModelConfig(width=0.25, num_shape_params=4), keypoints)
    names = tuple(net.eval()(torch.zeros(1, 1, 65, 65)).as_dict())
    wrapper = OpenTrackOutputs(net, names).eval()
    path = tmp_path / "batched.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            wrapper,
            (torch.zeros(1, 1, 65, 65),),
            str(path),
            dynamo=False,
            opset_version=13,
            input_names=["x"],
            output_names=list(names),
            dynamic_axes={"x": {0: "batch"}},
        )
    wrapper.eval()
    x = torch.randn(3, 1, 65, 65)
    results = ort.InferenceSession(str(path)).run(None, {"x": x.numpy()})
    with torch.no_grad():
        expected = wrapper(x)
    for name, got, want in zip(names, results, expected, strict=True):
        assert got.shape == tuple(want.shape) and got.shape[0] == 3, name
        np.testing.assert_allclose(got, want.numpy(), atol=2e-5, rtol=1e-4, err_msg=name)
