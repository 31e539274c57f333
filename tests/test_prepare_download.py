"""``opnet download``: resumable, checked downloads, against a local HTTP server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import http.server
import json
import re
import threading

import pytest

from opnet.cli import main
from opnet.errors import OpNetError
from opnet.prepare.download import DATASETS, Remote, download, fetch

PAYLOAD = bytes(range(256)) * 4000  # 1 MB


class _Handler(http.server.BaseHTTPRequestHandler):
    """Serves PAYLOAD at /data.zip (with Range support unless the server says otherwise) and a web
    page at /page.zip; records the Range headers it was sent."""

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        server = self.server
        server.ranges.append(self.headers.get("Range"))
        if self.path == "/page.zip":
            return self._send(200, b"<html>sign in</html>", {"Content-Type": "text/html"})
        if self.path != "/data.zip":
            return self._send(404, b"", {})
        match = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range") or "")
        if match and server.supports_range:
            start = int(match[1])
            if start >= len(PAYLOAD):
                return self._send(416, b"", {"Content-Range": f"bytes */{len(PAYLOAD)}"})
            headers = {"Content-Range": f"bytes {start}-{len(PAYLOAD) - 1}/{len(PAYLOAD)}"}
            return self._send(206, PAYLOAD[start:], headers)
        self._send(200, PAYLOAD, {})

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        headers.setdefault("Content-Type", "application/zip")
        for key, value in {**headers, "Content-Length": str(len(body))}.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.ranges, httpd.supports_range = [], True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield httpd, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


SHA = hashlib.sha256(PAYLOAD).hexdigest()


def test_download_checks_size_and_sha256(tmp_path, server):
    httpd, base = server
    path = fetch(f"{base}/data.zip", tmp_path / "data.zip", size=len(PAYLOAD), sha256=SHA)
    assert path.read_bytes() == PAYLOAD and not (tmp_path / "data.zip.part").exists()
    assert httpd.ranges == [None]


def test_a_partial_download_resumes_with_a_range_request(tmp_path, server):
    httpd, base = server
    (tmp_path / "data.zip.part").write_bytes(PAYLOAD[:300_000])
    fetch(f"{base}/data.zip", tmp_path / "data.zip", sha256=SHA)
    assert (tmp_path / "data.zip").read_bytes() == PAYLOAD
    assert httpd.ranges == ["bytes=300000-"]


def test_a_server_without_ranges_restarts_from_scratch(tmp_path, server):
    httpd, base = server
    httpd.supports_range = False
    (tmp_path / "data.zip.part").write_bytes(b"garbage" * 1000)
    fetch(f"{base}/data.zip", tmp_path / "data.zip", size=len(PAYLOAD))
    assert (tmp_path / "data.zip").read_bytes() == PAYLOAD


def test_a_complete_part_is_only_checked(tmp_path, server):
    httpd, base = server
    (tmp_path / "data.zip.part").write_bytes(PAYLOAD)
    fetch(f"{base}/data.zip", tmp_path / "data.zip", sha256=SHA)
    assert (tmp_path / "data.zip").read_bytes() == PAYLOAD
    assert httpd.ranges == [f"bytes={len(PAYLOAD)}-"]


def test_a_sha256_mismatch_deletes_the_download(tmp_path, server):
    _, base = server
    with pytest.raises(OpNetError, match="sha256 .* does not match"):
        fetch(f"{base}/data.zip", tmp_path / "data.zip", sha256="0" * 64)
    assert list(tmp_path.iterdir()) == []


def test_a_wrong_size_is_an_error(tmp_path, server):
    _, base = server
    with pytest.raises(OpNetError, match=f"got {len(PAYLOAD)} bytes, expected {len(PAYLOAD) + 1}"):
        fetch(f"{base}/data.zip", tmp_path / "data.zip", size=len(PAYLOAD) + 1)
    assert not (tmp_path / "data.zip").exists()


def test_a_web_page_instead_of_the_file_is_refused(tmp_path, server):
    _, base = server
    with pytest.raises(OpNetError, match="sent a web page instead of page.zip"):
        fetch(f"{base}/page.zip", tmp_path / "page.zip")
    assert not (tmp_path / "page.zip").exists()


def test_download_tries_each_address_and_keeps_an_existing_file(tmp_path, server):
    _, base = server
    remote = Remote(
        "x",
        "X",
        "x.zip",
        "free",
        "http://example.invalid",
        "opnet prepare ...",
        urls=(f"{base}/missing.zip", f"{base}/data.zip"),
        size=len(PAYLOAD),
        sha256=SHA,
    )
    assert download(remote, tmp_path).read_bytes() == PAYLOAD
    (tmp_path / "x.zip").write_bytes(b"kept")
    assert download(remote, tmp_path).read_bytes() == b"kept"
    assert download(remote, tmp_path, force=True).read_bytes() == PAYLOAD


def test_every_dataset_names_licence_homepage_and_a_way_to_get_it():
    for name, remote in DATASETS.items():
        assert remote.licence and remote.homepage.startswith("http") and remote.prepare.startswith("opnet ")
        assert remote.urls or remote.manual, name
    assert {"aflw2k3d", "300wlp", "synface", "opal23-biwi", "biwi", "wflw", "lapa"} <= set(DATASETS)


def test_cli_lists_and_explains_manual_downloads(capsys):
    assert main(["download", "--list"]) == 0
    assert "aflw2k3d" in capsys.readouterr().out
    assert main(["download", "biwi"]) == 1
    out = capsys.readouterr().out
    assert "licence:" in out and "kaggle.com" in out and "opnet prepare biwi" in out
    assert main(["download", "nope"]) == 2
    assert main(["download", "--list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["entries"]
    assert {d["name"]: d["licence"] for d in listed}["aflw2k3d"] == DATASETS["aflw2k3d"].licence
