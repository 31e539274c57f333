"""One face in one frame, cropped the way OpenTrack's tracker crops it (for ``predict``/``track``).

OpenTrack (``PoseEstimator::run``) cuts a square patch of side ``int(max(w, h) * 1.05)`` around
the face box centre (clamped into the frame) with sub-pixel precision, resizes it with
``INTER_AREA`` and normalises its brightness; :mod:`opnet.preprocess` does the cutting. One
difference: OpenTrack hands the box centre to ``getRectSubPix`` unchanged, which reads it as a
pixel-*centre* coordinate, so its patch sits half a pixel right of and below the box centre;
here box and patch share the pixel-corner convention of docs/format.md.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from opnet.normalization import normalize_input
from opnet.preprocess import Patch, crop_patch
from opnet.runtime.model import PoseModel, input_norm_of
from opnet.runtime.outputs import PosePrediction, decode_outputs

TRACKER_EXPANSION = 1.05
"""OpenTrack's patch side relative to the larger side of the face box."""


def tracker_patch(box: ArrayLike, image_wh: tuple[int, int]) -> Patch:
    """The patch OpenTrack cuts for face box x0, y0, x1, y1 (pixels) in a frame of size (W, H)."""
    x0, y0, x1, y1 = np.asarray(box, dtype=np.float64)
    side = int(max(x1 - x0, y1 - y0) * TRACKER_EXPANSION)
    if side < 1:
        raise ValueError(f"face box {x0, y0, x1, y1} is empty")
    centre = (
        float(np.clip(0.5 * (x0 + x1), 0, image_wh[0])),
        float(np.clip(0.5 * (y0 + y1), 0, image_wh[1])),
    )
    return Patch(centre, float(side))


def predict_patch(model: PoseModel, image: NDArray[np.uint8], patch: Patch) -> PosePrediction:
    """Pose of the face in ``patch`` of a gray (H, W) image: crop, normalise as the model expects
    (:func:`~opnet.runtime.model.input_norm_of`), run, decode (B = 1)."""
    crop, patch = crop_patch(image, patch, model.input_size)
    return decode_outputs(model.run(normalize_input(crop, input_norm_of(model))[None, None]), [patch])


def predict_face(model: PoseModel, image: NDArray[np.uint8], box: ArrayLike) -> PosePrediction:
    """Pose of the face in ``box`` of a gray (H, W) frame, as OpenTrack would compute it (B = 1)."""
    return predict_patch(model, image, tracker_patch(box, (image.shape[1], image.shape[0])))
