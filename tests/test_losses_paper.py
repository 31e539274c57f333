"""The ``paper`` recipe reproduces the original paper's training loss, per sample and per term.

``../shared/original/orig-losses.npz`` holds, for 8 AFLW2000-3D samples, labels in the crop
frame, the outputs of an original-code network, and the per-sample value of every term the
original's ``paper`` branch computed (README command with and without ``--with-nll-loss``; also on
paper-normalised images), its weights and the batch totals.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import SHARED, needs_shared

from opnet.losses import PoseLoss, loss_recipe
from opnet.models import ModelConfig, PoseNetOutput
from opnet.targets import PoseTargets

ORIG_LOSSES = SHARED / "original" / "orig-losses.npz"
RTOL = 1e-5

ORIGINAL_TERM_NAMES = {
    "rot": "rot",
    "xy": "xy",
    "sz": "size",
    "box": "box",
    "points3d": "points",
    "shp_l2": "shapeparams",
    "quatregularization1": "quat_norm",
    "nllrot": "nll_rot",
    "nllcoord": "nll_pos_size",
    "nllbox": "nll_box",
    "nllpoints3d": "nll_points",
    "nllshape": "nll_shapeparams",
}
"""Term name in the original code -> OpNet's."""

PAPER_MODEL = ModelConfig(blurpool=False, num_shape_params=50)
CASES = [("", "nll"), ("", "nonll"), ("paperimg/", "nll"), ("paperimg/", "nonll")]

pytestmark = needs_shared(ORIG_LOSSES)


def _load() -> dict[str, np.ndarray]:
    with np.load(ORIG_LOSSES) as f:
        return {k: f[k] for k in f.files}


def _targets(ref: dict[str, np.ndarray], box: str = "target/roi") -> PoseTargets:
    t = {
        k: torch.from_numpy(ref[k])
        for k in ("target/pose", "target/coord", "target/pt3d_68", "target/shapeparam")
    }
    n = len(t["target/pose"])
    yes = torch.ones(n, dtype=torch.bool)
    return PoseTargets(
        quat=t["target/pose"],
        pos_size=t["target/coord"],
        box=torch.from_numpy(ref[box]),
        points=t["target/pt3d_68"],
        shapeparams=t["target/shapeparam"],
        has_quat=yes,
        has_pos_size=yes,
        has_box=yes,
        has_points=yes,
        has_points_z=yes,
        has_shapeparams=yes,
        weight=torch.ones(n),
        dataset=torch.zeros(n, dtype=torch.long),
    )


def _output(ref: dict[str, np.ndarray], prefix: str) -> PoseNetOutput:
    key = f"{prefix}output/"
    return PoseNetOutput.from_original(
        {k[len(key) :]: torch.from_numpy(v) for k, v in ref.items() if k.startswith(key)}
    )


def _relative_error(value: torch.Tensor, expected: np.ndarray) -> float:
    expected_t = torch.from_numpy(np.asarray(expected, dtype=np.float64))
    return float(((value.double() - expected_t).abs() / expected_t.abs()).max())


@pytest.mark.parametrize(("prefix", "variant"), CASES)
def test_paper_recipe_reproduces_every_term_and_total(prefix: str, variant: str) -> None:
    ref = _load()
    names = [str(n) for n in ref[f"{variant}/term_names"]]
    config = loss_recipe("paper", nll=variant == "nll")
    loss = PoseLoss(config, PAPER_MODEL)
    assert set(loss.terms) == {ORIGINAL_TERM_NAMES[n] for n in names}
    for name, weight in zip(names, ref[f"{variant}/term_weights"], strict=True):
        assert loss.terms[ORIGINAL_TERM_NAMES[name]] == pytest.approx(float(weight), rel=1e-12)

    output, targets = _output(ref, prefix), _targets(ref)
    per_sample = loss.per_sample(output, targets)
    errors = {
        n: _relative_error(per_sample[ORIGINAL_TERM_NAMES[n]], ref[f"{prefix}{variant}/per_sample/{n}"])
        for n in names
    }
    assert max(errors.values()) < RTOL, errors

    losses = loss(output, targets)
    assert _relative_error(losses["total"], ref[f"{prefix}{variant}/total"]) < RTOL
    if not prefix:
        weighted = torch.stack([loss.terms[name] * values for name, values in per_sample.items()]).sum(0)
        assert _relative_error(weighted, ref[f"{variant}/weighted_per_sample_total"]) < RTOL
        for n in names:  # the logged means
            assert (
                _relative_error(losses[ORIGINAL_TERM_NAMES[n]], ref[f"{variant}/logged_train_mean/{n}"])
                < RTOL
            )


@pytest.mark.parametrize("variant", ["nll", "nonll"])
def test_paper_recipe_with_boxes_from_landmarks(variant: str) -> None:
    """The original also trained on boxes made from the 68 landmarks (``--roi-override landmarks``):
    the box terms follow their labels."""
    ref = _load()
    loss = PoseLoss(loss_recipe("paper", nll=variant == "nll"), PAPER_MODEL)
    output, targets = _output(ref, ""), _targets(ref, box="target/roi_landmarkbox")
    per_sample = loss.per_sample(output, targets)
    for name in ("box", "nllbox") if variant == "nll" else ("box",):
        expected = ref[f"{variant}/per_sample_landmarkbox_roi/{name}"]
        assert _relative_error(per_sample[ORIGINAL_TERM_NAMES[name]], expected) < RTOL
    assert _relative_error(loss(output, targets)["total"], ref[f"{variant}/total_landmarkbox_roi"]) < RTOL
