"""The Python front door: ``opnet.load(NAME)`` -> a model that finds faces and their poses in images.

>>> model = opnet.load("head-pose-0.4-small-int8")   # a catalog name (downloaded on first use) or a file
>>> faces = model.predict(bgr_image)                  # BGR (H, W, 3) or gray (H, W) uint8, any size
>>> faces[0].yaw, faces[0].pitch, faces[0].roll       # degrees, opnet.geometry's angles

Like the ``opnet`` command, this entry point reads ``$XDG_CACHE_HOME`` (the model cache) unless
``cache_dir`` is given; the library below it takes every path as an argument.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from opnet.prepare.cache import LOCALIZER, cache_dir_from_env, resolve_model
from opnet.prepare.download import MODELS
from opnet.runtime import PoseModel, load_pose_model
from opnet.runtime.detection import FACE_SCORE_THRESHOLD, FaceDetector
from opnet.runtime.faces import FacePose, estimate_faces, load_detector

log = logging.getLogger(__name__)


@dataclass
class HeadPoseModel:
    """A pose network with a face detector: :meth:`predict` gives every face's pose in an image."""

    pose_model: PoseModel
    detector: FaceDetector
    min_score: float = FACE_SCORE_THRESHOLD

    def predict(self, image: NDArray[np.uint8]) -> list[FacePose]:
        """The faces in a BGR (H, W, 3), BGRA or gray (H, W) uint8 image, largest first for the
        ``haar`` detector. Each has ``yaw``, ``pitch``, ``roll`` (degrees), ``coords`` (head centre
        x, y and size in pixels), ``box``, ``quat`` (xyzw) and uncertainties (see FacePose)."""
        return estimate_faces(self.pose_model, self.detector, image, self.min_score)


def load(
    model: str | os.PathLike = "head-pose-0.4-small-int8",
    detector: str = "haar",
    cache_dir: str | os.PathLike | None = None,
    download: bool = True,
    mirror: str | None = None,
    threads: int | None = 1,
) -> HeadPoseModel:
    """A ready :class:`HeadPoseModel`.

    ``model``: a catalog name (``opnet download --list``; fetched into the cache on first use unless
    ``download`` is False) or a model file (.onnx, .ckpt). ``detector``: ``"haar"`` (every face in a
    photo) or ``"localizer"`` (OpenTrack's, one face per webcam frame; fetched like the model).
    ``cache_dir``: default ``$XDG_CACHE_HOME/opnet`` (``~/.cache/opnet``). ``mirror``: base URL to
    fetch from instead of the origin. ``threads``: CPU threads (None: all cores).
    """
    cache = Path(cache_dir) if cache_dir is not None else cache_dir_from_env(os.environ)
    if os.fspath(model) in MODELS and download:
        log.info("%s: %s", model, MODELS[os.fspath(model)].licence)
    path = resolve_model(model, cache, "model", download=download, mirror=mirror)
    localizer = None
    if detector == "localizer":
        localizer = resolve_model(LOCALIZER, cache, "localizer", download=download, mirror=mirror)
    return HeadPoseModel(load_pose_model(path, threads), load_detector(detector, localizer, threads or 1))
