"""``prepare biwi``: pose in the RGB camera frame, projected head centre and size, OPAL23 boxes."""

from __future__ import annotations

import numpy as np
import pytest
from prepare_fixtures import biwi_members, write_zip
from scipy.spatial.transform import Rotation

from opnet.data import open_dataset
from opnet.errors import OpNetError
from opnet.geometry import quat_to_euler
from opnet.prepare import Biwi, read_opal_annotation, run_conversion

K = np.array([[517.679, 0.0, 320.0], [0.0, 517.679, 240.5], [0.0, 0.0, 1.0]])
R_CAM = Rotation.from_euler("XYZ", [0.01, -0.02, 0.005]).as_matrix()
T_CAM = np.array([-24.0418, -0.308531, -0.249804])


@pytest.fixture
def poses(rng):
    out = {}
    for person, frames in ((2, (7, 3, 12)), (1, (4, 5))):
        for frame in frames:
            rot = Rotation.from_euler("XYZ", rng.uniform(-0.7, 0.7, 3)).as_matrix()
            out[(person, frame)] = (
                rot,
                np.array([rng.uniform(-150, 150), rng.uniform(-100, 100), rng.uniform(700, 1200)]),
            )
    return out


@pytest.fixture
def biwi_zip(tmp_path, rng, poses):
    members = biwi_members(rng, (K, R_CAM, T_CAM), poses)
    return write_zip(tmp_path / "biwi.zip", members), members


def _expected(rot_depth, centre_depth):
    """REFERENCE.md/docs derivation written out: RGB camera frame, pinhole projection (+0.5 px)."""
    rot = R_CAM @ rot_depth
    centre = R_CAM @ centre_depth + T_CAM
    eyes = centre + rot @ np.array([0.03, -0.35, -0.2]) * 100.0

    def pixel(p):
        return np.array([K[0, 0] * p[0] / p[2] + K[0, 2] + 0.5, K[1, 1] * p[1] / p[2] + K[1, 2] + 0.5])

    size = K[0, 0] * 100.0 / centre[2]
    middle = pixel(centre)
    return rot, np.array([*pixel(eyes), size]), np.array([*(middle - size), *(middle + size)])


def test_labels_in_the_rgb_camera_frame(tmp_path, biwi_zip, poses):
    archive, members = biwi_zip
    summary = run_conversion(Biwi(), archive, tmp_path / "biwi.h5")
    assert summary.written == 5 and summary.sequences == 2
    keys = sorted(poses)
    with open_dataset(tmp_path / "biwi.h5") as ds:
        assert ds.fields["images"].attrs["lossy"] == np.False_
        np.testing.assert_array_equal(ds.sequence_starts, [0, 2, 5])
        for i, (person, frame) in enumerate(keys):
            rot, coords, box = _expected(*poses[(person, frame)])
            assert ds.read_image_bytes(i) == members[f"faces_0/{person:02d}/frame_{frame:05d}_rgb.png"]
            q = ds.read_field("quats", [i])[0].astype(np.float64)
            assert (Rotation.from_quat(q) * Rotation.from_matrix(rot).inv()).magnitude() < 1e-6
            np.testing.assert_allclose(ds.read_field("coords", [i])[0], coords, rtol=1e-6)
            np.testing.assert_allclose(ds.read_field("rois", [i])[0], box, rtol=1e-6)


def test_a_frontal_upright_head_faces_the_camera(tmp_path, rng):
    """Identity rotation: our zero pose (face towards the camera); turning the head about the
    camera's y axis by +a is yaw +a (nose towards image -x) in the AFLW convention."""
    turned = Rotation.from_euler("y", 0.4).as_matrix()
    poses = {
        (1, 1): (np.eye(3), np.array([0.0, 0.0, 1000.0])),
        (1, 2): (turned, np.array([0.0, 0.0, 1000.0])),
    }
    identity = (K, np.eye(3), np.zeros(3))
    write_zip(tmp_path / "b.zip", biwi_members(rng, identity, poses))
    run_conversion(Biwi(), tmp_path / "b.zip", tmp_path / "b.h5")
    with open_dataset(tmp_path / "b.h5") as ds:
        quats, coords = ds.read_field("quats").astype(np.float64), ds.read_field("coords")
    np.testing.assert_allclose(quats[0], [0, 0, 0, 1], atol=1e-7)
    np.testing.assert_allclose(
        coords[0], [320.5 + 517.679 * 3 / 980, 241.0 - 517.679 * 35 / 980, 51.7679], rtol=1e-5
    )
    np.testing.assert_allclose(quat_to_euler(quats[1]), [0.0, 0.4, 0.0], atol=1e-6)


def test_opal_annotation_selects_frames_and_gives_the_boxes(tmp_path, biwi_zip, poses):
    annotation = tmp_path / "biwi_ann.txt"
    annotation.write_text(
        "#;image;tl_x;tl_y;br_x;br_y;pose\n"
        "kinect_head_pose_db/02/frame_00012_rgb.png;335;179;435;283;13.75;-31.89;1.12\n"
        "kinect_head_pose_db/01/frame_00005_rgb.png;354;181;447;291;-27.07;-32.06;10.46\n"
        "kinect_head_pose_db/02/frame_00003_rgb.png;323;182;414;295;39.68;-29.86;-9.99\n"
        "kinect_head_pose_db/02/frame_00099_rgb.png;1;2;3;4;0;0;0\n"
    )
    boxes = read_opal_annotation(annotation)
    summary = run_conversion(Biwi(boxes=boxes), biwi_zip[0], tmp_path / "biwi.h5")
    assert summary.written == 3 and summary.skipped == {"annotated frame not in the archive": 1}
    with open_dataset(tmp_path / "biwi.h5") as ds:
        np.testing.assert_array_equal(
            ds.read_field("rois"), [[354, 181, 447, 291], [323, 182, 414, 295], [335, 179, 435, 283]]
        )
        np.testing.assert_array_equal(ds.sequence_starts, [0, 1, 3])
        _, coords, _ = _expected(*poses[(2, 3)])
        np.testing.assert_allclose(ds.read_field("coords", [1])[0], coords, rtol=1e-6)


def test_a_malformed_annotation_line_names_file_and_line(tmp_path):
    annotation = tmp_path / "ann.txt"
    annotation.write_text(
        "#;image;tl_x;tl_y;br_x;br_y;pose\nkinect_head_pose_db/01/frame_00001_rgb.png;1;2\n"
    )
    with pytest.raises(OpNetError, match=r"ann.txt, line 2: expected"):
        read_opal_annotation(annotation)


def test_a_bad_pose_file_is_skipped(tmp_path, rng, poses):
    members = biwi_members(rng, (K, R_CAM, T_CAM), poses)
    members["faces_0/01/frame_00004_pose.txt"] = b"1 2 3\n4 5 6\n7 8 9\n\n1 2 3\n"
    write_zip(tmp_path / "b.zip", members)
    summary = run_conversion(Biwi(), tmp_path / "b.zip", tmp_path / "b.h5")
    assert summary.written == 4
    assert summary.skipped == {"bad annotation (pose file holds no rotation matrix)": 1}
