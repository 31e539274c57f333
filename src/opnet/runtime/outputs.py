"""What a pose network returns: raw outputs in patch units, and the same decoded into the image.

:class:`PoseOutputs` is the network's answer for B input patches in *patch units* (see
:mod:`opnet.preprocess`). :func:`decode_outputs` turns it, with the region each input was cut from
(a :class:`~opnet.preprocess.Patch`, or the original's :class:`~opnet.original_crop.CropBox`), into a
:class:`PosePrediction` in image pixels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from opnet.geometry import canonical_quat
from opnet.preprocess import CropFrame

_SHAPES = {
    "quat": (4,),
    "pos_size": (3,),
    "box": (4,),
    "coords": (3,),
    "rotaxis_scales_tril": (3, 3),
    "pos_size_scales_tril": (3, 3),
    "coords_scales_tril": (3, 3),
    "points": (68, 3),
}


def _check_shapes(record: PoseOutputs | PosePrediction) -> None:
    """All array fields share the batch size B and have their documented per-sample shape."""
    batch = len(record.quat)
    for f in fields(record):
        value = getattr(record, f.name)
        if value is None:
            continue
        if value.shape != (batch, *_SHAPES[f.name]):
            raise ValueError(
                f"{type(record).__name__}.{f.name}: shape {value.shape}, expected "
                f"({batch}, {', '.join(map(str, _SHAPES[f.name]))})"
            )


_Record = TypeVar("_Record", "PoseOutputs", "PosePrediction")


def concatenate(records: Sequence[_Record]) -> _Record:
    """Records of the same kind stacked along the batch axis (a field is kept only if all have it)."""
    if not records:
        raise ValueError("nothing to concatenate")
    first = records[0]
    values: dict[str, Any] = {}
    for f in fields(first):
        parts = [getattr(r, f.name) for r in records]
        values[f.name] = None if any(p is None for p in parts) else np.concatenate(parts)
    return replace(first, **values)


@dataclass(frozen=True)
class PoseOutputs:
    """Raw outputs of a pose network for B patches, float32, patch units.

    quat (B, 4) xyzw; pos_size (B, 3) head centre x, y in [-1, 1] of the patch and size relative to
    half the patch side; box (B, 4) x0, y0, x1, y1 in [-1, 1] (the next frame's face box);
    rotaxis_scales_tril (B, 3, 3) lower-triangular Cholesky factor of the rotation uncertainty
    (radians, as a rotation vector) or None; pos_size_scales_tril (B, 3, 3) the same for pos_size
    (patch units) or None; points (B, 68, 3) landmarks (all axes in patch units) or None.
    """

    quat: NDArray[np.float32]
    pos_size: NDArray[np.float32]
    box: NDArray[np.float32]
    rotaxis_scales_tril: NDArray[np.float32] | None = None
    pos_size_scales_tril: NDArray[np.float32] | None = None
    points: NDArray[np.float32] | None = None

    def __post_init__(self) -> None:
        _check_shapes(self)

    def __len__(self) -> int:
        return len(self.quat)


@dataclass(frozen=True)
class PosePrediction:
    """Pose network outputs for B faces in image coordinates (float64).

    quat (B, 4) canonical xyzw (w >= 0); coords (B, 3) head centre x, y and size in pixels;
    box (B, 4) x0, y0, x1, y1 in pixels; rotaxis_scales_tril (B, 3, 3) radians or None;
    coords_scales_tril (B, 3, 3) pixels or None; points (B, 68, 3) pixels or None.
    """

    quat: NDArray[np.float64]
    coords: NDArray[np.float64]
    box: NDArray[np.float64]
    rotaxis_scales_tril: NDArray[np.float64] | None = None
    coords_scales_tril: NDArray[np.float64] | None = None
    points: NDArray[np.float64] | None = None

    def __post_init__(self) -> None:
        _check_shapes(self)

    def __len__(self) -> int:
        return len(self.quat)


def decode_outputs(outputs: PoseOutputs, patches: Sequence[CropFrame]) -> PosePrediction:
    """Raw outputs -> image pixels, ``patches[k]`` being the region input k was cut from.

    Positions, sizes, boxes, landmarks and the position uncertainty scale with the patch (as
    OpenTrack does); the rotation and its uncertainty are unchanged.
    """
    if len(patches) != len(outputs):
        raise ValueError(f"{len(outputs)} outputs but {len(patches)} patches")
    halves = np.array([p.half for p in patches], dtype=np.float64)
    coords = np.stack([p.decode_pos_size(v) for p, v in zip(patches, outputs.pos_size, strict=True)]).reshape(
        -1, 3
    )
    box = np.stack([p.decode_box(v) for p, v in zip(patches, outputs.box, strict=True)]).reshape(-1, 4)
    points = None
    if outputs.points is not None:
        points = np.stack([p.decode_points(v) for p, v in zip(patches, outputs.points, strict=True)]).reshape(
            -1, 68, 3
        )
    coords_tril = None
    if outputs.pos_size_scales_tril is not None:
        coords_tril = outputs.pos_size_scales_tril.astype(np.float64) * halves[:, None, None]
    rot_tril = None if outputs.rotaxis_scales_tril is None else outputs.rotaxis_scales_tril.astype(np.float64)
    return PosePrediction(
        canonical_quat(outputs.quat).reshape(-1, 4), coords, box, rot_tril, coords_tril, points
    )
