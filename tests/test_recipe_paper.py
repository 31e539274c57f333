"""The ``paper`` recipe's input pipeline, item by item, against straightforward computations of the
original's steps (crop to whole pixels, zero padding, INTER_AREA, the rotation path, flips, kornia's
intensity operations, (u8 + 0.5) / 256 - 0.5), and its labels against the pixels."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest
from test_augment_consistency import SPACING, decoder, dot_errors, dot_scene

from opnet.augment import AugmentParams, FaceLabels, augment_batch, sample_params
from opnet.augment.intensity_float import apply_float_op
from opnet.geometry import IBUG68_MIRROR, mirror_quat, rotate_pose_in_plane
from opnet.train.recipes import resolve_config

S = 129
PAPER = resolve_config("paper").augment
NORM = resolve_config("paper").model.input_norm


def paper_batch(image, labels, p, intensity=False):
    """The paper recipe's augmentation of one lossless image."""
    config = PAPER if intensity else dataclasses.replace(PAPER, intensity=False)
    return augment_batch(decoder(image, False), labels, p, config, NORM)


def params(scale=1.1, shift=(0.0, 0.0), angle_deg=0.0, flip=False, turns=0, intensity=(), noise=0.0):
    return AugmentParams(
        np.array([scale]),
        np.array([shift], float),
        np.radians([angle_deg]),
        np.array([turns]),
        np.array([flip]),
        (tuple(intensity),),
        np.array([noise]),
        np.array([11]),
    )


def texture(h: int = 330, w: int = 290, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return cv2.GaussianBlur(rng.integers(0, 256, (h, w)).astype(np.uint8), (3, 3), 0.8)


# --- the original's steps, written out ---------------------------------------------------------


def reference_window(box, scale, shift):
    """RandomFocusRoi's crop window: jittered square, rounded to whole pixels."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    side = max(w, h) * scale
    tx = (max(side - w, 0.0) * 0.5 + w * 0.3) * shift[0]
    ty = (max(side - h, 0.0) * 0.5 + h * 0.3) * shift[1]
    cx, cy = 0.5 * (x0 + x1) + tx, 0.5 * (y0 + y1) + ty
    return [int(np.round(v)) for v in (cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)]


def reference_cut(image, window):
    """The window cut out of a black canvas, then INTER_AREA (INTER_LINEAR if enlarging)."""
    x0, y0, x1, y1 = window
    h, w = image.shape
    canvas = np.zeros((max(y1, h) - min(y0, 0), max(x1, w) - min(x0, 0)), np.uint8)
    ox, oy = -min(x0, 0), -min(y0, 0)
    canvas[oy : oy + h, ox : ox + w] = image
    cut = canvas[y0 + oy : y1 + oy, x0 + ox : x1 + ox]
    mode = cv2.INTER_AREA if cut.shape[1] >= S else cv2.INTER_LINEAR
    return cv2.resize(cut, (S, S), interpolation=mode)


def reference_affine(window, angle_rad):
    """Window corners -> 0..S, then the rotation about the crop centre (3x3)."""
    x0, y0, x1, y1 = window
    remap = np.array(
        [[S / (x1 - x0), 0, -x0 * S / (x1 - x0)], [0, S / (y1 - y0), -y0 * S / (y1 - y0)], [0, 0, 1]]
    )
    c, s = np.cos(angle_rad), np.sin(angle_rad)
    to_c = np.array([[1, 0, -S / 2], [0, 1, -S / 2], [0, 0, 1.0]])
    back = np.array([[1, 0, S / 2], [0, 1, S / 2], [0, 0, 1.0]])
    rot = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]])
    return back @ rot @ to_c @ remap


def reference_rotated(image, window, angle_rad):
    """affine_transform_image_cv2: the corner-convention matrix given to OpenCV unchanged."""
    m = reference_affine(window, angle_rad)[:2]
    scale = np.sqrt((m[:, :2] ** 2).sum() / 2)
    if scale > 1:
        return cv2.warpAffine(image, m, (S, S), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    side = round(S / scale)
    rotated = cv2.warpAffine(image, m * side / S, (side, side), flags=cv2.INTER_LINEAR)
    return cv2.resize(rotated, (S, S), interpolation=cv2.INTER_AREA)


def reference_flip_turn(patch, flip, turns):
    """horizontal_flip_and_rot_90 on the image: flip, then swap the axes and flip one."""
    if flip:
        patch = patch[:, ::-1]
    if turns:
        patch = patch.swapaxes(0, 1)
        patch = patch[:, ::-1] if turns == 1 else patch[::-1, :]
    return patch


CASES = {
    "plain": dict(),
    "jitter": dict(scale=0.93, shift=(0.7, -0.4)),
    "beyond_border": dict(scale=1.5, shift=(-1.0, 1.0)),
    "enlarging": dict(scale=0.6),
    "flip": dict(scale=1.2, flip=True),
    "quarter_turn": dict(turns=1),
    "quarter_turn_back_flipped": dict(turns=-1, flip=True, shift=(0.2, 0.1)),
    "rotation": dict(angle_deg=30.0, shift=(0.3, 0.2)),
    "rotation_flip": dict(angle_deg=-30.0, flip=True, scale=1.3),
    "rotation_enlarging": dict(angle_deg=30.0, scale=0.6),
}


@pytest.mark.parametrize("name", list(CASES))
def test_crop_equals_the_original_steps(name):
    case = CASES[name]
    image = texture()
    box = (40.3, 170.8, 150.6, 301.2) if name == "beyond_border" else (85.2, 92.7, 201.9, 230.4)
    if name.endswith("enlarging"):
        box = (120.0, 130.0, 200.0, 210.0)
    p = params(**case)
    out = paper_batch(image, FaceLabels.one(roi=box), p)
    window = reference_window(box, p.scale[0], p.shift[0])
    if case.get("angle_deg"):
        expected = reference_rotated(image, window, p.angle_rad[0])
    else:
        expected = reference_cut(image, window)
    expected = reference_flip_turn(expected, case.get("flip", False), case.get("turns", 0))
    assert np.array_equal(out.patches[0], expected)
    # Paper inputs: (u8 + 0.5) / 256 - 0.5, bit for bit.
    assert np.array_equal(
        out.inputs[0, 0], ((expected.astype(np.float32) + 0.5) / 256 - 0.5).astype(np.float32)
    )


@pytest.mark.parametrize("name", list(CASES))
def test_labels_equal_the_original_transforms(name):
    case = CASES[name]
    image, labels = dot_scene(1)
    p = params(**case)
    out = paper_batch(image, labels, p)
    window = reference_window(labels.roi[0], p.scale[0], p.shift[0])
    m = reference_affine(window, p.angle_rad[0])
    if case.get("flip"):
        m = np.array([[-1, 0, S], [0, 1, 0], [0, 0, 1.0]]) @ m
    turns = case.get("turns", 0)
    if turns:
        c, s = np.cos(turns * np.pi / 2), np.sin(turns * np.pi / 2)
        m = (
            np.array([[c, -s, S / 2 * (1 - c) + S / 2 * s], [s, c, S / 2 * (1 - c) - S / 2 * s], [0, 0, 1]])
            @ m
        )
    xy = labels.points[0, :, :2] @ m[:2, :2].T + m[:2, 2]
    if case.get("flip"):
        xy = xy[IBUG68_MIRROR]
    np.testing.assert_allclose(out.labels.points[0, :, :2], xy, atol=1e-9)
    scale = np.sqrt(abs(np.linalg.det(m[:2, :2])))
    z = labels.points[0, :, 2] * scale
    np.testing.assert_allclose(
        out.labels.points[0, :, 2], z[IBUG68_MIRROR] if case.get("flip") else z, atol=1e-9
    )
    np.testing.assert_allclose(
        out.labels.coords[0, :2], m[:2, :2] @ labels.coords[0, :2] + m[:2, 2], atol=1e-9
    )
    np.testing.assert_allclose(out.labels.coords[0, 2], labels.coords[0, 2] * scale, rtol=1e-12)
    q = rotate_pose_in_plane(labels.quat[0], p.angle_rad[0])
    q = mirror_quat(q) if case.get("flip") else q
    q = rotate_pose_in_plane(q, turns * np.pi / 2)
    assert abs(abs(np.dot(out.labels.quat[0], q)) - 1) < 1e-12
    x0, y0, x1, y1 = labels.roi[0]
    corners = np.array([[x0, y0], [x1, y0], [x0, y1], [x1, y1]]) @ m[:2, :2].T + m[:2, 2]
    np.testing.assert_allclose(out.boxes[0], [*corners.min(0), *corners.max(0)], atol=1e-9)
    # Shape parameters of flipped samples are still trained, as the original did.
    assert out.labels.has_shapeparams[0]


@pytest.mark.parametrize("name", list(CASES))
def test_landmarks_land_on_their_dots(name):
    """Each landmark projected into the crop sits on its bright dot: within 0.1 px when the crop is
    cut by whole pixels, within the original's half-pixel offset (reproduced) on the rotation path."""
    image, labels = dot_scene(1)
    p = params(**CASES[name])
    out = paper_batch(image, labels, p)
    errors = dot_errors(out.patches[0], out.labels.points[0], SPACING * S / (200 * p.scale[0]))
    assert len(errors) >= 20
    assert errors.max() < (0.6 if CASES[name].get("angle_deg") else 0.12), errors.max()


def test_the_rotation_path_is_off_by_the_originals_half_pixel():
    """Rotated crops come out shifted by 0.5 (I - A)(1, 1) pixels of the warp against their labels."""
    image, labels = dot_scene(1)
    p = params(angle_deg=30.0)
    out = paper_batch(image, labels, p)
    window = reference_window(labels.roi[0], p.scale[0], p.shift[0])
    m = reference_affine(window, p.angle_rad[0])[:2]
    scale = np.sqrt((m[:, :2] ** 2).sum() / 2)
    side = round(S / scale)
    a = m[:, :2] * side / S
    expected_shift = 0.5 * (np.eye(2) - a) @ [1.0, 1.0] * S / side
    yy, xx = np.mgrid[0:S, 0:S] + 0.5
    shifts = []
    for x, y in out.labels.points[0, :, :2]:
        window_mask = (xx - x) ** 2 + (yy - y) ** 2 < 6**2
        if window_mask.sum() < 100:
            continue
        w = out.patches[0][window_mask].astype(float)
        w -= w.min()
        shifts.append([(xx[window_mask] * w).sum() / w.sum() - x, (yy[window_mask] * w).sum() / w.sum() - y])
    np.testing.assert_allclose(np.median(shifts, axis=0), expected_shift, atol=0.08)


# --- intensity: kornia's operations on the 0..1 scale, chosen per batch --------------------------


def ref_equalize(x):
    """PIL's equalize as kornia writes it, element by element."""
    scaled = x.astype(np.float64) * 255
    hist = np.zeros(256, int)
    for v in scaled.ravel():
        hist[min(int(np.floor(v * 256 / 255)), 255)] += 1
    nonzero = [h for h in hist if h]
    step = (sum(nonzero) - nonzero[-1]) // 255
    if step == 0:
        return x
    lut = [0] + [min((c + step // 2) // step, 255) for c in np.cumsum(hist)[:-1]]
    return np.array([[lut[int(v)] / 255 for v in row] for row in scaled])


def ref_blur(x, sigma):
    k = np.exp(-(np.arange(-2, 3) ** 2) / (2 * sigma**2))
    k2 = np.outer(k, k) / k.sum() ** 2
    padded = np.pad(x.astype(np.float64), 2, mode="reflect")
    return sum(k2[i, j] * padded[i : i + x.shape[0], j : j + x.shape[1]] for i in range(5) for j in range(5))


REFERENCE_OPS = {
    "gamma": lambda x, v: np.clip(x**v, 0, 1),
    "contrast": lambda x, v: np.clip(x * v, 0, 1),
    "brightness": lambda x, v: np.clip(x + v - 1, 0, 1),
    "posterize": lambda x, v: (np.floor(np.floor(x * 255) / 2 ** (8 - v)) * 2 ** (8 - v)) / 255,
    "equalize": lambda x, v: ref_equalize(x),
    "blur": lambda x, v: ref_blur(x, v),
}
OPS = [
    ("gamma", 0.6),
    ("gamma", 1.8),
    ("contrast", 0.75),
    ("contrast", 1.4),
    ("brightness", 0.8),
    ("brightness", 1.3),
    ("posterize", 4),
    ("posterize", 5),
    ("equalize", 0.0),
    ("blur", 1.5),
]


@pytest.mark.parametrize("op", OPS, ids=[f"{n}-{v}" for n, v in OPS])
def test_each_intensity_operation_is_kornias_formula(op):
    name, value = op
    x = ((texture(40, 50, 3).astype(np.float32) + 0.5) / 256).astype(np.float32)
    got = apply_float_op(x, name, value, "multiply")
    np.testing.assert_allclose(got, REFERENCE_OPS[name](x, value), atol=2e-6)


def test_the_operations_are_chosen_once_per_batch_and_applied_per_sample():
    always = dataclasses.replace(
        PAPER,
        **{f"{n}_prob": 1.0 for n in ("equalize", "posterize", "gamma", "contrast", "brightness", "blur")},
    )
    rngs = lambda: [np.random.default_rng(k) for k in range(200)]  # noqa: E731
    for batch_seed in range(5):
        every = sample_params(rngs()[:8], always, np.random.default_rng(batch_seed))
        names = {tuple(n for n, _ in ops) for ops in every.intensity}
        assert len(names) == 1 and len(next(iter(names))) == 4
        chosen = list(next(iter(names)))
        # With their own probabilities, each sample keeps a subset of the batch's four, in its order.
        p = sample_params(rngs(), PAPER, np.random.default_rng(batch_seed))
        for ops in p.intensity:
            kept = [n for n, _ in ops]
            assert kept == [n for n in chosen if n in kept]
        assert 0.1 < np.mean([len(ops) > 0 for ops in p.intensity]) < 0.9


def test_intensities_and_unclipped_noise_act_on_the_normalised_image():
    """The inputs are the kornia operations (in the batch's order) on (u8 + 0.5) / 256, plus noise
    that may leave 0..1, minus 0.5."""
    image = np.full((300, 300), 250, np.uint8)
    labels = FaceLabels.one(roi=[60, 60, 240, 240])
    ops = (("brightness", 1.4), ("gamma", 0.8))
    out = paper_batch(image, labels, params(intensity=ops), intensity=True)
    x = min(250.5 / 256 + 0.4, 1.0) ** 0.8
    np.testing.assert_allclose(out.inputs[0, 0], x - 0.5, atol=1e-6)
    noisy = paper_batch(image, labels, params(noise=16.0), intensity=True).inputs[0, 0]
    assert noisy.max() > 0.5 and abs((noisy + 0.5 - 250.5 / 256).std() * 255 - 16) < 0.6


def test_paper_recipe_samples_replay_and_batches_share_their_choice():
    from opnet.train.sampler import batch_rng

    a = sample_params([np.random.default_rng(1)], PAPER, batch_rng(0, 3, 64))
    b = sample_params([np.random.default_rng(1)], PAPER, batch_rng(0, 3, 64))
    assert a.intensity == b.intensity and np.array_equal(a.quarter_turns, b.quarter_turns)


def test_opnet_recipe_keeps_per_sample_choice_and_mean_contrast():
    opnet = resolve_config("opnet").augment
    assert (opnet.intensity_style, opnet.contrast, opnet.crop, opnet.border) == (
        "lut",
        "mean",
        "subpixel",
        "replicate",
    )
    p = sample_params([np.random.default_rng(k) for k in range(300)], opnet)
    assert len({tuple(n for n, _ in ops) for ops in p.intensity}) > 20
