"""Rendering one synthetic sample: background, body, head and what it wears (anti-aliased), cast
shadows, a hand in front of the face, the camera's effects.

Geometry is weak perspective: every vertex goes through :func:`opnet.facemodel.project` with the
sample's label ``coords``, so the labels (opnet.synth.labels) are exact for the picture. The body
and head are drawn together, so that head and neck hide each other correctly; small heads are
drawn 2x or 3x finer inside the head's window and averaged down (anti-aliasing), over the body
drawn at 1x.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from opnet.facemodel import project
from opnet.geometry import quat_to_matrix
from opnet.render.mesh import draw_mesh
from opnet.render.shadow import light_visibility
from opnet.render.window import RenderWindow
from opnet.synth.background import random_background
from opnet.synth.body import place_body
from opnet.synth.camera import apply_camera
from opnet.synth.expressions import apply_expression
from opnet.synth.hands import draw_hand
from opnet.synth.person import Person, SceneAssets
from opnet.synth.shot import Shot

FINE_HEAD_PIXELS = 110.0
"""Heads smaller than this (size in pixels) are rendered 2x finer, below half of it 3x."""
MAX_FACTOR = 3


@dataclass(frozen=True)
class Rendering:
    """``image`` (H, W, 3) uint8 RGB; ``head_coverage`` (H, W) float32, the fraction of each
    pixel covered by the visible head (not the body), before blur."""

    image: NDArray[np.uint8]
    head_coverage: NDArray[np.float32]


def supersampling_factor(size_px: float) -> int:
    """Raster refinement for a head of ``size_px``: fine enough for small heads, cheap for big ones."""
    return int(np.clip(FINE_HEAD_PIXELS // max(size_px, 1.0), 1, MAX_FACTOR))


def shot_vertices(person: Person, shot: Shot) -> NDArray[np.float64]:
    """(V, 3) model-frame head vertices of ``person`` with the shot's expression (the labels' landmarks)."""
    return (
        apply_expression(person.vertices, shot.expression) if shot.expression is not None else person.vertices
    )


def render_shot(
    assets: SceneAssets,
    person: Person,
    shot: Shot,
    image_size: int,
    rng: np.random.Generator,
    background: NDArray[np.float32] | None = None,
) -> Rendering:
    """The picture of ``person`` taken as ``shot``, on ``background`` (image_size, image_size, 3)
    float32 RGB in [0, 1], or on a random one drawn from ``rng`` (textured scenes with ``textured``)."""
    rotation = quat_to_matrix(shot.quat)
    head_vertices = project(shot_vertices(person, shot), shot.quat, shot.coords)
    worn = [project(a.vertices, shot.quat, shot.coords) for a in person.accessories]
    body_vertices, body_normals = place_body(assets.body, shot.quat, shot.coords, shot.body_rotation)
    if background is None:
        image = random_background(rng, image_size, image_size, textured=shot.textured_background)
    else:
        image = np.array(background, dtype=np.float32).reshape(image_size, image_size, 3)
    vertices = np.concatenate([head_vertices, body_vertices, *worn])
    normals = np.concatenate(
        [person.normals @ rotation.T, body_normals, *(a.normals @ rotation.T for a in person.accessories)]
    )
    visibility = None
    if shot.shadows:  # soft edges: the head's share averaged over its neighbours, twice
        visibility = light_visibility(
            vertices, normals, shot.lighting.direction, *shadow_scale(float(shot.coords[2]))
        )
        head = slice(0, len(head_vertices))
        visibility[head] = assets.head_smoothing @ (assets.head_smoothing @ visibility[head])
    factor = supersampling_factor(float(shot.coords[2]))
    if (
        factor > 1
    ):  # the body at 1x first, then head, body and what the head wears together in the head's window
        body_window = RenderWindow.around(body_vertices, image_size, image_size)
        if body_window is not None:
            body_light = (
                None
                if visibility is None
                else visibility[len(head_vertices) : len(head_vertices) + len(body_vertices)]
            )
            draw_mesh(
                image,
                body_window,
                body_vertices,
                body_normals,
                assets.body_mesh,
                person.texture,
                shot.lighting,
                body_light,
            )
    head_parts = np.concatenate([head_vertices, *worn])
    window = RenderWindow.around(head_parts if factor > 1 else vertices, image_size, image_size, factor)
    coverage = np.zeros((image_size, image_size), dtype=np.float32)
    if window is not None:
        fragments = draw_mesh(
            image, window, vertices, normals, person.scene_mesh, person.texture, shot.lighting, visibility
        )
        is_head = (fragments.triangles < len(assets.head_mesh.triangles)).astype(np.float32)
        window.region(coverage)[:] = window.downsample(fragments.to_image(is_head))
    if shot.hand:
        coverage *= 1.0 - draw_hand(image, shot.coords, person.look.skin, shot.lighting, rng)
    return Rendering(apply_camera(image, shot.blur_sigma, shot.noise_sigma, shot.camera, rng), coverage)


def shadow_scale(size_px: float) -> tuple[float, float]:
    """(cell, bias) in pixels of the shadow map for a head of ``size_px``: cells of 0.04 head
    units, shadows only from parts more than 0.05 units in front."""
    return max(0.5, 0.04 * size_px), 0.05 * size_px
