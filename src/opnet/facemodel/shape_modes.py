"""The shape basis of the procedural head: smooth, localised deformations of the mean mesh.

Each mode is a displacement field evaluated at the mean vertices; coefficient 1 is about one
standard deviation of that trait among adults (a few hundredths of the head size). Fields stay
gentle (displacement much smaller than the distance over which it fades), so coefficients within
+-2.5 do not fold the mesh.
"""

from __future__ import annotations

import numpy as np

from opnet.facemodel.radial import FloatArray

EYE = (0.31, -0.27, -0.95)
EAR = (0.8, -0.12, 0.1)
MOUTH = (0.0, 0.42, -1.08)


def _bump(p: FloatArray, centre: tuple[float, float, float], sigma: tuple[float, float, float]) -> FloatArray:
    """(V,) Gaussian weight around ``centre``; for a centre with x > 0, both sides (x mirrored)."""
    q = p.copy()
    if centre[0] > 0.0:
        q[:, 0] = np.abs(q[:, 0])
    return np.exp(-0.5 * np.sum(((q - np.asarray(centre)) / np.asarray(sigma)) ** 2, axis=-1))


def _ramp(values: FloatArray, start: float, end: float) -> FloatArray:
    """0 at ``start``, 1 at ``end``, linear in between, clamped."""
    return np.clip((values - start) / (end - start), 0.0, 1.0)


def _field(
    p: FloatArray, dx: FloatArray | float = 0.0, dy: FloatArray | float = 0.0, dz: FloatArray | float = 0.0
) -> FloatArray:
    return np.stack(np.broadcast_arrays(dx, dy, dz, p[:, 0])[:3], axis=-1).astype(np.float64)


def _global_modes(p: FloatArray) -> list[FloatArray]:
    x, y, z = p.T
    lower = _ramp(y, -0.1, 0.8) * _ramp(-z, -0.3, 0.2)
    return [
        _field(p, dx=0.04 * x),  # head width
        _field(p, dy=-0.06 * _ramp(-y, 0.3, 1.3)),  # skull height
        _field(p, dz=0.06 * _ramp(z, 0.0, 0.9)),  # skull length
        _field(p, dy=0.05 * _ramp(y, -0.1, 0.9)),  # lower face length
        _field(p, dx=0.07 * x * lower),  # jaw width
        _field(p, dx=0.05 * x * lower, dz=0.05 * (z + 0.3) * lower),  # fullness of the lower face
        _field(p, dz=0.05 * _ramp(-y, 0.55, 1.15) * _ramp(-z, 0.2, 0.6)),  # forehead slope
    ]


def _feature_modes(p: FloatArray) -> list[FloatArray]:
    x, y, z = p.T
    side = np.sign(x)
    nose_tip = _bump(p, (0.0, 0.06, -1.25), (0.1, 0.16, 0.14))
    nose_base = _bump(p, (0.0, 0.13, -1.15), (0.14, 0.09, 0.12))
    eyes = _bump(p, EYE, (0.13, 0.1, 0.15))
    mouth = _bump(p, MOUTH, (0.26, 0.12, 0.14))
    ears = _bump(p, EAR, (0.1, 0.3, 0.2))
    cheeks = _bump(p, (0.42, 0.12, -0.8), (0.18, 0.2, 0.2))
    return [
        _field(p, dz=-0.04 * nose_tip),  # nose protrusion
        _field(p, dx=0.025 * x / 0.12 * nose_base),  # nose width
        _field(p, dy=0.03 * nose_tip),  # nose droop
        _field(p, dz=-0.03 * _bump(p, (0.0, -0.15, -1.15), (0.08, 0.12, 0.12))),  # nose bridge
        _field(p, dz=-0.04 * _bump(p, (0.0, 0.8, -0.85), (0.25, 0.15, 0.25))),  # chin protrusion
        _field(p, dx=0.025 * side * eyes),  # eye spacing
        _field(p, dz=0.025 * eyes),  # eye depth
        _field(p, dy=0.025 * _bump(p, EYE, (0.2, 0.15, 0.2))),  # eye height
        _field(p, dz=-0.03 * _bump(p, (0.0, -0.45, -1.05), (0.45, 0.08, 0.15))),  # brow ridge
        _field(p, dx=0.04 * side * cheeks, dz=-0.03 * cheeks),  # cheek fullness
        _field(p, dz=-0.02 * _bump(p, MOUTH, (0.2, 0.1, 0.1))),  # lip fullness
        _field(p, dx=0.03 * x / 0.25 * mouth),  # mouth width
        _field(p, dy=0.025 * mouth),  # mouth height
        _field(p, dx=0.03 * side * ears),  # ear protrusion
        _field(p, dy=0.2 * (y - EAR[1]) * ears),  # ear size
    ]


def _asymmetry_modes(p: FloatArray) -> list[FloatArray]:
    side = np.sign(p[:, 0])
    return [
        _field(p, dy=0.012 * side * _bump(p, EYE, (0.15, 0.12, 0.15))),  # one eye higher
        _field(p, dx=0.015 * _bump(p, (0.0, 0.45, -0.9), (0.35, 0.35, 0.35))),  # nose and mouth off-centre
        _field(
            p, dz=0.02 * side * _ramp(np.abs(p[:, 0]), 0.0, 0.7) * _ramp(-p[:, 2], -0.2, 0.6)
        ),  # face twist
    ]


def shape_basis(mean: FloatArray) -> FloatArray:
    """(S, V, 3) displacement modes for the mean vertices (V, 3)."""
    p = np.asarray(mean, dtype=np.float64)
    return np.stack(_global_modes(p) + _feature_modes(p) + _asymmetry_modes(p))
