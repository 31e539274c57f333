"""OpenTrack's face localizer network (``head-localizer.onnx``), run as OpenTrack runs it.

Contract (``tracker-neuralnet/model_adapters.cpp``, ``Localizer``): one float32 input
(1, 1, 224, 288), the whole gray frame resized with ``INTER_AREA`` to 288 x 224 and scaled as
pixel / 255 - 0.5; one float32 output ``logit_box`` (1, 5) = face logit and box x0, y0, x1, y1
in [-1, 1] of the frame. score = sigmoid(logit); box pixel = (v + 1) / 2 * W (or H).
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from opnet.errors import OpNetError
from opnet.runtime.detection import FaceDetection

INPUT_WIDTH = 288
INPUT_HEIGHT = 224
OUTPUT_NAME = "logit_box"


def _check_model(path: Path, session) -> str:  # noqa: ANN001 - onnxruntime session
    """The input name of a valid localizer; raises naming the file otherwise."""
    inputs, outputs = session.get_inputs(), session.get_outputs()
    expected_in = [1, 1, INPUT_HEIGHT, INPUT_WIDTH]
    if len(inputs) != 1 or list(inputs[0].shape) != expected_in or inputs[0].type != "tensor(float)":
        found = ", ".join(f"{i.name} {i.type} {list(i.shape)}" for i in inputs) or "none"
        raise OpNetError(
            f"{path}: not a face localizer: inputs {found}; expected one float32 {tuple(expected_in)}"
        )
    out = {o.name: o for o in outputs}.get(OUTPUT_NAME)
    if out is None or list(out.shape) != [1, 5] or out.type != "tensor(float)":
        found = ", ".join(f"{o.name} {o.type} {list(o.shape)}" for o in outputs) or "none"
        raise OpNetError(
            f"{path}: not a face localizer: outputs {found}; expected float32 '{OUTPUT_NAME}' (1, 5)"
        )
    return inputs[0].name


def localizer_input(image: NDArray[np.uint8]) -> NDArray[np.float32]:
    """Gray (H, W) frame -> (1, 1, 224, 288) float32 network input."""
    if image.ndim != 2 or image.dtype != np.uint8:
        raise ValueError(f"expected a gray uint8 (H, W) image, got {image.dtype} {image.shape}")
    scaled = cv2.resize(image, (INPUT_WIDTH, INPUT_HEIGHT), interpolation=cv2.INTER_AREA)
    return (scaled.astype(np.float32) * np.float32(1 / 255) - np.float32(0.5))[None, None]


def decode_localizer(logit_box: NDArray[np.floating], image_wh: tuple[int, int]) -> FaceDetection:
    """Raw (5,) output -> score sigmoid(logit) and the box in pixels of a (W, H) frame."""
    logit, x0, y0, x1, y1 = np.asarray(logit_box, dtype=np.float64).reshape(5)
    w, h = image_wh
    box = np.array([(x0 + 1) * 0.5 * w, (y0 + 1) * 0.5 * h, (x1 + 1) * 0.5 * w, (y1 + 1) * 0.5 * h])
    return FaceDetection(box, float(1.0 / (1.0 + np.exp(-logit))))


class Localizer:
    """OpenTrack's face localizer: one face candidate (box and score) per frame.

    ``threads``: onnxruntime intra-op threads for one call (OpenTrack's default is 1).
    """

    name = "localizer"

    def __init__(self, path: str | os.PathLike, threads: int = 1):
        import onnxruntime as ort

        self.path = Path(path)
        if not self.path.is_file():
            raise OpNetError(f"{self.path}: no such localizer model file")
        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, threads)
        options.inter_op_num_threads = 1
        try:
            self._session = ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        except Exception as e:  # onnxruntime raises its own exception types for unreadable files
            raise OpNetError(f"{self.path}: not a readable ONNX model ({str(e).splitlines()[0]})") from None
        self._input = _check_model(self.path, self._session)

    def localize(self, image: NDArray[np.uint8]) -> FaceDetection:
        """The face candidate in a gray (H, W) frame, whatever its score."""
        (out,) = self._session.run([OUTPUT_NAME], {self._input: localizer_input(image)})
        return decode_localizer(out[0], (image.shape[1], image.shape[0]))

    def detect(self, image: NDArray[np.uint8]) -> list[FaceDetection]:
        """:class:`~opnet.runtime.detection.FaceDetector` interface: always one candidate."""
        return [self.localize(image)]
