"""Signed-distance primitives for building procedural meshes (negative inside, units of the model).

Primitives take points *coordinate-major*, shape (3, N) (rows x, y, z: contiguous rows make the
arithmetic several times faster than (N, 3)), and return (N,) approximate signed distances. The
ellipsoid and cone distances are bounds, not exact: good enough to find surfaces and to blend
shapes with the smooth operators, which is all the procedural head needs.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
Vec3 = tuple[float, float, float]


def ellipsoid(p: FloatArray, centre: Vec3, radii: Vec3) -> FloatArray:
    """Ellipsoid with semi-axes ``radii`` along x, y, z (Quilez's first-order bound)."""
    k0 = np.zeros(p.shape[1])
    k1 = np.zeros(p.shape[1])
    for axis in range(3):
        q = (p[axis] - centre[axis]) / radii[axis]
        q2 = q * q
        k0 += q2
        k1 += q2 / (radii[axis] * radii[axis])
    k0 = np.sqrt(k0)
    return k0 * (k0 - 1.0) / np.sqrt(np.maximum(k1, 1e-24))


def rotated_ellipsoid(p: FloatArray, centre: Vec3, radii: Vec3, angle_x_rad: float) -> FloatArray:
    """Ellipsoid turned by ``angle_x_rad`` about the x axis (tilts its y axis towards +z)."""
    c, s = np.cos(angle_x_rad), np.sin(angle_x_rad)
    y, z = p[1] - centre[1], p[2] - centre[2]
    local = np.stack([p[0] - centre[0], c * y + s * z, c * z - s * y])
    return ellipsoid(local, (0.0, 0.0, 0.0), radii)


def round_cone(p: FloatArray, a: Vec3, b: Vec3, radius_a: float, radius_b: float) -> FloatArray:
    """Capsule from ``a`` to ``b`` whose radius changes linearly from ``radius_a`` to ``radius_b``."""
    axis = np.subtract(b, a)
    t = sum((p[k] - a[k]) * axis[k] for k in range(3)) / float(axis @ axis)
    t = np.clip(t, 0.0, 1.0)
    distance2 = sum((p[k] - a[k] - t * axis[k]) ** 2 for k in range(3))
    return np.sqrt(distance2) - (radius_a + t * (radius_b - radius_a))


def smooth_union(a: FloatArray, b: FloatArray, k: float) -> FloatArray:
    """Union of two shapes with a rounded seam about ``k`` wide (polynomial smooth minimum)."""
    h = np.maximum(k - np.abs(a - b), 0.0)
    return np.minimum(a, b) - h * h / (4.0 * k)


def smooth_subtract(a: FloatArray, b: FloatArray, k: float) -> FloatArray:
    """Shape ``a`` with shape ``b`` carved out of it, seam about ``k`` wide."""
    return -smooth_union(-a, b, k)


def mirror_x(p: FloatArray) -> FloatArray:
    """Points (3, N) with x replaced by |x|: a primitive placed at x > 0 then appears on both sides."""
    return np.stack([np.abs(p[0]), p[1], p[2]])
