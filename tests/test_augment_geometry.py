"""The affine helpers the augmentation adds to opnet.geometry, and decoding at reduced size."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from opnet import geometry as g
from opnet.data.images import decode_gray_reduced, encode_image

quats = arrays(np.float64, (4,), elements=st.floats(-1, 1, allow_nan=False)).filter(
    lambda q: np.linalg.norm(q) > 0.1
)
angles = st.floats(-3.2, 3.2, allow_nan=False)


def homogeneous(affine):
    m = np.eye(3)
    m[:2] = affine
    return m


def similarity(angle, scale, flip, shift=(3.0, -7.0), width=129.0):
    """flip @ rotation @ scale, as the augmentation builds it."""
    parts = [g.rotation_about(angle, (40.0, 50.0)), [[scale, 0, shift[0]], [0, scale, shift[1]]]]
    return g.compose_affines(*([g.hflip_affine(width)] if flip else []), *parts)


def test_compose_affines_is_the_matrix_product_and_batches():
    rng = np.random.default_rng(0)
    a, b, c = rng.normal(size=(3, 2, 3))
    assert np.allclose(g.compose_affines(a, b, c), (homogeneous(a) @ homogeneous(b) @ homogeneous(c))[:2])
    batch = rng.normal(size=(5, 2, 3))
    out = g.compose_affines(a, batch)
    assert out.shape == (5, 2, 3) and np.allclose(out[3], g.compose_affines(a, batch[3]))


@given(angles)
def test_rotation_about_fixes_its_centre_and_matches_the_2d_matrix(angle):
    affine = g.rotation_about(angle, (10.0, -4.0))
    assert np.allclose(g.transform_points(affine, [[10.0, -4.0]]), [[10.0, -4.0]])
    p = np.array([[13.0, 1.0]])
    expected = (p - [10.0, -4.0]) @ g.inplane_rotation_matrix_2d(angle).T + [10.0, -4.0]
    assert np.allclose(g.transform_points(affine, p), expected)


def test_batched_helpers_equal_their_single_versions():
    rng = np.random.default_rng(1)
    angles_b, centres, sides = rng.uniform(-3, 3, 4), rng.uniform(0, 300, (4, 2)), rng.uniform(50, 300, 4)
    crops = g.crop_transform(centres, sides, 129)
    rotations = g.rotation_about(angles_b, (64.5, 64.5))
    points = rng.uniform(0, 300, (4, 68, 3))
    for i in range(4):
        assert np.allclose(crops[i], g.crop_transform(centres[i], sides[i], 129))
        assert np.allclose(rotations[i], g.rotation_about(angles_b[i], (64.5, 64.5)))
        assert np.allclose(g.transform_points(crops, points)[i], g.transform_points(crops[i], points[i]))
    assert np.allclose(g.inplane_rotation_matrix_2d(angles_b)[2], g.inplane_rotation_matrix_2d(angles_b[2]))


@given(quats, angles, st.floats(0.2, 3.0), st.booleans())
@settings(max_examples=60)
def test_transform_quat_is_in_plane_rotation_then_mirror(q, angle, scale, flip):
    expected = g.rotate_pose_in_plane(q, angle)
    expected = g.mirror_quat(expected) if flip else expected
    got = g.transform_quat(similarity(angle, scale, flip), q)
    assert got[3] >= 0 and g.geodesic_distance(got, expected) < 1e-6


def test_transform_quat_batches():
    rng = np.random.default_rng(2)
    q = g.canonical_quat(rng.normal(size=(6, 4)))
    affines = np.stack(
        [similarity(a, 1.3, f) for a, f in zip(rng.uniform(-3, 3, 6), [0, 1, 0, 1, 1, 0], strict=True)]
    )
    got = g.transform_quat(affines, q)
    for i in range(6):
        assert np.allclose(got[i], g.transform_quat(affines[i], q[i]))


def test_transform_landmarks_reorders_only_when_mirroring():
    pts = np.random.default_rng(3).uniform(0, 100, (68, 3))
    plain = similarity(0.3, 1.5, False)
    assert np.allclose(g.transform_landmarks(plain, pts), g.transform_points(plain, pts))
    mirror = similarity(0.3, 1.5, True)
    assert np.allclose(g.transform_landmarks(mirror, pts), g.transform_points(mirror, pts)[g.IBUG68_MIRROR])
    assert g.affine_mirrors(mirror) and not g.affine_mirrors(plain)
    assert np.isclose(g.affine_scale(mirror), 1.5)
    both = g.transform_landmarks(np.stack([plain, mirror]), np.stack([pts, pts]))
    assert np.allclose(both[1], g.transform_landmarks(mirror, pts))


def test_transform_roi_is_exact_without_rotation_and_keeps_a_square_under_rotation():
    roi = np.array([10.0, 20.0, 50.0, 80.0])
    for flip in (False, True):
        affine = similarity(0.0, 2.0, flip)
        corners = g.transform_points(affine, roi.reshape(2, 2))
        assert np.allclose(g.transform_roi(affine, roi), g.roi_from_points(corners))
    square = np.array([0.0, 0.0, 40.0, 40.0])
    for angle in (0.3, np.pi / 4, 2.0):
        out = g.transform_roi(similarity(angle, 2.0, False), square)
        assert np.allclose(out[2:] - out[:2], [80.0, 80.0])
        centre = g.transform_points(similarity(angle, 2.0, False), [[20.0, 20.0]])[0]
        assert np.allclose(0.5 * (out[:2] + out[2:]), centre)
    # A tall box turned by 90 degrees becomes a wide one.
    turned = g.transform_roi(g.rotation_about(np.pi / 2, (0.0, 0.0)), roi)
    assert np.allclose(turned[2:] - turned[:2], [60.0, 40.0])


def _dot_image(size: int, centre: tuple[float, float], sigma: float = 4.0) -> np.ndarray:
    yy, xx = np.mgrid[0:size, 0:size] + 0.5
    return (250 * np.exp(-((xx - centre[0]) ** 2 + (yy - centre[1]) ** 2) / (2 * sigma**2))).astype(np.uint8)


def _centroid(image: np.ndarray) -> np.ndarray:
    yy, xx = np.mgrid[0 : image.shape[0], 0 : image.shape[1]] + 0.5
    w = image.astype(np.float64)
    return np.array([(xx * w).sum(), (yy * w).sum()]) / w.sum()


@pytest.mark.parametrize("lossy", [True, False])
@pytest.mark.parametrize("reduction", [1, 2, 4, 8])
def test_reduced_decoding_divides_coordinates(lossy, reduction):
    image = _dot_image(203, (101.3, 77.8), sigma=6.0)
    decoded = decode_gray_reduced(encode_image(image, lossy=lossy, jpeg_quality=98), reduction)
    assert decoded.shape == (-(-203 // reduction),) * 2
    assert np.allclose(_centroid(decoded) * reduction, [101.3, 77.8], atol=0.25)
    full = cv2.resize(image[:200, :200], (200 // reduction,) * 2, interpolation=cv2.INTER_AREA)
    assert np.abs(decoded[: 200 // reduction, : 200 // reduction].astype(int) - full).max() <= (
        12 if lossy else 1
    )


def test_reduced_decoding_rejects_other_factors_and_garbage():
    with pytest.raises(ValueError, match="reduction"):
        decode_gray_reduced(b"\xff\xd8\xff", 3)
    assert decode_gray_reduced(b"", 2) is None
    assert decode_gray_reduced(b"\x89PNG\r\n\x1a\nbroken", 2) is None


def test_forehead_box_reaches_up_half_the_chin_to_brow_height():
    from opnet.augment import forehead_box

    pts = np.zeros((68, 3))
    pts[:, 0] = np.linspace(100, 200, 68)
    pts[:, 1] = 150.0
    pts[8, 1], pts[27, 1] = 260.0, 120.0  # chin, top of the nose bridge
    pts[17:27, 1] = 110.0  # eyebrows
    box = forehead_box(pts)
    assert np.allclose(box, [100, 110 - 0.5 * 140, 200, 260])
    turned = g.transform_points(g.rotation_about(np.pi / 2, (150.0, 150.0)), pts)
    hairline_x = 150.0 + (110 - 0.5 * 140 - 150.0) * -1  # rotated by 90 degrees: up (-y) becomes +x
    assert np.isclose(forehead_box(turned)[2], hairline_x)


def test_brightness_normalisation_uses_the_90th_percentile_level():
    from opnet.normalization import brightness_scale

    for seed in range(100):
        rng = np.random.default_rng(seed)
        crop = rng.integers(0, rng.integers(1, 256), (129, 129), dtype=np.uint8)
        g90 = int(np.sort(crop.ravel())[int(crop.size * 0.9)])
        assert brightness_scale(crop) == (0.45 / max(5, g90) if g90 < 127 else 1 / 255)
