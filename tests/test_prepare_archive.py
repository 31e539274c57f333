"""Reading raw archives safely: unsafe names, decompression bombs, truncated and corrupt archives."""

from __future__ import annotations

import struct
import zipfile

import h5py
import pytest
from prepare_fixtures import aflw_members, random_fit, write_zip

from opnet.cli import main
from opnet.errors import OpNetError
from opnet.prepare import Aflw2k3d, run_conversion
from opnet.prepare.archive import Archive, ReadLimits, is_safe_member_name


@pytest.fixture
def members(rng):
    return aflw_members(rng, {f"image{i:05d}": random_fit(rng) for i in range(3)})


def _files(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


@pytest.mark.parametrize(
    "name, safe",
    [
        ("AFLW2000/image1.mat", True),
        ("a/b/c.txt", True),
        ("../evil.mat", False),
        ("/etc/passwd", False),
        ("AFLW2000/../../evil.jpg", False),
        ("C:/windows/x", False),
        ("a\\..\\b", False),
        ("", False),
    ],
)
def test_safe_member_names(name, safe):
    assert is_safe_member_name(name) is safe


def test_unsafe_members_are_ignored_and_nothing_is_written_outside(tmp_path, members):
    work = tmp_path / "work"
    work.mkdir()
    evil = {"../evil.mat": b"x", "/tmp/opnet-evil.jpg": b"x", "AFLW2000/../../evil2.mat": b"x"}
    archive = write_zip(work / "a.zip", {**members, **evil})
    summary = run_conversion(Aflw2k3d(), archive, work / "out.h5")
    assert summary.written == 3
    assert any("3 archive member(s) with unsafe names" in note for note in summary.notes)
    assert _files(tmp_path) == ["work/a.zip", "work/out.h5"]
    with pytest.raises(OpNetError, match="refusing member"):
        Archive(archive).read("../evil.mat")


def test_a_member_compressing_absurdly_well_is_refused(tmp_path):
    archive = write_zip(tmp_path / "bomb.zip", {"AFLW2000/image00001.mat": bytes(4 << 20)})
    with pytest.raises(OpNetError, match="compression ratio .* a decompression bomb"):
        Archive(archive).read("AFLW2000/image00001.mat")


def test_a_member_claiming_gigabytes_is_refused_without_reading(tmp_path):
    archive = write_zip(tmp_path / "a.zip", {"big.bin": b"0123456789" * 100}, zipfile.ZIP_STORED)
    data = bytearray(archive.read_bytes())
    central = data.index(b"PK\x01\x02")
    data[central + 24 : central + 28] = struct.pack("<I", 0xFFFFFFF0)  # declared uncompressed size
    archive.write_bytes(bytes(data))
    with pytest.raises(OpNetError, match="claims 4294967280 bytes .* decompression bomb"):
        Archive(archive).read("big.bin")
    small = Archive(write_zip(tmp_path / "b.zip", {"x.bin": bytes(2000)}), ReadLimits(max_member_bytes=1000))
    with pytest.raises(OpNetError, match="claims 2000 bytes"):
        small.read("x.bin")


def test_a_truncated_archive_gives_one_line_and_no_output(tmp_path, members, capsys):
    archive = write_zip(tmp_path / "a.zip", members)
    archive.write_bytes(archive.read_bytes()[: archive.stat().st_size * 2 // 3])
    assert main(["prepare", "aflw2k3d", str(archive), str(tmp_path / "out.h5"), "--workers", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "not a zip archive, or truncated" in err
    assert _files(tmp_path) == ["a.zip"]


def test_a_corrupt_member_gives_an_error_and_no_output(tmp_path, members, capsys):
    archive = write_zip(tmp_path / "a.zip", members)
    data = bytearray(archive.read_bytes())
    start = data.index(b"AFLW2000/image00001.jpg") + len("AFLW2000/image00001.jpg") + 200
    data[start : start + 64] = bytes(64)
    archive.write_bytes(bytes(data))
    assert main(["prepare", "aflw2k3d", str(archive), str(tmp_path / "out.h5"), "--workers", "1"]) == 2
    assert "is corrupt or truncated" in capsys.readouterr().err
    assert _files(tmp_path) == ["a.zip"]


def test_an_error_in_a_worker_process_stops_the_conversion(tmp_path, rng):
    members = aflw_members(rng, {f"image{i:05d}": random_fit(rng, 80, 60) for i in range(140)}, 80, 60)
    archive = write_zip(tmp_path / "a.zip", members, zipfile.ZIP_STORED)
    data = bytearray(archive.read_bytes())
    start = data.index(b"AFLW2000/image00100.jpg") + len("AFLW2000/image00100.jpg") + 100
    data[start : start + 32] = bytes(32)
    archive.write_bytes(bytes(data))
    with pytest.raises(OpNetError, match="image00100.jpg' is corrupt"):
        run_conversion(Aflw2k3d(), archive, tmp_path / "out.h5", workers=2)
    assert _files(tmp_path) == ["a.zip"]


def test_an_unpacked_folder_converts_like_the_zip(tmp_path, members):
    archive = write_zip(tmp_path / "a.zip", members)
    folder = tmp_path / "unpacked"
    with zipfile.ZipFile(archive) as zf:
        zf.extractall(folder)
    run_conversion(Aflw2k3d(), archive, tmp_path / "zip.h5")
    run_conversion(Aflw2k3d(), folder, tmp_path / "dir.h5")
    with h5py.File(tmp_path / "zip.h5") as a, h5py.File(tmp_path / "dir.h5") as b:
        for name in a:
            assert all((x == y).all() for x, y in zip(a[name][...], b[name][...], strict=True)), name


def test_a_folder_link_that_leads_outside_is_refused(tmp_path):
    (tmp_path / "outside.txt").write_text("secret")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "inside.txt").write_text("fine")
    (tmp_path / "data" / "link.txt").symlink_to(tmp_path / "outside.txt")
    archive = Archive(tmp_path / "data")
    assert archive.names() == ["inside.txt", "link.txt"] and archive.read("inside.txt") == b"fine"
    with pytest.raises(OpNetError, match="leads outside the folder"):
        archive.read("link.txt")


def test_an_archive_without_samples_is_an_error(tmp_path):
    archive = write_zip(tmp_path / "a.zip", {"readme.txt": b"hello"})
    with pytest.raises(OpNetError, match="no aflw2k3d samples found"):
        run_conversion(Aflw2k3d(), archive, tmp_path / "out.h5")
    assert not (tmp_path / "out.h5").exists()
