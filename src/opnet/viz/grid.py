"""A grid of dataset samples with their labels drawn: what ``opnet show`` writes."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import ArrayLike, NDArray

from opnet.data.checks import check_sample_labels
from opnet.fileio import atomic_output
from opnet.geometry import crop_transform, quat_to_euler, roi_from_points, to_cv2_affine, transform_points
from opnet.preprocess import Patch
from opnet.viz.draw import draw_head, draw_landmarks, draw_pose_axes, draw_roi, put_text

TILE = 256
LEGEND = "box: ROI   dots: landmarks   circle: head centre/size   axes: x red, y green, face forward blue"


def _landmarks(sample: Mapping[str, Any]) -> NDArray | None:
    for name in ("pt3d_68", "pt2d_68"):
        if name in sample:
            return np.asarray(sample[name], dtype=np.float64)
    return None


def _crop_window(sample: Mapping[str, Any], image_shape: tuple[int, ...]) -> tuple[NDArray, float]:
    """Centre and side of the square shown: around the ROI, else the head, else the whole image."""
    pts = _landmarks(sample)
    if "rois" in sample:
        roi = np.asarray(sample["rois"], dtype=np.float64)
    elif pts is not None:
        roi = roi_from_points(pts)
    elif "coords" in sample:
        x, y, s = np.asarray(sample["coords"], dtype=np.float64)
        roi = np.array([x - s, y - s, x + s, y + s])
    else:
        h, w = image_shape[:2]
        return np.array([w / 2, h / 2]), float(max(w, h))
    side = 1.6 * max(roi[2] - roi[0], roi[3] - roi[1], 1.0)
    return 0.5 * (roi[:2] + roi[2:]), side


def render_tile(
    sample: Mapping[str, Any],
    image_field: str = "images",
    title: str = "",
    size: int = TILE,
    window: tuple[ArrayLike, float] | None = None,
) -> NDArray[np.uint8]:
    """An RGB ``size`` x ``size`` view of one sample with all labels drawn.

    ``window``: the (centre, side) square shown, in image pixels; default: around the face.
    """
    image = np.asarray(sample[image_field])
    rgb = cv2.cvtColor(image, cv2.COLOR_GRAY2RGB) if image.ndim == 2 else image
    centre, side = window if window is not None else _crop_window(sample, image.shape)
    affine = crop_transform(centre, side, size)
    tile = cv2.warpAffine(
        rgb,
        to_cv2_affine(affine),
        (size, size),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(40, 40, 40),
    )
    scale = size / side
    if "rois" in sample:
        corners = transform_points(affine, np.reshape(sample["rois"], (2, 2)))
        draw_roi(tile, corners.reshape(4))
    pts = _landmarks(sample)
    if pts is not None:
        draw_landmarks(tile, transform_points(affine, pts))
    if "coords" in sample:
        x, y, s = np.asarray(sample["coords"], dtype=np.float64)
        head = np.array([*transform_points(affine, [x, y]), s * scale])
        draw_head(tile, head)
        if "quats" in sample:
            draw_pose_axes(tile, sample["quats"], head[:2], head[2])
    lines = [title] if title else []
    if "quats" in sample:
        p, y, r = np.rad2deg(quat_to_euler(sample["quats"]))
        lines.append(f"yaw {y:+.0f} pitch {p:+.0f} roll {r:+.0f}")
    for k, line in enumerate(lines):
        put_text(tile, line, (4, 14 + 14 * k))
    return tile


def mosaic(
    tiles: Sequence[NDArray[np.uint8]], columns: int | None = None, footer: str = LEGEND
) -> NDArray[np.uint8]:
    """Tiles of equal size in rows, with a line of ``footer`` text below."""
    columns = columns or math.ceil(math.sqrt(len(tiles)))
    rows = math.ceil(len(tiles) / columns)
    h, w = tiles[0].shape[:2]
    out = np.full((rows * h + 22, columns * w, 3), 20, np.uint8)
    for k, tile in enumerate(tiles):
        r, c = divmod(k, columns)
        out[r * h : (r + 1) * h, c * w : (c + 1) * w] = tile
    put_text(out, footer, (4, rows * h + 15), scale=0.4)
    return out


def save_picture(rgb: NDArray[np.uint8], path: str | os.PathLike, overwrite: bool = False) -> Path:
    """Writes an RGB picture as PNG, JPEG or PDF (by suffix), atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("png", "jpg", "jpeg", "pdf"):
        raise ValueError(f"{path}: picture must be .png, .jpg or .pdf")
    with atomic_output(path, overwrite) as tmp:
        plt.imsave(tmp, rgb, format=fmt)
    return path


def dataset_grid(dataset: Any, indices: Sequence[int], columns: int | None = None) -> NDArray[np.uint8]:
    """Grid of samples ``indices`` of a :class:`opnet.data.PoseDataset` with their labels drawn."""
    categories = {name: spec.category for name, spec in dataset.fields.items()}
    tiles = []
    for i in indices:
        sample = dataset[i]
        check_sample_labels(dataset.path, sample, i, categories)
        tiles.append(render_tile(sample, dataset.image_field, title=f"#{i}"))
    return mosaic(tiles, columns)


def patch_tile(
    image: NDArray[np.floating], targets: Mapping[str, ArrayLike | None], title: str = "", size: int = TILE
) -> NDArray[np.uint8]:
    """A network input (S, S) (normalised, opnet.preprocess) upscaled to ``size`` with its targets drawn.

    ``targets`` holds any of ``quat``, ``pos_size``, ``box`` and ``points`` (None = absent), in patch
    units; they are decoded back to pixels of the tile, so the picture shows what the network is
    taught to output.
    """
    gray = np.clip(np.rint((np.asarray(image, np.float32) + 0.5) * 255.0), 0, 255).astype(np.uint8)
    tile = Patch((0.5 * size, 0.5 * size), float(size))
    sample: dict[str, Any] = {"images": cv2.resize(gray, (size, size), interpolation=cv2.INTER_LINEAR)}
    if (box := targets.get("box")) is not None:
        sample["rois"] = tile.decode_box(box)
    if (pos_size := targets.get("pos_size")) is not None:
        sample["coords"] = tile.decode_pos_size(pos_size)
    if (quat := targets.get("quat")) is not None:
        sample["quats"] = np.asarray(quat)
    if (points := targets.get("points")) is not None:
        sample["pt3d_68"] = tile.decode_points(points)
    return render_tile(sample, title=title, size=size, window=(tile.centre, float(size)))


def pose_batch_grid(batch: Any, titles: Sequence[str], columns: int | None = None) -> NDArray[np.uint8]:
    """Grid of the inputs of an :class:`opnet.targets.PoseBatch` with the targets each sample has."""
    t = batch.targets
    tiles = []
    for i, title in enumerate(titles):
        targets = {"quat": t.quat[i], "pos_size": t.pos_size[i], "box": t.box[i], "points": t.points[i]}
        masks = {
            "quat": t.has_quat[i],
            "pos_size": t.has_pos_size[i],
            "box": t.has_box[i],
            "points": t.has_points[i],
        }
        present = {k: v.numpy() if bool(masks[k]) else None for k, v in targets.items()}
        tiles.append(patch_tile(batch.image[i, 0].numpy(), present, title=title))
    return mosaic(tiles, columns, footer=LEGEND.replace("ROI", "face box target"))
