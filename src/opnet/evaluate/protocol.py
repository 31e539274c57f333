"""Which samples are evaluated, which face box each input is cut around, and how it is cut.

- Protocols (:class:`Protocol`): ``original`` reproduces the original evaluation exactly (its
  crop, :mod:`opnet.original_crop`; ``u8 / 256 - 0.5`` for models that do not name their input
  normalisation; the head box by default); ``opentrack`` cuts and normalises as OpenTrack's
  tracker does (:mod:`opnet.preprocess`) around the 68-landmark box.
- The pose filter of AFLW2000-3D: keep samples whose |pitch|, |yaw| and |roll| (AFLW Euler
  convention) are all below 99 deg and whose head size is not negative (1969 of 2000 remain).
- Face boxes (:class:`RoiSource`): the file's stored ``rois``, the bounding box of the 68
  landmarks, or the head box (:mod:`opnet.facemodel.head_box`: the posed mean face mask from the
  forehead to the chin, from the true rotation, head centre and size). The input is cut around a
  square of side max(w, h) * expansion at the box centre.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from opnet.compat import StrEnum
from opnet.data import PoseDataset
from opnet.errors import DataError
from opnet.facemodel.head_box import head_boxes
from opnet.geometry import Float64Array, quat_to_euler, roi_from_points
from opnet.normalization import InputNorm

FILTER_LIMIT_DEG = 99.0
EXPANSIONS = (1.0, 1.1, 1.2)
LANDMARK_FIELDS = ("pt3d_68", "pt2d_68")
HEAD_FIELDS = ("quats", "coords")


class Protocol(StrEnum):
    ORIGINAL = "original"
    OPENTRACK = "opentrack"


DEFAULT_PROTOCOL = Protocol.ORIGINAL

DEFAULT_NORMS = {Protocol.ORIGINAL: InputNorm.DIV256, Protocol.OPENTRACK: InputNorm.OPENTRACK}
"""Input normalisation of models that do not name theirs (OpenTrack's released ONNX files)."""


class RoiSource(StrEnum):
    STORED = "stored"
    LANDMARKS = "landmarks"
    HEAD = "head"


def _preference(ds: PoseDataset, protocol: Protocol) -> tuple[RoiSource, ...]:
    """Box sources in the order ``--roi auto`` tries them. The original replaces the stored box only
    in files with ``pt3d_68`` (by the head box, or the landmark box); elsewhere (BIWI) it keeps it."""
    if protocol == Protocol.OPENTRACK:
        return (RoiSource.LANDMARKS, RoiSource.STORED, RoiSource.HEAD)
    if ds.has(LANDMARK_FIELDS[0]):
        return (RoiSource.HEAD, RoiSource.LANDMARKS, RoiSource.STORED)
    return (RoiSource.STORED, RoiSource.HEAD, RoiSource.LANDMARKS)


def _comprehensive(ds: PoseDataset, protocol: Protocol) -> tuple[tuple[RoiSource, ...], tuple[float, ...]]:
    """``--comprehensive-roi``: box sources and expansions in the order of the rows. ``original``: its
    six rows, head x1.2, x1.1, x1.0 then landmarks (files without ``pt3d_68``: the stored box)."""
    if protocol == Protocol.OPENTRACK:
        return (RoiSource.LANDMARKS, RoiSource.STORED), EXPANSIONS
    sources = (RoiSource.HEAD, RoiSource.LANDMARKS) if ds.has(LANDMARK_FIELDS[0]) else (RoiSource.STORED,)
    return sources, tuple(reversed(EXPANSIONS))


@dataclass(frozen=True)
class RoiChoice:
    """Face box source and the expansion of the square patch around it."""

    source: RoiSource
    expansion: float

    @property
    def label(self) -> str:
        expansion = (
            f"{self.expansion:.1f}" if round(self.expansion, 1) == self.expansion else f"{self.expansion:g}"
        )
        return f"{self.source.value} x{expansion}"


def keep_mask(
    quats: ArrayLike, coords: ArrayLike | None = None, limit_deg: float | None = FILTER_LIMIT_DEG
) -> NDArray[np.bool_]:
    """(N,) True for samples inside the pose filter (all True if ``limit_deg`` is None)."""
    quats = np.asarray(quats, dtype=np.float64)
    keep = np.ones(len(quats), dtype=bool)
    if limit_deg is None:
        return keep
    pyr_deg = np.rad2deg(np.abs(quat_to_euler(quats))) if len(quats) else np.zeros((0, 3))
    keep &= np.all(pyr_deg < limit_deg, axis=-1)
    if coords is not None:
        keep &= np.asarray(coords)[:, 2] >= 0.0
    return keep


def landmark_field(ds: PoseDataset) -> str | None:
    """The landmark field of a dataset (3D preferred), or None."""
    return next((name for name in LANDMARK_FIELDS if ds.has(name)), None)


def source_fields(ds: PoseDataset, source: RoiSource) -> tuple[str, ...]:
    """The fields the boxes of ``source`` are made from (for landmarks: the one the file has)."""
    if source == RoiSource.STORED:
        return ("rois",)
    if source == RoiSource.HEAD:
        return HEAD_FIELDS
    return (landmark_field(ds) or LANDMARK_FIELDS[0],)


def _missing(ds: PoseDataset, source: RoiSource) -> str | None:
    """Why the file cannot give ``source`` boxes (naming the fields), or None if it can."""
    if source == RoiSource.LANDMARKS:
        return None if landmark_field(ds) else "the field 'pt3d_68' or 'pt2d_68'"
    lacking = [name for name in source_fields(ds, source) if not ds.has(name)]
    if not lacking:
        return None
    what = " and ".join(f"'{name}'" for name in lacking)
    reason = " (true rotation, head centre and size)" if source == RoiSource.HEAD else ""
    return f"the field{'s' if len(lacking) > 1 else ''} {what}{reason}"


def available_sources(ds: PoseDataset, protocol: str = Protocol.OPENTRACK) -> list[RoiSource]:
    """ROI sources this dataset supports, in the protocol's order of preference."""
    return [s for s in _preference(ds, Protocol(protocol)) if _missing(ds, s) is None]


def roi_choices(
    ds: PoseDataset,
    source: str = "auto",
    expansion: float = 1.1,
    comprehensive: bool = False,
    protocol: str = Protocol.OPENTRACK,
) -> list[RoiChoice]:
    """The ROI choices to evaluate: one, or the protocol's sources x expansions (``comprehensive``).

    ``source`` is "auto" (the protocol's first available: for ``original`` the head box in files with
    ``pt3d_68``, else the stored box, as the original does; for ``opentrack`` landmarks, else stored),
    "stored", "landmarks" or "head".
    """
    protocol = Protocol(protocol)
    available = available_sources(ds, protocol)
    if not available:
        raise DataError(
            ds.path, "has neither 'rois' nor landmarks ('pt3d_68'/'pt2d_68') to place the face crop"
        )
    if comprehensive:
        sources, expansions = _comprehensive(ds, protocol)
        return [RoiChoice(s, e) for s in sources if s in available for e in expansions]
    chosen = available[0] if source == "auto" else RoiSource(source)
    why = _missing(ds, chosen)
    if why is not None:
        raise DataError(ds.path, f"--roi {chosen.value} needs {why}, which the file lacks")
    return [RoiChoice(chosen, expansion)]


def dataset_rois(
    ds: PoseDataset,
    source: RoiSource,
    indices: ArrayLike | None = None,
    head_hull: ArrayLike | None = None,
) -> Float64Array:
    """(N, 4) face boxes x0, y0, x1, y1 for ``source`` of every sample, or of samples ``indices``.

    ``head_hull``: the face-mask points of head boxes (default: OpNet's, see
    :func:`opnet.facemodel.head_box.head_boxes`).
    """
    why = _missing(ds, source)
    if why is not None:
        raise DataError(ds.path, f"has no {why} for {source.value} boxes")
    rows = None if indices is None else np.asarray(indices, dtype=np.int64)
    if source == RoiSource.STORED:
        return ds.read_field("rois", rows).astype(np.float64)
    if source == RoiSource.HEAD:
        quats, coords = (ds.read_field(name, rows).astype(np.float64) for name in HEAD_FIELDS)
        return head_boxes(quats, coords, head_hull)
    field = source_fields(ds, source)[0]
    return roi_from_points(ds.read_field(field, rows).astype(np.float64))
