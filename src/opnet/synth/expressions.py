"""Expressions of the ``expressions`` realism lever: an open mouth (the jaw turns down) and a smile
(the mouth corners go up and back), as displacements of the head's vertices.

The fields are built once on the mean head: the jaw weight is 1 below the mouth line and along the
lower jaw, 0 above it, with a sharp step between the lips (the stretched triangles there show the
dark mouth line of the texture, an open mouth) and a soft one over the cheeks. The landmark
labels come from the displaced vertices, so they follow the expression; the pose is the skull's.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from opnet.facemodel.procedural import procedural_head

HINGE = np.array([0.0, -0.02, -0.15])
"""A point on the jaw's axis of rotation (the x axis through the jaw joints, in front of the ears)."""
MAX_JAW_DEG = 13.0
MOUTH_LINE_Y = 0.42


@dataclass(frozen=True)
class Expression:
    """``jaw`` 0 (closed) to 1 (wide open) and ``smile`` 0 to 1."""

    jaw: float
    smile: float


def sample_expression(rng: np.random.Generator) -> Expression:
    """Half of the samples neutral; the others open the mouth, smile, or both."""
    if rng.random() < 0.5:
        return Expression(0.0, 0.0)
    return Expression(
        float(rng.uniform(0.1, 1.0)) if rng.random() < 0.6 else 0.0,
        float(rng.uniform(0.2, 1.0)) if rng.random() < 0.6 else 0.0,
    )


@dataclass(frozen=True)
class ExpressionFields:
    """Per mean-head vertex: ``jaw`` (V,) weight of the jaw's rotation, ``smile`` (V, 3) displacement."""

    jaw: NDArray[np.float64]
    smile: NDArray[np.float64]


def _smoothstep(x: NDArray) -> NDArray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


@functools.lru_cache(maxsize=1)
def expression_fields() -> ExpressionFields:
    """The fields of the procedural head (built once per process)."""
    head = procedural_head()
    v = head.model.mean.astype(np.float64)
    lm = v[head.model.landmark_indices]
    x, y, z = np.abs(v[:, 0]), v[:, 1], v[:, 2]
    corner_z, corner_y = lm[48, 2], lm[48, 1]
    # Below the line from the mouth corners back to the joint; a sharp step between the lips.
    along = np.clip((z - corner_z) / (HINGE[2] - corner_z), 0.0, 1.0)
    line_y = np.where(x < 0.22, MOUTH_LINE_Y, corner_y + along * (HINGE[1] - corner_y))
    width = np.where(x < 0.2, 0.012, 0.012 + (x - 0.2) * 0.8)
    jaw = _smoothstep((y - line_y) / width + 0.5) * _smoothstep((HINGE[2] + 0.05 - z) / 0.2)
    smile = np.zeros_like(v)
    for corner in (lm[48], lm[54]):
        bump = np.exp(-0.5 * np.sum(((v - corner) / np.array([0.09, 0.07, 0.09])) ** 2, axis=-1))
        smile += bump[:, None] * np.array([0.035 * np.sign(corner[0]), -0.05, 0.04])
    cheeks = np.exp(-0.5 * (((x - 0.35) / 0.12) ** 2 + ((y - 0.12) / 0.1) ** 2)) * (z < -0.4)
    smile[:, 1] -= 0.025 * cheeks
    return ExpressionFields(jaw, smile)


def apply_expression(vertices: NDArray[np.float64], expression: Expression) -> NDArray[np.float64]:
    """The person's head vertices (V, 3) with ``expression``."""
    if expression.jaw == 0.0 and expression.smile == 0.0:
        return vertices
    fields = expression_fields()
    angle = np.deg2rad(MAX_JAW_DEG * expression.jaw)
    c, s = np.cos(angle), np.sin(angle)
    rel = vertices - HINGE
    turned = (
        np.stack([rel[:, 0], c * rel[:, 1] - s * rel[:, 2], s * rel[:, 1] + c * rel[:, 2]], -1) + HINGE
    )  # chin down, back
    moved = vertices + fields.jaw[:, None] * (turned - vertices)
    return moved + expression.smile * fields.smile
