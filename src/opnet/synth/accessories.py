"""Things a synthetic person wears on the head, as meshes in the head frame: long hair, glasses, hats.

Each is an :class:`Accessory`: vertices and normals in the head's model frame (units and axes of
opnet.facemodel: x to the person's left, y down, the face looking along -z), so it turns with the
head, and a mesh with texture coordinates into its own small texture. None of them moves a
landmark: the labels stay those of the head. Open surfaces (hair curtains, brims, visors) are
two-sided: both sides are in the mesh, each with its own normals.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from opnet.render.mesh import TexturedMesh
from opnet.render.shading import vertex_normals

AXIS_Z = -0.1
"""The vertical axis around which hair curtains and brims are laid out: x = 0, z = AXIS_Z."""


@dataclass(frozen=True)
class Accessory:
    """``vertices`` (V, 3) in the head frame, unit ``normals`` (V, 3), ``mesh`` (texture coordinates
    in texels of ``texture``), ``texture`` (h, w, 3) float32 albedo."""

    name: str
    vertices: NDArray[np.float64]
    normals: NDArray[np.float64]
    mesh: TexturedMesh
    texture: NDArray[np.float32]


def _grid_triangles(rows: int, cols: int) -> NDArray[np.int64]:
    """Triangles (counter-clockwise when rows run down and columns run right, seen from the front)."""
    r, c = np.meshgrid(np.arange(rows - 1), np.arange(cols - 1), indexing="ij")
    a = (r * cols + c).ravel()
    b, d, e = a + 1, a + cols, a + cols + 1
    return np.concatenate([np.stack([a, d, b], 1), np.stack([b, d, e], 1)]).astype(np.int64)


def _surface(
    name: str, points: NDArray, texture: NDArray[np.float32], two_sided: bool, outward: NDArray | None = None
) -> Accessory:
    """An accessory of a grid of points (rows, cols, 3), textured over the whole texture (the back
    side, if any, over its lower half darkened). ``outward`` (3,) or (rows, cols, 3): a direction
    the front side should face; the triangles are flipped if they face the other way."""
    rows, cols = points.shape[:2]
    vertices = points.reshape(-1, 3).astype(np.float64)
    triangles = _grid_triangles(rows, cols)
    normals = vertex_normals(vertices, triangles)
    if outward is not None:
        facing = np.sum(normals * np.broadcast_to(outward, points.shape).reshape(-1, 3), axis=-1).mean()
        if facing < 0.0:
            triangles, normals = triangles[:, ::-1].copy(), -normals
    h, w = texture.shape[:2]
    v, u = np.meshgrid(np.linspace(0, h - 1, rows), np.linspace(0, w - 1, cols), indexing="ij")
    uv = np.stack([u, v], -1).reshape(-1, 2).astype(np.float32)
    if two_sided:
        texture = np.concatenate([texture, texture * 0.55])
        vertices = np.concatenate([vertices, vertices])
        normals = np.concatenate([normals, -normals])
        triangles = np.concatenate([triangles, triangles[:, ::-1] + rows * cols])
        uv = np.concatenate([uv, uv + np.array([0.0, h], np.float32)])
    mesh = TexturedMesh(triangles, uv, triangles, len(vertices))
    return Accessory(name, vertices, normals, mesh, texture.astype(np.float32))


def _strands(
    rng: np.random.Generator, colour: NDArray, rows: int, cols: int, contrast: float
) -> NDArray[np.float32]:
    """A hair texture (rows, cols, 3): strands running down the rows, darker at the tips."""
    streaks = cv2.resize(
        rng.standard_normal((4, cols)).astype(np.float32), (cols, rows), interpolation=cv2.INTER_CUBIC
    )
    fine = rng.standard_normal((rows, cols)).astype(np.float32) * 0.3
    shade = 1.0 + contrast * (streaks + fine) - 0.25 * np.linspace(0.0, 1.0, rows)[:, None] ** 2
    return np.clip(colour[None, None, :] * shade[..., None], 0.0, 1.0).astype(np.float32)


def head_radii(vertices: NDArray, y_edges: NDArray, azimuth_bins: int) -> NDArray[np.float64]:
    """(len(y_edges) - 1, azimuth_bins) the head's outermost distance from the vertical axis per
    height band and azimuth (0 = straight ahead, towards -z; increasing towards +x), from its vertices.
    Bands without vertices take the nearest band above that has them."""
    rel = vertices - np.array([0.0, 0.0, AXIS_Z])
    azimuth = np.mod(np.arctan2(rel[:, 0], -rel[:, 2]), 2 * np.pi)
    radius = np.hypot(rel[:, 0], rel[:, 2])
    row = np.digitize(vertices[:, 1], y_edges) - 1
    col = np.minimum((azimuth / (2 * np.pi) * azimuth_bins).astype(int), azimuth_bins - 1)
    keep = (row >= 0) & (row < len(y_edges) - 1)
    table = np.zeros((len(y_edges) - 1, azimuth_bins))
    np.maximum.at(table, (row[keep], col[keep]), radius[keep])
    for r in range(1, len(table)):
        table[r] = np.where(table[r] > 0.0, table[r], table[r - 1])
    return table


def long_hair(rng: np.random.Generator, head_vertices: NDArray, colour: NDArray, volume: float) -> Accessory:
    """A curtain of long hair from the skull down to the chin or the shoulders, around the sides
    and the back, leaving the face free from the temples on."""
    length = rng.uniform(0.5, 1.9)
    front = rng.uniform(0.95, 1.55)  # azimuth where the hair starts, radians from straight ahead
    offset = 0.05 + volume + rng.uniform(0.0, 0.06)
    rows, cols = 14, 40
    azimuth = np.linspace(front, 2 * np.pi - front, cols)
    tips = length + 0.12 * np.cumsum(rng.normal(0.0, 0.25, cols)) / np.sqrt(cols)
    t = np.linspace(0.0, 1.0, rows)[:, None]
    top = -0.45
    y = top + t * (tips[None, :] - top)
    radii = head_radii(head_vertices, np.linspace(-1.3, 0.4, 18), 36)
    band = np.clip(np.digitize(np.minimum(y, 0.35), np.linspace(-1.3, 0.4, 18)) - 1, 0, 16)
    col = np.minimum((azimuth / (2 * np.pi) * 36).astype(int), 35)
    base = radii[band, np.broadcast_to(col, y.shape)]
    out = offset * np.clip(t / 0.2, 0.0, 1.0) - 0.03 * (t < 0.05)
    flare = rng.uniform(0.0, 0.25) * np.clip(y - 0.3, 0.0, None)
    wave = rng.uniform(0.0, 0.03) * np.sin(azimuth * rng.uniform(6.0, 14.0) + rng.uniform(0, 6.3))
    r = base + out + flare + wave[None, :]
    points = np.stack([r * np.sin(azimuth), y, AXIS_Z - r * np.cos(azimuth)], axis=-1)
    outward = np.stack([np.sin(azimuth), np.zeros_like(azimuth), -np.cos(azimuth)], -1)[None]
    texture = _strands(rng, np.asarray(colour, np.float64), 32, 64, contrast=rng.uniform(0.15, 0.4))
    return _surface("long_hair", points, texture, two_sided=True, outward=outward)


def _tube(path: NDArray, radius: float, closed: bool, sides: int = 6) -> NDArray[np.float64]:
    """(K, sides, 3) rings of a tube of ``radius`` along ``path`` (K, 3)."""
    ahead = np.roll(path, -1, axis=0) if closed else np.concatenate([path[1:], path[-1:] * 2 - path[-2:-1]])
    behind = np.roll(path, 1, axis=0) if closed else np.concatenate([path[:1] * 2 - path[1:2], path[:-1]])
    tangent = ahead - behind
    tangent /= np.linalg.norm(tangent, axis=-1, keepdims=True)
    helper = np.where(np.abs(tangent[:, 1:2]) < 0.9, [[0.0, 1.0, 0.0]], [[1.0, 0.0, 0.0]])
    n = np.cross(tangent, helper)
    n /= np.linalg.norm(n, axis=-1, keepdims=True)
    b = np.cross(tangent, n)
    angle = np.linspace(0.0, 2 * np.pi, sides + 1)
    return path[:, None, :] + radius * (
        np.cos(angle)[None, :, None] * n[:, None] + np.sin(angle)[None, :, None] * b[:, None]
    )


def _join(name: str, parts: list[Accessory]) -> Accessory:
    """Several accessories as one (their textures stacked)."""
    width = max(p.texture.shape[1] for p in parts)
    textures, meshes, offsets, row = [], [], [], 0
    for p in parts:
        pad = np.zeros((p.texture.shape[0], width, 3), np.float32)
        pad[:, : p.texture.shape[1]] = p.texture
        textures.append(pad)
        meshes.append(p.mesh)
        offsets.append((0.0, float(row)))
        row += p.texture.shape[0]
    return Accessory(
        name,
        np.concatenate([p.vertices for p in parts]),
        np.concatenate([p.normals for p in parts]),
        TexturedMesh.concatenate(meshes, offsets),
        np.concatenate(textures),
    )


FRAME_COLOURS = np.array(
    [
        [0.03, 0.03, 0.03],
        [0.15, 0.08, 0.04],
        [0.3, 0.17, 0.08],
        [0.6, 0.6, 0.62],
        [0.7, 0.55, 0.25],
        [0.5, 0.1, 0.1],
    ]
)


def glasses(rng: np.random.Generator, landmarks: NDArray, head_vertices: NDArray) -> Accessory:
    """Glasses in front of the eyes of a head with these landmarks (68, 3): two rims, a bridge, two
    temples back to the ears; dark lenses in some (sunglasses)."""
    width = rng.uniform(0.16, 0.23)  # half width of a lens
    height = rng.uniform(0.1, 0.16)
    power = rng.uniform(2.0, 6.0)  # round .. rectangular
    radius = rng.uniform(0.008, 0.025)
    depth = min(landmarks[[27, 28], 2].min(), landmarks[36:48, 2].min()) - rng.uniform(0.1, 0.16)
    parts, lenses = [], []
    angle = np.linspace(0.0, 2 * np.pi, 25)[:-1]
    c, s = np.cos(angle), np.sin(angle)
    rim_x = np.sign(c) * np.abs(c) ** (2 / power) * width
    rim_y = np.sign(s) * np.abs(s) ** (2 / power) * height
    side_extent = np.abs(head_vertices[np.abs(head_vertices[:, 1] + 0.25) < 0.1, 0]).max()
    for sign, eye in ((-1.0, slice(36, 42)), (1.0, slice(42, 48))):
        centre = landmarks[eye].mean(axis=0)
        cx = sign * max(abs(centre[0]), width + 0.06)
        x = cx + rim_x
        z = depth + 0.25 * (np.abs(x) - 0.1).clip(0.0) ** 2
        rim = np.stack([x, centre[1] + 0.01 + rim_y, z], -1)
        parts.append(rim)
        lenses.append(rim)
        hinge = np.array([cx + sign * width, centre[1], depth + 0.25 * (abs(cx) + width - 0.1) ** 2])
        temple = np.array(
            [
                hinge,
                [sign * (side_extent + 0.04), centre[1] + 0.01, -0.45],
                [sign * (side_extent + 0.05), centre[1] + 0.04, 0.0],
                [sign * (side_extent - 0.02), centre[1] + 0.2, 0.2],
            ]
        )
        parts.append(temple)
    bridge_y = 0.5 * (landmarks[27, 1] + landmarks[28, 1]) - 0.02
    inner = [p[np.argmin(np.abs(p[:, 0]))] for p in parts[::2]]
    bridge = np.array([inner[0], [0.0, bridge_y, depth - 0.02], inner[1]])
    colour = FRAME_COLOURS[rng.integers(len(FRAME_COLOURS))] * rng.uniform(0.8, 1.2)
    texture = np.clip(np.broadcast_to(colour, (4, 4, 3)), 0, 1).astype(np.float32)
    pieces = []
    for path, closed in (
        (parts[0], True),
        (parts[1], False),
        (parts[2], True),
        (parts[3], False),
        (bridge, False),
    ):
        path = np.concatenate([path, path[:1]]) if closed else path
        rings = _tube(path, radius, closed=False)
        pieces.append(
            _surface("frame", rings, texture.copy(), two_sided=False, outward=rings - path[:, None])
        )
    if rng.random() < 0.3:  # sunglasses
        tint = np.full((4, 4, 3), rng.uniform(0.02, 0.15), np.float32)
        for rim in lenses:
            disc = np.stack([np.broadcast_to(rim.mean(axis=0), rim.shape), rim], axis=0)
            disc = np.concatenate([disc, disc[:, :1]], axis=1)
            pieces.append(_surface("lens", disc, tint.copy(), two_sided=True))
    return _join("glasses", pieces)


HAT_COLOURS = np.array(
    [
        [0.05, 0.05, 0.06],
        [0.6, 0.6, 0.6],
        [0.1, 0.15, 0.35],
        [0.5, 0.1, 0.1],
        [0.35, 0.28, 0.18],
        [0.85, 0.8, 0.7],
        [0.1, 0.3, 0.15],
    ]
)


def hat(
    rng: np.random.Generator, head_vertices: NDArray, head_triangles: NDArray, head_normals: NDArray
) -> Accessory:
    """A beanie, a cap (with a visor) or a brimmed hat on a head (vertices with hair, triangles, normals)."""
    kind = rng.choice(["beanie", "cap", "brimmed"], p=[0.4, 0.35, 0.25])
    front_y = {
        "beanie": rng.uniform(-0.72, -0.58),
        "cap": rng.uniform(-0.75, -0.62),
        "brimmed": rng.uniform(-0.8, -0.68),
    }[kind]
    slope = rng.uniform(0.2, 0.35)
    line = front_y + (head_vertices[:, 2] + 1.0) * slope
    inside = head_vertices[:, 1] < line
    keep = inside[head_triangles].all(axis=1)
    used = np.unique(head_triangles[keep])
    index = np.full(len(head_vertices), -1)
    index[used] = np.arange(len(used))
    thickness = {
        "beanie": rng.uniform(0.05, 0.1),
        "cap": rng.uniform(0.03, 0.05),
        "brimmed": rng.uniform(0.06, 0.12),
    }[kind]
    shell_vertices = head_vertices[used] + thickness * head_normals[used]
    if kind == "brimmed":
        lift = np.clip((line[used] - head_vertices[used, 1]) / 0.3, 0.0, 1.0) * rng.uniform(0.0, 0.2)
        shell_vertices[:, 1] -= lift
    triangles = index[head_triangles[keep]]
    colour = HAT_COLOURS[rng.integers(len(HAT_COLOURS))] * rng.uniform(0.8, 1.2)
    size = 32
    ribs = 1.0 + (0.12 if kind == "beanie" else 0.03) * np.sin(np.arange(size) * 2.0)[None, :]
    texture = np.clip(
        colour[None, None, :] * ribs[..., None] * (1.0 + 0.05 * rng.standard_normal((size, size, 1))), 0, 1
    )
    uv = np.stack(
        [
            np.mod(np.arctan2(shell_vertices[:, 0], -shell_vertices[:, 2] + AXIS_Z), 2 * np.pi)
            / (2 * np.pi)
            * (size - 1),
            np.clip((shell_vertices[:, 1] + 1.3) / 1.3, 0, 1) * (size - 1),
        ],
        -1,
    ).astype(np.float32)
    shell = Accessory(
        "crown",
        shell_vertices,
        vertex_normals(shell_vertices, triangles),
        TexturedMesh(triangles, uv, triangles, len(shell_vertices)),
        texture.astype(np.float32),
    )
    parts = [shell]
    if kind != "beanie":
        parts.append(_brim(rng, kind, head_vertices[used], line[used], thickness, colour))
    return _join("hat", parts)


def _brim(
    rng: np.random.Generator, kind: str, vertices: NDArray, line: NDArray, thickness: float, colour: NDArray
) -> Accessory:
    """A cap's visor (in front) or a hat's brim (all round), starting at the crown's lower edge."""
    span = rng.uniform(0.7, 1.1) if kind == "cap" else np.pi
    reach = rng.uniform(0.3, 0.5) if kind == "cap" else rng.uniform(0.2, 0.5)
    droop = rng.uniform(0.05, 0.3)
    azimuth = np.linspace(-span, span, 33)
    rel = vertices - np.array([0.0, 0.0, AXIS_Z])
    vertex_azimuth = np.arctan2(rel[:, 0], -rel[:, 2])
    edge = line - vertices[:, 1] < 0.08
    radius_edge = np.hypot(rel[edge, 0], rel[edge, 2])
    bins = np.digitize(vertex_azimuth[edge], azimuth)
    base = np.array([radius_edge[bins == b].max() if np.any(bins == b) else np.nan for b in range(1, 34)])
    base = np.where(np.isnan(base), np.nanmean(base), base) + thickness
    y = np.array([line[edge][bins == b].mean() if np.any(bins == b) else np.nan for b in range(1, 34)])
    y = np.where(np.isnan(y), np.nanmean(y), y) + 0.01
    t = np.linspace(0.0, 1.0, 5)[:, None]
    extent = reach * (np.cos(azimuth / span * np.pi / 2) ** 0.5 if kind == "cap" else 1.0)
    r = base[None, :] + t * extent
    points = np.stack(
        [r * np.sin(azimuth), y[None, :] + droop * t * extent, AXIS_Z - r * np.cos(azimuth)], axis=-1
    )
    texture = np.clip(np.broadcast_to(colour * 0.9, (8, 8, 3)), 0, 1).astype(np.float32)
    return _surface("brim", points, texture.copy(), two_sided=True, outward=np.array([0.0, -1.0, 0.0]))
