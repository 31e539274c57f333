"""A grid of dataset samples with their labels drawn: what ``opnet show`` writes."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from opnet.fileio import atomic_output
from opnet.geometry import crop_transform, quat_to_euler, roi_from_points, to_cv2_affine, transform_points
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


def render_tile(sample: Mapping[str, Any], image_field: str = "images", title: str = "",
                size: int = TILE) -> NDArray[np.uint8]:
    """An RGB ``size`` x ``size`` view of one sample around its face, with all labels drawn."""
    image = np.asarray(sample[image_field])
    rgb = cv2.cvtColor(image, cv2.COLOR_GRAY2RGB) if image.ndim == 2 else image
    centre, side = _crop_window(sample, image.shape)
    affine = crop_transform(centre, side, size)
    tile = cv2.warpAffine(rgb, to_cv2_affine(affine), (size, size), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=(40, 40, 40))
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


def mosaic(tiles: Sequence[NDArray[np.uint8]], columns: int | None = None,
           footer: str = LEGEND) -> NDArray[np.uint8]:
    """Tiles of equal size in rows, with a line of ``footer`` text below."""
    columns = columns or math.ceil(math.sqrt(len(tiles)))
    rows = math.ceil(len(tiles) / columns)
    h, w = tiles[0].shape[:2]
    out = np.full((rows * h + 22, columns * w, 3), 20, np.uint8)
    for k, tile in enumerate(tiles):
        r, c = divmod(k, columns)
        out[r * h:(r + 1) * h, c * w:(c + 1) * w] = tile
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
    tiles = [render_tile(dataset[i], dataset.image_field, title=f"#{i}") for i in indices]
    return mosaic(tiles, columns)
