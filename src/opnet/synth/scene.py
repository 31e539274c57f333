"""Rendering one synthetic sample: background, body, head (anti-aliased), camera blur and noise.

Geometry is weak perspective: every vertex goes through :func:`opnet.facemodel.project` with the
sample's label ``coords``, so the labels (opnet.synth.labels) are exact for the picture. The body
and head are drawn together, so that head and neck hide each other correctly; small heads are
drawn 2x or 3x finer inside the head's window and averaged down (anti-aliasing), over the body
drawn at 1x.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from opnet.facemodel import project
from opnet.geometry import quat_to_matrix
from opnet.render.mesh import draw_mesh
from opnet.render.window import RenderWindow
from opnet.synth.background import random_background
from opnet.synth.body import place_body
from opnet.synth.person import Person, SceneAssets
from opnet.synth.shot import Shot

FINE_HEAD_PIXELS = 110.0
"""Heads smaller than this (size in pixels) are rendered 2x finer, below half of it 3x."""
MAX_FACTOR = 3
_INT8_UNIFORM_STD = 73.9  # standard deviation of integers uniform in [-128, 127]


@dataclass(frozen=True)
class Rendering:
    """``image`` (H, W, 3) uint8 RGB; ``head_coverage`` (H, W) float32, the fraction of each
    pixel covered by the visible head (not the body), before blur."""

    image: NDArray[np.uint8]
    head_coverage: NDArray[np.float32]


def supersampling_factor(size_px: float) -> int:
    """Raster refinement for a head of ``size_px``: fine enough for small heads, cheap for big ones."""
    return int(np.clip(FINE_HEAD_PIXELS // max(size_px, 1.0), 1, MAX_FACTOR))


def render_shot(
    assets: SceneAssets,
    person: Person,
    shot: Shot,
    image_size: int,
    rng: np.random.Generator,
    background: NDArray[np.float32] | None = None,
) -> Rendering:
    """The picture of ``person`` taken as ``shot``, on ``background`` (image_size, image_size, 3)
    float32 RGB in [0, 1], or on a random one drawn from ``rng``."""
    rotation = quat_to_matrix(shot.quat)
    head_vertices = project(person.vertices, shot.quat, shot.coords)
    head_normals = person.normals @ rotation.T
    body_vertices, body_normals = place_body(assets.body, shot.quat, shot.coords, shot.body_rotation)
    if background is None:
        image = random_background(rng, image_size, image_size)
    else:
        image = np.array(background, dtype=np.float32).reshape(image_size, image_size, 3)
    vertices = np.concatenate([head_vertices, body_vertices])
    normals = np.concatenate([head_normals, body_normals])
    factor = supersampling_factor(float(shot.coords[2]))
    if factor > 1:  # the body at 1x first, then head and body together in the head's window
        body_window = RenderWindow.around(body_vertices, image_size, image_size)
        if body_window is not None:
            draw_mesh(
                image,
                body_window,
                body_vertices,
                body_normals,
                assets.body_mesh,
                person.texture,
                shot.lighting,
            )
    window = RenderWindow.around(head_vertices if factor > 1 else vertices, image_size, image_size, factor)
    coverage = np.zeros((image_size, image_size), dtype=np.float32)
    if window is not None:
        fragments = draw_mesh(
            image, window, vertices, normals, assets.scene_mesh, person.texture, shot.lighting
        )
        is_head = (fragments.triangles < len(assets.head_mesh.triangles)).astype(np.float32)
        window.region(coverage)[:] = window.downsample(fragments.to_image(is_head))
    return Rendering(_camera_effects(image, shot, rng), coverage)


def _camera_effects(image: NDArray[np.float32], shot: Shot, rng: np.random.Generator) -> NDArray[np.uint8]:
    """Defocus blur, sensor noise (uniform, standard deviation ``noise_sigma``), 8-bit quantisation."""
    if shot.blur_sigma > 0.2:
        image = cv2.GaussianBlur(image, (0, 0), shot.blur_sigma)
    if shot.noise_sigma > 0.0:
        noise = rng.integers(-128, 128, image.shape, dtype=np.int8).astype(np.float32)
        image = image + noise * (shot.noise_sigma / _INT8_UNIFORM_STD)
    return np.clip(image * 255.0 + 0.5, 0.0, 255.0).astype(np.uint8)
