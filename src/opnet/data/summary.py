"""What ``opnet inspect`` prints: the file layout (h5dump style) and label statistics."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import h5py
import numpy as np

from opnet.data.checks import check_finite, check_quaternions
from opnet.data.fields import FLOAT_CATEGORIES, Category, ImageStorage
from opnet.data.images import check_image_size, declared_size
from opnet.data.reader import PoseDataset
from opnet.errors import DataError
from opnet.geometry import quat_to_euler

IMAGE_SIZE_SAMPLES = 64
CHECK_ROWS = 8192


def _attr_line(key: str, value: Any) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    shown = value.item() if isinstance(value, np.generic) else value
    kind = "bool_" if isinstance(value, np.bool_) else type(value).__name__  # numpy 1 and 2 alike
    return f'    ATTRIBUTE {key}: "{shown}" ({kind})'


def layout_lines(path: str | Path) -> list[str]:
    """One line per HDF5 dataset (name, shape, dtype) followed by its attributes, sorted by name."""
    lines: list[str] = []

    def visit(name: str, obj: h5py.HLObject) -> None:
        if isinstance(obj, h5py.Dataset):
            dtype = "object" if obj.dtype.kind == "O" else str(obj.dtype)
            lines.append(f"/{name} shape={obj.shape}, dtype={dtype}")
        else:
            lines.append(f"/{name} (group)")
        lines.extend(_attr_line(k, obj.attrs[k]) for k in sorted(obj.attrs))

    with h5py.File(path, "r") as f:
        f.visititems(visit)
    return lines


def _range_stats(values: np.ndarray) -> dict[str, float]:
    values = values[np.isfinite(values)]
    if values.size == 0:
        return {"count": 0}
    p = np.percentile(values, [0, 5, 50, 95, 100])
    return {
        "count": int(values.size),
        "min": float(p[0]),
        "p5": float(p[1]),
        "median": float(p[2]),
        "p95": float(p[3]),
        "max": float(p[4]),
        "mean": float(values.mean()),
    }


def _image_sizes(ds: PoseDataset) -> dict[str, Any]:
    n = min(len(ds), IMAGE_SIZE_SAMPLES)
    indices = np.unique(np.linspace(0, len(ds) - 1, n).astype(int)) if n else np.zeros(0, int)
    sizes = []
    for i in indices:
        buffer = ds.read_image_bytes(int(i))
        size = declared_size(buffer)
        try:
            if size is None:
                raise ValueError("image header is not a readable JPEG or PNG")
            check_image_size(buffer)
        except ValueError as e:
            raise DataError(ds.path, str(e), ds.image_field, int(i)) from None
        sizes.append(size)
    unique, counts = np.unique(np.array(sizes).reshape(-1, 2), axis=0, return_counts=True)
    common = sorted(zip(counts.tolist(), [tuple(map(int, u)) for u in unique], strict=True), reverse=True)[:5]
    return {"sampled": len(sizes), "most_common_wxh": [[w, h, c] for c, (w, h) in common]}


def check_label_values(ds: PoseDataset, rows: int = CHECK_ROWS) -> None:
    """Raises :class:`DataError` at the first sample with a zero or non-finite quaternion, or a
    non-finite value in another label field (read ``rows`` samples at a time)."""
    for name, spec in ds.fields.items():
        if spec.category not in FLOAT_CATEGORIES:
            continue
        for start in range(0, len(ds), rows):
            values = ds.read_field(name, slice(start, start + rows), raw=True)
            indices = range(start, start + len(values))
            if spec.category == Category.QUAT:
                check_quaternions(ds.path, values, indices, name)
            else:
                check_finite(ds.path, name, values, indices)


def label_statistics(ds: PoseDataset) -> dict[str, Any]:
    """Ranges of the labels: Euler angles (deg), ROI and head sizes (px), landmark sets, images."""
    stats: dict[str, Any] = {"samples": len(ds)}
    seq = ds.sequences
    lengths = seq[:, 1] - seq[:, 0]
    stats["sequences"] = None if ds.sequence_starts is None else {"count": len(seq), **_range_stats(lengths)}
    check_label_values(ds)
    if ds.has("quats"):
        pyr = np.rad2deg(quat_to_euler(ds.read_field("quats")))
        for k, name in enumerate(("pitch_deg", "yaw_deg", "roll_deg")):
            stats[name] = _range_stats(pyr[:, k])
    if ds.has("rois"):
        rois = ds.read_field("rois").astype(np.float64)
        stats["roi_width_px"] = _range_stats(rois[:, 2] - rois[:, 0])
        stats["roi_height_px"] = _range_stats(rois[:, 3] - rois[:, 1])
    if ds.has("coords"):
        stats["head_size_px"] = _range_stats(ds.read_field("coords")[:, 2].astype(np.float64))
    if ds.image_field is not None:
        spec = ds.fields[ds.image_field]
        kind = "JPEG" if spec.lossy else "PNG"
        storage = spec.storage.value if spec.storage else "?"
        stats["images"] = {
            "storage": storage,
            "format": kind if spec.storage == ImageStorage.BUFFER else "files",
        }
        stats["images"].update(_image_sizes(ds))
    return stats


def _fmt_range(name: str, s: dict[str, float]) -> str:
    if not s.get("count"):
        return f"  {name:<15} no finite values"
    return (
        f"  {name:<15} min {s['min']:8.1f}  p5 {s['p5']:8.1f}  median {s['median']:8.1f}  "
        f"p95 {s['p95']:8.1f}  max {s['max']:8.1f}"
    )


def format_report(path: str | Path, ds: PoseDataset, stats: dict[str, Any]) -> str:
    """The text ``opnet inspect`` prints."""
    out = [f"{path}", *layout_lines(path), "", f"samples: {stats['samples']}"]
    seqs = stats["sequences"]
    if seqs is None:
        out.append("sequences: none (no 'sequence_starts')")
    else:
        out.append(
            f"sequences: {seqs['count']} (length min {seqs.get('min', 0):.0f}, "
            f"median {seqs.get('median', 0):.0f}, max {seqs.get('max', 0):.0f})"
        )
    known = {"images", "rois", "coords", "quats", "pt3d_68", "pt2d_68", "shapeparams"}
    extras = [n for n in ds.fields if n not in known]
    if extras:
        out.append(f"extra fields (kept as they are): {', '.join(extras)}")
    if "images" in stats:
        im = stats["images"]
        sizes = ", ".join(f"{w}x{h} ({c})" for w, h, c in im["most_common_wxh"])
        out.append(f"images: {im['storage']}, {im['format']}; sizes of {im['sampled']} sampled: {sizes}")
    rows = [
        k
        for k in ("yaw_deg", "pitch_deg", "roll_deg", "roi_width_px", "roi_height_px", "head_size_px")
        if k in stats
    ]
    if rows:
        out.append("labels:")
        out.extend(_fmt_range(k, stats[k]) for k in rows)
    return "\n".join(out)
