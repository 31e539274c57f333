"""What the synthetic dataset looks like: image size, pose ranges, face sizes, sequence length."""

from __future__ import annotations

from dataclasses import dataclass

from opnet.errors import OpNetError


@dataclass(frozen=True)
class SynthConfig:
    """Settings of ``opnet synth`` (flag names in brackets).

    Poses are uniform in AFLW Euler angles within +-``*_max_deg``; the head size (``coords[2]``,
    about the projected head radius) is log-uniform between ``head_size_min`` and
    ``head_size_max`` times the image side, which puts the 68-landmark box of a frontal face at
    about 60 to 200 px in a 256 px image; each person is shown in ``samples_per_identity``
    samples (one sequence) with new pose, light, position and background each time.
    """

    image_size: int = 256  # --size
    yaw_max_deg: float = 90.0  # --yaw-max
    pitch_max_deg: float = 60.0  # --pitch-max
    roll_max_deg: float = 60.0  # --roll-max
    head_size_min: float = 0.16
    head_size_max: float = 0.55
    samples_per_identity: int = 8  # --per-identity

    def __post_init__(self) -> None:
        if not 32 <= self.image_size <= 4096:
            raise OpNetError(f"--size {self.image_size}: expected an image side of 32 to 4096 pixels")
        for flag, value, limit in (
            ("--yaw-max", self.yaw_max_deg, 90.0),
            ("--pitch-max", self.pitch_max_deg, 90.0),
            ("--roll-max", self.roll_max_deg, 180.0),
        ):
            if not 0.0 <= value <= limit:
                raise OpNetError(f"{flag} {value:g}: expected 0 to {limit:g} degrees")
        if not 0.02 <= self.head_size_min <= self.head_size_max <= 1.0:
            raise OpNetError(
                f"head sizes {self.head_size_min:g}..{self.head_size_max:g}: expected "
                "0.02 <= min <= max <= 1 (fractions of the image side)"
            )
        if self.samples_per_identity < 1:
            raise OpNetError(f"--per-identity {self.samples_per_identity}: expected at least 1")
