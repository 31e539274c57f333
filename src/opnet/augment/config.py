"""What the training augmentation does, as one frozen, validated config (defaults = the original recipe).

Geometry (per sample, composed into one affine): the face box is chosen by :class:`RoiMode`, a
square crop of side max(w, h) * (expansion + clip(N(0, scale_std), +-scale_clip)) is shifted by
clip(N(0, shift_std), +-1) times the wiggle room, rotated in plane by +-``rotation_deg`` with
probability ``rotation_prob`` (and by +-90 degrees with ``rot90_prob``), and flipped horizontally
with ``flip_prob``. Intensity: ``intensity_ops_per_sample`` of the six operations are picked in
random order, each applied with its own probability; then Gaussian noise at several levels.
"""

from __future__ import annotations

from dataclasses import dataclass

from opnet.compat import StrEnum
from opnet.preprocess import INPUT_SIZE


class RoiMode(StrEnum):
    """Which face box frames the crop (``--roi-override``)."""

    ORIGINAL = "original"
    """The stored ``rois`` field."""
    LANDMARKS = "landmarks"
    """The bounding box of the 68 landmarks (stored ROI where a sample has none)."""
    EXTENT_TO_FOREHEAD = "extent_to_forehead"
    """The landmark box extended up to the hairline (see :func:`opnet.augment.labels.forehead_box`)."""


ROI_EXPANSION: dict[RoiMode, float] = {
    RoiMode.ORIGINAL: 1.1,
    RoiMode.LANDMARKS: 1.2,
    RoiMode.EXTENT_TO_FOREHEAD: 1.1,
}
"""Crop side / max(w, h) of the face box, before jitter (the original's values)."""

_PROBABILITIES = (
    "rotation_prob",
    "rot90_prob",
    "flip_prob",
    "equalize_prob",
    "posterize_prob",
    "gamma_prob",
    "contrast_prob",
    "brightness_prob",
    "blur_prob",
)
_RANGES = ("gamma_range", "contrast_range", "brightness_range", "posterize_bits")


@dataclass(frozen=True)
class AugmentConfig:
    """Training augmentation settings. Angles in degrees, noise in gray levels (0..255)."""

    out_size: int = INPUT_SIZE
    roi_mode: RoiMode = RoiMode.ORIGINAL
    # Crop jitter
    scale_std: float = 0.1
    scale_clip: float = 0.5
    shift_std: float = 0.5
    beyond_border: float = 0.3
    # In-plane rotation and flip
    rotation_deg: float = 30.0
    rotation_prob: float = 1.0 / 3.0
    rot90_prob: float = 0.01
    flip_prob: float = 0.5
    # Intensity (all off with intensity=False, i.e. --no-imgaug)
    intensity: bool = True
    intensity_ops_per_sample: int = 4
    equalize_prob: float = 0.2
    posterize_prob: float = 0.01
    posterize_bits: tuple[int, int] = (4, 6)
    gamma_prob: float = 0.2
    gamma_range: tuple[float, float] = (0.5, 2.0)
    contrast_prob: float = 0.2
    contrast_range: tuple[float, float] = (0.7, 1.5)
    brightness_prob: float = 0.2
    brightness_range: tuple[float, float] = (0.7, 1.5)
    blur_prob: float = 0.1
    blur_sigma: float = 1.5
    noise: tuple[tuple[float, float], ...] = ((4.0, 0.5), (16.0, 0.1))
    """(standard deviation in gray levels, probability) of each independent noise level."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "roi_mode", RoiMode(self.roi_mode))
        for name in _PROBABILITIES:
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(
                    f"AugmentConfig.{name} must be a probability in [0, 1], got {getattr(self, name)}"
                )
        for name in _RANGES:
            low, high = getattr(self, name)
            if not low <= high:
                raise ValueError(
                    f"AugmentConfig.{name} must be (low, high) with low <= high, got {(low, high)}"
                )
        if self.out_size < 1 or self.rotation_deg < 0 or self.scale_std < 0 or self.shift_std < 0:
            raise ValueError(
                "AugmentConfig: out_size must be positive and rotation_deg, scale_std, shift_std >= 0"
            )
        if not 0 <= self.intensity_ops_per_sample <= 6:
            raise ValueError("AugmentConfig.intensity_ops_per_sample must be in 0..6")
        if any(std < 0 or not 0 <= p <= 1 for std, p in self.noise):
            raise ValueError(f"AugmentConfig.noise must hold (std >= 0, probability), got {self.noise}")

    @property
    def expansion(self) -> float:
        """Crop side / max(w, h) of the face box before jitter."""
        return ROI_EXPANSION[self.roi_mode]
