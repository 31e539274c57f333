"""A photo turned into a 3D scene, and new views of it with the head rotated.

The scene (:func:`build_scene`) is the fitted head mesh placed where the photo shows it, textured
by the photo (:mod:`opnet.augment3d.texture`), plus the surroundings sheet
(:mod:`opnet.augment3d.surround`). A view (:func:`render_view`) rotates the head about
:data:`ROTATION_CENTRE` into a new pose, moves the surroundings by their weights, rasterises both
with one z-buffer and blends the result into the photo where anything moved. Labels come from the
same projection as the pixels, so they are exact for the picture.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from opnet.augment3d.eyes import close_eyes
from opnet.augment3d.fitting import FaceParams
from opnet.augment3d.head import HeadMesh
from opnet.augment3d.surround import Surroundings, surroundings
from opnet.augment3d.texture import HeadTexture, head_texture
from opnet.facemodel import HEAD_CENTRE, project
from opnet.geometry import canonical_quat, quat_to_matrix
from opnet.render import Lighting, RenderWindow, rasterize, sample_texture, vertex_normals
from opnet.render.shading import apply_lighting, light_terms
from opnet.synth.labels import pose_labels
from opnet.synth.scene import supersampling_factor

ROTATION_CENTRE = HEAD_CENTRE + np.array([0.0, 0.5, 0.1])
"""The head turns about this model point (the original augmentation's choice: half a head size
below the eyes, a little behind them), which keeps the face near where the photo has it."""
MOVED_PX = 0.05
BLEND_PX = 0.3
"""Pixels move into the picture from a displacement of MOVED_PX, fully at MOVED_PX + BLEND_PX."""
BIG = 1e6


@dataclass(frozen=True)
class Scene:
    """A source photo as a 3D scene: ``photo`` (H, W, 3) float32 in [0, 1]; the head ``mesh`` and
    its fitted ``params``; ``points`` (V, 3) the head vertices in the photo; their ``texture``; the
    ``surround`` sheet; ``centre`` (3,) the rotation centre in the photo."""

    photo: NDArray[np.float32]
    mesh: HeadMesh
    params: FaceParams
    points: NDArray[np.float64]
    texture: HeadTexture
    surround: Surroundings
    centre: NDArray[np.float64]


@dataclass(frozen=True)
class ViewSettings:
    """What a view changes besides the pose: eyes closed by ``eyes_closed`` (0..1), and an extra
    ``spotlight`` or None."""

    eyes_closed: float = 0.0
    spotlight: Lighting | None = None


def head_depth(points: NDArray, triangles: NDArray, height: int, width: int) -> tuple[NDArray, NDArray]:
    """(H, W) depth of the nearest and of the farthest head surface at each pixel (inf where none)."""
    front = np.full((height, width), np.inf)
    back = np.full((height, width), np.inf)
    window = RenderWindow.around(points, height, width)
    if window is not None:
        local = window.to_window(points)
        near = rasterize(local, triangles, *window.shape)
        window.region(front)[:] = near.to_image(near.depth.astype(np.float64), fill=np.inf)
        # Reversed triangles and negated depth: the z-buffer keeps the farthest back-facing surface.
        far = rasterize(local * np.array([1.0, 1.0, -1.0]), triangles[:, ::-1], *window.shape)
        window.region(back)[:] = -far.to_image(far.depth.astype(np.float64), fill=-np.inf)
    return front, back


def build_scene(photo: NDArray[np.float32], mesh: HeadMesh, params: FaceParams) -> Scene:
    """The 3D scene of ``photo`` (H, W, 3) float32 whose head is ``params`` of ``mesh.model``."""
    height, width = photo.shape[:2]
    size = float(params.coords[2])
    points = project(mesh.vertices(params.shape, params.expression), params.quat, params.coords)
    texture = head_texture(photo, points, mesh, size)
    middle = project(np.zeros(3), params.quat, params.coords)
    front, back = head_depth(points, mesh.triangles, height, width)
    sheet = surroundings(front, back, size, float(middle[2]))
    centre = project(ROTATION_CENTRE, params.quat, params.coords)
    return Scene(photo, mesh, params, points, texture, sheet, centre)


def _motion(scene: Scene, quat: ArrayLike) -> tuple[NDArray, NDArray]:
    """Rotation R (3, 3) and translation t of the rigid motion p -> R p + t taking the photo's head to
    ``quat``."""
    rotation = quat_to_matrix(quat) @ quat_to_matrix(scene.params.quat).T
    return rotation, scene.centre - rotation @ scene.centre


def view_params(scene: Scene, quat: ArrayLike) -> FaceParams:
    """The head's labels in the view with pose ``quat``: same size, moved centre."""
    rotation, translation = _motion(scene, quat)
    x, y, size = scene.params.coords
    moved = rotation @ np.array([x, y, 0.0]) + translation
    return FaceParams(
        canonical_quat(np.asarray(quat, np.float64)),
        np.array([moved[0], moved[1], size]),
        scene.params.shape,
        scene.params.expression,
    )


def _head(scene: Scene, settings: ViewSettings) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(68, 3) model-frame landmarks and (V, 3) head vertices in the photo, eyes closed as asked."""
    model = scene.mesh.model
    if settings.eyes_closed <= 0.0:
        return scene.params.landmarks(model), scene.points
    vertices = close_eyes(
        scene.mesh.vertices(scene.params.shape, scene.params.expression),
        model.landmark_indices,
        settings.eyes_closed,
    )
    return vertices[model.landmark_indices], project(vertices, scene.params.quat, scene.params.coords)


def render_view(
    scene: Scene, quat: ArrayLike, settings: ViewSettings = ViewSettings()
) -> tuple[NDArray[np.uint8], dict]:
    """The photo with the head turned to ``quat``: (H, W, 3) uint8 RGB and its labels (quats,
    coords, pt3d_68, rois)."""
    rotation, translation = _motion(scene, quat)
    landmarks, points = _head(scene, settings)
    head = points @ rotation.T + translation
    sheet = scene.surround
    shift = sheet.weights[:, None] * (sheet.points @ rotation.T + translation - sheet.points)
    image = scene.photo.copy()
    shifts = np.linalg.norm(np.concatenate([head - scene.points, shift])[:, :2], axis=-1)
    _draw(image, scene, head, sheet.points + shift, shifts, settings.spotlight)
    params = view_params(scene, quat)
    labels = pose_labels(landmarks, params.quat, params.coords)
    labels.pop("pt2d_68")
    return np.clip(image * 255.0 + 0.5, 0, 255).astype(np.uint8), labels


def _attributes(scene: Scene, shifts: NDArray) -> NDArray[np.float64]:
    """(V + G, 2 + 1 + C + 1) per vertex of head and sheet: texel, quality, fill colour, shift (pixels)."""
    tex, sheet = scene.texture, scene.surround.points
    return np.concatenate(
        [
            np.concatenate([tex.uv, sheet[:, :2] - 0.5]),
            np.concatenate([tex.quality, np.ones(len(sheet))])[:, None],
            np.concatenate([tex.fill, np.zeros((len(sheet), tex.fill.shape[1]))]),
            shifts[:, None],
        ],
        axis=1,
    )


def _draw(
    image: NDArray[np.float32],
    scene: Scene,
    head: NDArray,
    grid: NDArray,
    shifts: NDArray,
    spotlight: Lighting | None,
) -> None:
    """Renders head and sheet into ``image`` where anything moved (``shifts`` (V + G,) pixels), in
    place; everywhere if there is a ``spotlight``."""
    height, width = image.shape[:2]
    if spotlight is not None:
        shifts = np.full_like(shifts, BIG)
    # Sheet triangles that did not move would only redraw the photo as it is: leave them out.
    sheet = scene.surround.triangles[(shifts[len(head) :] > MOVED_PX)[scene.surround.triangles].any(axis=1)]
    used = np.unique(sheet)
    region = np.concatenate([head, scene.points, grid[used], scene.surround.points[used]])
    window = RenderWindow.around(region, height, width, supersampling_factor(float(scene.params.coords[2])))
    if window is None:
        return
    vertices = np.concatenate([head, grid])
    triangles = np.concatenate([scene.mesh.triangles, sheet + len(head)])
    behind = np.concatenate([np.zeros(len(head)), np.full(len(grid), BIG)])  # the head hides the sheet
    fragments = rasterize(
        window.to_window(vertices + behind[:, None] * [0.0, 0.0, 1.0]), triangles, *window.shape
    )
    values = fragments.interpolate(_attributes(scene, shifts))
    quality = values[:, 2:3]
    colour = quality * sample_texture(scene.photo, values[:, :2]) + (1.0 - quality) * values[:, 3:-1]
    if spotlight is not None:
        terms = fragments.interpolate(light_terms(vertex_normals(vertices, triangles), spotlight))
        colour = apply_lighting(colour, terms, spotlight)
    alpha = np.clip((values[:, -1] - MOVED_PX) / BLEND_PX, 0.0, 1.0)
    window.composite(image, fragments.to_image(colour * alpha[:, None]), fragments.to_image(alpha))
