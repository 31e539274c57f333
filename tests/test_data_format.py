"""Reader and writer of the HDF5 layout: storage modes, sequences, extras, streaming, round trips."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import cv2
import h5py
import numpy as np
import pytest
from conftest import AFLW_MINI, face_image, needs_shared, random_sample

from opnet.data import DatasetWriter, FieldSpec, ImageStorage, open_dataset
from opnet.data.fields import Category, image_spec
from opnet.data.images import encode_image
from opnet.errors import OpNetError


def copy_dataset(src: Path, dst: Path) -> None:
    ds = open_dataset(src)
    with DatasetWriter(dst, specs=ds.fields) as w:
        for i in range(len(ds)):
            if ds.sequence_starts is not None and i in set(ds.sequence_starts[:-1].tolist()):
                w.start_sequence()
            sample = {n: ds.read_field(n, [i])[0] for n in ds.fields if n != ds.image_field}
            sample[ds.image_field] = ds.read_image_bytes(i)
            w.append(sample)


def attrs(obj: h5py.HLObject) -> dict:
    return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in obj.attrs.items()}


@needs_shared(AFLW_MINI)
def test_reads_the_original_file():
    ds = open_dataset(AFLW_MINI)
    assert len(ds) == 16
    assert set(ds.fields) == {"images", "rois", "coords", "quats", "pt3d_68", "shapeparams"}
    assert ds.fields["shapeparams"].category == Category.GENERAL
    sample = ds[3]
    assert sample["images"].shape == (450, 450) and sample["images"].dtype == np.uint8
    assert sample["pt3d_68"].shape == (68, 3)
    assert ds.read_image(3, color=True).shape == (450, 450, 3)
    assert ds.sequence_starts is None and len(ds.sequences) == 16


@needs_shared(AFLW_MINI)
def test_round_trip_of_the_original_file_is_bit_exact(tmp_path):
    out = tmp_path / "copy.h5"
    copy_dataset(AFLW_MINI, out)
    with h5py.File(AFLW_MINI, "r") as a, h5py.File(out, "r") as b:
        assert sorted(a) == sorted(b)
        for name in a:
            assert a[name].dtype == b[name].dtype, name
            assert a[name].shape == b[name].shape, name
            assert attrs(a[name]) == attrs(b[name]), name
            if name == "images":
                assert all(
                    x.tobytes() == y.tobytes() for x, y in zip(a[name][...], b[name][...], strict=True)
                )
            else:
                assert a[name][...].tobytes() == b[name][...].tobytes(), name


def test_written_file_has_the_documented_layout(small_dataset):
    with h5py.File(small_dataset, "r") as f:
        assert f["images"].attrs["storage"] == "varsize_image_buffer"
        assert bool(f["images"].attrs["lossy"]) is True
        assert h5py.check_vlen_dtype(f["images"].dtype) == np.uint8
        for name, cat, shape in [
            ("rois", "roi", (4,)),
            ("coords", "xys", (3,)),
            ("quats", "q", (4,)),
            ("pt3d_68", "pts", (68, 3)),
            ("shapeparams", "", (50,)),
        ]:
            assert f[name].attrs["category"] == cat
            assert f[name].dtype == np.float32 and f[name].shape == (12, *shape)
            assert f[name].chunks is not None and f[name].maxshape[0] is None
        assert f["sequence_starts"][...].tolist() == [0, 5, 9, 12]


def test_sequences(small_dataset):
    ds = open_dataset(small_dataset)
    assert ds.sequences.tolist() == [[0, 5], [5, 9], [9, 12]]
    assert ds.sequence_ids.tolist() == [0] * 5 + [1] * 4 + [2] * 3


def test_png_storage_is_lossless(tmp_path, rng):
    img = face_image(rng)
    with DatasetWriter(tmp_path / "png.h5", specs={"images": image_spec(lossy=False)}) as w:
        w.append({"images": img, "quats": np.array([0, 0, 0, 1.0])})
    ds = open_dataset(tmp_path / "png.h5")
    assert not ds.fields["images"].lossy
    assert np.array_equal(ds[0]["images"], img)


def test_color_images(tmp_path, rng):
    img = np.stack([face_image(rng), np.zeros((96, 96), np.uint8), np.full((96, 96), 255, np.uint8)], -1)
    with DatasetWriter(tmp_path / "c.h5", specs={"images": image_spec(lossy=False)}) as w:
        w.append({"images": img})
    assert np.array_equal(open_dataset(tmp_path / "c.h5", color=True)[0]["images"], img)


def test_encoded_bytes_are_stored_unchanged_and_format_is_checked(tmp_path, rng):
    jpg = encode_image(face_image(rng), lossy=True, jpeg_quality=80)
    with DatasetWriter(tmp_path / "a.h5") as w:
        w.append({"images": jpg})
    assert open_dataset(tmp_path / "a.h5").read_image_bytes(0) == jpg
    with pytest.raises(OpNetError, match="field 'images' of sample 0 is JPG; this field stores PNG"):
        with DatasetWriter(tmp_path / "b.h5", specs={"images": image_spec(lossy=False)}) as w:
            w.append({"images": jpg})
    assert not (tmp_path / "b.h5").exists()


@pytest.mark.parametrize("folder", ["same", "named"])
@pytest.mark.parametrize("with_extension", [True, False])
def test_image_filename_storage_lookup(tmp_path, rng, folder, with_extension):
    root = tmp_path if folder == "same" else tmp_path / "files"
    (root / "sub").mkdir(parents=True)
    images = [face_image(rng) for _ in range(3)]
    for k, img in enumerate(images):
        cv2.imwrite(str(root / "sub" / f"im{k}.png"), img)
    ext = ".png" if with_extension else ""
    spec = image_spec(storage=ImageStorage.FILENAME)
    with DatasetWriter(tmp_path / "files.h5", specs={"images": spec}) as w:
        for k in range(3):
            w.append({"images": f"sub/im{k}{ext}", "coords": np.array([1.0, 2.0, 3.0])})
    ds = open_dataset(tmp_path / "files.h5")
    for k in range(3):
        assert np.array_equal(ds[k]["images"], images[k])


def test_image_filename_storage_writes_image_files(tmp_path, rng):
    spec = image_spec(storage=ImageStorage.FILENAME, lossy=False)
    images = [face_image(rng) for _ in range(4)]
    with DatasetWriter(tmp_path / "out.h5", specs={"images": spec}) as w:
        for img in images:
            w.append({"images": img})
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [f"{k:08d}.png" for k in range(4)]
    ds = open_dataset(tmp_path / "out.h5")
    assert all(np.array_equal(ds[k]["images"], images[k]) for k in range(4))


def test_unknown_fields_are_kept(tmp_path, rng):
    spec = FieldSpec("hasface", Category.GENERAL, (), np.dtype(np.bool_), {"category": "", "note": "custom"})
    with DatasetWriter(tmp_path / "x.h5", specs={"hasface": spec}) as w:
        for k in range(3):
            w.append({"images": face_image(rng), "hasface": k % 2 == 0, "weights": np.arange(5) * k})
    ds = open_dataset(tmp_path / "x.h5")
    assert ds.fields["hasface"].attrs["note"] == "custom"
    assert ds[2]["weights"].tolist() == [0, 2, 4, 6, 8]
    out = tmp_path / "copy.h5"
    copy_dataset(tmp_path / "x.h5", out)
    copy = open_dataset(out)
    assert copy.fields["hasface"].attrs["note"] == "custom"
    assert copy.read_field("hasface").tolist() == [True, False, True]


def test_streaming_write_uses_bounded_memory(tmp_path):
    rng = np.random.default_rng(0)
    noise = [encode_image(rng.integers(0, 255, (100, 100), dtype=np.uint8), lossy=False) for _ in range(8)]
    n = 3000  # ~10 kB incompressible PNG each: ~30 MB written
    tracemalloc.start()
    with DatasetWriter(tmp_path / "big.h5", specs={"images": image_spec(lossy=False)}) as w:
        for k in range(n):
            w.append({"images": noise[k % 8], "quats": np.array([0, 0, 0, 1.0])})
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 12e6, f"peak {peak / 1e6:.1f} MB while writing ~30 MB"
    assert len(open_dataset(tmp_path / "big.h5")) == n


def test_error_leaves_no_file_and_no_temp(tmp_path, rng):
    with pytest.raises(RuntimeError):
        with DatasetWriter(tmp_path / "fail.h5") as w:
            w.append(random_sample(rng))
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_sample_with_other_fields_is_refused(tmp_path, rng):
    with pytest.raises(OpNetError, match="sample 1 has fields"):
        with DatasetWriter(tmp_path / "f.h5") as w:
            w.append(random_sample(rng))
            w.append({"images": face_image(rng)})
    assert not (tmp_path / "f.h5").exists()


def test_existing_output_is_not_overwritten_without_force(small_dataset):
    before = small_dataset.read_bytes()
    with pytest.raises(OpNetError, match="already exists; pass --force"):
        DatasetWriter(small_dataset)
    assert small_dataset.read_bytes() == before
    with DatasetWriter(small_dataset, overwrite=True) as w:
        w.append({"quats": np.array([0, 0, 0, 1.0])})
    assert len(open_dataset(small_dataset, require_images=False)) == 1


def test_several_dataloader_workers_read_the_same(small_dataset):
    from torch.utils.data import DataLoader

    ds = open_dataset(small_dataset)
    serial = [ds[i]["images"] for i in range(len(ds))]
    ds[0]  # open the handle in the parent first: workers must not share it
    loader = DataLoader(ds, batch_size=None, num_workers=2, multiprocessing_context="fork")
    parallel = [s["images"].numpy() for s in loader]
    assert all(np.array_equal(a, b) for a, b in zip(serial, parallel, strict=True))


def test_points_and_centres_are_stored_in_pixel_centre_coordinates(tmp_path):
    """The original's files hold x, y of points and head centres with pixel i centred at i (its loader
    adds half a pixel); OpNet works in pixel corners, so the writer subtracts and the reader adds 0.5."""
    pts = np.zeros((68, 3))
    pts[:, 0], pts[:, 1], pts[:, 2] = 10.5, 20.5, 3.0
    with DatasetWriter(tmp_path / "c.h5") as w:
        w.append({"pt3d_68": pts, "coords": np.array([5.5, 6.5, 7.0]), "rois": np.array([1.0, 2, 3, 4])})
    with h5py.File(tmp_path / "c.h5", "r") as f:
        assert f["pt3d_68"][0, 0].tolist() == [10.0, 20.0, 3.0]
        assert f["coords"][0].tolist() == [5.0, 6.0, 7.0]
        assert f["rois"][0].tolist() == [1.0, 2.0, 3.0, 4.0]
    ds = open_dataset(tmp_path / "c.h5", require_images=False)
    assert ds[0]["pt3d_68"][0].tolist() == [10.5, 20.5, 3.0]
    assert ds.read_field("coords")[0].tolist() == [5.5, 6.5, 7.0]
    assert ds.read_field("coords", raw=True)[0].tolist() == [5.0, 6.0, 7.0]
    with DatasetWriter(tmp_path / "raw.h5", raw_coordinates=True) as w:
        w.append({"coords": np.array([5.0, 6.0, 7.0])})
    assert open_dataset(tmp_path / "raw.h5", require_images=False).read_field("coords")[0].tolist() == [
        5.5,
        6.5,
        7.0,
    ]
