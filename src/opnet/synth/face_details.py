"""Painting the eyes and the skin details of the realism levers into a head texture.

``eyes``: the upper lid comes down over part of the eye (from wide open to closed), with the lash
line along its edge, and the iris and pupil look in a direction of their own. ``skin``: pores,
freckles and moles, nasolabial folds, shadows under the eyes, forehead lines, make-up (eye shadow,
eyeliner). All positions come from the mean head's landmarks, like the other painted features.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from opnet.facemodel.procedural import procedural_head
from opnet.synth.appearance import Appearance
from opnet.synth.head_texture import Decal, HeadTextureLayout, head_texture_layout

_EYES = (slice(36, 42), slice(42, 48))


@dataclass(frozen=True)
class EyeDetails:
    """Per person: ``closure`` 0 (open) to 1 (closed) of the upper lids, ``gaze`` (x, y) shift of the
    irises in eye widths and heights, ``liner`` strength of a dark line along the lids."""

    closure: float
    gaze: tuple[float, float]
    liner: float


@dataclass(frozen=True)
class SkinDetails:
    """Per person strengths (0: none) of ``pores``, ``folds`` (and forehead lines), shadows
    ``under_eyes``, ``eye_shadow`` make-up (with its ``shadow_colour``), and ``spots`` freckles
    and moles (count)."""

    pores: float
    folds: float
    under_eyes: float
    eye_shadow: float
    shadow_colour: tuple[float, float, float]
    spots: int


def sample_eye_details(rng: np.random.Generator) -> EyeDetails:
    """Mostly open eyes, some narrowed, a few nearly closed; gaze mostly ahead."""
    kind = rng.random()
    closure = (
        rng.uniform(0.0, 0.2)
        if kind < 0.7
        else rng.uniform(0.25, 0.6)
        if kind < 0.9
        else rng.uniform(0.6, 1.0)
    )
    gaze = np.clip(rng.normal(0.0, 0.2, 2), -0.5, 0.5)
    return EyeDetails(
        float(closure),
        (float(gaze[0]), float(gaze[1])),
        float(rng.uniform(0.0, 0.8)) if rng.random() < 0.3 else 0.0,
    )


def sample_skin_details(rng: np.random.Generator) -> SkinDetails:
    colour = rng.uniform(0.2, 0.7, 3) * rng.uniform(0.5, 1.0)
    return SkinDetails(
        pores=float(rng.uniform(0.02, 0.1)),
        folds=float(rng.uniform(0.0, 0.5)),
        under_eyes=float(rng.uniform(0.0, 0.4)),
        eye_shadow=float(rng.uniform(0.2, 0.7)) if rng.random() < 0.25 else 0.0,
        shadow_colour=(float(colour[0]), float(colour[1]), float(colour[2])),
        spots=int(rng.integers(0, 40)) if rng.random() < 0.3 else 0,
    )


@dataclass(frozen=True)
class EyeMaps:
    """For the texels of the eye region (a :class:`Decal`'s box): model ``xy`` (h, w, 2) on the mean
    head, and ``lid`` (h, w): 0 at the open upper lid, 1 at the lower lid, across each eye;
    ``centres`` (2, 2) and ``sizes`` (2, 2) width and height of both eyes."""

    region: Decal
    xy: NDArray[np.float32]
    lid: NDArray[np.float32]
    centres: NDArray[np.float64]
    sizes: NDArray[np.float64]


def _lid_curve(points: NDArray, x: NDArray) -> NDArray:
    order = np.argsort(points[:, 0])
    return np.interp(x, points[order, 0], points[order, 1])


@functools.lru_cache(maxsize=1)
def eye_maps() -> EyeMaps:
    """The eye maps of the procedural head's texture (built once per process)."""
    layout = head_texture_layout()
    head = procedural_head()
    lm = head.model.mean[head.model.landmark_indices].astype(np.float64)
    sclera = layout.decals["sclera"]
    top, left = sclera.top - 6, sclera.left - 6
    h, w = sclera.weights.shape[0] + 12, sclera.weights.shape[1] + 12
    region = Decal(top, left, np.zeros((h, w), np.float32))
    xy = layout.position[top : top + h, left : left + w, :2].astype(np.float32)
    lid = np.full((h, w), -1.0, np.float32)
    centres, sizes = [], []
    for eye in _EYES:
        outline = lm[eye, :2]
        upper, lower = _lid_curve(outline[:4], xy[..., 0]), _lid_curve(outline[[3, 4, 5, 0]], xy[..., 0])
        inside = (xy[..., 0] >= outline[:, 0].min() - 0.02) & (xy[..., 0] <= outline[:, 0].max() + 0.02)
        across = (xy[..., 1] - upper) / np.maximum(lower - upper, 1e-3)
        lid = np.where(inside, across, lid)
        centres.append(outline.mean(axis=0))
        sizes.append(np.ptp(outline, axis=0))
    return EyeMaps(region, xy, lid.astype(np.float32), np.array(centres), np.array(sizes))


def _soft_disc(xy: NDArray, centre: NDArray, radius: float, soft: float) -> NDArray[np.float32]:
    distance = np.hypot(xy[..., 0] - centre[0], xy[..., 1] - centre[1])
    return np.clip((radius - distance) / soft + 0.5, 0.0, 1.0).astype(np.float32)


def paint_eyes(
    layout: HeadTextureLayout, texture: NDArray[np.float32], look: Appearance, eyes: EyeDetails
) -> None:
    """Repaints the eyes of a :func:`~opnet.synth.head_texture.paint_face` texture (in place): iris and
    pupil looking along ``eyes.gaze``, then the lid lowered by ``eyes.closure`` and its lash line."""
    skin, iris = look.skin, look.iris
    layout.decals["sclera"].blend(texture, look.sclera)
    maps = eye_maps()
    region = maps.region
    h, w = region.weights.shape
    area = texture[region.top : region.top + h, region.left : region.left + w]
    sclera = layout.decals["sclera"]
    inside = np.zeros((h, w), np.float32)
    dy, dx = sclera.top - region.top, sclera.left - region.left
    inside[dy : dy + sclera.weights.shape[0], dx : dx + sclera.weights.shape[1]] = sclera.weights
    for centre, size in zip(maps.centres, maps.sizes, strict=True):
        at = centre + np.array(eyes.gaze) * size * (0.25, 0.3)
        iris_mask = _soft_disc(maps.xy, at, 0.95 * size[1], 0.004) * inside
        pupil_mask = _soft_disc(maps.xy, at, 0.38 * size[1], 0.004) * inside
        area += iris_mask[..., None] * (np.asarray(iris, np.float32) - area)
        area += pupil_mask[..., None] * (np.float32(0.04) - area)
    closed = np.clip((eyes.closure - maps.lid) / 0.08 + 0.5, 0.0, 1.0) * (maps.lid > -0.5) * (maps.lid < 1.3)
    closed *= np.clip(inside * 3.0, 0.0, 1.0) if eyes.closure < 0.99 else np.clip(inside * 6.0, 0.0, 1.0)
    area += closed[..., None] * (np.asarray(skin, np.float32) * 0.85 - area)
    lash = (
        np.exp(-0.5 * ((maps.lid - eyes.closure) / 0.07) ** 2)
        * (maps.lid > -0.5)
        * np.clip(inside * 4.0, 0, 1)
    )
    strength = 0.7 + 0.3 * eyes.liner
    area += (strength * lash)[..., None] * (np.asarray(skin, np.float32) * 0.12 - area)


def paint_skin(
    layout: HeadTextureLayout,
    texture: NDArray[np.float32],
    skin: NDArray,
    details: SkinDetails,
    rng: np.random.Generator,
) -> None:
    """Pores, folds, shadows under the eyes, forehead lines, eye shadow, freckles and moles (in place)."""
    rows, cols = texture.shape[:2]
    pores = cv2.GaussianBlur(rng.standard_normal((rows, cols)).astype(np.float32), (0, 0), 0.7)
    texture *= 1.0 + details.pores * pores[..., None]
    shade = np.asarray(skin, np.float32) * 0.55
    d = layout.decals
    d["folds"].blend(texture, shade, details.folds)
    d["wrinkles"].blend(texture, shade, 0.6 * details.folds)
    d["under_eyes"].blend(texture, shade * np.array([0.95, 0.85, 1.05], np.float32), details.under_eyes)
    if details.eye_shadow > 0.0:
        d["eye_shadow"].blend(texture, np.asarray(details.shadow_colour, np.float32), details.eye_shadow)
    face = d["cheeks"]
    h, w = face.weights.shape
    for _ in range(details.spots):
        r, c = int(rng.integers(0, h)), int(rng.integers(0, w))
        if face.weights[r, c] < 0.05 and rng.random() < 0.7:
            continue
        radius = int(rng.integers(1, 3))
        mask = np.zeros((2 * radius + 3, 2 * radius + 3), np.float32)
        cv2.circle(mask, (radius + 1, radius + 1), radius, 1.0, -1, cv2.LINE_AA)
        top, left = face.top + r - radius - 1, face.left + c - radius - 1
        if top < 0 or left < 0 or top + mask.shape[0] > rows or left + mask.shape[1] > cols:
            continue
        Decal(top, left, mask).blend(texture, shade * rng.uniform(0.5, 0.9), float(rng.uniform(0.3, 0.8)))
