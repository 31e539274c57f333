"""Named training recipes: ``paper`` (the original's pipeline, step by step) and ``opnet`` (OpNet's).

A recipe is a set of settings on top of the defaults; settings resolve as
**defaults < recipe < settings file < command-line flags** (:func:`resolve_config`), and the
resolved config (``recipe`` included) is what a run records. ``TrainConfig()`` is the ``opnet``
recipe; the ``paper`` recipe changes, each a setting of its own (docs/training.md has the table):

- ``model.input_norm`` ``div256-centred``: (u8 + 0.5) / 256 - 0.5, the paper branch's input;
- ``augment.crop`` ``original``, ``augment.border`` ``zero``: the crop window in whole pixels,
  INTER_AREA, the rotation path, black beyond the image (:mod:`opnet.augment.original_crop`);
- ``augment.intensity_style`` ``kornia``, ``augment.contrast`` ``multiply``: kornia's operations on
  float intensities, picked per batch, noise not clipped;
- ``augment.box_target`` ``corners``; ``augment.flipped_shapeparams``: shape parameters of flipped
  samples still trained;
- ``swa_bn`` ``average``: batch-norm buffers averaged with the weights;
- ``precision`` ``32-true``;
- ``val_crop`` ``training`` and ``best_metric`` ``pose_loss``; the command line also validates on
  AFLW2000-3D samples 0-399 (:data:`PAPER_VALIDATION`) when ``$DATADIR`` has it;
- the loss terms of :func:`opnet.losses.loss_recipe` of the same name (the original's, reproduced
  to 1e-5), with the NLL terms when the model predicts uncertainties (``--with-nll-loss``).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from opnet.errors import OpNetError
from opnet.losses import loss_recipe
from opnet.settings import replace_from_plain
from opnet.train.config import RECIPES, TrainConfig

DEFAULT_RECIPE = "paper"
"""What ``opnet train`` uses unless told otherwise (the seed README's command trains the paper's model)."""

PAPER_VALIDATION = "aflw2k3d"
"""The paper recipe's validation data: AFLW2000-3D samples 0-399, as the original."""

_SETTINGS: dict[str, dict[str, Any]] = {
    "paper": {
        "precision": "32-true",
        "swa_bn": "average",
        "val_crop": "training",
        "best_metric": "pose_loss",
        "model": {"input_norm": "div256-centred"},
        "augment": {
            "crop": "original",
            "border": "zero",
            "box_target": "corners",
            "intensity_style": "kornia",
            "contrast": "multiply",
            "flipped_shapeparams": True,
        },
    },
    "opnet": {},
}


def check_recipe(name: str, where: str = "--recipe") -> str:
    """``name`` if it is a recipe, else an error naming ``where`` and the choices."""
    if name not in RECIPES:
        raise OpNetError(f"{where} {name!r}: expected one of {', '.join(RECIPES)}")
    return name


def recipe_settings(name: str) -> dict[str, Any]:
    """The settings a recipe changes from the defaults (nested plain values), ``recipe`` included."""
    return {"recipe": check_recipe(name), **_SETTINGS[name]}


def _layered(config: TrainConfig, layers: tuple[tuple[dict[str, Any], str], ...]) -> TrainConfig:
    for values, source in layers:
        config = replace_from_plain(config, values, source)
    return config


def resolve_config(name: str, *layers: tuple[dict[str, Any], str]) -> TrainConfig:
    """Defaults < recipe ``name`` < each (settings, source) layer in order (a settings file, then the
    flags). The recipe's loss terms (:func:`opnet.losses.loss_recipe`) have the NLL terms if the
    final ``model.uncertainty`` is on; ``loss.*`` settings of the layers apply on top of them."""
    recipe = replace_from_plain(TrainConfig(), recipe_settings(name), f"recipe {name}")
    nll = _layered(recipe, layers).model.uncertainty
    return _layered(dataclasses.replace(recipe, loss=loss_recipe(name, nll)), layers)
