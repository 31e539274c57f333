"""The interface every runnable pose model offers (ONNX files now; checkpoints plug in the same way)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from opnet.normalization import InputNorm
from opnet.runtime.outputs import PoseOutputs


@runtime_checkable
class PoseModel(Protocol):
    """A pose network that maps normalised gray patches to :class:`PoseOutputs`.

    ``input_size``: side S of the square input in pixels; ``max_batch``: the largest batch one
    call of the network takes (1 for fixed-batch models, None if unbounded); ``run`` accepts any
    batch size and splits it itself. ``has_points``: whether outputs carry 68 landmarks.
    ``input_norm``: the input normalisation the network was trained with, None where the file
    does not say (OpenTrack's released models; see :func:`input_norm_of`).
    """

    name: str
    input_size: int
    max_batch: int | None
    has_points: bool
    input_norm: InputNorm | None

    def run(self, x: NDArray[np.float32]) -> PoseOutputs:
        """(B, 1, S, S) float32 inputs (opnet.preprocess.network_input) -> raw outputs for B patches."""
        ...

    def describe(self) -> str:
        """Several lines for people: file, inputs, outputs, version."""
        ...


def input_norm_of(model: PoseModel, default: InputNorm = InputNorm.OPENTRACK) -> InputNorm:
    """The normalisation to feed ``model`` with: its own, else ``default`` (the protocol's choice;
    OpenTrack applies :attr:`InputNorm.OPENTRACK` to every model)."""
    return model.input_norm if model.input_norm is not None else default
