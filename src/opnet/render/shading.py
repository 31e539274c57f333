"""Surface normals and local lighting (Lambert or wrapped + ambient + Blinn-Phong highlights, a fill
light, cast-shadow visibility) in camera space.

Camera space is the image frame of docs/format.md: x right, y down, z into the screen. Under the
weak-perspective camera the viewer looks along +z from everywhere, so the direction towards the
viewer is (0, 0, -1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

TOWARDS_VIEWER = np.array([0.0, 0.0, -1.0])


def vertex_normals(vertices: ArrayLike, triangles: ArrayLike) -> NDArray[np.float64]:
    """(V, 3) unit outward normals: area-weighted means of the normals of the adjacent triangles.

    Triangles (T, 3) are counter-clockwise seen from outside; vertices (V, 3) in any right-handed
    frame (model space, or camera space after a rotation and a uniform scale).
    """
    v = np.asarray(vertices, dtype=np.float64)
    tris = np.asarray(triangles, dtype=np.int64)
    a, b, c = v[tris[:, 0]], v[tris[:, 1]], v[tris[:, 2]]
    face = np.cross(b - a, c - a)  # length = twice the area: area weighting for free
    flat = tris.ravel()
    normals = np.stack(
        [np.bincount(flat, np.repeat(face[:, k], 3), minlength=len(v)) for k in range(3)], axis=-1
    )
    return normals / np.maximum(np.linalg.norm(normals, axis=-1, keepdims=True), 1e-12)


@dataclass(frozen=True)
class Lighting:
    """A directional key light, an optional directional fill light, and ambient light, RGB
    intensities (1 = the albedo shown as is).

    ``direction`` (3,) unit vector from the surface towards the key light, camera space;
    ``specular`` strength and ``shininess`` exponent of its Blinn-Phong highlight; ``wrap`` lets
    the key light reach ``wrap`` past the terminator (0: Lambert; about 0.3 looks like skin, which
    scatters light under its surface). ``fill_direction`` and ``fill``: a second, diffuse light.
    """

    direction: tuple[float, float, float]
    diffuse: tuple[float, float, float]
    ambient: tuple[float, float, float]
    specular: float = 0.0
    shininess: float = 20.0
    wrap: float = 0.0
    fill_direction: tuple[float, float, float] = (0.0, 0.0, -1.0)
    fill: tuple[float, float, float] = (0.0, 0.0, 0.0)


def light_terms(
    normals: ArrayLike, lighting: Lighting, visibility: ArrayLike | None = None
) -> NDArray[np.float32]:
    """(N, 3) float32 for unit ``normals`` (N, 3): the key light's diffuse factor (max(0, n . l) with
    Lambert), its highlight, and the fill light's diffuse factor.

    ``visibility`` (N,) in [0, 1]: how much of the key light reaches each point (cast shadows; None: all).
    Computed per vertex and interpolated across triangles (Gouraud shading), these give nearly
    the same picture as per-pixel lighting when triangles are a few pixels wide.
    """
    n = np.asarray(normals, dtype=np.float32)
    light = np.asarray(lighting.direction, dtype=np.float32)
    cos_light = np.maximum(n @ light, 0.0)
    diffuse = (
        cos_light
        if lighting.wrap <= 0.0
        else np.maximum(n @ light + lighting.wrap, 0.0) / (1.0 + lighting.wrap)
    )
    highlight = np.zeros_like(cos_light)
    if lighting.specular > 0.0:
        half = light + TOWARDS_VIEWER.astype(np.float32)
        half /= max(float(np.linalg.norm(half)), 1e-6)
        highlight = lighting.specular * np.maximum(n @ half, 0.0) ** lighting.shininess * (cos_light > 0.0)
    if visibility is not None:
        seen = np.asarray(visibility, dtype=np.float32)
        diffuse, highlight = diffuse * seen, highlight * seen
    fill = np.zeros_like(cos_light)
    if any(lighting.fill):
        fill = np.maximum(n @ np.asarray(lighting.fill_direction, dtype=np.float32), 0.0)
    return np.stack([diffuse, highlight, fill], axis=-1).astype(np.float32)


def apply_lighting(albedo: ArrayLike, terms: ArrayLike, lighting: Lighting) -> NDArray[np.float32]:
    """Colours (P, 3) = albedo * (ambient + key factor * diffuse + fill factor * fill) + highlight *
    diffuse; not clipped. ``albedo`` (P, 3), ``terms`` (P, 3) from :func:`light_terms` (possibly
    interpolated)."""
    terms = np.asarray(terms, dtype=np.float32)
    diffuse = np.asarray(lighting.diffuse, np.float32)
    intensity = np.asarray(lighting.ambient, np.float32) + terms[:, :1] * diffuse
    if any(lighting.fill):
        intensity = intensity + terms[:, 2:3] * np.asarray(lighting.fill, np.float32)
    return np.asarray(albedo, dtype=np.float32) * intensity + terms[:, 1:2] * diffuse
