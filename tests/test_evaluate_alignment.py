"""BIWI alignments: perspective correction on hand-computed cases, OPAL23's Karcher-mean alignment."""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from opnet.evaluate.alignment import camera_ray_rotation, karcher_mean, opal23_aligned, perspective_corrected
from opnet.geometry import geodesic_distance


def test_ray_through_the_image_centre_needs_no_correction():
    m = camera_ray_rotation([[320, 240]], [[640, 480]], 57.0)
    assert np.allclose(m[0], np.eye(3))


def test_perspective_correction_hand_computed():
    identity = np.array([[0, 0, 0, 1.0]])
    # FOV 90 deg: f = 320 px. The right edge's ray (320, 0, 320) is the camera z axis turned 45 deg about y.
    q = perspective_corrected(identity, [[640, 240]], [[640, 480]], 90.0)
    assert np.allclose(q, [[0, np.sin(np.pi / 8), 0, np.cos(np.pi / 8)]])
    # The top edge's ray (0, -240, 320) = (0, -0.6, 0.8) * 400: a rotation of +36.87 deg about x.
    m = camera_ray_rotation([[320, 0]], [[640, 480]], 90.0)[0]
    assert np.allclose(m, [[1, 0, 0], [0, 0.8, -0.6], [0, 0.6, 0.8]])
    # The correction is applied on the left: R_camera = R_ray @ R_predicted.
    pred = Rotation.from_euler("y", 20, degrees=True)
    out = perspective_corrected(pred.as_quat()[None], [[640, 240]], [[640, 480]], 90.0)
    assert np.isclose(Rotation.from_quat(out[0]).as_euler("xyz", degrees=True)[1], 65)


def test_karcher_mean_of_symmetric_rotations_is_their_centre():
    centre = Rotation.from_euler("xyz", [10, -20, 5], degrees=True)
    rots = centre * Rotation.from_euler("z", [[-10], [10], [-3], [3]], degrees=True)
    assert np.rad2deg((karcher_mean(rots).inv() * centre).magnitude()) < 1e-4


def test_opal23_alignment_recovers_each_persons_constant_offset():
    rng = np.random.default_rng(3)
    true = Rotation.from_rotvec(rng.normal(scale=0.5, size=(40, 3)))
    groups = np.repeat([0, 1], 20)
    offsets = Rotation.from_euler("xyz", [[8, -5, 3], [-4, 10, 0]], degrees=True)
    noise = Rotation.from_rotvec(rng.normal(scale=0.01, size=(40, 3)))
    pred = true * offsets[groups] * noise
    before = np.rad2deg(geodesic_distance(pred.as_quat(), true.as_quat()))
    aligned = opal23_aligned(pred.as_quat(), true.as_quat(), groups)
    after = np.rad2deg(geodesic_distance(aligned, true.as_quat()))
    assert before.mean() > 8 and after.mean() < 1.5 and np.all(aligned[:, 3] >= 0)
    exact = opal23_aligned((true * offsets[groups]).as_quat(), true.as_quat(), groups)
    assert np.allclose(geodesic_distance(exact, true.as_quat()), 0, atol=1e-6)
