"""What the training augmentation does, as one frozen, validated config (defaults = the original recipe).

Geometry (per sample, composed into one affine): the face box is chosen by :class:`RoiMode`, a
square crop of side max(w, h) * (expansion + clip(N(0, scale_std), +-scale_clip)) is shifted by
clip(N(0, shift_std), +-1) times the wiggle room, rotated in plane by +-``rotation_deg`` with
probability ``rotation_prob`` (and by +-90 degrees with ``rot90_prob``), and flipped horizontally
with ``flip_prob``. Intensity: ``intensity_ops_per_sample`` of the six operations are picked in
random order, each applied with its own probability; then Gaussian noise at several levels.

How the crop is cut and how intensities are changed have two styles each, the original's (the
``paper`` training recipe) and OpNet's (see :data:`STYLE_CHOICES` and docs/augmentation.md).
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

STYLE_CHOICES: dict[str, tuple[str, ...]] = {
    "crop": ("original", "subpixel"),
    "border": ("zero", "replicate"),
    "box_target": ("corners", "ellipse"),
    "intensity_style": ("kornia", "lut"),
    "contrast": ("multiply", "mean"),
}
"""Settings with named choices: the original's first, OpNet's second.

- ``crop``: ``original`` = the crop window rounded to whole pixels and resized with INTER_AREA
  (INTER_LINEAR when enlarging); rotated crops are warped bilinearly at about 1:1 first, with the
  original's half-pixel offset; flips and quarter turns move whole pixels afterwards; the JPEG is
  decoded at full size. ``subpixel`` = the exact window, rotation and flip in one bilinear warp at
  about 1:1 from a JPEG decoded at 1/2..1/8 size where the crop allows, then INTER_AREA, as the
  evaluation crop (:func:`opnet.preprocess.crop_patch`) is cut.
- ``border``: what fills a crop beyond the image: black (``zero``) or the edge pixels.
- ``box_target``: under a rotation, the box of the rotated box corners or of its inscribed ellipse.
- ``intensity_style``: ``kornia`` = on float intensities of the model's 0..1 scale (after the
  input normalisation), the operations picked once per batch, each applied per sample with its
  probability, noise not clipped (the original's kornia pipeline); ``lut`` = per sample on uint8
  patches before the normalisation, noise rounded and saturated.
- ``contrast``: ``multiply`` x * c clipped to 0..1 (kornia's), or ``mean`` m + c (x - m) around
  the patch mean m (a plain factor would be undone by OpenTrack's brightness normalisation).
"""

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
    # Styles (STYLE_CHOICES) and the original's flip behaviour
    crop: str = "subpixel"
    border: str = "replicate"
    box_target: str = "ellipse"
    intensity_style: str = "lut"
    contrast: str = "mean"
    flipped_shapeparams: bool = False
    """Train the shape parameters of flipped samples (unmirrored values, as the original did)."""

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
        for name, choices in STYLE_CHOICES.items():
            if getattr(self, name) not in choices:
                raise ValueError(
                    f"AugmentConfig.{name} must be one of {', '.join(choices)}, got {getattr(self, name)!r}"
                )
        if any(std < 0 or not 0 <= p <= 1 for std, p in self.noise):
            raise ValueError(f"AugmentConfig.noise must hold (std >= 0, probability), got {self.noise}")

    @property
    def expansion(self) -> float:
        """Crop side / max(w, h) of the face box before jitter."""
        return ROI_EXPANSION[self.roi_mode]
