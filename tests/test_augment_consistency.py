"""Each augmentation keeps the labels on the image: bright dots drawn at known landmark positions are
found again where the transformed labels say, for every kind of transform and decode reduction."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import AFLW_MINI, needs_shared

from opnet.augment import AugmentConfig, AugmentParams, FaceLabels, augment_batch, sample_params
from opnet.data.images import decode_gray_reduced, encode_image
from opnet.facemodel import project
from opnet.geometry import IBUG68_MIRROR, euler_to_quat, quat_to_euler, roi_from_points, transform_roi

SPACING = 22.0  # between dots, source pixels at k = 1
SIGMA = 3.0


def dot_scene(k: int = 1, seed: int = 0) -> tuple[np.ndarray, FaceLabels]:
    """A 400k x 400k image with 68 Gaussian dots on a grid, and labels: the dots (with random depth),
    a 200k ROI around them, the head centre on dot 30 and a random pose."""
    rng = np.random.default_rng(seed)
    cols, rows = np.meshgrid(np.arange(9) - 4.0, np.arange(8) - 3.5)
    xy = (np.stack([cols.ravel(), rows.ravel()], axis=1)[:68] * SPACING + 200.0 + rng.uniform(-3, 3, 2)) * k
    points = np.concatenate([xy, rng.normal(0, 30 * k, (68, 1))], axis=1)
    size = int(400 * k)
    image = np.zeros((size, size))
    sigma, reach = SIGMA * k, int(5 * SIGMA * k)
    yy, xx = np.mgrid[-reach : reach + 1, -reach : reach + 1]
    for x, y in xy:
        ix, iy = int(x), int(y)
        blob = np.exp(-((xx + ix + 0.5 - x) ** 2 + (yy + iy + 0.5 - y) ** 2) / (2 * sigma**2))
        image[iy - reach : iy + reach + 1, ix - reach : ix + reach + 1] += 250 * blob
    centre = xy.mean(axis=0)
    labels = FaceLabels.one(
        roi=[*(centre - 100 * k), *(centre + 100 * k)],
        coords=[*xy[30], 60 * k],
        quat=euler_to_quat(rng.uniform(-0.7, 0.7, 3)),
        points=points,
        shapeparams=rng.normal(size=50),
    )
    return np.clip(image, 0, 255).astype(np.uint8), labels


def decoder(image: np.ndarray, lossy: bool):
    buffer = encode_image(image, lossy=lossy, jpeg_quality=97)
    return lambda i, reduction: decode_gray_reduced(buffer, reduction)


def dot_errors(patch: np.ndarray, expected: np.ndarray, spacing: float) -> np.ndarray:
    """Distances (pixels) between expected dot positions inside the patch and the centroids there."""
    radius = 0.45 * spacing
    yy, xx = np.mgrid[0 : patch.shape[0], 0 : patch.shape[1]] + 0.5
    errors = []
    for x, y in expected[:, :2]:
        if not (radius < x < patch.shape[1] - radius and radius < y < patch.shape[0] - radius):
            continue
        window = (xx - x) ** 2 + (yy - y) ** 2 < radius**2
        w = patch[window].astype(np.float64)
        w -= w.min()
        centroid = np.array([(xx[window] * w).sum(), (yy[window] * w).sum()]) / w.sum()
        errors.append(np.hypot(*(centroid - (x, y))))
    return np.array(errors)


def params(
    scale=1.1, shift=(0.0, 0.0), angle_deg=0.0, flip=False, intensity=(), noise_std=0.0, quarter_turns=0
) -> AugmentParams:
    return AugmentParams(
        np.array([scale]),
        np.array([shift]),
        np.radians([angle_deg]),
        np.array([quarter_turns]),
        np.array([flip]),
        (tuple(intensity),),
        np.array([noise_std]),
        np.array([7]),
    )


GEOMETRIC = {
    "crop": params(),
    "scale_shift": params(scale=0.75, shift=(0.6, -0.8)),
    "zoom_out": params(scale=1.55, shift=(-1.0, 0.3)),
    "rotation": params(angle_deg=30.0),
    "flip": params(flip=True),
    "quarter_turn": params(quarter_turns=-1),
    "all": params(scale=0.9, shift=(0.3, 0.4), angle_deg=-30.0, flip=True),
}


@pytest.mark.parametrize("k", [1, 2, 4])
@pytest.mark.parametrize("lossy", [False, True])
@pytest.mark.parametrize("name", list(GEOMETRIC))
def test_geometric_augmentations_keep_landmarks_on_the_dots(name, lossy, k):
    image, labels = dot_scene(k)
    p = GEOMETRIC[name]
    out = augment_batch(decoder(image, lossy), labels, p, AugmentConfig())
    spacing = SPACING * k * 129 / (200 * k * p.scale[0])
    errors = dot_errors(out.patches[0], out.labels.points[0], spacing)
    assert len(errors) >= 20
    assert errors.max() < (0.35 if lossy else 0.2), f"{name}: dots off by up to {errors.max():.2f} px"


@pytest.mark.parametrize("name", ["crop", "all"])
def test_large_crops_decoded_at_reduced_size_keep_landmarks_on_the_dots(name):
    from opnet.augment.geometric import crop_affines, decode_reductions

    image, labels = dot_scene(8)
    p = GEOMETRIC[name]
    assert decode_reductions(crop_affines(labels.roi, p, 129))[0] == 2
    out = augment_batch(decoder(image, True), labels, p, AugmentConfig())
    errors = dot_errors(out.patches[0], out.labels.points[0], SPACING * 129 / (200 * p.scale[0]))
    assert len(errors) >= 20 and errors.max() < 0.35


@pytest.mark.parametrize("seed", range(6))
def test_sampled_augmentations_keep_landmarks_on_the_dots(seed):
    image, labels = dot_scene(2, seed)
    config = AugmentConfig(intensity=False)
    p = sample_params([np.random.default_rng(seed)], config)
    out = augment_batch(decoder(image, True), labels, p, config)
    errors = dot_errors(out.patches[0], out.labels.points[0], SPACING * 129 / (200 * p.scale[0]))
    assert len(errors) >= 10 and errors.max() < 0.35


INTENSITY = [
    ("gamma", 0.5),
    ("gamma", 2.0),
    ("contrast", 0.7),
    ("contrast", 1.5),
    ("brightness", 0.7),
    ("brightness", 1.5),
    ("equalize", 0.0),
    ("posterize", 4.0),
    ("blur", 1.5),
]


@pytest.mark.parametrize("op", INTENSITY, ids=[f"{n}-{v}" for n, v in INTENSITY])
def test_intensity_augmentations_leave_dots_and_labels_in_place(op):
    image, labels = dot_scene(1)
    plain = augment_batch(decoder(image, False), labels, params(), AugmentConfig())
    out = augment_batch(decoder(image, False), labels, params(intensity=[op]), AugmentConfig())
    assert np.array_equal(out.labels.points, plain.labels.points) and np.array_equal(out.boxes, plain.boxes)
    assert not np.array_equal(out.patches, plain.patches)
    assert dot_errors(out.patches[0], out.labels.points[0], SPACING * 129 / 220).max() < 0.3


def test_noise_is_zero_mean_with_the_sampled_std_and_replayable():
    image = np.full((300, 300), 128, np.uint8)
    labels = FaceLabels.one(roi=[50, 50, 250, 250])
    plain = augment_batch(decoder(image, False), labels, params(), AugmentConfig()).patches[0].astype(float)
    noisy = augment_batch(decoder(image, False), labels, params(noise_std=16.0), AugmentConfig()).patches[0]
    again = augment_batch(decoder(image, False), labels, params(noise_std=16.0), AugmentConfig()).patches[0]
    diff = noisy - plain
    assert abs(diff.mean()) < 0.5 and abs(diff.std() - 16.0) < 0.5 and np.array_equal(noisy, again)


def test_head_centre_size_and_box_follow_the_affine():
    image, labels = dot_scene(1)
    for name, p in GEOMETRIC.items():
        out = augment_batch(decoder(image, False), labels, p, AugmentConfig())
        affine = out.affines[0]
        assert np.allclose(out.labels.coords[0, :2], out.labels.points[0, 30, :2]), (
            name
        )  # dot 30 is on the midline
        scale = np.sqrt(abs(np.linalg.det(affine[:, :2])))
        assert np.isclose(out.labels.coords[0, 2], 60 * scale), name
        assert np.allclose(out.boxes[0], transform_roi(affine, labels.roi[0])), name


def test_the_box_target_frames_the_face_like_the_crop():
    """Without jitter the box target is the crop box / expansion: the next frame's crop would be the same
    (to the rounding of the crop's side to whole pixels, about 240 here, as the evaluation crop rounds)."""
    image, labels = dot_scene(1)
    for mode in ("original", "landmarks", "extent_to_forehead"):
        config = AugmentConfig(roi_mode=mode)
        out = augment_batch(decoder(image, False), labels, params(scale=config.expansion), config)
        box = out.boxes[0]
        assert np.allclose(0.5 * (box[:2] + box[2:]), 64.5), mode
        assert np.isclose(np.max(box[2:] - box[:2]), 129 / config.expansion, rtol=0.5 / 200), mode
        if mode == "landmarks":
            assert np.allclose(box, roi_from_points(out.labels.points[0]))


@pytest.mark.parametrize("name", list(GEOMETRIC))
def test_pose_centre_and_landmarks_stay_one_consistent_head(name):
    """Landmarks projected from a head model with the labelled pose and centre must still be that
    projection after the transform: pose, centre, size and points move together (z included)."""
    rng = np.random.default_rng(4)
    model = rng.uniform(-1, 1, (68, 3))
    q, coords = euler_to_quat([0.3, -0.5, 0.2]), np.array([200.0, 210.0, 70.0])
    labels = FaceLabels.one(roi=[120, 130, 280, 290], coords=coords, quat=q, points=project(model, q, coords))
    image = np.zeros((400, 400), np.uint8)
    out = augment_batch(decoder(image, False), labels, GEOMETRIC[name], AugmentConfig()).labels
    flipped = GEOMETRIC[name].flip[0]
    model_out = (model * [-1, 1, 1])[IBUG68_MIRROR] if flipped else model
    assert np.allclose(out.points[0], project(model_out, out.quat[0], out.coords[0]), atol=1e-9)
    assert out.has_shapeparams[0] == labels.has_shapeparams[0] and labels.has_shapeparams[0] is np.False_


def test_flip_mirrors_pose_and_drops_shape_parameters():
    image, labels = dot_scene(1)
    out = augment_batch(decoder(image, False), labels, params(flip=True), AugmentConfig()).labels
    pitch, yaw, roll = quat_to_euler(labels.quat[0])
    assert np.allclose(quat_to_euler(out.quat[0]), [pitch, -yaw, -roll])
    assert not out.has_shapeparams[0]
    kept = augment_batch(decoder(image, False), labels, params(angle_deg=30), AugmentConfig()).labels
    assert kept.has_shapeparams[0]


@needs_shared(AFLW_MINI)
def test_flipped_real_faces_keep_left_landmarks_on_the_left():
    """On near-frontal faces the iBUG points 36 (eye), 0 (jaw) and 48 (mouth) lie left of their partners
    45, 16 and 54 in the image, before and after a flip (the order is mirrored with the pixels)."""
    from opnet.data import open_dataset
    from opnet.train.labels import load_label_table

    ds = open_dataset(AFLW_MINI)
    table = load_label_table(ds)
    yaw = np.degrees(quat_to_euler(table.labels.quat)[:, 1])
    frontal = np.flatnonzero(np.abs(yaw) < 20)
    assert len(frontal) >= 3
    for row in frontal:
        buffer = ds.read_image_bytes(int(row))
        for flip in (False, True):
            out = augment_batch(
                lambda i, r, buffer=buffer: decode_gray_reduced(buffer, r),
                table.rows([row]),
                params(flip=flip),
                AugmentConfig(),
            ).labels
            pts = out.points[0]
            assert pts[36, 0] < pts[45, 0] and pts[0, 0] < pts[16, 0] and pts[48, 0] < pts[54, 0]
            assert np.sign(np.degrees(quat_to_euler(out.quat[0])[1])) == np.sign(yaw[row]) * (
                -1 if flip else 1
            )
