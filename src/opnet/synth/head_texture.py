"""The procedural head's texture: where each texel lies on the head, and painting a face into it.

Texel (row i, column j) sits at grid coordinates (u, v) = (j, i) / ``texels_per_cell`` of the
head's :class:`~opnet.facemodel.radial.RadialGrid`. The layout (built once) keeps each texel's
position on the mean head and soft masks of the features (from opnet.synth.face_chart, cropped
to where they are non-zero); :func:`paint_head` mixes an :class:`Appearance`'s colours with them.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from opnet.facemodel.procedural import ProceduralHead, head_distance, procedural_head
from opnet.render.mesh import TexturedMesh
from opnet.render.shading import vertex_normals
from opnet.synth.appearance import Appearance
from opnet.synth.face_chart import feature_masks, to_chart

TEXELS_PER_CELL = 3
_HAIRLINE_AZIMUTH = np.array([0.0, 0.7, 1.1, 1.35, 1.6, 1.95, 2.4, np.pi])
_HAIRLINE_Y = np.array([-0.98, -0.92, -0.72, -0.3, -0.42, -0.15, 0.15, 0.3])
EAR_CENTRE = np.array([0.8, -0.12, 0.06])


@dataclass(frozen=True)
class Decal:
    """A soft mask (h, w) float32 placed at rows ``top``.., columns ``left``.. of the texture."""

    top: int
    left: int
    weights: NDArray[np.float32]

    @classmethod
    def crop(cls, mask: NDArray[np.float32], threshold: float = 1e-3) -> Decal:
        """The part of a texture-sized mask where it exceeds ``threshold`` (nothing if it never does)."""
        rows = np.flatnonzero(mask.max(axis=1) > threshold)
        cols = np.flatnonzero(mask.max(axis=0) > threshold)
        if len(rows) == 0:
            return cls(0, 0, np.zeros((0, 0), np.float32))
        return cls(int(rows[0]), int(cols[0]), mask[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1].copy())

    def blend(self, texture: NDArray[np.float32], colour: NDArray, opacity: float = 1.0) -> None:
        """texture <- texture + opacity * weights * (colour - texture), in place; colour (3,) or like
        the region."""
        h, w = self.weights.shape
        region = texture[self.top : self.top + h, self.left : self.left + w]
        region += (opacity * self.weights)[..., None] * (np.asarray(colour, np.float32) - region)


@dataclass(frozen=True)
class HeadTextureLayout:
    """What painting needs to know about the head texture (rows, columns).

    ``mesh``: the head's triangles with texel coordinates. Per texel: ``position`` (.., 3) on the
    mean head; ``occlusion`` how open the surface is there (1 = fully lit, less in creases);
    ``hair_height`` how far below the hairline it is (model y; negative where hair grows);
    ``ears`` 1 on the ears. ``decals``: the feature masks by name (lips, sclera, iris, brows, ...).
    """

    mesh: TexturedMesh
    position: NDArray[np.float32]
    occlusion: NDArray[np.float32]
    hair_height: NDArray[np.float32]
    ears: NDArray[np.float32]
    decals: dict[str, Decal]

    @property
    def shape(self) -> tuple[int, int]:
        return self.position.shape[:2]


def _grid_image(head: ProceduralHead, values: NDArray) -> NDArray[np.float32]:
    """Per-vertex values (V, C) arranged on the grid: (R + 2, C + 1, C) with pole rows and the seam column."""
    grid = head.grid
    ring = values[1:-1].reshape(grid.rows, grid.columns, -1)
    ring = np.concatenate([ring, ring[:, :1]], axis=1)
    top = np.broadcast_to(values[0], (1, grid.columns + 1, values.shape[1]))
    bottom = np.broadcast_to(values[-1], (1, grid.columns + 1, values.shape[1]))
    return np.concatenate([top, ring, bottom]).astype(np.float32)


def _texel_values(head: ProceduralHead, values: NDArray, shape: tuple[int, int]) -> NDArray[np.float32]:
    """Per-vertex values (V, C) interpolated at every texel (rows, columns, C)."""
    rows, cols = np.meshgrid(np.arange(shape[0]), np.arange(shape[1]), indexing="ij")
    grid_image = _grid_image(head, values)
    map_x = (cols / TEXELS_PER_CELL).astype(np.float32)
    map_y = (rows / TEXELS_PER_CELL).astype(np.float32)
    out = cv2.remap(grid_image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out.reshape(*shape, values.shape[1])


def hairline_height(position: NDArray) -> NDArray[np.float32]:
    """How far below the hairline points (..., 3) are (model y units; < 0: where hair grows)."""
    azimuth = np.abs(np.arctan2(position[..., 0], -position[..., 2]))
    return (position[..., 1] - np.interp(azimuth, _HAIRLINE_AZIMUTH, _HAIRLINE_Y)).astype(np.float32)


def ear_weight(position: NDArray) -> NDArray[np.float32]:
    """1 on the ears, fading to 0 around them (for keeping hair off the ears)."""
    q = (
        np.abs(position[..., 0:1]) - EAR_CENTRE[0],
        position[..., 1:2] - EAR_CENTRE[1],
        position[..., 2:3] - EAR_CENTRE[2],
    )
    d2 = (q[0] / 0.14) ** 2 + (q[1] / 0.33) ** 2 + (q[2] / 0.24) ** 2
    return np.clip(1.6 - d2[..., 0], 0.0, 1.0).astype(np.float32)


def _decals(head: ProceduralHead, position: NDArray, normal: NDArray) -> dict[str, Decal]:
    """Feature masks looked up at each texel's frontal (x, y), kept on the front of the face."""
    lm = head.model.mean[head.model.landmark_indices].astype(np.float64)
    chart = to_chart(position)
    front = np.clip((-normal[..., 2] - 0.1) / 0.3, 0.0, 1.0) * (position[..., 2] < -0.6)
    decals = {}
    for name, mask in feature_masks(lm).items():
        texel = cv2.remap(mask, chart[..., 0], chart[..., 1], cv2.INTER_LINEAR, borderValue=0.0)
        weight = (position[..., 2] < -1.0) if name == "nostrils" else front
        decals[name] = Decal.crop((texel * weight).astype(np.float32))
    cheeks = np.exp(
        -0.5 * (((np.abs(position[..., 0]) - 0.38) / 0.12) ** 2 + ((position[..., 1] - 0.08) / 0.1) ** 2)
    )
    decals["cheeks"] = Decal.crop((cheeks * front).astype(np.float32))
    return decals


def head_mesh(head: ProceduralHead) -> TexturedMesh:
    """The head's triangles with texture coordinates in texels of the layout's texture."""
    grid = head.grid
    uv = (grid.uv() * TEXELS_PER_CELL).astype(np.float32)
    return TexturedMesh(
        grid.triangles().astype(np.int64), uv, grid.uv_triangles().astype(np.int64), head.model.num_vertices
    )


@functools.lru_cache(maxsize=2)
def head_texture_layout() -> HeadTextureLayout:
    """The layout of the procedural head's texture (built once per process)."""
    head = procedural_head()
    grid = head.grid
    shape = ((grid.rows + 1) * TEXELS_PER_CELL + 1, grid.columns * TEXELS_PER_CELL + 1)
    mean = head.model.mean.astype(np.float64)
    normals = vertex_normals(mean, head.model.triangles)
    position = _texel_values(head, mean, shape)
    normal = _texel_values(head, normals, shape)
    occlusion = _texel_values(head, ambient_occlusion(mean, normals)[:, None], shape)[..., 0]
    return HeadTextureLayout(
        head_mesh(head),
        position,
        occlusion,
        hairline_height(position),
        ear_weight(position),
        _decals(head, position, normal),
    )


def ambient_occlusion(
    points: NDArray, normals: NDArray, distances: tuple[float, ...] = (0.02, 0.05, 0.1, 0.2)
) -> NDArray:
    """(N,) how open the surface is at points (N, 3) with unit normals: 1 in the open, less in creases.

    The signed-distance estimate: stepping out along the normal, the head's surface should be as far
    as the step; where it is nearer (eye sockets, nostrils, mouth corners, under the chin) light is blocked.
    """
    blocked = sum(
        (d - np.minimum(head_distance(points + d * normals), d)) / (d * 2.0**k)
        for k, d in enumerate(distances)
    )
    return np.clip(1.0 - 0.45 * blocked, 0.6, 1.0)


def paint_head(
    layout: HeadTextureLayout, look: Appearance, noise: NDArray[np.float32]
) -> NDArray[np.float32]:
    """The (rows, columns, 3) float32 albedo texture of a head with appearance ``look``.

    ``noise`` (rows, columns, 2) float32: smooth and fine zero-mean noise (see :func:`texture_noise`).
    """
    texture = paint_face(layout, look, noise)
    finish_head(layout, look, texture, noise)
    return texture


def paint_face(
    layout: HeadTextureLayout, look: Appearance, noise: NDArray[np.float32]
) -> NDArray[np.float32]:
    """The first part of :func:`paint_head`: skin and facial features, before hair and shading."""
    texture = np.empty((*layout.shape, 3), dtype=np.float32)
    texture[:] = look.skin
    texture *= 1.0 + look.skin_blotches * noise[..., :1] + 0.04 * noise[..., 1:]
    d = layout.decals
    d["cheeks"].blend(texture, look.blush, 0.5)
    d["beard"].blend(texture, look.hair * 0.8 + 0.2 * look.skin, look.beard)
    d["lips"].blend(texture, look.lips, 0.85)
    d["mouth"].blend(texture, look.lips * 0.35, 0.9)
    d["nostrils"].blend(texture, look.skin * 0.25, 0.9)
    d["brows"].blend(texture, look.brows, look.brow_density)
    d["sclera"].blend(texture, look.sclera)
    d["iris"].blend(texture, look.iris)
    d["pupil"].blend(texture, np.full(3, 0.04, np.float32))
    d["upper_lid"].blend(texture, look.skin * 0.12, 0.95)
    d["lower_lid"].blend(texture, look.skin * 0.45, 0.7)
    return texture


def finish_head(
    layout: HeadTextureLayout,
    look: Appearance,
    texture: NDArray[np.float32],
    noise: NDArray[np.float32],
    strands: float = 0.25,
) -> None:
    """The last part of :func:`paint_head` (in place): hair (``strands``: contrast of its strands),
    then the creases' ambient occlusion."""
    _paint_hair(layout, look, texture, noise, strands)
    texture *= layout.occlusion[..., None]


def hair_front(position: NDArray) -> NDArray:
    """How much of a hairline shift applies at points (..., 3): 1 at the forehead, 0 at the back."""
    return np.clip(-position[..., 2] / 0.9, 0.0, 1.0)


def _paint_hair(
    layout: HeadTextureLayout,
    look: Appearance,
    texture: NDArray[np.float32],
    noise: NDArray[np.float32],
    strands_contrast: float,
) -> None:
    """Hair above the hairline (moved up by ``look.hairline_shift`` at the front), never on the ears."""
    height = layout.hair_height + look.hairline_shift * hair_front(layout.position)
    cover = np.clip(0.5 - height / 0.04, 0.0, 1.0) * (1.0 - layout.ears)
    strands = look.hair * (1.0 + strands_contrast * noise[..., 1:])
    texture += cover[..., None] * (strands - texture)


def texture_noise(shape: tuple[int, int], rng: np.random.Generator) -> NDArray[np.float32]:
    """(rows, columns, 2) float32: smooth blotches (about 1/12 of the texture wide) and streaky fine noise."""
    rows, cols = shape
    coarse = cv2.resize(
        rng.standard_normal((12, 20)).astype(np.float32), (cols, rows), interpolation=cv2.INTER_CUBIC
    )
    fine = cv2.resize(
        rng.standard_normal((rows // 3, cols)).astype(np.float32),
        (cols, rows),
        interpolation=cv2.INTER_LINEAR,
    )
    return np.stack([coarse, fine], axis=-1)
