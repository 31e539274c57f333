"""The realism levers and occluders of synthetic heads: labels stay exact, occluders sit where they
belong, shadows fall behind what blocks the light, and the settings read from the command line."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from opnet.cli import main
from opnet.data import open_dataset
from opnet.errors import OpNetError
from opnet.facemodel import landmarks_to_label, project
from opnet.geometry import quat_to_euler
from opnet.render.shadow import light_visibility
from opnet.synth import Occluders, Realism, SynthConfig
from opnet.synth.config import OCCLUDER_SHARES, parse_occluders, parse_realism
from opnet.synth.expressions import Expression, apply_expression
from opnet.synth.generate import sample_at
from opnet.synth.person import sample_person, scene_assets
from opnet.synth.scene import render_shot
from opnet.synth.shot import sample_euler, sample_shot

EVERYTHING = SynthConfig(
    image_size=128,
    samples_per_identity=3,
    pose="frontal",
    realism=Realism.all(),
    occluders=Occluders(glasses=1.0, hats=0.5, hands=0.5),
)


def test_labels_are_the_landmarks_of_the_expression_shown():
    model = scene_assets().model
    for index in range(6):
        s = sample_at(index, EVERYTHING, seed=2)
        vertices = s.person.vertices
        if s.shot.expression is not None:
            vertices = apply_expression(vertices, s.shot.expression)
        expected = landmarks_to_label(
            project(vertices[model.landmark_indices], s.labels["quats"], s.labels["coords"])
        )
        np.testing.assert_allclose(s.labels["pt3d_68"], expected, atol=2e-3)


def test_an_open_mouth_moves_the_jaw_not_the_rest_of_the_face():
    person = sample_person(np.random.default_rng(0), scene_assets())
    indices = scene_assets().model.landmark_indices
    neutral = person.vertices[indices]
    open_mouth = apply_expression(person.vertices, Expression(jaw=1.0, smile=0.0))[indices]
    moved = np.linalg.norm(open_mouth - neutral, axis=-1)
    assert moved[[8, 57, 66]].min() > 0.05  # chin, lower lip
    assert moved[list(range(17, 48)) + [51, 62]].max() < 1e-3  # brows, nose, eyes, upper lip
    assert open_mouth[8, 1] > neutral[8, 1]  # the chin goes down (y down)
    smile = apply_expression(person.vertices, Expression(jaw=0.0, smile=1.0))[indices]
    assert smile[48, 1] < neutral[48, 1] and smile[54, 1] < neutral[54, 1]  # the corners go up


def test_glasses_sit_in_front_of_the_eyes_and_hats_above_the_brows():
    assets = scene_assets()
    rng = np.random.default_rng(4)
    for _ in range(3):
        person = sample_person(rng, assets, occluders=Occluders(glasses=1.0, hats=1.0))
        worn = {a.name: a for a in person.accessories}
        landmarks = person.vertices[assets.model.landmark_indices]
        lenses = worn["glasses"].vertices[np.abs(worn["glasses"].vertices[:, 0]) < 0.45]
        assert (
            lenses[:, 2].max() < landmarks[36:48, 2].min()
        )  # in front of the eyes (the face looks along -z)
        assert np.abs(lenses[:, 1] - landmarks[36:48, 1].mean()).max() < 0.3
        hat = worn["hat"].vertices
        front = hat[hat[:, 2] < -0.7]  # a visor may come down over the eyes, the crown stays above the brows
        assert np.percentile(front[:, 1], 75) < landmarks[17:27, 1].min()


def test_long_hair_leaves_the_face_free():
    assets = scene_assets()
    rng = np.random.default_rng(1)
    worn = []
    while not worn:
        worn = [
            a for a in sample_person(rng, assets, Realism(hair=True)).accessories if a.name == "long_hair"
        ]
    hair = worn[0].vertices
    in_front_of_face = (np.abs(hair[:, 0]) < 0.35) & (hair[:, 2] < -0.7) & (hair[:, 1] > -0.5)
    assert not in_front_of_face.any()
    assert hair[:, 1].max() > 0.4  # below the ears at least


def test_a_hand_covers_part_of_the_face():
    assets = scene_assets()
    rng = np.random.default_rng(3)
    config = SynthConfig(image_size=128, pose="frontal")
    person = sample_person(rng, assets)
    shot = dataclasses.replace(sample_shot(rng, config), blur_sigma=0.0, noise_sigma=0.0)
    state = np.random.default_rng(9)
    plain = render_shot(assets, person, shot, 128, state, background=np.zeros((128, 128, 3), np.float32))
    with_hand = render_shot(
        assets,
        person,
        dataclasses.replace(shot, hand=True),
        128,
        np.random.default_rng(9),
        np.zeros((128, 128, 3), np.float32),
    )
    assert with_hand.head_coverage.sum() < 0.97 * plain.head_coverage.sum()
    assert np.abs(with_hand.image.astype(int) - plain.image.astype(int)).max() > 30


def test_shadows_fall_behind_what_blocks_the_light():
    grid = np.stack(np.meshgrid(np.arange(0.0, 20.0), np.arange(0.0, 20.0)), -1).reshape(-1, 2)
    near = np.column_stack([grid, np.zeros(len(grid))])  # a square facing the light (towards -z)
    far = np.column_stack([grid + [10.0, 0.0], np.full(len(grid), 30.0)])  # half of it behind the near one
    normals = np.tile([0.0, 0.0, -1.0], (2 * len(grid), 1))
    seen = light_visibility(np.concatenate([near, far]), normals, (0.0, 0.0, -1.0), cell_px=1.0, bias_px=1.0)
    assert seen[: len(grid)].all()
    behind = far[:, 0] < 19.0
    assert not seen[len(grid) :][behind].any() and seen[len(grid) :][far[:, 0] > 20.5].all()


def test_frontal_poses_are_mostly_near_the_front_and_stay_in_range():
    config = SynthConfig(pose="frontal", yaw_max_deg=80.0)
    rng = np.random.default_rng(0)
    angles = np.rad2deg(np.array([sample_euler(rng, config) for _ in range(3000)]))
    assert np.abs(angles[:, 1]).max() <= 80.0 and np.abs(angles[:, 0]).max() <= 60.0
    assert 0.5 < np.mean(np.abs(angles[:, 1]) < 30.0) < 0.7  # uniform would give 0.375
    assert np.median(np.abs(angles[:, 0])) < 15.0


def test_occluder_and_realism_settings_read_with_their_flags():
    assert parse_occluders("glasses,hats=0.5") == Occluders(glasses=OCCLUDER_SHARES.glasses, hats=0.5)
    assert parse_occluders("none") == Occluders() and parse_realism("none") == Realism()
    assert parse_realism("all") == Realism.all() and parse_realism("hair, light") == Realism(
        hair=True, light=True
    )
    with pytest.raises(OpNetError, match="--occluders sunglasses: 'sunglasses' is unknown"):
        parse_occluders("sunglasses")
    with pytest.raises(OpNetError, match="--occluders hands=2: expected a share"):
        parse_occluders("hands=2")
    with pytest.raises(OpNetError, match="--realism hair,fur: 'fur' is unknown"):
        parse_realism("hair,fur")
    with pytest.raises(OpNetError, match="--pose sideways"):
        SynthConfig(pose="sideways")


def test_cli_writes_heads_with_occluders(tmp_path, capsys):
    out = tmp_path / "o.h5"
    args = ["synth", str(out), "-n", "6", "--size", "64", "--workers", "1", "--per-identity", "3"]
    assert main([*args, "--occluders", "glasses,hands", "--realism", "all", "--pose", "frontal"]) == 0
    with open_dataset(out) as ds:
        assert len(ds) == 6 and np.all(np.abs(np.rad2deg(quat_to_euler(ds.read_field("quats")))) <= 90.0)
    assert main([*args, "--occluders", "scarves", "--force"]) == 2
    assert "--occluders scarves" in capsys.readouterr().err
