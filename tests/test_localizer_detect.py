"""Face detectors (opnet.runtime.localizer, haar, detection): contract checks, decoding, real files."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import AFLW_MINI, LOCALIZER_MODEL, needs_shared

from opnet.errors import OpNetError
from opnet.geometry import box_iou
from opnet.runtime.detection import FaceDetection, FaceDetector, faces_in
from opnet.runtime.faces import load_detector
from opnet.runtime.haar import HaarDetector
from opnet.runtime.localizer import Localizer, decode_localizer, localizer_input


def make_localizer_onnx(
    path: Path, weight, bias, in_shape=(1, 1, 224, 288), out_name="logit_box", out_len=5
) -> Path:
    """An ONNX file whose output is mean(x) * weight + bias, shape (1, out_len)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes = [
        helper.make_node("ReduceMean", ["x"], ["m"], axes=[1, 2, 3], keepdims=0),
        helper.make_node("Unsqueeze", ["m", "ax"], ["m1"]),
        helper.make_node("MatMul", ["m1", "w"], ["mm"]),
        helper.make_node("Add", ["mm", "b"], [out_name]),
    ]
    inits = [
        numpy_helper.from_array(np.array([1], np.int64), "ax"),
        numpy_helper.from_array(np.asarray(weight, np.float32).reshape(1, out_len), "w"),
        numpy_helper.from_array(np.asarray(bias, np.float32).reshape(out_len), "b"),
    ]
    graph = helper.make_graph(
        nodes,
        "localizer",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(in_shape))],
        [helper.make_tensor_value_info(out_name, TensorProto.FLOAT, [1, out_len])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def test_localizer_decodes_score_and_box_in_frame_pixels(tmp_path):
    path = make_localizer_onnx(tmp_path / "loc.onnx", np.zeros(5), [2.0, -0.5, -1.0, 0.5, 1.0])
    localizer = Localizer(path)
    assert isinstance(localizer, FaceDetector)
    (found,) = localizer.detect(np.zeros((300, 400), np.uint8))
    assert found.score == pytest.approx(1 / (1 + np.exp(-2.0)))
    assert np.allclose(found.box, [100, 0, 300, 300]) and (found.width, found.height) == (200, 300)


def test_localizer_input_is_the_resized_frame_scaled_to_plus_minus_half(tmp_path):
    path = make_localizer_onnx(tmp_path / "loc.onnx", [1.0, 0, 0, 0, 0], np.zeros(5))
    for value in (0, 51, 255):
        score = Localizer(path).localize(np.full((480, 640), value, np.uint8)).score
        assert score == pytest.approx(1 / (1 + np.exp(-(value / 255 - 0.5))), abs=1e-5)  # float32
    ramp = np.tile((np.arange(640) * 255 // 639).astype(np.uint8)[None], (480, 1))
    x = localizer_input(ramp)
    assert x.shape == (1, 1, 224, 288) and x.dtype == np.float32
    assert x[0, 0, 0, 0] == -0.5 and x[0, 0, 0, -1] == pytest.approx(0.5, abs=0.01)
    assert np.all(np.diff(x[0, 0, 0]) > -1e-6) and np.ptp(x[0, 0, :, 100]) == 0  # left to right, not rotated


def test_decode_is_linear_in_the_frame_size():
    d = decode_localizer(np.array([0.0, -1, -1, 1, 1]), (640, 480))
    assert d.score == 0.5 and np.allclose(d.box, [0, 0, 640, 480])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(in_shape=(1, 1, 129, 129)), "not a face localizer: inputs x tensor(float) [1, 1, 129, 129]"),
        (dict(out_name="boxes"), "not a face localizer: outputs boxes"),
        (dict(out_len=4), "expected float32 'logit_box' (1, 5)"),
    ],
)
def test_files_that_are_not_localizers_are_refused_naming_the_file(tmp_path, kwargs, message):
    n = kwargs.get("out_len", 5)
    path = make_localizer_onnx(tmp_path / "bad.onnx", np.zeros(n), np.zeros(n), **kwargs)
    with pytest.raises(OpNetError) as info:
        Localizer(path)
    assert str(path) in str(info.value) and message in str(info.value) and "\n" not in str(info.value)


def test_missing_or_unreadable_localizer_files(tmp_path):
    with pytest.raises(OpNetError, match="no such localizer model file"):
        Localizer(tmp_path / "none.onnx")
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not onnx")
    with pytest.raises(OpNetError, match="junk.onnx: not a readable ONNX model"):
        Localizer(junk)
    with pytest.raises(OpNetError, match="needs the localizer model"):
        load_detector("localizer", None)
    with pytest.raises(OpNetError, match="--detector mtcnn"):
        load_detector("mtcnn")


def test_faces_in_keeps_candidates_above_the_threshold():
    class Two:
        name = "two"

        def detect(self, image):
            return [
                FaceDetection(np.array([0, 0, 10, 10.0]), 0.9),
                FaceDetection(np.array([5, 5, 9, 9.0]), 0.5),
            ]

    assert [d.score for d in faces_in(Two(), np.zeros((4, 4), np.uint8))] == [0.9]
    assert len(faces_in(Two(), np.zeros((4, 4), np.uint8), min_score=0.1)) == 2


def test_haar_finds_nothing_in_noise_or_flat_images(rng):
    haar = load_detector("haar")
    assert haar.name == "haar" and isinstance(haar, FaceDetector)
    assert haar.detect(rng.integers(0, 255, (240, 320), dtype=np.uint8)) == []
    assert haar.detect(np.full((240, 320), 128, np.uint8)) == []


@needs_shared(AFLW_MINI)
@needs_shared(LOCALIZER_MODEL)
def test_real_localizer_box_overlaps_the_labelled_face_box():
    from opnet.data import open_dataset

    localizer = Localizer(LOCALIZER_MODEL)
    with open_dataset(AFLW_MINI) as ds:
        rois = ds.read_field("rois")
        found = [localizer.localize(ds.read_image(i)) for i in range(len(ds))]
    ious = np.array([float(box_iou(d.box, roi)) for d, roi in zip(found, rois, strict=True)])
    # The localizer's box holds the whole head (taller than the landmark box): IoU 0.28-0.69, mean 0.57.
    assert all(d.score > 0.5 for d in found)
    assert ious.min() > 0.25 and ious.mean() > 0.5
    centres = np.array([0.5 * (d.box[:2] + d.box[2:]) for d in found])
    roi_sizes = rois[:, 2:] - rois[:, :2]
    assert np.all(np.abs(centres - 0.5 * (rois[:, :2] + rois[:, 2:])) < roi_sizes)


@needs_shared(AFLW_MINI)
def test_haar_finds_most_aflw_faces_where_they_are():
    from opnet.data import open_dataset

    haar = HaarDetector()
    with open_dataset(AFLW_MINI) as ds:
        rois = ds.read_field("rois")
        found = {i: haar.detect(ds.read_image(i)) for i in range(len(ds))}
    hits = {i: f[0] for i, f in found.items() if f}
    assert len(hits) >= 8  # frontal faces only: 11 of these 16 (some at large yaw)
    assert all(float(box_iou(d.box, rois[i])) > 0.3 and d.score == 1.0 for i, d in hits.items())
    with open_dataset(AFLW_MINI) as ds:
        big, small = ds.read_image(2), cv2.resize(ds.read_image(4), (270, 270), interpolation=cv2.INTER_AREA)
    pair = np.full((450, 750), 90, np.uint8)
    pair[:, :450], pair[90:360, 470:740] = big, small
    found = haar.detect(pair)
    areas = [d.width * d.height for d in found]
    assert len(found) == 2 and areas[0] > areas[1]  # every frontal face, the largest first
    assert found[0].box[2] <= 450 and found[1].box[0] >= 470
