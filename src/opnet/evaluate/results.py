"""What an evaluation produces: settings, per-sample errors, table rows, stability spreads."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from opnet.evaluate.metrics import PoseMetrics
from opnet.evaluate.protocol import DEFAULT_PROTOCOL, FILTER_LIMIT_DEG, Protocol, RoiChoice
from opnet.evaluate.stability import Spread, StabilitySettings

ALIGNMENTS = ("none", "perspective", "opal23")
BIWI_FOV_DEG = 57.0
"""Horizontal field of view of the Kinect that recorded BIWI."""

ENSEMBLE = "ensemble"
ROI_SOURCES = ("auto", "head", "landmarks", "stored")


@dataclass(frozen=True)
class EvaluationSettings:
    """The protocol and how to run it (see docs/evaluation.md).

    ``face_model``: a 3DDFA face model file (``bfm_noneck_v3.pkl``) whose mean mesh makes the head
    boxes, as in the original; default OpNet's own face mask (:mod:`opnet.facemodel.head_box`).
    """

    protocol: str = DEFAULT_PROTOCOL
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
    face_model: Path | None = None

    def __post_init__(self) -> None:
        if self.protocol not in tuple(Protocol):
            raise ValueError(f"protocol {self.protocol!r}: expected one of {', '.join(Protocol)}")
        if self.alignment not in ALIGNMENTS:
            raise ValueError(f"alignment {self.alignment!r}: expected one of {', '.join(ALIGNMENTS)}")
        if self.roi_source not in ROI_SOURCES:
            raise ValueError(f"roi source {self.roi_source!r}: expected one of {', '.join(ROI_SOURCES)}")
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
    """Everything ``opnet evaluate`` reports. ``stability`` maps model names to spreads (first ROI choice).

    ``not_finite`` counts, per label field, the samples dropped because that field holds NaN or
    infinity (a sample may count under several fields; :attr:`dropped_not_finite` is their union).
    """

    dataset: Path
    settings: EvaluationSettings
    total_samples: int
    kept_samples: int
    models: list[ModelInfo]
    roi_choices: list[RoiChoice]
    rows: list[Row] = field(default_factory=list)
    stability: dict[str, list[Spread]] | None = None
    dropped_not_finite: int = 0
    not_finite: dict[str, int] = field(default_factory=dict)

    @property
    def dropped_samples(self) -> int:
        """Samples dropped by the pose filter (the rest of the dropped ones had non-finite labels)."""
        return self.total_samples - self.kept_samples - self.dropped_not_finite
