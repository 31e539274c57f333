"""Named loss recipes: complete, documented :class:`LossConfig` settings.

- ``paper``: the original paper's training loss (neuralnet-tracker-traincode, ``paper`` branch,
  ``scripts/train_poseestimator.py``), term for term: L1 landmarks averaged over all 68 points,
  depths as they are, the shape-coefficient loss, and with NLL a Laplace landmark NLL, Gaussian
  box / shape NLLs averaged over their coordinates, plain Gaussian rotation and centre/size NLLs.
  ``tests/test_losses_paper.py`` reproduces the original's per-sample values to 1e-5.
- ``opnet``: OpNet's own choices (the :class:`LossConfig` defaults); docs/training.md gives the
  reason for each difference.

``nll=False`` sets every NLL weight to 0, as the original without ``--with-nll-loss``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from opnet.errors import OpNetError
from opnet.losses.config import NLL_TERM_NAMES, LossConfig

NLL_SCALE = 0.01
"""The original multiplies each NLL weight by 0.01 (its ``nllw``)."""

RECIPES: dict[str, LossConfig] = {
    "paper": LossConfig(
        rot=0.5,
        xy=0.25,
        size=0.25,
        box=0.01,
        points=0.7,
        shapeparams=0.05,
        quat_norm=1e-6,
        nll_rot=0.3 * NLL_SCALE,
        nll_pos_size=0.3 * NLL_SCALE,
        nll_box=0.01 * NLL_SCALE,
        nll_points=0.7 * NLL_SCALE,
        nll_shapeparams=0.05 * NLL_SCALE,
        rot_metric="sin2",
        points_metric="l1",
        points_divisor="count",
        align_depth=False,
        jaw_weight=0.8,
        eyelid_weight=0.0,
        nll_points_distribution="laplace",
        nll_coordinates="mean",
        nll_outlier_weight=0.0,
    ),
    "opnet": LossConfig(),
}
"""Recipe name -> its settings with the NLL terms on."""


def recipe_names() -> tuple[str, ...]:
    """The names :func:`loss_recipe` accepts."""
    return tuple(RECIPES)


def loss_recipe(name: str, nll: bool) -> LossConfig:
    """The loss settings of recipe ``name``, with the NLL terms (``nll``, the original's
    ``--with-nll-loss``) or without them (their weights 0)."""
    if name not in RECIPES:
        raise OpNetError(f"loss recipe {name!r} is unknown; expected one of {', '.join(RECIPES)}")
    config = RECIPES[name]
    no_nll: dict[str, Any] = {term: 0.0 for term in NLL_TERM_NAMES}
    return config if nll else dataclasses.replace(config, **no_nll)
