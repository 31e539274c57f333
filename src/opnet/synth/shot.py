"""One picture of a person: pose, placement, light and camera effects, drawn at random."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from opnet.geometry import euler_to_quat, hpb_to_quat
from opnet.render.shading import Lighting
from opnet.synth.body import body_rotation
from opnet.synth.camera import Camera, sample_camera
from opnet.synth.config import FRONTAL_SD_DEG, FRONTAL_UNIFORM_SHARE, SynthConfig
from opnet.synth.expressions import Expression, sample_expression

HEAD_MARGIN = 1.25
"""The head centre keeps this many head sizes from the image border (when the image allows)."""
TEXTURED_BACKGROUND_SHARE = 0.6
"""With the ``backgrounds`` realism lever: the share of textured scenes (the others: clutter)."""


@dataclass(frozen=True)
class Shot:
    """``quat`` (4,) xyzw and ``coords`` (3,) x, y, size in pixels of the head (the labels);
    ``body_rotation`` (3, 3); ``lighting`` and whether it casts ``shadows``; ``blur_sigma`` and
    ``noise_sigma`` of the camera (pixels; gray levels / 255) and the rest of its effects
    (``camera``, None: none); the face's ``expression`` (None: neutral); whether a ``hand`` is in
    front of the face; whether the background is a ``textured_background`` scene."""

    quat: NDArray[np.float64]
    coords: NDArray[np.float64]
    body_rotation: NDArray[np.float64]
    lighting: Lighting
    blur_sigma: float
    noise_sigma: float
    camera: Camera | None = None
    shadows: bool = False
    expression: Expression | None = None
    hand: bool = False
    textured_background: bool = False


def sample_euler(rng: np.random.Generator, config: SynthConfig) -> NDArray[np.float64]:
    """(3,) pitch, yaw, roll in radians (of ``config.pose_angles``) within the configured ranges:
    each uniform, or for ``config.pose`` "frontal" mostly normal around 0
    (:data:`opnet.synth.config.FRONTAL_SD_DEG`)."""
    limits = np.deg2rad([config.pitch_max_deg, config.yaw_max_deg, config.roll_max_deg])
    uniform = rng.uniform(-limits, limits)
    if config.pose == "uniform" or rng.random() < FRONTAL_UNIFORM_SHARE:
        return uniform
    return np.clip(rng.normal(0.0, np.deg2rad(FRONTAL_SD_DEG)), -limits, limits)


def sample_quat(rng: np.random.Generator, config: SynthConfig) -> NDArray[np.float64]:
    """(4,) xyzw head rotation: :func:`sample_euler`'s angles as AFLW's or as heading, pitch, bank."""
    pitch, yaw, roll = sample_euler(rng, config)
    if config.pose_angles == "hpb":
        return hpb_to_quat([yaw, pitch, roll])
    return euler_to_quat([pitch, yaw, roll])


def sample_coords(rng: np.random.Generator, config: SynthConfig) -> NDArray[np.float64]:
    """(3,) head centre x, y and size in pixels: log-uniform size, anywhere that keeps the head in view."""
    side = config.image_size
    size = side * np.exp(rng.uniform(np.log(config.head_size_min), np.log(config.head_size_max)))
    margin = min(HEAD_MARGIN * size, 0.5 * side)
    x, y = rng.uniform(margin, side - margin, 2)
    return np.array([x, y, size])


def sample_lighting(rng: np.random.Generator, realistic: bool = False) -> Lighting:
    """A key light in front of the face (more often from above), ambient light, some shine.

    ``realistic`` (the ``light`` realism lever): light also from the side and a little from behind,
    hard light with dark shadows as often as soft light, a second (fill) light, skin-like light
    wrap, stronger and sharper highlights.
    """
    azimuth = rng.uniform(-1.3, 1.3)
    elevation = rng.uniform(-0.3, 1.1)
    tint = 1.0 + rng.uniform(-0.08, 0.08, 3)
    diffuse = rng.uniform(0.5, 1.0) * tint
    ambient = rng.uniform(0.3, 0.6) * (1.0 + rng.uniform(-0.05, 0.05, 3))
    specular, shininess = float(rng.uniform(0.0, 0.3)), float(rng.uniform(8.0, 40.0))
    extra: dict = {}
    if realistic:
        azimuth = rng.uniform(-1.8, 1.8)
        hard = rng.random() < 0.5
        ambient = ambient * (rng.uniform(0.2, 0.6) if hard else 1.0)
        diffuse = diffuse * (rng.uniform(1.0, 1.4) if hard else 1.0)
        specular, shininess = float(rng.uniform(0.0, 0.35)), float(np.exp(rng.uniform(np.log(8), np.log(60))))
        fill_azimuth, fill_elevation = rng.uniform(-1.5, 1.5), rng.uniform(-0.5, 0.8)
        extra = {
            "wrap": float(rng.uniform(0.0, 0.5)),
            "fill_direction": _direction(fill_azimuth, fill_elevation),
            "fill": tuple(float(v) for v in rng.uniform(0.0, 0.35) * (1.0 + rng.uniform(-0.15, 0.15, 3)))
            if rng.random() < 0.5
            else (0.0, 0.0, 0.0),
        }
    return Lighting(
        direction=_direction(azimuth, elevation),
        diffuse=tuple(float(v) for v in diffuse),
        ambient=tuple(float(v) for v in ambient),
        specular=specular,
        shininess=shininess,
        **extra,
    )


def _direction(azimuth: float, elevation: float) -> tuple[float, float, float]:
    """Unit vector towards a light at ``azimuth`` (0: in front of the face, + to image right) and
    ``elevation`` (+: above) in radians, camera space."""
    return (
        float(np.sin(azimuth) * np.cos(elevation)),
        float(-np.sin(elevation)),
        float(-np.cos(azimuth) * np.cos(elevation)),
    )


def sample_shot(rng: np.random.Generator, config: SynthConfig) -> Shot:
    quat = sample_quat(rng, config)
    coords = sample_coords(rng, config)
    body = body_rotation(rng, quat)
    lighting = sample_lighting(rng, realistic=config.realism.light)
    blur = float(rng.uniform(0.0, 1.0) * config.image_size / 256.0) if rng.random() < 0.7 else 0.0
    noise = float(rng.uniform(0.0, 0.03))
    realism = config.realism
    return Shot(
        quat=quat,
        coords=coords,
        body_rotation=body,
        lighting=lighting,
        blur_sigma=blur,
        noise_sigma=noise,
        camera=sample_camera(rng) if realism.camera else None,
        shadows=realism.light,
        expression=sample_expression(rng) if realism.expressions else None,
        hand=config.occluders.hands > 0.0 and rng.random() < config.occluders.hands,
        textured_background=realism.backgrounds and rng.random() < TEXTURED_BACKGROUND_SHARE,
    )
