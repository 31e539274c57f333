"""Ensembles average rotations as rotations."""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from opnet.evaluate.ensemble import average_predictions, average_rotations
from opnet.geometry import geodesic_distance, quat_to_euler
from opnet.runtime import PosePrediction


def yaw_quat(deg):
    """Rotations about the image y axis (AFLW yaw); (N, 4) for a list of angles."""
    angles = np.asarray(deg, float)
    return Rotation.from_euler("y", angles[..., None] if angles.ndim else angles, degrees=True).as_quat()


def test_plus_and_minus_ten_degrees_of_yaw_average_to_zero():
    mean = average_rotations(np.stack([yaw_quat([10, 30]), yaw_quat([-10, 10])]))
    assert np.allclose(np.rad2deg(quat_to_euler(mean)[:, 1]), [0, 20])


def test_quaternion_signs_do_not_matter_unlike_component_means():
    # Yaw +170 and -170 deg are 20 deg apart around 180 deg; in canonical form (w >= 0) their
    # quaternions are (0, +-sin 85, 0, cos 85), whose component mean is the identity: 180 deg off.
    a, b = yaw_quat(170), yaw_quat(-170)
    assert a[3] > 0 and b[3] > 0
    component_mean = (a + b) / np.linalg.norm(a + b)
    assert np.isclose(np.rad2deg(geodesic_distance(component_mean, yaw_quat(180))), 180)
    for pair in ([a, b], [a, -b], [-a, b]):
        proper = average_rotations(np.stack(pair)[:, None])[0]
        assert np.isclose(np.rad2deg(geodesic_distance(proper, yaw_quat(180))), 0, atol=1e-6)


def prediction(quat, coords, points=None):
    n = len(quat)
    return PosePrediction(np.asarray(quat, float), np.asarray(coords, float), np.zeros((n, 4)), points=points)


def test_ensemble_of_one_is_the_model_and_positions_are_means():
    rng = np.random.default_rng(0)
    q = Rotation.random(5, random_state=2).as_quat()
    q[q[:, 3] < 0] *= -1
    one = prediction(q, rng.normal(size=(5, 3)), rng.normal(size=(5, 68, 3)))
    same = average_predictions([one])
    assert np.allclose(same.quat, one.quat) and np.allclose(same.coords, one.coords)
    assert np.allclose(same.points, one.points)
    two = average_predictions([one, prediction(-q, one.coords + 2.0)])
    assert (
        np.allclose(two.quat, one.quat) and np.allclose(two.coords, one.coords + 1.0) and two.points is None
    )
