"""What the synthetic dataset looks like: image size, pose distribution, face sizes, sequence length,
occluders (glasses, hats, hands) and the realism levers."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from opnet.errors import OpNetError

POSE_DISTRIBUTIONS = ("uniform", "frontal")
POSE_ANGLES = ("aflw", "hpb")
FRONTAL_SD_DEG = (15.0, 35.0, 12.0)
"""Standard deviations (pitch, yaw, roll) of the normal part of the "frontal" pose distribution."""
FRONTAL_UNIFORM_SHARE = 0.25
"""Share of "frontal" poses still drawn uniformly in the ranges (so that large poses stay covered)."""


@dataclass(frozen=True)
class Occluders:
    """Things in front of the face: the share of persons wearing ``glasses`` (clear or dark), of
    persons wearing a hat (``hats``: caps, beanies, brimmed hats), and of samples with a hand (and
    forearm) in front of the face (``hands``). All 0: none."""

    glasses: float = 0.0
    hats: float = 0.0
    hands: float = 0.0

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            share = getattr(self, f.name)
            if not 0.0 <= share <= 1.0:
                raise OpNetError(f"--occluders {f.name}={share:g}: expected a share from 0 to 1")


OCCLUDER_SHARES = Occluders(glasses=0.3, hats=0.2, hands=0.2)
"""The shares ``--occluders NAME`` sets when no share is given."""


@dataclass(frozen=True)
class Realism:
    """The realism levers of the synthetic heads (docs/synth.md; all off: the plain heads).

    ``hair``: long hair on some persons, fringes, strands; ``eyes``: eyelids from wide open to
    closed, gaze; ``skin``: pores, freckles, moles, folds, make-up, oily shine; ``light``: cast
    shadows, a second light, stronger highlights, hard and dim light; ``camera``: JPEG quality,
    vignetting, low light with its noise, motion blur, colour balance, exposure, low resolution;
    ``backgrounds``: textured scenes (fractal noise, windows, shelves) besides clutter;
    ``expressions``: open mouths and smiles (the landmarks move with them); ``body``: neck and
    shoulders in clothes of many styles (necklines from turtlenecks to V-necks, open jackets,
    checks, fabric), necklaces.
    """

    hair: bool = False
    eyes: bool = False
    skin: bool = False
    light: bool = False
    camera: bool = False
    backgrounds: bool = False
    expressions: bool = False
    body: bool = False

    @classmethod
    def all(cls) -> Realism:
        return cls(**{f.name: True for f in dataclasses.fields(cls)})

    def names(self) -> list[str]:
        """The levers that are on."""
        return [f.name for f in dataclasses.fields(self) if getattr(self, f.name)]


@dataclass(frozen=True)
class SynthConfig:
    """Settings of ``opnet synth`` (flag names in brackets).

    Poses: ``pose`` "uniform" draws the three angles uniformly within +-``*_max_deg``;
    "frontal" draws most of them from normal distributions around the frontal pose
    (:data:`FRONTAL_SD_DEG`, clipped to the ranges) as in photos of people, and
    :data:`FRONTAL_UNIFORM_SHARE` of them uniformly. ``pose_angles`` says which angles: "aflw",
    AFLW's pitch, yaw and roll (the labels' convention), or "hpb", heading, pitch and bank as a
    neck moves (turn, then nod and tilt in the head's own frame: a profile that looks up is a
    profile turned in the image plane, which AFLW's angles reach only near pitch and roll +-90;
    :func:`opnet.geometry.hpb_to_quat`). The head size (``coords[2]``, about the
    projected head radius) is log-uniform between ``head_size_min`` and ``head_size_max`` times the
    image side, which puts the 68-landmark box of a frontal face at about 60 to 200 px in a 256 px
    image; each person is shown in ``samples_per_identity`` samples (one sequence) with new pose,
    light, position and background each time. ``occluders`` and ``realism``: see their classes.
    """

    image_size: int = 256  # --size
    yaw_max_deg: float = 90.0  # --yaw-max
    pitch_max_deg: float = 60.0  # --pitch-max
    roll_max_deg: float = 60.0  # --roll-max
    head_size_min: float = 0.16
    head_size_max: float = 0.55
    samples_per_identity: int = 8  # --per-identity
    pose: str = "uniform"  # --pose
    pose_angles: str = "aflw"  # --pose-angles
    occluders: Occluders = field(default_factory=Occluders)  # --occluders
    realism: Realism = field(default_factory=Realism)  # --realism

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
        if self.pose not in POSE_DISTRIBUTIONS:
            raise OpNetError(f"--pose {self.pose}: expected one of {', '.join(POSE_DISTRIBUTIONS)}")
        if self.pose_angles not in POSE_ANGLES:
            raise OpNetError(f"--pose-angles {self.pose_angles}: expected one of {', '.join(POSE_ANGLES)}")


def parse_occluders(text: str) -> Occluders:
    """``--occluders`` "glasses,hats=0.5,hands" -> :class:`Occluders` (a name alone: its share in
    :data:`OCCLUDER_SHARES`; "none": no occluders)."""
    names = {f.name for f in dataclasses.fields(Occluders)}
    shares: dict[str, float] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        if item == "none":
            continue
        name, _, value = item.partition("=")
        if name not in names:
            raise OpNetError(f"--occluders {text}: {name!r} is unknown; expected {', '.join(sorted(names))}")
        try:
            shares[name] = float(value) if value else getattr(OCCLUDER_SHARES, name)
        except ValueError:
            raise OpNetError(f"--occluders {text}: {value!r} is not a number (a share from 0 to 1)") from None
    return Occluders(**shares)


def parse_realism(text: str) -> Realism:
    """``--realism`` "hair,light" -> :class:`Realism` ("all" or "none" as well)."""
    names = [f.name for f in dataclasses.fields(Realism)]
    items = [part.strip() for part in text.split(",") if part.strip()]
    if items == ["all"]:
        return Realism.all()
    unknown = [item for item in items if item not in names and item != "none"]
    if unknown:
        raise OpNetError(
            f"--realism {text}: {unknown[0]!r} is unknown; expected all, none or {', '.join(names)}"
        )
    return Realism(**{item: True for item in items if item != "none"})
