"""opnet predict: faces and poses in image files (opnet.runtime.faces, image_files) and the command."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from conftest import run_cli
from test_localizer_detect import make_localizer_onnx
from test_runtime_onnx import constant, make_pose_onnx, tril

from opnet.errors import OpNetError
from opnet.geometry import euler_to_quat
from opnet.runtime import load_pose_model
from opnet.runtime.detection import FaceDetection
from opnet.runtime.faces import estimate_faces, position_std_px, rotation_std_deg
from opnet.runtime.image_files import faces_json, faces_table, predict_images

YAW_20 = euler_to_quat([0.0, np.deg2rad(20.0), 0.0])


@pytest.fixture
def pose_model(tmp_path):
    outputs = {
        "quat": constant(YAW_20),
        "pos_size": constant([0.1, -0.2, 0.5]),
        "box": constant([-0.5, -0.5, 0.5, 0.5]),
        "rotaxis_scales_tril": constant(tril([0.01, 0.02, 0.02])),
        "pos_size_scales_tril": constant(tril([0.03, 0.04, 0.05])),
    }
    return make_pose_onnx(tmp_path / "pose.onnx", outputs, size=33)


@pytest.fixture
def localizer(tmp_path):
    return make_localizer_onnx(tmp_path / "loc.onnx", np.zeros(5), [3.0, -0.5, -0.5, 0.5, 0.5])


class FixedDetector:
    """Finds the given boxes in every image."""

    name = "fixed"

    def __init__(self, *boxes, score=0.9):
        self.found = [FaceDetection(np.asarray(b, float), score) for b in boxes]

    def detect(self, image):
        return list(self.found)


def write_picture(path, size=(120, 160)):
    image = np.zeros((*size, 3), np.uint8)
    cv2.circle(image, (size[1] // 2, size[0] // 2), 30, (200, 180, 160), -1)
    assert cv2.imwrite(str(path), image)
    return path


def test_uncertainties_from_cholesky_factors_by_hand():
    assert rotation_std_deg(np.diag([0.01, 0.02, 0.02])) == pytest.approx(np.rad2deg(0.03))
    lower = np.array([[3.0, 0, 0], [4.0, 0, 0], [1.0, 2.0, 2.0]])  # var x 9, var y 16, var size 9
    assert position_std_px(lower) == pytest.approx((5.0, 3.0))


def test_each_detected_face_gets_the_pose_of_its_crop(pose_model):
    model = load_pose_model(pose_model, threads=1)
    faces = estimate_faces(
        model, FixedDetector([20, 20, 60, 60], [100, 10, 140, 50]), np.zeros((80, 160), np.uint8)
    )
    assert len(faces) == 2
    # crop side int(40 * 1.05) = 42 around the box centre; pos_size (0.1, -0.2, 0.5) of its half side 21
    assert np.allclose(faces[0].coords, [40 + 2.1, 40 - 4.2, 10.5])
    assert np.allclose(faces[1].box, [109.5, 19.5, 130.5, 40.5])
    assert faces[0].euler_deg == pytest.approx((20.0, 0.0, 0.0), abs=1e-4)
    assert faces[0].rotation_std_deg == pytest.approx(np.rad2deg(0.03), rel=1e-5)
    assert faces[0].position_std_px == pytest.approx(21 * 0.05, rel=1e-5)
    assert faces[0].size_std_px == pytest.approx(21 * 0.05, rel=1e-5)
    assert (
        estimate_faces(model, FixedDetector([20, 20, 60, 60], score=0.3), np.zeros((80, 160), np.uint8)) == []
    )


def test_predict_images_writes_annotated_copies_and_reports_images_without_faces(pose_model, tmp_path):
    model = load_pose_model(pose_model, threads=1)
    a, b = write_picture(tmp_path / "a.jpg"), write_picture(tmp_path / "b.png")
    out = tmp_path / "out"
    results = predict_images([a, b], model, FixedDetector([50, 30, 110, 90]), out)
    assert [r.annotated for r in results] == [out / "a.jpg", out / "b.png"]
    annotated = cv2.imread(str(out / "b.png"))
    assert annotated.shape == (120, 160, 3) and not np.array_equal(annotated, cv2.imread(str(b)))
    none = predict_images([a], model, FixedDetector())
    assert none[0].faces == [] and none[0].annotated is None
    assert f"| {a} | no face found |" in faces_table(none)
    assert f"| {a} | 0 | 20.0 | 0.0 | 0.0 |" in faces_table(results)
    with pytest.raises(OpNetError, match="already exists; pass --force"):
        predict_images([a], model, FixedDetector(), out)
    predict_images([a], model, FixedDetector(), out, overwrite=True)


def test_bad_image_arguments_are_refused_before_anything_runs(pose_model, tmp_path):
    model = load_pose_model(pose_model, threads=1)
    clip = tmp_path / "clip.gif"
    clip.write_bytes(b"GIF89a")
    with pytest.raises(OpNetError, match="clip.gif: not an image file"):
        predict_images([clip], model, FixedDetector())
    with pytest.raises(OpNetError, match="gone.jpg: no such image file"):
        predict_images([tmp_path / "gone.jpg"], model, FixedDetector())
    (tmp_path / "x").mkdir()
    twins = [write_picture(tmp_path / "a.jpg"), write_picture(tmp_path / "x" / "a.jpg")]
    with pytest.raises(OpNetError, match="would both be written to"):
        predict_images(twins, model, FixedDetector(), tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_corrupt_file_gets_its_own_row_and_the_rest_are_processed(pose_model, tmp_path):
    model = load_pose_model(pose_model, threads=1)
    a, c = write_picture(tmp_path / "a.jpg"), write_picture(tmp_path / "c.png")
    broken = tmp_path / "b.png"
    broken.write_bytes(b"\x89PNG not really")
    out = tmp_path / "deep" / "out"  # folders are created
    results = predict_images([a, broken, c], model, FixedDetector([50, 30, 110, 90]), out)
    assert [r.error for r in results] == [None, "cannot be decoded as an image", None]
    assert len(results[0].faces) == len(results[2].faces) == 1 and results[1].faces == []
    assert sorted(p.name for p in out.iterdir()) == ["a.jpg", "c.png"]
    assert f"| {broken} | error: cannot be decoded as an image |" in faces_table(results)
    doc = faces_json(results, model, FixedDetector())
    assert [i["error"] for i in doc["images"]] == [None, "cannot be decoded as an image", None]


def test_folders_are_searched_recursively_in_sorted_order(pose_model, tmp_path):
    model = load_pose_model(pose_model, threads=1)
    (tmp_path / "in" / "sub").mkdir(parents=True)
    names = ["in/b.webp", "in/a.jpg", "in/sub/c.PNG"]
    for name in names:
        write_picture(tmp_path / name)
    (tmp_path / "in" / "notes.txt").write_text("not a picture")
    results = predict_images([tmp_path / "in"], model, FixedDetector([50, 30, 110, 90]), tmp_path / "out")
    assert [r.path for r in results] == [tmp_path / n for n in ("in/a.jpg", "in/b.webp", "in/sub/c.PNG")]
    assert [r.annotated for r in results] == [tmp_path / "out" / n for n in ("a.jpg", "b.webp", "sub/c.PNG")]
    assert all(r.width == 160 and len(r.faces) == 1 for r in results)


def test_json_document(pose_model, tmp_path):
    model = load_pose_model(pose_model, threads=1)
    results = predict_images([write_picture(tmp_path / "a.jpg")], model, FixedDetector([50, 30, 110, 90]))
    doc = json.loads(json.dumps(faces_json(results, model, FixedDetector())))
    assert doc["schema"] == "opnet-predict/1" and doc["detector"] == "fixed"
    assert doc["model"] == {"name": "pose.onnx", "path": str(pose_model), "input_size": 33}
    (face,) = doc["images"][0]["faces"]
    assert face["yaw_deg"] == pytest.approx(20.0, abs=1e-4) and len(face["quat_xyzw"]) == 4
    assert face["detection_box_px"] == [50, 30, 110, 90] and face["score"] == 0.9
    assert doc["images"][0]["width"] == 160 and doc["images"][0]["annotated"] is None


def test_cli_prints_a_table_or_json_and_writes_pictures(pose_model, localizer, tmp_path, capsys):
    image = write_picture(tmp_path / "face.jpg")
    code, out, err = run_cli(
        "predict",
        [
            image,
            "--model",
            pose_model,
            "--detector",
            "localizer",
            "--localizer",
            localizer,
            "--outdir",
            tmp_path / "ann",
        ],
        capsys,
    )
    assert code == 0, err
    assert "| image | face | yaw°" in out and f"| {image} | 0 | 20.0 |" in out
    assert (tmp_path / "ann" / "face.jpg").is_file()
    one = tmp_path / "new" / "one.png"  # -o: one picture, its folder made
    code, out, err = run_cli(
        "predict",
        [image, "--model", pose_model, "--detector", "localizer", "--localizer", localizer, "-o", one],
        capsys,
    )
    assert code == 0 and cv2.imread(str(one)).shape == (120, 160, 3)
    code, out, err = run_cli(
        "predict",
        [image, image, "--model", pose_model, "--detector", "localizer", "--localizer", localizer, "-o", one],
        capsys,
    )
    assert code == 2 and "one output picture for 2 images; use --outdir" in err
    code, out, err = run_cli(
        "predict", [image, "--model", pose_model, "--localizer", localizer, "--json"], capsys
    )
    doc = json.loads(out)  # --localizer alone picks the localizer
    assert (
        code == 0
        and doc["detector"] == "localizer"
        and doc["images"][0]["faces"][0]["score"] == pytest.approx(1 / (1 + np.exp(-3.0)), rel=1e-6)
    )
    code, out, err = run_cli("predict", [image, "--model", pose_model, "--detector", "haar"], capsys)
    assert code == 0 and "no face found" in out


def test_cli_errors_are_one_line(pose_model, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no ../shared/models here
    image = write_picture(tmp_path / "face.jpg")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # nothing downloaded
    code, _, err = run_cli("predict", [image], capsys)
    assert code == 2 and "Traceback" not in err
    assert (
        "opnet predict: error: no model given (--model) and none downloaded; fetch OpenTrack's with " in err
    )
    assert "`opnet download head-pose-0.4-small-int8`" in err
    code, _, err = run_cli("predict", [image, "--model", pose_model, "--detector", "localizer"], capsys)
    assert code == 2 and "--localizer head-localizer: not downloaded yet" in err
    code, _, err = run_cli("predict", [tmp_path / "movie.mp4", "--model", pose_model], capsys)
    assert code == 2 and "movie.mp4: not an image file" in err


def test_intra_op_threads_give_the_same_answers(pose_model):
    from opnet.runtime.onnx_model import OnnxPoseModel

    x = np.random.default_rng(0).uniform(-0.5, 0.5, (3, 1, 33, 33)).astype(np.float32)
    one, two = OnnxPoseModel(pose_model, threads=1), OnnxPoseModel(pose_model, threads=1, intra_op_threads=2)
    assert np.array_equal(one.run(x).quat, two.run(x).quat)
