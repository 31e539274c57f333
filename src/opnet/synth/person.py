"""A synthetic person: head shape, hair volume and the painted texture atlas of head and body."""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from opnet.facemodel import FaceModel
from opnet.facemodel.procedural import procedural_head
from opnet.facemodel.relax import neighbour_mean
from opnet.render.mesh import TexturedMesh
from opnet.render.shading import vertex_normals
from opnet.synth.accessories import Accessory, glasses, hat, long_hair
from opnet.synth.appearance import Appearance, sample_appearance
from opnet.synth.body import BodyModel, body_model, paint_body, sample_clothes
from opnet.synth.config import Occluders, Realism
from opnet.synth.face_details import paint_eyes, paint_skin, sample_eye_details, sample_skin_details
from opnet.synth.head_texture import (
    HeadTextureLayout,
    ear_weight,
    finish_head,
    hair_front,
    hairline_height,
    head_texture_layout,
    paint_face,
    texture_noise,
)

SHAPE_LIMIT = 2.5
"""Shape coefficients are standard normal, clipped to +-this."""
HAIR_TAPER = 0.3
"""Hair reaches its full thickness this far (model y) above the hairline."""
ATLAS_GAP = 2
"""Texel rows between the textures in the atlas (no bleeding between them)."""
FRINGE_SHARE = 0.25
"""With the ``hair`` lever: the share of persons with hair whose hairline comes down over the forehead."""
LONG_HAIR_SHARE = 0.5
"""With the ``hair`` realism lever: the share of persons with hair who wear it long."""


@dataclass(frozen=True)
class SceneAssets:
    """What every person shares: the face model, texture layouts, the body, and the meshes of head
    and body with texture coordinates into a person's atlas (head texture on top, body texture
    below); ``head_smoothing`` (V, V) averages per-vertex values over each head vertex's neighbours."""

    model: FaceModel
    layout: HeadTextureLayout
    body: BodyModel
    head_mesh: TexturedMesh
    body_mesh: TexturedMesh
    hairline: NDArray[np.float32]
    hair_front: NDArray[np.float64]
    ears: NDArray[np.float32]
    mean_normals: NDArray[np.float64]
    head_smoothing: sp.csr_matrix


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
        hairline=hairline_height(mean),
        hair_front=hair_front(mean),
        ears=ear_weight(mean),
        mean_normals=vertex_normals(mean, head.model.triangles),
        head_smoothing=neighbour_mean(head.model.triangles, head.model.num_vertices),
    )


@dataclass(frozen=True)
class Person:
    """``shape`` (S,) coefficients; ``vertices`` (V, 3) model frame (shape plus hair volume, which
    stays above the hairline, away from the landmarks); ``normals`` (V, 3); ``accessories`` worn on
    the head (long hair, glasses, a hat); ``texture`` (h, w, 3) float32 atlas of head, body and
    accessories, and ``scene_mesh``: head, body and accessories in that order, textured from the atlas."""

    shape: NDArray[np.float64]
    look: Appearance
    vertices: NDArray[np.float64]
    normals: NDArray[np.float64]
    texture: NDArray[np.float32]
    accessories: tuple[Accessory, ...]
    scene_mesh: TexturedMesh


def sample_person(
    rng: np.random.Generator,
    assets: SceneAssets,
    realism: Realism | None = None,
    occluders: Occluders | None = None,
) -> Person:
    """A random person: shape, appearance, hair volume, painted texture; with the realism levers
    long hair, fringes, eyelids and gaze, skin details; glasses and hats as ``occluders`` says
    (None: the plain heads, without occluders)."""
    realism = realism or Realism()
    occluders = occluders or Occluders()
    num_modes = len(assets.model.shape_basis)
    shape = np.clip(rng.standard_normal(num_modes), -SHAPE_LIMIT, SHAPE_LIMIT)
    look = sample_appearance(rng)
    wears_long_hair, strands = False, 0.25
    if realism.hair and look.hair_thickness > 0.0:
        if rng.random() < FRINGE_SHARE:
            look = dataclasses.replace(look, hairline_shift=float(rng.uniform(-0.35, -0.12)))
        wears_long_hair, strands = rng.random() < LONG_HAIR_SHARE, float(rng.uniform(0.3, 0.6))
    vertices = assets.model.vertices(shape)
    above_hairline = -(assets.hairline + look.hairline_shift * assets.hair_front)
    hair = look.hair_thickness * np.clip(above_hairline / HAIR_TAPER, 0.0, 1.0) * (1.0 - assets.ears)
    vertices = vertices + hair[:, None] * assets.mean_normals
    noise = texture_noise(assets.layout.shape, rng)
    head = paint_face(assets.layout, look, noise)
    if realism.eyes:
        paint_eyes(assets.layout, head, look, sample_eye_details(rng))
    if realism.skin:
        paint_skin(assets.layout, head, look.skin, sample_skin_details(rng), rng)
    finish_head(assets.layout, look, head, noise, strands)
    normals = vertex_normals(vertices, assets.model.triangles)
    worn = []
    if wears_long_hair:
        worn.append(long_hair(rng, vertices, look.hair, look.hair_thickness))
    if occluders.glasses > 0.0 and rng.random() < occluders.glasses:
        worn.append(glasses(rng, vertices[assets.model.landmark_indices], vertices))
    if occluders.hats > 0.0 and rng.random() < occluders.hats:
        worn.append(hat(rng, vertices, assets.model.triangles, normals))
    clothes = sample_clothes(rng) if realism.body else None
    texture, mesh = _atlas(assets, head, paint_body(assets.body, look, clothes, rng), worn)
    return Person(shape, look, vertices, normals, texture, tuple(worn), mesh)


def _atlas(
    assets: SceneAssets, head: NDArray[np.float32], body: NDArray[np.float32], worn: list[Accessory]
) -> tuple[NDArray[np.float32], TexturedMesh]:
    """The texture atlas (head on top, then body, then each accessory) and the scene mesh into it."""
    parts = [head, body, *(a.texture for a in worn)]
    tops = np.cumsum([0] + [p.shape[0] + ATLAS_GAP for p in parts])
    atlas = np.zeros((int(tops[-1]) - ATLAS_GAP, max(p.shape[1] for p in parts), 3), dtype=np.float32)
    for part, top in zip(parts, tops[:-1], strict=True):
        atlas[top : top + part.shape[0], : part.shape[1]] = part
    meshes = [assets.head_mesh, assets.body.mesh, *(a.mesh for a in worn)]
    mesh = TexturedMesh.concatenate(meshes, [(0.0, float(top)) for top in tops[: len(meshes)]])
    return atlas, mesh
