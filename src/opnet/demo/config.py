"""The demo's settings: one frozen dataclass, and the training config it implies.

The defaults are chosen to reach a useful network within a few minutes on a 2-core laptop CPU (see
docs/demo.md for the measurements behind them): a narrow MobileNetV1 at OpenTrack's 129 x 129
input, trained on synthetic heads in mostly frontal poses as in photos of people (angles drawn as
a neck moves), with textured skin, in front of textured backgrounds (the levers that measured best
on real faces, docs/demo.md), with a rotation loss that stays steep at small errors and weighs
more, next to no augmentation (flips, a slight crop jitter: in a run this short every other
augmentation costs more accuracy than it buys, docs/demo.md has the measurements), a learning rate
held high for 70 % of the run, and weight averaging over its last quarter (after the decay).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from opnet.augment import AugmentConfig
from opnet.errors import OpNetError
from opnet.losses import LossConfig
from opnet.models import ModelConfig
from opnet.synth import Realism, SynthConfig
from opnet.train import TrainConfig

TRAINING_PLOT = "training.png"


@dataclass(frozen=True)
class DemoConfig:
    """What ``opnet demo`` does (flags in brackets).

    Time: ``minutes`` is the budget of the whole run [--minutes]; training gets what is left after
    generating the data, minus ``reserve_s`` seconds kept for export, evaluation and the report.
    ``epochs`` [--epochs] fixes the number of epochs instead (the same network on any machine);
    None: as many epochs of ``samples_per_epoch`` as the measured training speed fits into the
    budget (at least ``min_epochs``).

    Data: ``train_samples`` synthetic heads to train on and ``heldout_samples`` other ones (other
    persons: generated with another seed) to evaluate on, both drawn with ``synth``: mostly frontal
    poses in heading, pitch and bank, textured skin and backgrounds (docs/demo.md: the levers, one
    at a time). Within a time budget, the training heads get at most ``generate_share`` of it
    (never fewer than ``min_train_samples`` heads): on a busy machine fewer heads are made, and the
    time goes to training instead.
    ``seed`` [--seed] decides the data, the initial weights and the augmentation.

    Recipe: ``model``, ``loss``, ``augment`` and the optimisation settings go into the training
    config (:func:`train_config`).
    """

    minutes: float = 9.0
    seed: int = 0
    train_samples: int = 10000
    heldout_samples: int = 1000
    generate_share: float = 0.25
    min_train_samples: int = 2000
    synth: SynthConfig = field(
        default_factory=lambda: SynthConfig(
            pose="frontal", pose_angles="hpb", realism=Realism(skin=True, backgrounds=True)
        )
    )
    epochs: int | None = None
    samples_per_epoch: int = 4096
    min_epochs: int = 3
    reserve_s: float = 10.0
    batch_size: int = 64
    lr: float = 5e-3
    lr_decay_fractions: tuple[float, ...] = (0.7,)
    swa_start_fraction: float = 0.75
    model: ModelConfig = field(default_factory=lambda: ModelConfig(width=0.25, blurpool=False, dropout=0.0))
    loss: LossConfig = field(default_factory=lambda: LossConfig(rot=4.0, rot_metric="sin"))
    augment: AugmentConfig = field(
        default_factory=lambda: AugmentConfig(
            scale_std=0.02, shift_std=0.05, rotation_prob=0.0, rot90_prob=0.0, intensity=False
        )
    )
    grid_samples: int = 8

    def __post_init__(self) -> None:
        checks = [
            (self.minutes > 0, f"--minutes {self.minutes:g}: expected a positive number"),
            (self.seed >= 0, f"--seed {self.seed}: expected a non-negative integer"),
            (self.epochs is None or self.epochs >= 1, f"--epochs {self.epochs}: expected at least 1"),
            (
                self.train_samples >= 2 * self.synth.samples_per_identity,
                (
                    f"train_samples={self.train_samples}: expected at least two persons' samples "
                    f"({2 * self.synth.samples_per_identity}; whole persons are held out for validation)"
                ),
            ),
            (self.heldout_samples >= 1, f"heldout_samples={self.heldout_samples}: expected at least 1"),
            (
                0 < self.generate_share <= 1,
                f"generate_share={self.generate_share}: expected a share of the budget in (0, 1]",
            ),
            (
                self.min_train_samples >= 2 * self.synth.samples_per_identity,
                f"min_train_samples={self.min_train_samples}: expected at least two persons' samples",
            ),
            (self.min_epochs >= 1, f"min_epochs={self.min_epochs}: expected at least 1"),
            (self.reserve_s >= 0, f"reserve_s={self.reserve_s}: expected >= 0"),
            (self.grid_samples >= 1, f"grid_samples={self.grid_samples}: expected at least 1"),
        ]
        for ok, message in checks:
            if not ok:
                raise OpNetError(message)

    @property
    def train_seed(self) -> int:
        """Seed of the training set; the held-out set uses the next one, so no person is in both."""
        return 2 * self.seed

    @property
    def heldout_seed(self) -> int:
        return 2 * self.seed + 1


def train_config(config: DemoConfig, train_file: Path, epochs: int) -> TrainConfig:
    """The training run of the demo: ``epochs`` epochs on ``train_file`` (whole persons of it held out
    for validation), uncertainty outputs on (OpenTrack's contract needs them), SWA, a PNG plot, and
    no ONNX export inside training (the demo exports and times it as a step of its own)."""
    return TrainConfig(
        ds=str(train_file),
        epochs=epochs,
        samples_per_epoch=config.samples_per_epoch,
        batch_size=config.batch_size,
        lr=config.lr,
        lr_decay_fractions=config.lr_decay_fractions,
        swa=True,
        swa_start_fraction=config.swa_start_fraction,
        swa_bn_samples=min(TrainConfig.swa_bn_samples, config.samples_per_epoch),
        seed=config.seed,
        save_plot=TRAINING_PLOT,
        onnx=False,
        accelerator="cpu",
        model=dataclasses.replace(config.model, uncertainty=True),
        loss=config.loss,
        augment=config.augment,
    )
