"""What a demo run did (:class:`DemoResult`) and where its files go (:class:`DemoPaths`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from opnet.demo.budget import PlanUpdate
from opnet.demo.config import DemoConfig
from opnet.evaluate import EvaluationResult

if TYPE_CHECKING:
    from opnet.train import TrainResult


@dataclass(frozen=True)
class DemoPaths:
    """The files of a demo folder (see :mod:`opnet.demo.run`)."""

    outdir: Path

    @property
    def data(self) -> Path:
        return self.outdir / "data"

    @property
    def train_file(self) -> Path:
        return self.data / "train.h5"

    @property
    def heldout_file(self) -> Path:
        return self.data / "heldout.h5"

    @property
    def run(self) -> Path:
        return self.outdir / "train"

    @property
    def report(self) -> Path:
        return self.outdir / "report"


@dataclass(frozen=True)
class Evaluation:
    """The evaluation of the model on one dataset: ``key`` in metrics.json, ``label`` for people."""

    key: str
    label: str
    result: EvaluationResult


@dataclass(frozen=True)
class DemoResult:
    """What a demo run did: its settings, the training, the model file evaluated, the evaluations,
    the time of each step (seconds), and the plans the training followed (the first one before
    training, then one after every epoch; none with ``config.epochs``)."""

    paths: DemoPaths
    config: DemoConfig
    training: TrainResult
    model: Path
    evaluations: list[Evaluation]
    seconds: dict[str, float]
    total_s: float
    plans: tuple[PlanUpdate, ...] = ()
