"""Bad dataset files give one clear error naming the file and field; nothing is half-written."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from conftest import face_image

from opnet.data import DatasetWriter, open_dataset
from opnet.data.fields import ImageStorage, image_spec
from opnet.errors import DataError


def make_h5(path, **fields):
    with h5py.File(path, "w") as f:
        for name, (data, attrs) in fields.items():
            ds = f.create_dataset(name, data=data)
            for k, v in attrs.items():
                ds.attrs[k] = v
    return path


def jpeg_field(n):
    from opnet.data.images import encode_image

    data = np.empty(n, dtype=h5py.vlen_dtype(np.uint8))
    for k in range(n):
        data[k] = np.frombuffer(encode_image(face_image(np.random.default_rng(k))), np.uint8)
    return data, {"category": "img", "storage": "varsize_image_buffer"}


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="nope.h5: no such file"):
        open_dataset(tmp_path / "nope.h5")


def test_not_an_hdf5_file(tmp_path):
    (tmp_path / "text.h5").write_text("hello")
    with pytest.raises(DataError, match="text.h5: not an HDF5 file"):
        open_dataset(tmp_path / "text.h5")


def test_truncated_hdf5_file(tmp_path, small_dataset):
    data = small_dataset.read_bytes()
    (tmp_path / "cut.h5").write_bytes(data[: len(data) // 3])
    with pytest.raises(DataError, match="cut.h5"):
        open_dataset(tmp_path / "cut.h5")[5]


def test_no_images(tmp_path):
    path = make_h5(tmp_path / "labels.h5", quats=(np.zeros((3, 4), np.float32), {"category": "q"}))
    with pytest.raises(DataError, match="labels.h5: holds no images"):
        open_dataset(path)
    assert len(open_dataset(path, require_images=False)) == 3


def test_wrong_shape_for_category(tmp_path):
    path = make_h5(
        tmp_path / "bad.h5", images=jpeg_field(2), quats=(np.zeros((2, 3), np.float32), {"category": "q"})
    )
    with pytest.raises(DataError, match=r"bad.h5: field 'quats': category 'q' needs per-sample shape \(4,\)"):
        open_dataset(path)


def test_category_contradicting_shape(tmp_path):
    path = make_h5(
        tmp_path / "bad.h5", images=jpeg_field(2), pts=(np.zeros((2, 68, 4), np.float32), {"category": "pts"})
    )
    with pytest.raises(DataError, match="field 'pts': category 'pts' needs per-sample shape"):
        open_dataset(path)


def test_integer_labels_refused(tmp_path):
    path = make_h5(
        tmp_path / "bad.h5", images=jpeg_field(2), rois=(np.zeros((2, 4), np.int32), {"category": "roi"})
    )
    with pytest.raises(DataError, match="field 'rois': category 'roi' needs float values"):
        open_dataset(path)


def test_unknown_category_and_storage(tmp_path):
    path = make_h5(tmp_path / "a.h5", x=(np.zeros((2, 4), np.float32), {"category": "banana"}))
    with pytest.raises(DataError, match="field 'x': unknown category 'banana'"):
        open_dataset(path, require_images=False)
    data, _ = jpeg_field(2)
    path = make_h5(tmp_path / "b.h5", images=(data, {"category": "img", "storage": "tape"}))
    with pytest.raises(DataError, match="field 'images': attribute 'storage' is 'tape'"):
        open_dataset(path)


def test_inconsistent_lengths(tmp_path):
    path = make_h5(
        tmp_path / "bad.h5", images=jpeg_field(3), rois=(np.zeros((2, 4), np.float32), {"category": "roi"})
    )
    with pytest.raises(DataError, match="field 'rois': has 2 samples but other fields have 3"):
        open_dataset(path)


def test_bad_sequence_starts(tmp_path):
    path = make_h5(tmp_path / "bad.h5", images=jpeg_field(3), sequence_starts=(np.array([0, 2]), {}))
    with pytest.raises(DataError, match="field 'sequence_starts': must rise from 0 to the sample count 3"):
        open_dataset(path)


def test_image_that_does_not_decode(tmp_path):
    data, attrs = jpeg_field(3)
    data[1] = np.frombuffer(b"\xff\xd8\xffgarbage" * 10, np.uint8)
    path = make_h5(tmp_path / "bad.h5", images=(data, attrs))
    ds = open_dataset(path)
    ds[0]
    with pytest.raises(DataError, match="bad.h5: field 'images', sample 1: image does not decode"):
        ds[1]


@pytest.mark.parametrize("name", ["../../etc/passwd", "../outside.png", "/etc/passwd"])
def test_image_filename_outside_the_dataset_folder_is_refused(tmp_path, name):
    import cv2

    (tmp_path / "data").mkdir()
    cv2.imwrite(str(tmp_path / "outside.png"), face_image(np.random.default_rng(0)))
    cv2.imwrite(str(tmp_path / "data" / "ok.png"), face_image(np.random.default_rng(0)))
    names = np.array(["ok.png", name], dtype=h5py.string_dtype())
    path = make_h5(
        tmp_path / "data" / "f.h5", images=(names, {"category": "img", "storage": "image_filename"})
    )
    ds = open_dataset(path)
    assert ds[0]["images"].shape == (96, 96)
    with pytest.raises(DataError, match=r"field 'images', sample 1: image file name .* (outside|relative)"):
        ds[1]


def test_image_filename_pointing_outside_via_symlink_is_refused(tmp_path):
    import cv2

    (tmp_path / "data").mkdir()
    cv2.imwrite(str(tmp_path / "secret.png"), face_image(np.random.default_rng(0)))
    (tmp_path / "data" / "link.png").symlink_to(tmp_path / "secret.png")
    names = np.array(["link.png"], dtype=h5py.string_dtype())
    path = make_h5(
        tmp_path / "data" / "f.h5", images=(names, {"category": "img", "storage": "image_filename"})
    )
    with pytest.raises(DataError, match="outside the dataset folder"):
        open_dataset(path)


def test_missing_image_files(tmp_path):
    names = np.array(["a.jpg", "b.jpg"], dtype=h5py.string_dtype())
    path = make_h5(tmp_path / "f.h5", images=(names, {"category": "img", "storage": "image_filename"}))
    with pytest.raises(DataError, match=r"f.h5: field 'images', sample 0: image file 'a.jpg' not found in"):
        open_dataset(path)


def test_writer_refuses_wrong_label_shape(tmp_path):
    with pytest.raises(Exception, match="field 'quats' of sample 0 has shape \\(3,\\), expected \\(4,\\)"):
        with DatasetWriter(tmp_path / "w.h5") as w:
            w.append({"quats": np.zeros(3)})
    assert list(tmp_path.iterdir()) == []


def test_writer_image_folder_is_not_overwritten(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "mine.txt").write_text("keep")
    spec = image_spec(storage=ImageStorage.FILENAME)
    with pytest.raises(Exception, match="already exists; pass --force"):
        with DatasetWriter(tmp_path / "out.h5", specs={"images": spec}) as w:
            w.append({"images": face_image(np.random.default_rng(0))})
    assert (tmp_path / "out" / "mine.txt").read_text() == "keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
