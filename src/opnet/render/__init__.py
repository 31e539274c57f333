"""Software rendering of triangle meshes with numpy and OpenCV (no graphics library needed).

- :func:`~opnet.render.raster.rasterize`: image-space vertices (V, 3) + triangles (T, 3) ->
  :class:`~opnet.render.raster.Fragments` (per covered pixel: triangle, barycentrics, depth), which
  interpolate per-vertex or per-corner attributes;
- :func:`~opnet.render.texture.sample_texture`: bilinear texture look-ups at interpolated texel coordinates;
- :mod:`~opnet.render.shading`: vertex normals, Lambert + ambient + Blinn-Phong lighting;
- :class:`~opnet.render.window.RenderWindow`: render part of an image finer and blend it in (anti-aliasing);
- :func:`~opnet.render.mesh.draw_mesh`: all of the above for a textured, lit mesh.
"""

from opnet.render.mesh import TexturedMesh, draw_mesh, shade_fragments
from opnet.render.raster import Fragments, rasterize
from opnet.render.shading import Lighting, apply_lighting, light_terms, vertex_normals
from opnet.render.texture import sample_texture
from opnet.render.window import RenderWindow

__all__ = [
    "Fragments",
    "Lighting",
    "RenderWindow",
    "TexturedMesh",
    "apply_lighting",
    "draw_mesh",
    "light_terms",
    "rasterize",
    "sample_texture",
    "shade_fragments",
    "vertex_normals",
]
