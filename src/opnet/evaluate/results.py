"""What an evaluation produces: settings, per-sample errors, table rows, stability spreads."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from opnet.evaluate.metrics import PoseMetrics
from opnet.evaluate.protocol import FILTER_LIMIT_DEG, RoiChoice
from opnet.evaluate.stability import Spread, StabilitySettings

ALIGNMENTS = ("none", "perspective", "opal23")
BIWI_FOV_DEG = 57.0
"""Horizontal field of view of the Kinect that recorded BIWI."""

ENSEMBLE = "ensemble"


@dataclass(frozen=True)
class EvaluationSettings:
    """The protocol and how to run it (see docs/evaluation.md)."""

    roi_source: str = "auto"
    roi_expansion: float = 1.1
    comprehensive_roi: bool = False
    alignment: str = "none"
    fov_deg: float = BIWI_FOV_DEG
    filter_limit_deg: float | None = FILTER_LIMIT_DEG
    ensemble: bool = False
    stability: StabilitySettings | None = None
    batch_size: int = 64
    threads: int | None = None
    progress: bool = True

    def __post_init__(self) -> None:
        if self.alignment not in ALIGNMENTS:
            raise ValueError(f"alignment {self.alignment!r}: expected one of {', '.join(ALIGNMENTS)}")
        if self.roi_source not in ("auto", "stored", "landmarks"):
            raise ValueError(f"roi source {self.roi_source!r}: expected auto, stored or landmarks")
        if self.roi_expansion <= 0 or not 0 < self.fov_deg < 180 or self.batch_size < 1:
            raise ValueError(
                "roi expansion and batch size must be positive and the field of view in (0, 180)"
            )


@dataclass(frozen=True)
class SampleErrors:
    """Per-sample results of one model under one ROI choice (kept samples only, dataset order).

    Angles in radians, position errors as fractions of the ROI width; ``pred_quat`` is after
    alignment (if any). Landmark NMEs are None unless both model and data have landmarks.
    """

    indices: NDArray[np.int64]
    true_quat: NDArray[np.float64]
    pred_quat: NDArray[np.float64]
    euler_err: NDArray[np.float64]
    geodesic_err: NDArray[np.float64]
    position_err: NDArray[np.float64] | None = None
    nme3d: NDArray[np.float64] | None = None
    nme2d: NDArray[np.float64] | None = None


@dataclass(frozen=True)
class Row:
    """One line of the table: a model (or the ensemble) under one ROI choice."""

    model: str
    roi: RoiChoice
    metrics: PoseMetrics
    samples: SampleErrors


@dataclass(frozen=True)
class ModelInfo:
    name: str
    path: str | None
    input_size: int
    has_points: bool


@dataclass
class EvaluationResult:
    """Everything ``opnet evaluate`` reports. ``stability`` maps model names to spreads (first ROI choice)."""

    dataset: Path
    settings: EvaluationSettings
    total_samples: int
    kept_samples: int
    models: list[ModelInfo]
    roi_choices: list[RoiChoice]
    rows: list[Row] = field(default_factory=list)
    stability: dict[str, list[Spread]] | None = None

    @property
    def dropped_samples(self) -> int:
        return self.total_samples - self.kept_samples
