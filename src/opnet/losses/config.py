"""Which loss terms to use and how much each weighs: a frozen, validated dataclass."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from opnet.errors import OpNetError
from opnet.losses.rotation import ROTATION_METRICS

TERM_NAMES = (
    "rot",
    "xy",
    "size",
    "box",
    "points",
    "quat_norm",
    "nll_rot",
    "nll_pos_size",
    "nll_box",
    "nll_points",
)


@dataclass(frozen=True)
class LossConfig:
    """Weights of the loss terms (0 switches a term off) and landmark settings.

    Defaults are the original's recipe: rot 0.5, xy and size 0.25 each, box 0.01, points 0.7,
    quaternion norm 1e-6, and the NLL terms at 0.01 x (0.3, 0.3, 0.01, 0.7). NLL terms apply only
    to models that predict uncertainties. ``rot_metric``: "sin2" sin^2(angle / 2) (the original's)
    or "sin" |sin(angle / 2)| (see :mod:`opnet.losses.rotation`). ``points_metric``: "l2" squared
    distance per point, or "l1" summed absolute coordinate errors (the original's); ``jaw_weight`` /
    ``eyelid_weight``: per-point weights of the jaw line (except the chin tip) and the eyelids.
    """

    rot: float = 0.5
    xy: float = 0.25
    size: float = 0.25
    box: float = 0.01
    points: float = 0.7
    quat_norm: float = 1e-6
    nll_rot: float = 0.003
    nll_pos_size: float = 0.003
    nll_box: float = 0.0001
    nll_points: float = 0.007
    rot_metric: str = "sin2"
    points_metric: str = "l2"
    jaw_weight: float = 0.8
    eyelid_weight: float = 0.0

    def __post_init__(self) -> None:
        for name in (*TERM_NAMES, "jaw_weight", "eyelid_weight"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                raise OpNetError(f"loss weight {name}={value!r}: expected a finite number >= 0")
        if self.rot_metric not in ROTATION_METRICS:
            raise OpNetError(f"loss rot_metric={self.rot_metric!r}: expected one of {ROTATION_METRICS}")
        if self.points_metric not in ("l1", "l2"):
            raise OpNetError(f"loss points_metric={self.points_metric!r}: expected 'l1' or 'l2'")

    def weights(self) -> dict[str, float]:
        """Term name -> weight, for every term."""
        return {name: float(getattr(self, name)) for name in TERM_NAMES}

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
