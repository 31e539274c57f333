"""Neck, shoulders and chest under a synthetic head, and their clothes.

The body has its own frame (axes like the head's at zero rotation, same units), its origin at
the point where the neck enters the head, :data:`NECK_ANCHOR` in the head frame. It is placed
with its own rotation (turned less than the head, as people do), so the neck bends between them;
the top of the neck stays hidden inside the head.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import ArrayLike, NDArray

from opnet.facemodel import project
from opnet.facemodel import sdf as s
from opnet.facemodel.radial import FloatArray, RadialGrid, surface_radii
from opnet.geometry import euler_to_quat, quat_to_euler, quat_to_matrix
from opnet.render.mesh import TexturedMesh
from opnet.render.shading import vertex_normals
from opnet.synth.appearance import Appearance

NECK_ANCHOR = np.array([0.0, 0.42, 0.12])
"""Head-frame point (inside the head, above its underside) where the body frame's origin is."""
TEXELS_PER_CELL = 2
_CORE_CENTRE = np.array([0.0, 2.6, 0.12])
_CORE_RADII = np.array([0.3, 2.6, 0.3])
_COLLAR_Y = 0.75


def body_distance(points: FloatArray) -> FloatArray:
    """Signed distance (N,) of body-frame points (N, 3) to the neck-and-torso surface."""
    p = np.ascontiguousarray(np.asarray(points, dtype=np.float64).T)
    neck = s.round_cone(p, (0.0, -0.25, 0.0), (0.0, 0.8, 0.05), 0.47, 0.52)
    shoulders = s.ellipsoid(p, (0.0, 1.45, 0.12), (1.9, 0.6, 0.75))
    torso = s.ellipsoid(p, (0.0, 4.2, 0.2), (1.7, 3.2, 0.85))  # reaches far below any picture
    return s.smooth_union(s.smooth_union(neck, shoulders, 0.5), torso, 0.8)


@dataclass(frozen=True)
class BodyModel:
    """Body-frame vertices (V, 3) and normals, the textured mesh, and each texel's position (h, w, 3)."""

    vertices: NDArray[np.float64]
    normals: NDArray[np.float64]
    mesh: TexturedMesh
    texel_position: NDArray[np.float32]


@functools.lru_cache(maxsize=1)
def body_model() -> BodyModel:
    """The body mesh (built once per process)."""
    grid = RadialGrid.with_focus(
        40, 48, polar_peak=0.4, polar_width=0.4, polar_gain=2.0, azimuth_width=1.0, azimuth_gain=0.5
    )
    directions = grid.directions()
    rays = directions / _CORE_RADII
    rays /= np.linalg.norm(rays, axis=-1, keepdims=True)
    origins = _CORE_CENTRE + directions * _CORE_RADII
    vertices = origins + surface_radii(body_distance, origins, rays, r_max=3.0, step=0.04)[:, None] * rays
    triangles = grid.triangles().astype(np.int64)
    mesh = TexturedMesh(
        triangles,
        (grid.uv() * TEXELS_PER_CELL).astype(np.float32),
        grid.uv_triangles().astype(np.int64),
        len(vertices),
    )
    rows, cols = (grid.rows + 1) * TEXELS_PER_CELL + 1, grid.columns * TEXELS_PER_CELL + 1
    v, u = np.meshgrid(np.arange(rows) / TEXELS_PER_CELL, np.arange(cols) / TEXELS_PER_CELL, indexing="ij")
    polar = np.interp(v, np.arange(grid.rows + 2), np.concatenate([[0.0], grid.polar, [np.pi]]))
    azimuth = np.interp(u, np.arange(grid.columns + 1), np.concatenate([grid.azimuth, [np.pi]]))
    texel_dirs = np.stack(
        [np.sin(polar) * np.sin(azimuth), -np.cos(polar), -np.sin(polar) * np.cos(azimuth)], -1
    )
    texel_position = (_CORE_CENTRE + texel_dirs * _CORE_RADII).astype(np.float32)  # on the core: enough for y
    return BodyModel(vertices, vertex_normals(vertices, triangles), mesh, texel_position)


@dataclass(frozen=True)
class Clothes:
    """Clothing styles of the ``body`` realism lever: the neckline's height (``collar``, body y; small:
    a turtleneck) and ``v_neck`` depth, an open ``jacket`` of a second colour (``jacket_colour``)
    over the shirt, ``checks`` period (0: none), ``fabric`` texture strength, a ``necklace``."""

    collar: float
    v_neck: float
    jacket: bool
    jacket_colour: tuple[float, float, float]
    checks: float
    fabric: float
    necklace: bool


def sample_clothes(rng: np.random.Generator) -> Clothes:
    colour = rng.uniform(0.03, 0.7, 3)
    return Clothes(
        collar=float(rng.uniform(0.35, 0.7) if rng.random() < 0.2 else rng.uniform(0.7, 1.0)),
        v_neck=float(rng.uniform(0.1, 0.5)) if rng.random() < 0.3 else 0.0,
        jacket=bool(rng.random() < 0.3),
        jacket_colour=(float(colour[0]), float(colour[1]), float(colour[2])),
        checks=float(rng.uniform(0.08, 0.3)) if rng.random() < 0.15 else 0.0,
        fabric=float(rng.uniform(0.0, 0.15)),
        necklace=bool(rng.random() < 0.15),
    )


def paint_body(
    body: BodyModel, look: Appearance, clothes: Clothes | None = None, rng: np.random.Generator | None = None
) -> NDArray[np.float32]:
    """(h, w, 3) float32 albedo: skin on the neck down to a collar, clothes below (plain or striped;
    with ``clothes`` and ``rng``, in that style)."""
    x, y = body.texel_position[..., 0], body.texel_position[..., 1]
    front = np.clip(-body.texel_position[..., 2] / 0.28, 0.0, 1.0)
    middle = np.clip(1.0 - np.abs(x) / 0.25, 0.0, 1.0)
    collar = _COLLAR_Y + 0.25 * front * middle
    if clothes is not None:
        collar = clothes.collar + (0.25 + clothes.v_neck) * front * middle**0.7
    clothing = np.broadcast_to(look.clothing, (*y.shape, 3)).copy()
    if look.clothing_stripes > 0.0:
        stripe = (np.sin(y * 2.0 * np.pi / look.clothing_stripes) > 0.0)[..., None]
        clothing = np.where(stripe, clothing, clothing * 0.45 + 0.3)
    if clothes is not None and rng is not None:
        clothing = _styled(clothing, clothes, x, y, front, rng)
    dressed = np.clip((y - collar) / 0.06 + 0.5, 0.0, 1.0)[..., None]  # a soft collar line
    texture = look.skin * 0.95 * (1.0 - dressed) + clothing * dressed
    if clothes is not None and clothes.necklace:
        chain = np.exp(-0.5 * ((y - (collar - 0.12 * front * middle - 0.05)) / 0.012) ** 2) * front
        texture = texture + chain[..., None] * (np.array([0.85, 0.75, 0.45]) - texture)
    return texture.astype(np.float32)


def _styled(
    clothing: NDArray, clothes: Clothes, x: NDArray, y: NDArray, front: NDArray, rng: np.random.Generator
) -> NDArray:
    if clothes.checks > 0.0:
        checks = (np.sin(x * 2 * np.pi / clothes.checks) > 0) ^ (np.sin(y * 2 * np.pi / clothes.checks) > 0)
        clothing = np.where(checks[..., None], clothing, clothing * 0.6)
    fabric = cv2.resize(rng.standard_normal((16, 48)).astype(np.float32), clothing.shape[1::-1])
    clothing = clothing * (1.0 + clothes.fabric * fabric[..., None])
    if clothes.jacket:
        opening = np.clip((0.18 + 0.1 * np.clip(y - 1.0, 0.0, None) - np.abs(x)) / 0.02, 0.0, 1.0) * front
        jacket = np.asarray(clothes.jacket_colour) * (1.0 + 0.5 * clothes.fabric * fabric[..., None])
        clothing = clothing * opening[..., None] + jacket * (1.0 - opening[..., None])
    return clothing


def place_body(
    body: BodyModel, head_quat: ArrayLike, coords: ArrayLike, body_rotation: NDArray
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Image-space vertices (V, 3) and camera-space normals (V, 3) of the body under a head at pose
    ``head_quat`` with labels ``coords``, the body turned by ``body_rotation`` (3, 3)."""
    anchor = project(NECK_ANCHOR, head_quat, coords)
    size = float(np.asarray(coords)[2])
    return size * body.vertices @ body_rotation.T + anchor, body.normals @ body_rotation.T


def body_rotation(rng: np.random.Generator, head_quat: ArrayLike) -> NDArray[np.float64]:
    """(3, 3) a body rotation that follows the head's part of the way (a person turns the head more)."""
    pitch, yaw, roll = quat_to_euler(head_quat)
    follow = rng.uniform(0.0, 0.5, 3) * np.array([0.3, 1.0, 0.6])
    angles = np.array([pitch, yaw, roll]) * follow + np.deg2rad(rng.uniform(-8.0, 8.0, 3))
    return quat_to_matrix(euler_to_quat(angles))
