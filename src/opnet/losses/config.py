"""Which loss terms to use, how much each weighs and how each is computed: a frozen, validated dataclass.

Named, documented settings for whole recipes (the original paper's, OpNet's) are in
:mod:`opnet.losses.recipes`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from opnet.errors import OpNetError
from opnet.losses.rotation import ROTATION_METRICS

TERM_NAMES = (
    "rot",
    "xy",
    "size",
    "box",
    "points",
    "shapeparams",
    "quat_norm",
    "nll_rot",
    "nll_pos_size",
    "nll_box",
    "nll_points",
    "nll_shapeparams",
)
NLL_TERM_NAMES = tuple(name for name in TERM_NAMES if name.startswith("nll_"))

POINTS_METRICS = ("l1", "l2")
POINTS_DIVISORS = ("weights", "count")
NLL_DISTRIBUTIONS = ("gaussian", "laplace")
NLL_COORDINATE_REDUCTIONS = ("sum", "mean")

_CHOICES = {
    "rot_metric": ROTATION_METRICS,
    "points_metric": POINTS_METRICS,
    "points_divisor": POINTS_DIVISORS,
    "nll_points_distribution": NLL_DISTRIBUTIONS,
    "nll_coordinates": NLL_COORDINATE_REDUCTIONS,
}


@dataclass(frozen=True)
class LossConfig:
    """Weights of the loss terms (0 switches a term off) and how the terms are computed.

    The defaults are OpNet's recipe (``loss_recipe("opnet", nll=True)``); ``loss_recipe("paper", ...)``
    is the original paper's. NLL terms apply only to models that predict uncertainties.

    - ``rot_metric``: "sin2" sin^2(angle / 2) (the original's) or "sin" |sin(angle / 2)|
      (see :mod:`opnet.losses.rotation`).
    - ``points_metric``: "l2" squared distance per point, or "l1" summed absolute coordinate errors.
    - ``points_divisor``: the weighted sum over the 68 landmarks is divided by the sum of the point
      weights ("weights": a weighted mean) or by 68 ("count": the original's).
    - ``align_depth``: compare landmark depths relative to the mean eye-corner depth (a depth offset
      never counts) or as they are (False: the original's).
    - ``jaw_weight`` / ``eyelid_weight``: per-point weights of the jaw line (except the chin tip)
      and of the eyelids.
    - ``nll_points_distribution``: "gaussian" or "laplace" per landmark coordinate.
    - ``nll_coordinates``: the box, landmark and shape-coefficient NLLs of independent coordinates are
      summed ("sum": the joint NLL) or averaged ("mean": the original's).
    - ``nll_outlier_weight``: weight of a uniform density mixed into the rotation and centre/size
      likelihoods so that gross errors cannot dominate (0: plain Gaussians, the original paper's).
    """

    rot: float = 0.5
    xy: float = 0.25
    size: float = 0.25
    box: float = 0.01
    points: float = 0.7
    shapeparams: float = 0.0
    quat_norm: float = 1e-6
    nll_rot: float = 0.003
    nll_pos_size: float = 0.003
    nll_box: float = 0.0001
    nll_points: float = 0.007
    nll_shapeparams: float = 0.0
    rot_metric: str = "sin2"
    points_metric: str = "l2"
    points_divisor: str = "weights"
    align_depth: bool = True
    jaw_weight: float = 0.8
    eyelid_weight: float = 0.0
    nll_points_distribution: str = "gaussian"
    nll_coordinates: str = "sum"
    nll_outlier_weight: float = 0.001

    def __post_init__(self) -> None:
        for name in (*TERM_NAMES, "jaw_weight", "eyelid_weight"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                raise OpNetError(f"loss weight {name}={value!r}: expected a finite number >= 0")
        for name, choices in _CHOICES.items():
            if getattr(self, name) not in choices:
                raise OpNetError(f"loss {name}={getattr(self, name)!r}: expected one of {', '.join(choices)}")
        if not isinstance(self.align_depth, bool):
            raise OpNetError(f"loss align_depth={self.align_depth!r}: expected true or false")
        if not (isinstance(self.nll_outlier_weight, (int, float)) and 0 <= self.nll_outlier_weight < 1):
            raise OpNetError(f"loss nll_outlier_weight={self.nll_outlier_weight!r}: expected 0 <= w < 1")

    def weights(self) -> dict[str, float]:
        """Term name -> weight, for every term."""
        return {name: float(getattr(self, name)) for name in TERM_NAMES}
