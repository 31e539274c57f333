"""Generators of bad inputs for the bad-input matrix (tests/test_bad_input_matrix.py) and its fault tests.

Every generator writes one small file (or folder) and returns its path; everything is made in a
few seconds in all. Kinds: dataset files broken in structure, labels or images; raw archives (zip
slip, zip bomb, a .mat bomb inside a stored zip member, truncated, wrong layout); model files
(random bytes, truncated, a pickle that would run code, a valid ONNX file of the wrong model).
"""

from __future__ import annotations

import logging
import os
import pickle
import shutil
import struct
import sys
import warnings
import zipfile
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path

import cv2
import h5py
import numpy as np
import pytest
from conftest import face_image, random_sample, run_cli
from prepare_fixtures import aflw_members, image_bytes, random_fit, w300lp_members, write_zip

from opnet.data import DatasetWriter
from opnet.data.fields import ImageStorage, image_spec

PWNED = "opnet-pwned"
"""The file the malicious pickles create in the current folder if they ever run."""


def random_bytes(path: Path, size: int = 4096, seed: int = 0) -> Path:
    path.write_bytes(np.random.default_rng(seed).integers(0, 256, size, dtype=np.uint8).tobytes())
    return path


def empty_file(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def truncated_copy(source: Path, path: Path, fraction: float = 0.5) -> Path:
    data = source.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])
    return path


# --- dataset files ------------------------------------------------------------------------------


def good_dataset(path: Path, count: int = 6, seed: int = 3) -> Path:
    """A valid dataset: ``count`` samples (96 px JPEG, every label) in sequences of 2."""
    rng = np.random.default_rng(seed)
    with DatasetWriter(path) as w:
        for k in range(count):
            if k % 2 == 0:
                w.start_sequence()
            w.append(random_sample(rng))
    return path


def _edited(good: Path, path: Path, edit: Callable[[h5py.File], None]) -> Path:
    shutil.copyfile(good, path)
    with h5py.File(path, "r+") as f:
        edit(f)
    return path


def _set_row(field: str, row: int, value: object) -> Callable[[h5py.File], None]:
    def edit(f: h5py.File) -> None:
        data = f[field][...]
        data[row] = value
        f[field][...] = data

    return edit


def _replace(field: str, data: np.ndarray) -> Callable[[h5py.File], None]:
    def edit(f: h5py.File) -> None:
        attrs = dict(f[field].attrs)
        del f[field]
        f.create_dataset(field, data=data)
        f[field].attrs.update(attrs)

    return edit


def _empty(f: h5py.File) -> None:
    del f["sequence_starts"]
    for name in list(f):
        f[name].resize(0, axis=0)


def _image(row: int, buffer: bytes) -> Callable[[h5py.File], None]:
    def edit(f: h5py.File) -> None:
        f["images"][row] = np.frombuffer(buffer, np.uint8)

    return edit


def huge_png_header(width: int = 60000, height: int = 60000) -> bytes:
    """A PNG whose header declares ``width`` x ``height`` gray pixels (the pixel data is cut short)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\0" * (width + 1) * 4)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def huge_jpeg_header(width: int = 65000, height: int = 65000) -> bytes:
    """A real 16 x 16 JPEG whose frame header (SOF0) is changed to declare ``width`` x ``height``."""
    ok, buf = cv2.imencode(".jpg", np.full((16, 16), 128, np.uint8))
    data = bytearray(buf.tobytes())
    at = data.index(b"\xff\xc0")
    data[at + 5 : at + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def _filename_dataset(path: Path, names: list[str]) -> Path:
    """A dataset whose images are files named ``names`` (relative to its folder), labels of 1 sample each."""
    rng = np.random.default_rng(0)
    spec = image_spec(storage=ImageStorage.FILENAME)
    with DatasetWriter(path, specs={"images": spec}) as w:
        for name in names:
            w.append({**random_sample(rng), "images": name})
    return path


def traversal_dataset(folder: Path) -> Path:
    """``images`` file names that climb out of the dataset folder to a real image (``../outside.jpg``)."""
    data = folder / "traversal"
    data.mkdir()
    (folder / "outside.jpg").write_bytes(image_bytes(np.random.default_rng(0), 64, 64))
    return _filename_dataset(data / "traversal.h5", ["../outside.jpg"])


def symlink_dataset(folder: Path) -> Path:
    """An ``images`` file name that is a symbolic link leading out of the dataset folder."""
    data = folder / "symlink"
    data.mkdir()
    (folder / "secret.jpg").write_bytes(image_bytes(np.random.default_rng(1), 64, 64))
    os.symlink(folder / "secret.jpg", data / "face.jpg")
    return _filename_dataset(data / "symlink.h5", ["face.jpg"])


def zero_length_dataset(path: Path) -> Path:
    """A dataset with every field and no samples."""
    good = good_dataset(path.with_name(f"full-{path.name}"))
    return _edited(good, path, _empty)


def dataset_files(folder: Path) -> dict[str, Path]:
    """Every kind of bad dataset file, by name (plus ``good``, a valid one)."""
    good = good_dataset(folder / "good.h5")
    n = 6
    edits: dict[str, Callable[[h5py.File], None]] = {
        "nan_quats": _set_row("quats", 1, np.nan),
        "zero_quats": _set_row("quats", 1, 0.0),
        "nan_coords": _set_row("coords", 1, np.nan),
        "inf_size": _set_row("coords", 1, [48.0, 48.0, np.inf]),
        "nan_rois": _set_row("rois", 1, np.nan),
        "nan_points": _set_row("pt3d_68", 1, np.nan),
        "wrong_shape": _replace("quats", np.zeros((n, 3), np.float32)),
        "wrong_dtype": _replace("quats", np.zeros((n, 4), np.int32)),
        "short_field": _replace("coords", np.zeros((n - 1, 3), np.float32)),
        "no_images": lambda f: f.__delitem__("images"),
        "zero_length": _empty,
        "bad_image_bytes": _image(1, np.random.default_rng(5).integers(0, 256, 300, np.uint8).tobytes()),
        "huge_png": _image(0, huge_png_header()),
        "huge_jpeg": _image(0, huge_jpeg_header()),
    }
    files = {"good": good}
    for name, edit in edits.items():
        files[name] = _edited(good, folder / f"{name}.h5", edit)
    files["not_hdf5"] = random_bytes(folder / "not_hdf5.h5")
    files["empty"] = empty_file(folder / "empty.h5")
    files["truncated"] = truncated_copy(good, folder / "truncated.h5")
    with h5py.File(folder / "no_fields.h5", "w") as f:
        f.attrs["note"] = "no datasets"
    files["no_fields"] = folder / "no_fields.h5"
    files["traversal"] = traversal_dataset(folder)
    files["symlink"] = symlink_dataset(folder)
    return files


# --- raw archives -------------------------------------------------------------------------------


def mat_bomb(declared_bytes: int = 1_500_000_000) -> bytes:
    """A MATLAB 5 file holding one zlib-compressed element that inflates to ``declared_bytes``: a
    double array of that many bytes (zeros). About 1 KB per MB of content."""
    count = declared_bytes // 8
    name = b"Pose_Par"
    body = (
        struct.pack("<II", 6, 8)
        + struct.pack("<II", 6, 0)  # array flags: double
        + struct.pack("<II", 5, 8)
        + struct.pack("<ii", count, 1)  # dimensions
        + struct.pack("<II", 1, len(name))
        + name  # array name
        + struct.pack("<II", 9, count * 8)  # the real part: doubles
    )
    element_head = struct.pack("<II", 14, len(body) + count * 8) + body
    deflate = zlib.compressobj(9)
    block_size = 1 << 20
    chunks = [deflate.compress(element_head), deflate.flush(zlib.Z_FULL_FLUSH)]
    zeros_block = zlib.compressobj(9, zlib.DEFLATED, -15)  # the same raw bytes for every full block
    block = zeros_block.compress(b"\0" * block_size) + zeros_block.flush(zlib.Z_FULL_FLUSH)
    full, rest = divmod(count * 8, block_size)
    chunks.append(block * full)
    tail = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunks.append(tail.compress(b"\0" * rest) + tail.flush())
    payload = b"".join(chunks) + struct.pack(">I", _adler32_with_zeros(zlib.adler32(element_head), count * 8))
    header = b"MATLAB 5.0 MAT-file, opnet bad-input test".ljust(116, b" ") + b"\0" * 8 + b"\x00\x01IM"
    return header + struct.pack("<II", 15, len(payload)) + payload


def _adler32_with_zeros(checksum: int, zeros: int) -> int:
    """Adler-32 after ``zeros`` more zero bytes: the byte sum stays, the sum of sums grows by it per byte."""
    a, b = checksum & 0xFFFF, checksum >> 16
    return (((b + zeros * a) % 65521) << 16) | a


def aflw_zip_with(path: Path, mat: bytes) -> Path:
    """An AFLW2000-3D.zip of one sample whose .mat member is ``mat``, stored uncompressed (ratio 1:1)."""
    rng = np.random.default_rng(0)
    members = aflw_members(rng, {"image00002": random_fit(rng)})
    members["AFLW2000/image00002.mat"] = mat
    return write_zip(path, members, compression=zipfile.ZIP_STORED)


def w300lp_zip_with(path: Path, mat: bytes) -> Path:
    """A 300W-LP.zip of one face whose fit (.mat) is ``mat``, stored uncompressed (ratio 1:1)."""
    rng = np.random.default_rng(0)
    landmarks = {("AFW", "face", 0): rng.uniform(100, 350, size=(68, 2))}
    members = w300lp_members(rng, {("AFW", "face"): {0: random_fit(rng)}}, landmarks)
    members["300W_LP/AFW/face_0.mat"] = mat
    return write_zip(path, members, compression=zipfile.ZIP_STORED)


def zip_bomb(path: Path, size: int = 48 << 20) -> Path:
    """A zip member of ``size`` zero bytes, compressed about 1000:1 (beyond the archive reader's 200:1)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf, zf.open("AFLW2000/image00002.jpg", "w") as f:
        block = b"\0" * (1 << 20)
        for _ in range(size >> 20):
            f.write(block)
    return path


def archive_files(folder: Path) -> dict[str, Path]:
    """Every kind of bad raw archive, by name."""
    rng = np.random.default_rng(0)
    good = write_zip(folder / "aflw-good.zip", aflw_members(rng, {"image00002": random_fit(rng)}))
    escape = {"../../outside.jpg": image_bytes(rng, 32, 32), "/abs/AFLW2000/x.mat": b"x"}
    files = {
        "not_zip": random_bytes(folder / "not_zip.zip"),
        "empty_zip": empty_file(folder / "empty_zip.zip"),
        "truncated_zip": truncated_copy(good, folder / "truncated.zip"),
        "wrong_layout": write_zip(folder / "wrong_layout.zip", {"readme.txt": b"hello", "a/b.csv": b"1,2"}),
        "zip_slip": write_zip(folder / "zip_slip.zip", escape),
        "zip_bomb": zip_bomb(folder / "zip_bomb.zip"),
        "mat_bomb": aflw_zip_with(folder / "mat_bomb.zip", mat_bomb(200 << 20)),
        "mat_bomb_300wlp": w300lp_zip_with(folder / "mat_bomb_300wlp.zip", mat_bomb(200 << 20)),
        "empty_folder": folder / "empty_folder",
    }
    files["empty_folder"].mkdir()
    return files


# --- models -------------------------------------------------------------------------------------


class _RunsCode:
    """Unpickling this calls os.system: a checkpoint that runs code when loaded carelessly."""

    def __reduce__(self) -> tuple:
        return (os.system, (f"touch {PWNED}",))


def malicious_checkpoint(path: Path) -> Path:
    """A torch.save-style zip checkpoint whose pickle would create ``PWNED`` in the current folder."""
    import torch

    torch.save({"format": "opnet-posenet", "payload": _RunsCode()}, path)
    return path


def malicious_plain_pickle(path: Path) -> Path:
    """The same payload as a bare pickle (the legacy, non-zip torch format)."""
    path.write_bytes(pickle.dumps({"payload": _RunsCode()}, protocol=2))
    return path


def wrong_onnx(path: Path) -> Path:
    """A valid ONNX file of the wrong model: Identity on a float32 (1, 3, 10, 10) input."""
    import onnx
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 10, 10])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 10, 10])
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "wrong", [x], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, path)
    return path


def tiny_checkpoint(path: Path) -> Path:
    """A valid OpNet checkpoint of a very small network (width 0.25, no landmarks)."""
    import torch

    from opnet.models import ModelConfig, create_model, save_checkpoint

    torch.manual_seed(0)
    net = create_model(ModelConfig(width=0.25, landmarks=False, uncertainty=False), None)
    return save_checkpoint(path, net.eval())


def model_files(folder: Path) -> dict[str, Path]:
    """Every kind of bad model file, by name (plus ``good_ckpt``, a valid checkpoint)."""
    good = tiny_checkpoint(folder / "good.ckpt")
    return {
        "good_ckpt": good,
        "random_onnx": random_bytes(folder / "random.onnx"),
        "empty_onnx": empty_file(folder / "empty.onnx"),
        "wrong_onnx": wrong_onnx(folder / "wrong.onnx"),
        "truncated_onnx": truncated_copy(wrong_onnx(folder / "full.onnx"), folder / "truncated.onnx"),
        "random_ckpt": random_bytes(folder / "random.ckpt"),
        "truncated_ckpt": truncated_copy(good, folder / "truncated.ckpt"),
        "malicious_ckpt": malicious_checkpoint(folder / "malicious.ckpt"),
        "malicious_pickle": malicious_plain_pickle(folder / "malicious.pt"),
    }


# --- images, videos, settings --------------------------------------------------------------------


def image_files(folder: Path) -> dict[str, Path]:
    """Bad image files for predict (and a bad video for track), by name."""
    rng = np.random.default_rng(0)
    good = folder / "face.jpg"
    good.write_bytes(image_bytes(rng, 96, 96))
    (folder / "huge.png").write_bytes(huge_png_header())
    (folder / "huge.jpg").write_bytes(huge_jpeg_header())
    video = cv2.VideoWriter(str(folder / "clip.avi"), cv2.VideoWriter.fourcc(*"MJPG"), 10, (96, 96))
    for k in range(3):
        video.write(cv2.cvtColor(face_image(np.random.default_rng(k)), cv2.COLOR_GRAY2BGR))
    video.release()
    return {
        "good_video": folder / "clip.avi",
        "random_jpg": random_bytes(folder / "random.jpg"),
        "empty_jpg": empty_file(folder / "empty.jpg"),
        "huge_png": folder / "huge.png",
        "huge_jpg": folder / "huge.jpg",
        "random_video": random_bytes(folder / "random.mp4"),
        "empty_video": empty_file(folder / "empty.mp4"),
        "bad_yaml": _write(folder / "bad.yaml", "lr: [1e-3\nepochs: {"),
        "wrong_yaml": _write(folder / "wrong.yaml", "lr: fast\nno_such_setting: 3\n"),
        "bad_pickle": random_bytes(folder / "bfm.pkl"),
        "malicious_face_model": malicious_plain_pickle(folder / "face-model.pkl"),
    }


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def screen_lines(text: str) -> list[str]:
    """The non-blank lines a terminal shows for ``text``: a carriage return overwrites the line (as
    progress bars do, and as they clear themselves)."""
    lines = []
    for raw in text.split("\n"):
        shown = ""
        for part in raw.split("\r"):
            shown = part + shown[len(part) :]
        if shown.strip():
            lines.append(shown.rstrip())
    return lines


def run_on_screen(
    command: str, args: Iterable[object], capfd: pytest.CaptureFixture[str]
) -> tuple[int, str, list[str]]:
    """:func:`conftest.run_cli` as a terminal shows it: (exit code, stdout, stderr lines). Python
    warnings count as stderr lines, logging goes to stderr as ``main`` sets it up, and argparse's own
    refusals give their exit code."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    root.handlers = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                code, out, err = run_cli(command, args, capfd)
            except SystemExit as e:  # argparse's own errors
                code = e.code if isinstance(e.code, int) else 1
                out, err = capfd.readouterr()
    finally:
        for handler in root.handlers:
            handler.flush()
        root.handlers, root.level = saved[0], saved[1]
        sys.stderr.flush()
    more_out, more_err = capfd.readouterr()
    lines = screen_lines(err + more_err)
    lines += [f"warning: {w.category.__name__}: {w.message}" for w in caught]
    return code, out + more_out, lines
