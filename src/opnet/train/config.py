"""The training run as one frozen, validated dataclass, read from and written to plain values / YAML.

Precedence (applied by the command line): defaults < ``--config run.yaml`` < the flags given. The
resolved config is written to ``OUTDIR/config.yaml`` and stored in every checkpoint, so a run is
described by its files alone. Plain values and YAML become settings with
:func:`opnet.settings.replace_from_plain` (names and types checked), and back with
:func:`opnet.settings.to_plain`.
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from opnet.augment import AugmentConfig
from opnet.errors import OpNetError
from opnet.fileio import atomic_output
from opnet.losses import LossConfig
from opnet.models import ModelConfig
from opnet.settings import to_plain
from opnet.train.sampler import SAMPLES_PER_EPOCH

ACCELERATORS = ("auto", "cpu", "gpu", "cuda", "mps")
PRECISIONS = ("auto", "32-true", "16-mixed", "bf16-mixed")
PLOT_SUFFIXES = (".pdf", ".png")
RECIPES = ("paper", "opnet")
"""Named recipes (:mod:`opnet.train.recipes`): the paper's pipeline, and OpNet's."""
CHOICES: dict[str, tuple[str, ...]] = {
    "recipe": RECIPES,
    "swa_bn": ("average", "reestimate"),
    "val_crop": ("training", "protocol"),
    "best_metric": ("pose_loss", "mae"),
}
"""Settings with named choices (the original's first)."""
RESUME_SETTINGS = frozenset({"max_minutes", "accelerator", "devices", "num_nodes", "precision"})
"""Settings a resumed run may change: where and how long it runs, not what it computes."""


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides what a training run computes (defaults: the ``opnet`` recipe; the
    ``paper`` recipe and how recipes are applied: :mod:`opnet.train.recipes`).

    Data: ``ds`` is the dataset spec (``name[:weight]+...``, see :mod:`opnet.train.spec`); names
    are looked up in ``dataset_files`` (filled by the command line from ``$DATADIR``), anything
    else is a file path. ``val``: validation data (name or path; None: automatic, see
    :mod:`opnet.train.inputs`). ``ds_weighting``: weights scale the losses
    instead of the sampling frequencies. An epoch is ``samples_per_epoch`` samples.

    Optimisation: Adam at ``lr``, linear warm-up over the first ``warmup_fraction`` of the epochs
    (per step), then multiplied by ``lr_decay_factor`` at each of ``lr_decay_fractions`` of the
    epochs; gradients clipped to infinity norm ``grad_clip`` (0: off). ``swa``: average the
    weights of the epochs from ``swa_start_fraction`` of the run on; batch-norm statistics are
    averaged with them (``swa_bn="average"``, the original's) or re-estimated at the end on
    ``swa_bn_samples`` training samples (``"reestimate"``).

    Validation: ``val_crop`` "protocol" crops as the evaluation protocol (68-landmark box x 1.1),
    "training" as training does without augmentation (the original's: the face box of
    ``augment.roi_mode`` times its expansion); ``best.ckpt`` is the epoch with the lowest mean
    MAE (``best_metric="mae"``) or the lowest weighted sum of the pose loss terms (``"pose_loss"``,
    the original's). ``recipe``: the recipe the settings started from (a record; it changes nothing
    by itself).

    Hardware (Lightning's names): ``accelerator``, ``devices`` (-1: all), ``num_nodes``,
    ``precision`` ("auto": 32-bit on CPU, mixed on GPU). ``max_minutes``: stop after the last
    epoch that fits into this time. ``onnx``: export the final models to ONNX.
    ``model.input_size`` also sets ``augment.out_size``.
    """

    recipe: str = "opnet"
    ds: str = ""
    dataset_files: dict[str, str] = field(default_factory=dict)
    val: str | None = None
    ds_weighting: bool = False
    samples_per_epoch: int = SAMPLES_PER_EPOCH
    epochs: int = 200
    batch_size: int = 64
    lr: float = 1e-3
    warmup_fraction: float = 0.05
    lr_decay_fractions: tuple[float, ...] = (0.5,)
    lr_decay_factor: float = 0.1
    grad_clip: float = 0.1
    swa: bool = False
    swa_start_fraction: float = 2.0 / 3.0
    swa_bn: str = "reestimate"
    swa_bn_samples: int = 4096
    val_crop: str = "protocol"
    best_metric: str = "mae"
    seed: int = 0
    save_plot: str | None = None
    onnx: bool = True
    max_minutes: float | None = None
    accelerator: str = "auto"
    devices: int = 1
    num_nodes: int = 1
    precision: str = "auto"
    model: ModelConfig = field(default_factory=lambda: ModelConfig(uncertainty=False))
    loss: LossConfig = field(default_factory=LossConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)

    def __post_init__(self) -> None:
        if self.augment.out_size != self.model.input_size:
            object.__setattr__(
                self, "augment", dataclasses.replace(self.augment, out_size=self.model.input_size)
            )
        for problem in _problems(self):
            raise OpNetError(f"training setting {problem}")


def _problems(c: TrainConfig) -> list[str]:
    checks = [
        (c.epochs >= 1, f"epochs={c.epochs}: expected at least 1"),
        (c.batch_size >= 1, f"batch_size={c.batch_size}: expected at least 1"),
        (
            c.samples_per_epoch >= c.batch_size,
            f"samples_per_epoch={c.samples_per_epoch}: expected at least batch_size ({c.batch_size})",
        ),
        (math.isfinite(c.lr) and c.lr > 0, f"lr={c.lr}: expected a positive number"),
        (0 <= c.warmup_fraction <= 1, f"warmup_fraction={c.warmup_fraction}: expected 0 to 1"),
        (all(0 <= f <= 1 for f in c.lr_decay_fractions), "lr_decay_fractions: expected fractions 0 to 1"),
        (0 < c.lr_decay_factor <= 1, f"lr_decay_factor={c.lr_decay_factor}: expected 0 < factor <= 1"),
        (c.grad_clip >= 0, f"grad_clip={c.grad_clip}: expected >= 0 (0: no clipping)"),
        (0 <= c.swa_start_fraction < 1, f"swa_start_fraction={c.swa_start_fraction}: expected 0 <= f < 1"),
        (c.swa_bn_samples >= 0, f"swa_bn_samples={c.swa_bn_samples}: expected >= 0"),
        (c.seed >= 0, f"seed={c.seed}: expected a non-negative integer"),
        (c.max_minutes is None or c.max_minutes > 0, f"max_minutes={c.max_minutes}: expected > 0"),
        (c.accelerator in ACCELERATORS, f"accelerator={c.accelerator!r}: expected one of {ACCELERATORS}"),
        (c.devices >= 1 or c.devices == -1, f"devices={c.devices}: expected >= 1, or -1 for all"),
        (c.num_nodes >= 1, f"num_nodes={c.num_nodes}: expected at least 1"),
        (c.precision in PRECISIONS, f"precision={c.precision!r}: expected one of {PRECISIONS}"),
        (
            c.save_plot is None or Path(c.save_plot).suffix.lower() in PLOT_SUFFIXES,
            f"save_plot={c.save_plot!r}: expected a .pdf or .png file name",
        ),
    ]
    checks += [
        (getattr(c, name) in choices, f"{name}={getattr(c, name)!r}: expected one of {', '.join(choices)}")
        for name, choices in CHOICES.items()
    ]
    return [message for ok, message in checks if not ok]


def read_config_file(path: str | os.PathLike) -> dict[str, Any]:
    """The settings of a YAML file (a mapping; may be partial)."""
    path = Path(path)
    try:
        values = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise OpNetError(f"{path}: cannot read ({e.strerror})") from None
    except yaml.YAMLError as e:
        raise OpNetError(f"{path}: not valid YAML ({' '.join(str(e).split())[:200]})") from None
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise OpNetError(f"{path}: expected a mapping of setting names to values")
    return values


def write_config_file(config: TrainConfig, path: str | os.PathLike, overwrite: bool = False) -> Path:
    """Writes the resolved config as YAML, atomically."""
    path = Path(path)
    with atomic_output(path, overwrite) as tmp:
        tmp.write_text(yaml.safe_dump(to_plain(config), sort_keys=False), encoding="utf-8")
    return path


def changed_settings(
    saved: TrainConfig, new: TrainConfig, allowed: frozenset[str] = RESUME_SETTINGS
) -> list[str]:
    """Names of the settings (dotted for nested ones) that differ, except ``allowed`` ones."""

    def flat(values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in values.items():
            if isinstance(v, dict) and k != "dataset_files":
                out.update(flat(v, f"{prefix}{k}."))
            else:
                out[prefix + k] = v
        return out

    a, b = flat(to_plain(saved)), flat(to_plain(new))
    return sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k) and k not in allowed)
