"""Settings of ``opnet augment3d``, checked when made."""

from __future__ import annotations

from dataclasses import dataclass

from opnet.augment3d.inputs import FitMode
from opnet.errors import OpNetError


@dataclass(frozen=True)
class AugmentConfig:
    """``yaw_step_deg``: width of the yaw bins (one new view per bin); ``prob_closed_eyes``,
    ``prob_spotlight``: chance of each per new view; ``max_residual_pct``: faces whose landmark
    fit is worse (percent of the landmark box) are dropped (None keeps all); ``fit``: how the face
    model is placed (:class:`~opnet.augment3d.inputs.FitMode`); ``jpeg_quality`` of new views."""

    yaw_step_deg: float = 5.0
    prob_closed_eyes: float = 0.5
    prob_spotlight: float = 0.001
    max_residual_pct: float | None = None
    fit: FitMode = FitMode.AUTO
    jpeg_quality: int = 95

    def __post_init__(self) -> None:
        if not 0.0 < self.yaw_step_deg <= 90.0:
            raise OpNetError(f"--yaw-step {self.yaw_step_deg:g}: expected degrees in (0, 90]")
        for flag, p in (
            ("--prob-closed-eyes", self.prob_closed_eyes),
            ("--prob-spotlight", self.prob_spotlight),
        ):
            if not 0.0 <= p <= 1.0:
                raise OpNetError(f"{flag} {p:g}: expected a probability in [0, 1]")
        if self.max_residual_pct is not None and self.max_residual_pct <= 0:
            raise OpNetError(f"--max-residual {self.max_residual_pct:g}: expected a positive percentage")
        try:
            object.__setattr__(self, "fit", FitMode(self.fit))
        except ValueError:
            raise OpNetError(
                f"--fit {self.fit}: expected one of {', '.join(m.value for m in FitMode)}"
            ) from None
        if not 1 <= self.jpeg_quality <= 100:
            raise OpNetError(f"JPEG quality {self.jpeg_quality}: expected 1..100")
