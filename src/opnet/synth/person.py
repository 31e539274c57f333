"""A synthetic person: head shape, hair volume and the painted texture atlas of head and body."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from opnet.facemodel import FaceModel
from opnet.facemodel.procedural import procedural_head
from opnet.render.mesh import TexturedMesh
from opnet.render.shading import vertex_normals
from opnet.synth.appearance import Appearance, sample_appearance
from opnet.synth.body import BodyModel, body_model, paint_body
from opnet.synth.head_texture import (
    HeadTextureLayout,
    ear_weight,
    hair_front,
    hairline_height,
    head_texture_layout,
    paint_head,
    texture_noise,
)

SHAPE_LIMIT = 2.5
"""Shape coefficients are standard normal, clipped to +-this."""
HAIR_TAPER = 0.3
"""Hair reaches its full thickness this far (model y) above the hairline."""
ATLAS_GAP = 2
"""Texel rows between the head and body textures in the atlas (no bleeding between them)."""


@dataclass(frozen=True)
class SceneAssets:
    """What every person shares: the face model, texture layouts, the body, and the meshes
    with texture coordinates into the atlas (head texture on top, body texture below)."""

    model: FaceModel
    layout: HeadTextureLayout
    body: BodyModel
    head_mesh: TexturedMesh
    body_mesh: TexturedMesh
    scene_mesh: TexturedMesh
    hairline: NDArray[np.float32]
    hair_front: NDArray[np.float64]
    ears: NDArray[np.float32]
    mean_normals: NDArray[np.float64]


@functools.lru_cache(maxsize=1)
def scene_assets() -> SceneAssets:
    """The shared assets (built once per process, about 3 s)."""
    head = procedural_head()
    layout = head_texture_layout()
    body = body_model()
    offset = (0.0, float(layout.shape[0] + ATLAS_GAP))
    body_mesh = TexturedMesh.concatenate([body.mesh], [offset])
    mean = head.model.mean.astype(np.float64)
    return SceneAssets(
        model=head.model,
        layout=layout,
        body=body,
        head_mesh=layout.mesh,
        body_mesh=body_mesh,
        scene_mesh=TexturedMesh.concatenate([layout.mesh, body.mesh], [(0.0, 0.0), offset]),
        hairline=hairline_height(mean),
        hair_front=hair_front(mean),
        ears=ear_weight(mean),
        mean_normals=vertex_normals(mean, head.model.triangles),
    )


@dataclass(frozen=True)
class Person:
    """``shape`` (S,) coefficients; ``vertices`` (V, 3) model frame (shape plus hair volume, which
    stays above the hairline, away from the landmarks); ``normals`` (V, 3); ``texture`` (h, w, 3)
    float32 atlas."""

    shape: NDArray[np.float64]
    look: Appearance
    vertices: NDArray[np.float64]
    normals: NDArray[np.float64]
    texture: NDArray[np.float32]


def sample_person(rng: np.random.Generator, assets: SceneAssets) -> Person:
    """A random person: shape, appearance, hair volume, painted texture."""
    num_modes = len(assets.model.shape_basis)
    shape = np.clip(rng.standard_normal(num_modes), -SHAPE_LIMIT, SHAPE_LIMIT)
    look = sample_appearance(rng)
    vertices = assets.model.vertices(shape)
    above_hairline = -(assets.hairline + look.hairline_shift * assets.hair_front)
    hair = look.hair_thickness * np.clip(above_hairline / HAIR_TAPER, 0.0, 1.0) * (1.0 - assets.ears)
    vertices = vertices + hair[:, None] * assets.mean_normals
    head = paint_head(assets.layout, look, texture_noise(assets.layout.shape, rng))
    return Person(
        shape,
        look,
        vertices,
        vertex_normals(vertices, assets.model.triangles),
        _atlas(head, paint_body(assets.body, look)),
    )


def _atlas(head: NDArray[np.float32], body: NDArray[np.float32]) -> NDArray[np.float32]:
    rows = head.shape[0] + ATLAS_GAP + body.shape[0]
    atlas = np.zeros((rows, max(head.shape[1], body.shape[1]), 3), dtype=np.float32)
    atlas[: head.shape[0], : head.shape[1]] = head
    atlas[head.shape[0] + ATLAS_GAP :, : body.shape[1]] = body
    return atlas
