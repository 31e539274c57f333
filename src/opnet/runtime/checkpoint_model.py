"""Training checkpoints as pose models: PyTorch on the CPU behind the :class:`PoseModel` interface.

``opnet evaluate``, ``opnet predict``, ``opnet track`` and ``bench/latency.py`` open a checkpoint
written by :func:`opnet.models.save_checkpoint` like an ONNX file (through
:func:`opnet.runtime.load_pose_model`; the registry imports this module, and torch, only when a
checkpoint is opened). Outputs are those of the network in evaluation mode, so a checkpoint and
its ``opnet export --full`` file give the same numbers up to float rounding.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from numpy.typing import NDArray

from opnet.models import PoseNet, load_model
from opnet.normalization import InputNorm
from opnet.runtime.outputs import PoseOutputs, concatenate
from opnet.settings import to_plain

CHUNK = 256
"""Largest batch one forward pass takes (bounds memory; ``run`` splits bigger batches)."""


@contextlib.contextmanager
def torch_threads(threads: int) -> Iterator[None]:
    """PyTorch's intra-op thread count set to ``threads`` for the block, then restored."""
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class CheckpointPoseModel:
    """A pose network from a checkpoint file, run in evaluation mode on the CPU.

    ``threads``: PyTorch intra-op threads while running (default: all usable cores).
    ``max_batch`` is None: any batch runs, in chunks of :data:`CHUNK`.
    """

    max_batch: int | None = None

    def __init__(self, path: str | os.PathLike, threads: int | None = None):
        self.path = Path(path)
        self.name = self.path.name
        self.net: PoseNet = load_model(self.path, map_location="cpu")
        self.input_size = self.net.config.input_size
        self.has_points = self.net.config.landmarks
        self.input_norm: InputNorm | None = InputNorm(self.net.config.input_norm)
        self.threads = max(1, threads or len(os.sched_getaffinity(0)))

    def describe(self) -> str:
        config = self.net.config
        settings = ", ".join(f"{k}={v}" for k, v in to_plain(config).items())
        return f"{self.path} (PyTorch checkpoint: {settings}; run on the CPU with {self.threads} threads)"

    def _run_chunk(self, x: NDArray[np.float32]) -> PoseOutputs:
        out = self.net(torch.from_numpy(x).contiguous(memory_format=torch.channels_last))

        def array(value: torch.Tensor) -> NDArray[np.float32]:
            return value.float().numpy()

        def optional(value: torch.Tensor | None) -> NDArray[np.float32] | None:
            return None if value is None else array(value)

        return PoseOutputs(
            quat=array(out.quat),
            pos_size=array(out.pos_size),
            box=array(out.box),
            rotaxis_scales_tril=optional(out.rotaxis_scales_tril),
            pos_size_scales_tril=optional(out.pos_size_scales_tril),
            points=optional(out.points),
        )

    def run(self, x: NDArray[np.float32]) -> PoseOutputs:
        """(B, 1, S, S) float32 inputs -> raw outputs (patch units), B >= 1."""
        x = np.ascontiguousarray(x, dtype=np.float32)
        if x.ndim != 4 or x.shape[1:] != (1, self.input_size, self.input_size) or len(x) == 0:
            size = self.input_size
            raise ValueError(f"{self.name}: input shape {x.shape}, expected (B, 1, {size}, {size})")
        with torch.inference_mode(), torch_threads(self.threads):
            return concatenate([self._run_chunk(x[i : i + CHUNK]) for i in range(0, len(x), CHUNK)])
