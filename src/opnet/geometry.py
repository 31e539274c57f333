"""The one place for coordinate and rotation conventions (see docs/format.md).

Conventions:
- Right-handed; X right, Y down, Z into the screen. The same axes for image space, world space and
  the head's own frame at zero rotation. Pixel (0, 0) is the top-left *corner* of the top-left pixel,
  so the centre of pixel (i, j) is at x = j + 0.5, y = i + 0.5.
- Quaternions are x, y, z, w (real part last, scipy's order). A pose quaternion rotates head-local
  coordinates into image coordinates. Canonical form has w >= 0 (q and -q are the same rotation).
- Euler angles are AFLW2000-3D / 300W-LP's (pitch, yaw, roll) in radians:
  R = Rx(-pitch) @ Ry(yaw) @ Rz(roll). Positive yaw turns the nose towards image -x, positive pitch
  lifts it (towards image -y), positive roll turns image +x towards image +y (clockwise on screen).

All functions take numpy arrays with any number of leading batch dimensions.
"""

from __future__ import annotations

import warnings

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.spatial.transform import Rotation

FloatArray = NDArray[np.floating]
Float64Array = NDArray[np.float64]
"""What the functions here return: they compute in float64."""

# Flips the z axis; conjugating with it converts between our frame and the AFLW Euler frame.
_FLIP_Z = np.diag([1.0, 1.0, -1.0])
_AFLW_SIGNS = np.array([1.0, -1.0, 1.0])


def _rotation(q: ArrayLike) -> tuple[Rotation, tuple[int, ...]]:
    q = np.asarray(q, dtype=np.float64)
    if q.shape[-1] != 4:
        raise ValueError(f"quaternion array must end in 4 (x, y, z, w), got shape {q.shape}")
    return Rotation.from_quat(q.reshape(-1, 4)), q.shape[:-1]


def canonical_quat(q: ArrayLike) -> Float64Array:
    """Normalises (..., 4) xyzw quaternions and flips their sign so that w >= 0."""
    q = np.asarray(q, dtype=np.float64)
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    return np.where(q[..., 3:4] < 0.0, -q, q)


def quat_to_matrix(q: ArrayLike) -> Float64Array:
    """(..., 4) xyzw quaternions -> (..., 3, 3) rotation matrices."""
    rot, batch = _rotation(q)
    return rot.as_matrix().reshape(*batch, 3, 3)


def matrix_to_quat(m: ArrayLike) -> Float64Array:
    """(..., 3, 3) rotation matrices -> (..., 4) canonical xyzw quaternions (w >= 0)."""
    m = np.asarray(m, dtype=np.float64)
    q = Rotation.from_matrix(m.reshape(-1, 3, 3)).as_quat()
    return canonical_quat(q.reshape(*m.shape[:-2], 4))


def quat_to_rotvec(q: ArrayLike) -> Float64Array:
    """(..., 4) xyzw quaternions -> (..., 3) rotation vectors (axis * angle in radians, angle <= pi)."""
    rot, batch = _rotation(q)
    return rot.as_rotvec().reshape(*batch, 3)


def rotvec_to_quat(v: ArrayLike) -> Float64Array:
    """(..., 3) rotation vectors (radians) -> (..., 4) canonical xyzw quaternions."""
    v = np.asarray(v, dtype=np.float64)
    q = Rotation.from_rotvec(v.reshape(-1, 3)).as_quat()
    return canonical_quat(q.reshape(*v.shape[:-1], 4))


def quat_multiply(a: ArrayLike, b: ArrayLike) -> Float64Array:
    """Composition a * b (apply b first, then a) of (..., 4) xyzw quaternions, canonical result."""
    a, b = np.broadcast_arrays(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))
    ra, batch = _rotation(a)
    rb, _ = _rotation(b)
    return canonical_quat((ra * rb).as_quat().reshape(*batch, 4))


def quat_inverse(q: ArrayLike) -> Float64Array:
    """Inverse rotation of (..., 4) xyzw quaternions, canonical result."""
    rot, batch = _rotation(q)
    return canonical_quat(rot.inv().as_quat().reshape(*batch, 4))


def euler_to_quat(pyr: ArrayLike) -> Float64Array:
    """AFLW (pitch, yaw, roll) in radians, shape (..., 3) -> (..., 4) canonical xyzw quaternions.

    This is the rotation of AFLW2000-3D / 300W-LP ``Pose_Para[:3]``: Rx(-pitch) Ry(yaw) Rz(roll).
    """
    pyr = np.asarray(pyr, dtype=np.float64)
    if pyr.shape[-1] != 3:
        raise ValueError(f"Euler array must end in 3 (pitch, yaw, roll), got shape {pyr.shape}")
    angles = pyr.reshape(-1, 3) * np.array([-1.0, 1.0, 1.0])
    q = Rotation.from_euler("XYZ", angles).as_quat()
    return canonical_quat(q.reshape(*pyr.shape[:-1], 4))


def quat_to_euler(q: ArrayLike) -> Float64Array:
    """(..., 4) xyzw quaternions -> AFLW (pitch, yaw, roll) in radians, shape (..., 3).

    The evaluation protocol's decomposition: with P = diag(1, 1, -1),
    (pitch, yaw, roll) = euler_XYZ(P R P) * (1, -1, 1). Exact inverse of :func:`euler_to_quat`
    for |yaw| < 90 deg. At |yaw| = 90 deg (gimbal lock) only a sum of pitch and roll is defined: roll is 0
    there, quietly (scipy's choice, without its warning).
    """
    m = quat_to_matrix(q)
    flipped = _FLIP_Z @ m.reshape(-1, 3, 3) @ _FLIP_Z
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Gimbal lock detected", UserWarning)
        pyr = Rotation.from_matrix(flipped).as_euler("XYZ") * _AFLW_SIGNS
    return pyr.reshape(*m.shape[:-2], 3)


def hpb_to_quat(hpb: ArrayLike) -> Float64Array:
    """Heading, pitch, bank (yaw, pitch, roll) in radians, shape (..., 3) -> (..., 4) canonical quaternions.

    R = Ry(heading) @ Rx(-pitch) @ Rz(bank): the head rolls and pitches in its own frame, then turns
    about the image's vertical axis. Signs are AFLW's, and for small angles the two agree; unlike
    AFLW's angles, pitch becomes an in-plane rotation at heading +-90 deg and bank a nod.
    """
    hpb = np.asarray(hpb, dtype=np.float64)
    if hpb.shape[-1] != 3:
        raise ValueError(f"heading-pitch-bank array must end in 3, got shape {hpb.shape}")
    angles = hpb.reshape(-1, 3) * np.array([1.0, -1.0, 1.0])
    q = Rotation.from_euler("YXZ", angles).as_quat()
    return canonical_quat(q.reshape(*hpb.shape[:-1], 4))


def quat_to_hpb(q: ArrayLike) -> Float64Array:
    """(..., 4) quaternions -> heading, pitch, bank in radians (..., 3); inverse of :func:`hpb_to_quat`
    for |pitch| < 90 deg."""
    rot, batch = _rotation(q)
    return (rot.as_euler("YXZ") * np.array([1.0, -1.0, 1.0])).reshape(*batch, 3)


def geodesic_distance(a: ArrayLike, b: ArrayLike) -> Float64Array:
    """Angle in radians of the rotation between (..., 4) quaternions a and b, in [0, pi]."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    a = a / np.linalg.norm(a, axis=-1, keepdims=True)
    b = b / np.linalg.norm(b, axis=-1, keepdims=True)
    dot = np.abs(np.sum(a * b, axis=-1))
    return 2.0 * np.arccos(np.clip(dot, 0.0, 1.0))


def inplane_rotation_quat(angle_rad: ArrayLike) -> Float64Array:
    """Quaternions (..., 4) of rotations about the image z axis (the viewing direction).

    A positive angle turns image +x towards image +y, i.e. clockwise on screen.
    """
    angle = np.asarray(angle_rad, dtype=np.float64)
    half = 0.5 * angle
    zeros = np.zeros_like(half)
    return canonical_quat(np.stack([zeros, zeros, np.sin(half), np.cos(half)], axis=-1))


def inplane_rotation_matrix_2d(angle_rad: ArrayLike) -> Float64Array:
    """(..., 2, 2) matrices rotating image points (x, y) by ``angle_rad`` (clockwise on screen if > 0)."""
    angle = np.asarray(angle_rad, dtype=np.float64)
    c, s = np.cos(angle), np.sin(angle)
    return np.stack([np.stack([c, -s], axis=-1), np.stack([s, c], axis=-1)], axis=-2)


def rotate_pose_in_plane(q: ArrayLike, angle_rad: ArrayLike) -> Float64Array:
    """Pose (..., 4) after the image is rotated in-plane by ``angle_rad`` about any point.

    Image points move as p' = R2(angle) (p - c) + c with R2 from :func:`inplane_rotation_matrix_2d`;
    the head's rotation becomes Rz(angle) @ R.
    """
    return quat_multiply(inplane_rotation_quat(angle_rad), q)


def mirror_quat(q: ArrayLike) -> Float64Array:
    """Pose (..., 4) of the mirror image under a horizontal flip (x -> -x).

    R' = M R M with M = diag(-1, 1, 1); for quaternions (x, y, z, w) -> (x, -y, -z, w).
    """
    q = np.asarray(q, dtype=np.float64)
    return canonical_quat(q * np.array([1.0, -1.0, -1.0, 1.0]))


def mirror_points(points: ArrayLike, image_width: float) -> Float64Array:
    """Points (..., 2|3) mirrored horizontally in an image of the given width: x -> width - x.

    Only coordinates are mirrored; reorder 68-point landmarks with :data:`IBUG68_MIRROR` as well.
    """
    points = np.array(points, dtype=np.float64)
    points[..., 0] = image_width - points[..., 0]
    return points


def mirror_roi(roi: ArrayLike, image_width: float) -> Float64Array:
    """Boxes (..., 4) x0, y0, x1, y1 mirrored horizontally: the box stays ordered (x0 < x1)."""
    roi = np.asarray(roi, dtype=np.float64)
    x0, y0, x1, y1 = np.moveaxis(roi, -1, 0)
    return np.stack([image_width - x1, y0, image_width - x0, y1], axis=-1)


def _ibug68_mirror() -> NDArray[np.intp]:
    """Index permutation mapping each of the 68 iBUG landmarks to its mirror partner."""
    pairs = [(i, 16 - i) for i in range(8)]  # jaw line 0..16, chin 8 on the axis
    pairs += [(17 + i, 26 - i) for i in range(5)]  # eyebrows
    pairs += [(31, 35), (32, 34)]  # nostrils (nose bridge 27-30 and tip 33 on the axis)
    pairs += [(36, 45), (37, 44), (38, 43), (39, 42), (40, 47), (41, 46)]  # eyes
    pairs += [(48, 54), (49, 53), (50, 52), (55, 59), (56, 58)]  # outer lips (51, 57 on the axis)
    pairs += [(60, 64), (61, 63), (65, 67)]  # inner lips (62, 66 on the axis)
    perm = np.arange(68)
    for a, b in pairs:
        perm[a], perm[b] = b, a
    return perm


IBUG68_MIRROR: NDArray[np.intp] = _ibug68_mirror()
"""``mirrored_landmarks = mirror_points(landmarks, width)[..., IBUG68_MIRROR, :]``."""


def roi_from_points(points: ArrayLike) -> Float64Array:
    """Bounding boxes (..., 4) x0, y0, x1, y1 of point sets (..., K, 2|3)."""
    points = np.asarray(points, dtype=np.float64)
    lo = points[..., :2].min(axis=-2)
    hi = points[..., :2].max(axis=-2)
    return np.concatenate([lo, hi], axis=-1)


def square_roi(roi: ArrayLike, expansion: float = 1.0) -> Float64Array:
    """Square boxes (..., 4) around the centres of ``roi`` with side max(w, h) * expansion."""
    roi = np.asarray(roi, dtype=np.float64)
    centre = 0.5 * (roi[..., :2] + roi[..., 2:])
    half = 0.5 * expansion * np.max(roi[..., 2:] - roi[..., :2], axis=-1, keepdims=True)
    return np.concatenate([centre - half, centre + half], axis=-1)


def box_iou(a: ArrayLike, b: ArrayLike) -> Float64Array:
    """Intersection over union of boxes (..., 4) x0, y0, x1, y1; 0 where the union is empty.

    A box with x1 <= x0 or y1 <= y0 is empty (area 0).
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)

    def area(box: FloatArray) -> Float64Array:
        return np.clip(box[..., 2] - box[..., 0], 0, None) * np.clip(box[..., 3] - box[..., 1], 0, None)

    inter = np.concatenate([np.maximum(a[..., :2], b[..., :2]), np.minimum(a[..., 2:], b[..., 2:])], axis=-1)
    overlap = area(inter)
    union = area(a) + area(b) - overlap
    return np.divide(overlap, union, out=np.zeros_like(overlap), where=union > 0)


def crop_transform(centre: ArrayLike, side: ArrayLike, out_size: int) -> Float64Array:
    """(..., 2, 3) affines from image points into ``out_size`` squares of ``side`` px around ``centre``."""
    s = out_size / np.asarray(side, dtype=np.float64)
    centre = np.asarray(centre, dtype=np.float64)[..., :2]
    zero = np.zeros_like(s)
    shift = out_size / 2 - s[..., None] * centre
    rows = [np.stack([s, zero, shift[..., 0]], axis=-1), np.stack([zero, s, shift[..., 1]], axis=-1)]
    return np.stack(rows, axis=-2)


def to_cv2_affine(affine: ArrayLike) -> Float64Array:
    """Converts a 2x3 affine on pixel-corner coordinates (our convention) for ``cv2.warpAffine``.

    OpenCV addresses pixel centres by integer indices; with p = index + 0.5 the map p' = A p + t
    becomes index' = A index + (A @ (0.5, 0.5) + t - 0.5).
    """
    affine = np.asarray(affine, dtype=np.float64)
    out = affine.copy()
    out[:, 2] = affine[:, :2] @ np.array([0.5, 0.5]) + affine[:, 2] - 0.5
    return out


def transform_points(affine: ArrayLike, points: ArrayLike) -> Float64Array:
    """Applies a 2x3 affine to the x, y of points (..., 2|3); z is scaled by the affine's scale.

    A batch of affines (B, 2, 3) applies to point sets (B, K, 2|3), one affine per set.
    """
    affine = np.asarray(affine, dtype=np.float64)
    out = np.array(points, dtype=np.float64)
    if affine.ndim == 2:
        out[..., :2] = out[..., :2] @ affine[:, :2].T + affine[:, 2]
    else:
        xy = np.einsum("...ij,...kj->...ki", affine[..., :2], out[..., :2])
        out[..., :2] = xy + affine[..., None, :, 2]
    if out.shape[-1] == 3:
        out[..., 2] *= affine_scale(affine)[..., None] if affine.ndim > 2 else affine_scale(affine)
    return out


def compose_affines(*affines: ArrayLike) -> Float64Array:
    """Product of (..., 2, 3) affines: ``compose_affines(a, b)`` maps p to a(b(p)) (the last acts first)."""
    out = np.array(affines[-1], dtype=np.float64)
    for affine in reversed(affines[:-1]):
        a = np.asarray(affine, dtype=np.float64)
        out = a[..., :2] @ out  # [a_lin b_lin | a_lin b_t]
        out[..., 2] += a[..., 2]
    return out


def rotation_about(angle_rad: ArrayLike, centre: ArrayLike) -> Float64Array:
    """(..., 2, 3) affines of the in-plane rotation p' = R2(angle) (p - c) + c (clockwise on screen)."""
    rot = inplane_rotation_matrix_2d(angle_rad)
    c = np.asarray(centre, dtype=np.float64)[..., :2]
    return np.concatenate([rot, (c - rot @ c)[..., None]], axis=-1)


def hflip_affine(width: float) -> Float64Array:
    """2x3 affine of the horizontal flip x -> width - x of an image ``width`` pixels wide."""
    return np.array([[-1.0, 0.0, float(width)], [0.0, 1.0, 0.0]])


def _det2(affine: ArrayLike) -> Float64Array:
    a = np.asarray(affine, dtype=np.float64)
    return a[..., 0, 0] * a[..., 1, 1] - a[..., 0, 1] * a[..., 1, 0]


def affine_scale(affine: ArrayLike) -> Float64Array:
    """Scale factors sqrt(|det|) (...,) of (..., 2, 3) affines: how much lengths (and depths) grow."""
    return np.sqrt(np.abs(_det2(affine)))


def affine_mirrors(affine: ArrayLike) -> NDArray[np.bool_]:
    """Whether (..., 2, 3) affines mirror the image (negative determinant)."""
    return _det2(affine) < 0.0


def transform_quat(affine: ArrayLike, q: ArrayLike) -> Float64Array:
    """Poses (..., 4) after (..., 2, 3) similarity affines (uniform scale, in-plane rotation, maybe a flip).

    An affine is read as ``flip @ (scale * R2(angle))``: the pose is rotated in plane by the angle
    (:func:`rotate_pose_in_plane`) and mirrored (:func:`mirror_quat`) if the determinant is negative.
    """
    lin = np.asarray(affine, dtype=np.float64)[..., :2]
    mirrored = affine_mirrors(lin)
    # With the flip undone (row 0 negated), lin = scale * R2(angle).
    half = 0.5 * np.arctan2(lin[..., 1, 0], np.where(mirrored, -lin[..., 0, 0], lin[..., 0, 0]))
    q = np.asarray(q, dtype=np.float64)
    # Rz(angle) * q with the quaternion (0, 0, sin(half), cos(half)), written out.
    swapped = q[..., [1, 0, 3, 2]] * np.array([-1.0, 1.0, 1.0, -1.0])
    rotated = np.cos(half)[..., None] * q + np.sin(half)[..., None] * swapped
    return canonical_quat(np.where(mirrored[..., None], rotated * np.array([1, -1, -1, 1]), rotated))


def transform_landmarks(affine: ArrayLike, points: ArrayLike) -> Float64Array:
    """68 iBUG landmarks (..., 68, 2|3) through (..., 2, 3) affines, reordered (IBUG68_MIRROR) if mirrored.

    x, y go through the affine and z is scaled by :func:`affine_scale` (see :func:`transform_points`).
    """
    out = transform_points(affine, points)
    mirrored = affine_mirrors(affine)
    return np.where(mirrored[..., None, None], out[..., IBUG68_MIRROR, :], out)


def transform_roi(affine: ArrayLike, roi: ArrayLike) -> Float64Array:
    """Face boxes (..., 4) x0, y0, x1, y1 after (..., 2, 3) affines: the box of the moved inscribed ellipse.

    Exact for scales, shifts and flips. Under an in-plane rotation a face keeps its size, so the
    box stays the ellipse's (a square box keeps its side) instead of growing to the box of the
    rotated corners (up to sqrt(2) times wider at 45 degrees).
    """
    affine = np.asarray(affine, dtype=np.float64)
    roi = np.asarray(roi, dtype=np.float64)
    lin = affine[..., :2]
    centre = np.einsum("...ij,...j->...i", lin, 0.5 * (roi[..., :2] + roi[..., 2:])) + affine[..., 2]
    semi_axes = 0.5 * np.abs(roi[..., 2:] - roi[..., :2])
    half = np.sqrt((semi_axes[..., None, :] ** 2 * lin**2).sum(axis=-1))
    return np.concatenate([centre - half, centre + half], axis=-1)
