"""One picture of a person: pose, placement, light and camera effects, drawn at random."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from opnet.geometry import euler_to_quat
from opnet.render.shading import Lighting
from opnet.synth.body import body_rotation
from opnet.synth.config import SynthConfig

HEAD_MARGIN = 1.25
"""The head centre keeps this many head sizes from the image border (when the image allows)."""


@dataclass(frozen=True)
class Shot:
    """``quat`` (4,) xyzw and ``coords`` (3,) x, y, size in pixels of the head (the labels);
    ``body_rotation`` (3, 3); ``lighting``; ``blur_sigma`` and ``noise_sigma`` of the camera
    (pixels; gray levels / 255)."""

    quat: NDArray[np.float64]
    coords: NDArray[np.float64]
    body_rotation: NDArray[np.float64]
    lighting: Lighting
    blur_sigma: float
    noise_sigma: float


def sample_euler(rng: np.random.Generator, config: SynthConfig) -> NDArray[np.float64]:
    """(3,) AFLW (pitch, yaw, roll) in radians, each uniform within the configured range."""
    limits = np.deg2rad([config.pitch_max_deg, config.yaw_max_deg, config.roll_max_deg])
    return rng.uniform(-limits, limits)


def sample_coords(rng: np.random.Generator, config: SynthConfig) -> NDArray[np.float64]:
    """(3,) head centre x, y and size in pixels: log-uniform size, position anywhere that keeps the
    head in view."""
    side = config.image_size
    size = side * np.exp(rng.uniform(np.log(config.head_size_min), np.log(config.head_size_max)))
    margin = min(HEAD_MARGIN * size, 0.5 * side)
    x, y = rng.uniform(margin, side - margin, 2)
    return np.array([x, y, size])


def sample_lighting(rng: np.random.Generator) -> Lighting:
    """A key light in front of the face (more often from above), ambient light, some shine."""
    azimuth = rng.uniform(-1.3, 1.3)
    elevation = rng.uniform(-0.3, 1.1)
    direction = (
        np.sin(azimuth) * np.cos(elevation),
        -np.sin(elevation),
        -np.cos(azimuth) * np.cos(elevation),
    )
    tint = 1.0 + rng.uniform(-0.08, 0.08, 3)
    diffuse = rng.uniform(0.5, 1.0) * tint
    ambient = rng.uniform(0.3, 0.6) * (1.0 + rng.uniform(-0.05, 0.05, 3))
    return Lighting(
        direction=tuple(float(v) for v in direction),
        diffuse=tuple(float(v) for v in diffuse),
        ambient=tuple(float(v) for v in ambient),
        specular=float(rng.uniform(0.0, 0.3)),
        shininess=float(rng.uniform(8.0, 40.0)),
    )


def sample_shot(rng: np.random.Generator, config: SynthConfig) -> Shot:
    quat = euler_to_quat(sample_euler(rng, config))
    coords = sample_coords(rng, config)
    return Shot(
        quat=quat,
        coords=coords,
        body_rotation=body_rotation(rng, quat),
        lighting=sample_lighting(rng),
        blur_sigma=float(rng.uniform(0.0, 1.0) * config.image_size / 256.0) if rng.random() < 0.7 else 0.0,
        noise_sigma=float(rng.uniform(0.0, 0.03)),
    )
