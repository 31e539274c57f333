"""A light from the side that multiplies the photo's colours (the original's rare "spotlight").

The photo already holds its own light; the spotlight adds a strong one from the side the face
turns to, nearly grazing the image plane: the lit half of the face brightens, the other half
darkens to the ambient level. No shadows are cast (the original's shadow maps left artifacts).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from opnet.geometry import quat_to_matrix
from opnet.render import Lighting

SIDE = 10.0
"""Sideways component of the light direction, against 1 towards the viewer and up to 1 up or down."""
AMBIENT = (0.35, 0.55)
DIFFUSE = (0.8, 1.1)


def sample_spotlight(rng: np.random.Generator, quat: ArrayLike) -> Lighting:
    """A side light for a head at pose ``quat``: from the side its nose points to."""
    nose_x = (quat_to_matrix(quat) @ np.array([0.0, 0.0, -1.0]))[0]
    side = np.sign(nose_x) if nose_x != 0 else rng.choice([-1.0, 1.0])
    direction = np.array([side * SIDE, rng.uniform(-1.0, 1.0), -1.0])
    direction /= np.linalg.norm(direction)
    ambient = float(rng.uniform(*AMBIENT))
    diffuse = float(rng.uniform(*DIFFUSE))
    x, y, z = (float(v) for v in direction)
    return Lighting(direction=(x, y, z), diffuse=(diffuse,) * 3, ambient=(ambient,) * 3)
