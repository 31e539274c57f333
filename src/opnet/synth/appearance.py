"""How a synthetic person looks: colours and styles, drawn at random (RGB albedo in [0, 1])."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Colour = NDArray[np.float32]

# From light to dark; a person's skin is a random point between two neighbours.
SKIN_TONES = np.array(
    [
        [0.95, 0.80, 0.70],
        [0.88, 0.68, 0.56],
        [0.76, 0.55, 0.42],
        [0.60, 0.41, 0.29],
        [0.40, 0.26, 0.18],
        [0.27, 0.17, 0.12],
    ],
    dtype=np.float32,
)
HAIR_COLOURS = np.array(
    [
        [0.04, 0.03, 0.03],
        [0.12, 0.08, 0.05],
        [0.25, 0.16, 0.09],
        [0.45, 0.30, 0.16],
        [0.72, 0.58, 0.38],
        [0.55, 0.25, 0.10],
        [0.55, 0.54, 0.52],
        [0.85, 0.84, 0.82],
    ],
    dtype=np.float32,
)
HAIR_WEIGHTS = np.array([0.3, 0.22, 0.16, 0.1, 0.07, 0.04, 0.07, 0.04])
IRIS_COLOURS = np.array(
    [[0.25, 0.14, 0.07], [0.12, 0.07, 0.04], [0.3, 0.42, 0.55], [0.3, 0.4, 0.25]], dtype=np.float32
)


@dataclass(frozen=True)
class Appearance:
    """Albedo colours (3,) float32 and style parameters of one synthetic person."""

    skin: Colour
    skin_blotches: float
    blush: Colour
    lips: Colour
    brows: Colour
    brow_density: float
    sclera: Colour
    iris: Colour
    hair: Colour
    hairline_shift: float
    hair_thickness: float
    beard: float
    clothing: Colour
    clothing_stripes: float


def _jitter(rng: np.random.Generator, colour: NDArray, amount: float) -> Colour:
    return np.clip(colour * (1.0 + amount * rng.standard_normal(3)), 0.0, 1.0).astype(np.float32)


def sample_appearance(rng: np.random.Generator) -> Appearance:
    """A random person: skin tone, features, hair style and colour, clothing."""
    tone = rng.uniform(0.0, len(SKIN_TONES) - 1.0)
    k = min(int(tone), len(SKIN_TONES) - 2)
    skin = _jitter(rng, SKIN_TONES[k] + (tone - k) * (SKIN_TONES[k + 1] - SKIN_TONES[k]), 0.04)
    hair = _jitter(rng, HAIR_COLOURS[rng.choice(len(HAIR_COLOURS), p=HAIR_WEIGHTS)], 0.1)
    bald = rng.random() < 0.1
    return Appearance(
        skin=skin,
        skin_blotches=float(rng.uniform(0.02, 0.08)),
        blush=(skin * np.array([1.05, 0.82, 0.8])).clip(0, 1).astype(np.float32),
        lips=_jitter(rng, skin * np.array([0.75, 0.48, 0.48]), 0.08),
        brows=(hair * 0.7 + skin * 0.1).astype(np.float32),
        brow_density=float(rng.uniform(0.65, 1.0)),
        sclera=_jitter(rng, np.array([0.8, 0.78, 0.74]), 0.05),
        iris=_jitter(rng, IRIS_COLOURS[rng.integers(len(IRIS_COLOURS))], 0.15),
        hair=hair,
        hairline_shift=float(rng.uniform(0.55, 0.8) if bald else rng.uniform(-0.05, 0.25)),
        hair_thickness=0.0 if bald else float(rng.uniform(0.0, 0.1)),
        beard=float(rng.uniform(0.3, 0.9)) if rng.random() < 0.15 else 0.0,
        clothing=rng.uniform(0.05, 0.9, 3).astype(np.float32),
        clothing_stripes=float(rng.uniform(0.1, 0.5)) if rng.random() < 0.3 else 0.0,
    )
