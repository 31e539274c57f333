"""Drawing textured, lit triangle meshes into an image: rasterise, interpolate, shade, blend."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from opnet.render.raster import Fragments, rasterize
from opnet.render.shading import Lighting, apply_lighting, light_terms
from opnet.render.texture import sample_texture
from opnet.render.window import RenderWindow


@dataclass(frozen=True)
class TexturedMesh:
    """Connectivity and texture mapping of a mesh (its vertex positions change from frame to frame).

    ``triangles`` (T, 3) vertex indices, counter-clockwise seen from outside; ``uv`` (A, 2) texel
    coordinates (x, y; texel centres at integers, see :func:`~opnet.render.texture.sample_texture`);
    ``uv_triangles`` (T, 3) indices into ``uv``, corner by corner. For a photo used as texture,
    ``uv`` may simply be each vertex's position in the photo minus 0.5 with ``uv_triangles = triangles``.
    """

    triangles: NDArray[np.int64]
    uv: NDArray[np.float32]
    uv_triangles: NDArray[np.int64]
    num_vertices: int

    @classmethod
    def concatenate(cls, meshes: Sequence[TexturedMesh], uv_offsets: Sequence[ArrayLike]) -> TexturedMesh:
        """One mesh of several (vertices stacked in order), each's uv shifted by its (x, y) atlas offset."""
        vertex_base = np.cumsum([0] + [m.num_vertices for m in meshes])
        uv_base = np.cumsum([0] + [len(m.uv) for m in meshes])
        return cls(
            triangles=np.concatenate(
                [m.triangles + b for m, b in zip(meshes, vertex_base[:-1], strict=True)]
            ),
            uv=np.concatenate(
                [m.uv + np.asarray(o, np.float32) for m, o in zip(meshes, uv_offsets, strict=True)]
            ),
            uv_triangles=np.concatenate(
                [m.uv_triangles + b for m, b in zip(meshes, uv_base[:-1], strict=True)]
            ),
            num_vertices=int(vertex_base[-1]),
        )


def shade_fragments(
    fragments: Fragments,
    mesh: TexturedMesh,
    texture: NDArray,
    normals: ArrayLike,
    lighting: Lighting,
    visibility: ArrayLike | None = None,
) -> NDArray[np.float32]:
    """(P, 3) lit colours: texture albedo at each pixel, lighting computed at the vertices (unit
    ``normals`` (V, 3), key-light ``visibility`` (V,) or None) and interpolated (Gouraud)."""
    uv = fragments.interpolate(mesh.uv, mesh.uv_triangles)
    terms = fragments.interpolate(light_terms(normals, lighting, visibility))
    return apply_lighting(sample_texture(texture, uv), terms, lighting)


def draw_mesh(
    image: NDArray[np.float32],
    window: RenderWindow,
    vertices: ArrayLike,
    normals: ArrayLike,
    mesh: TexturedMesh,
    texture: NDArray,
    lighting: Lighting,
    visibility: ArrayLike | None = None,
) -> Fragments:
    """Draws a mesh over ``image`` (H, W, 3) float32 inside ``window``, anti-aliased by its factor.

    ``vertices`` (V, 3) in image pixels (x, y, depth), ``normals`` (V, 3) unit, camera space;
    ``texture`` (h, w, 3) float32; ``visibility`` (V,): the key light's share at each vertex (cast
    shadows, :func:`opnet.render.shadow.light_visibility`) or None. Returns the fragments of the
    window's fine raster.
    """
    fragments = rasterize(window.to_window(vertices), mesh.triangles, *window.shape)
    colours = shade_fragments(fragments, mesh, texture, normals, lighting, visibility)
    coverage = fragments.to_image(np.ones(len(fragments), dtype=np.float32))
    window.composite(image, fragments.to_image(colours), coverage)
    return fragments
