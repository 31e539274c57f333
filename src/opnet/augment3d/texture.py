"""Where each head vertex finds its colour in the photo, and how much to trust it.

A vertex's texel is its position in the photo. Its *quality* is how squarely the photo sees it:
0 where it is hidden (z-buffer), outside the photo or seen edge-on, rising to 1 where its normal
points within 60 deg of the camera. A poorly seen vertex takes its mirror image's texel if that
is seen clearly better (the other cheek of a turned face). What is still poorly seen is painted
with a *fill* colour: the well-seen colours diffused over the mesh (a blurred continuation of
skin and hair instead of the streaks that a photo stretched over the side of the head leaves).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from opnet.augment3d.head import HeadMesh
from opnet.render import RenderWindow, rasterize, sample_texture, vertex_normals

FULL_QUALITY_COS = 0.5
"""cos of the angle between normal and view direction from which a texel counts as fully seen."""
MIRROR_MARGIN = 0.2
DEPTH_TOLERANCE = 0.03
"""Depth (head units) by which a vertex may lie behind the visible surface and still count as seen."""
FILL_ITERATIONS = 300


@dataclass(frozen=True)
class HeadTexture:
    """Per head vertex: ``uv`` (V, 2) texel coordinates in the photo, ``quality`` (V,) in [0, 1],
    ``fill`` (V, C) colour used where quality is low."""

    uv: NDArray[np.float32]
    quality: NDArray[np.float32]
    fill: NDArray[np.float32]


def visible_vertices(
    points: NDArray, triangles: NDArray, height: int, width: int, size: float
) -> NDArray[np.bool_]:
    """(V,) True for vertices (image points (V, 3)) on the surface the camera sees (z-buffer test)."""
    window = RenderWindow.around(points, height, width)
    visible = np.zeros(len(points), dtype=bool)
    if window is None:
        return visible
    fragments = rasterize(window.to_window(points), triangles, *window.shape)
    depth = fragments.to_image(fragments.depth, fill=np.inf)
    local = window.to_window(points)
    column = np.clip(np.floor(local[:, 0]).astype(int), 0, window.shape[1] - 1)
    row = np.clip(np.floor(local[:, 1]).astype(int), 0, window.shape[0] - 1)
    inside = (
        (local[:, 0] >= 0)
        & (local[:, 0] < window.shape[1])
        & (local[:, 1] >= 0)
        & (local[:, 1] < window.shape[0])
    )
    nearest = depth[row, column]
    return inside & (points[:, 2] <= nearest + DEPTH_TOLERANCE * size)


def view_quality(
    points: NDArray, mesh: HeadMesh, height: int, width: int, size: float
) -> NDArray[np.float32]:
    """(V,) how squarely the photo sees each vertex of ``points`` (image coordinates)."""
    normals = vertex_normals(points, mesh.triangles)
    facing = np.clip(-normals[:, 2] / FULL_QUALITY_COS, 0.0, 1.0)
    in_photo = (points[:, 0] >= 0) & (points[:, 0] <= width) & (points[:, 1] >= 0) & (points[:, 1] <= height)
    seen = visible_vertices(points, mesh.triangles, height, width, size) & in_photo
    return (facing * seen).astype(np.float32)


def diffuse_colours(
    colours: NDArray, quality: NDArray, mesh: HeadMesh, iterations: int = FILL_ITERATIONS
) -> NDArray:
    """(V, C) colours where well-seen vertices keep theirs and the rest take their neighbours'
    (harmonic fill)."""
    q = quality[:, None].astype(np.float64)
    fill = np.asarray(colours, dtype=np.float64).copy()
    weight = q.copy()
    accumulated = fill * q
    for _ in range(iterations):
        accumulated = q * colours + (1.0 - q) * (mesh.smoothing @ accumulated)
        weight = q + (1.0 - q) * (mesh.smoothing @ weight)
    seen = weight[:, 0] > 1e-6
    fill[seen] = accumulated[seen] / weight[seen]
    if np.any(seen):
        fill[~seen] = np.average(colours, axis=0, weights=quality + 1e-12)
    return fill


def head_texture(photo: NDArray[np.float32], points: NDArray, mesh: HeadMesh, size: float) -> HeadTexture:
    """Texture of the head whose vertices lie at ``points`` (V, 3) in ``photo`` (H, W, C) float32."""
    height, width = photo.shape[:2]
    uv = points[:, :2] - 0.5  # texel centres at integers (opnet.render.texture)
    quality = view_quality(points, mesh, height, width, size)
    mirrored = quality[mesh.mirror] > quality + MIRROR_MARGIN
    uv = np.where(mirrored[:, None], uv[mesh.mirror], uv)
    quality = np.where(mirrored, quality[mesh.mirror], quality)
    colours = sample_texture(photo, uv)
    fill = diffuse_colours(colours, quality, mesh)
    return HeadTexture(uv.astype(np.float32), quality.astype(np.float32), fill.astype(np.float32))
