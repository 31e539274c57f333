"""Released models: the catalog, the user cache, `opnet download NAME --mirror URL`, defaults of predict."""

from __future__ import annotations

import functools
import hashlib
import http.server
import json
import logging
import re
import threading

import cv2
import numpy as np
import pytest
from conftest import AFLW_MINI, LOCALIZER_MODEL, POSE_MODEL, needs_shared

from opnet.cli import main
from opnet.errors import OpNetError
from opnet.prepare.cache import POSE_MODELS, cache_dir_from_env, cached_file, fetch_model, resolve_model
from opnet.prepare.download import CATALOG, DATASETS, MODELS, Remote


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def mirror(tmp_path):
    """A local web server with a folder of model files; yields (folder, base URL)."""
    folder = tmp_path / "mirror"
    folder.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield folder, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def fake_model(name: str, payload: bytes) -> Remote:
    sha = hashlib.sha256(payload).hexdigest()
    return Remote(
        name, name, f"{name}.onnx", "free", "http://x", "", ("http://x",), len(payload), sha, kind="model"
    )


def test_every_model_is_pinned_to_a_commit_with_its_licence():
    assert set(MODELS) >= {"head-pose-0.4-small-int8", "head-localizer", "head-pose-0.5-small"}
    assert set(CATALOG) == set(DATASETS) | set(MODELS) and set(POSE_MODELS) <= set(MODELS)
    for name, remote in MODELS.items():
        assert (
            remote.kind == "model"
            and remote.filename == f"{name}.onnx"
            and "non-commercial" in remote.licence
        )
        (url,) = remote.urls
        assert re.fullmatch(rf"https://github.com/opentrack/opentrack/raw/[0-9a-f]{{40}}/.*/{name}.onnx", url)
        assert remote.verified == (remote.sha256 is not None)
        if remote.verified:
            assert re.fullmatch("[0-9a-f]{64}", remote.sha256) and remote.size > 0
    assert not MODELS["head-pose-0.5-big"].verified  # no checksum known: marked, and said on download


@needs_shared(POSE_MODEL)
@needs_shared(LOCALIZER_MODEL)
def test_the_released_files_match_their_catalog_entries():
    for path in (POSE_MODEL, LOCALIZER_MODEL):
        remote = MODELS[path.stem]
        assert path.stat().st_size == remote.size
        assert hashlib.sha256(path.read_bytes()).hexdigest() == remote.sha256


def test_cache_folder_follows_xdg(tmp_path):
    assert cache_dir_from_env({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "opnet"
    assert cache_dir_from_env({"HOME": "/h"}).parts[-2:] == (".cache", "opnet")


def test_fetch_checks_and_resolve_finds_names_paths_and_defaults(tmp_path, mirror, caplog):
    folder, base = mirror
    payload = b"not really onnx" * 100
    (folder / "m.onnx").write_bytes(payload)
    cache = tmp_path / "cache" / "opnet"
    remote = fake_model("m", payload)
    path = fetch_model(remote, cache, mirror=base)
    assert path == cache / "m.onnx" and path.read_bytes() == payload and cached_file(remote, cache) == path
    path.write_bytes(payload[:-1])  # an incomplete file is not used, and fetched again
    assert cached_file(remote, cache) is None
    assert fetch_model(remote, cache, mirror=base).read_bytes() == payload
    wrong = Remote("m", "m", "m.onnx", "free", "http://x", "", (), len(payload), "0" * 64, kind="model")
    with pytest.raises(OpNetError, match="sha256 .* does not match"):
        fetch_model(wrong, tmp_path / "c2", mirror=base)
    unverified = Remote("m", "m", "m.onnx", "free", "http://x", "", ("http://x",), kind="model")
    with caplog.at_level(logging.WARNING):
        fetch_model(unverified, tmp_path / "c3", mirror=base)
    assert (
        f"not verified: no sha256 is known for m.onnx; the file that arrived has sha256 {remote.sha256}"
        in (caplog.text)
    )
    with pytest.raises(
        OpNetError, match="none downloaded; fetch OpenTrack's with `opnet download head-pose-0.4"
    ):
        resolve_model(None, cache)
    (cache / "head-pose-0.5-small.onnx").write_bytes(b"x" * MODELS["head-pose-0.5-small"].size)
    assert resolve_model(None, cache) == cache / "head-pose-0.5-small.onnx"  # the first cached default
    with pytest.raises(
        OpNetError, match="--model head-localizer: not downloaded yet; fetch it with `opnet down"
    ):
        resolve_model("head-localizer", cache)
    assert resolve_model(str(path), tmp_path) == path
    with pytest.raises(OpNetError, match="--model nope.onnx: no such file, and not a known model"):
        resolve_model("nope.onnx", cache)


@needs_shared(POSE_MODEL)
@needs_shared(AFLW_MINI)
def test_download_from_a_mirror_then_predict_without_model(tmp_path, mirror, monkeypatch, capsys):
    from opnet.data import open_dataset

    folder, base = mirror
    (folder / POSE_MODEL.name).write_bytes(POSE_MODEL.read_bytes())
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)  # an empty folder: nothing but the photo
    with open_dataset(AFLW_MINI, color=True) as ds:
        cv2.imwrite("photo.jpg", cv2.cvtColor(ds.read_image(2), cv2.COLOR_RGB2BGR))
    assert main(["download", "head-pose-0.4-small-int8", "--mirror", base]) == 0
    out = capsys.readouterr().out
    assert "licence: Released with OpenTrack" in out and MODELS["head-pose-0.4-small-int8"].sha256 in out
    assert (tmp_path / "cache" / "opnet" / POSE_MODEL.name).read_bytes() == POSE_MODEL.read_bytes()
    assert main(["predict", "photo.jpg", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["detector"] == "haar" and doc["model"]["path"] == str(
        tmp_path / "cache" / "opnet" / POSE_MODEL.name
    )
    (face,) = doc["images"][0]["faces"]
    assert abs(face["yaw_deg"]) < 10  # a near-frontal face
    assert main(["download", "--list", "--json"]) == 0
    entries = {e["name"]: e for e in json.loads(capsys.readouterr().out)["entries"]}
    assert entries["head-pose-0.4-small-int8"]["cached"] and entries["aflw2k3d"]["kind"] == "dataset"


def test_predict_fetches_missing_models_with_download(tmp_path, mirror, monkeypatch, capsys):
    folder, base = mirror
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    photo = tmp_path / "p.png"
    cv2.imwrite(str(photo), np.zeros((40, 40, 3), np.uint8))
    code = main(["predict", str(photo), "--download", "--mirror", base])
    assert code == 2 and "head-pose-0.4-small-int8.onnx: HTTP 404" in capsys.readouterr().err
