"""Pose models in OpenTrack's ONNX format, run with onnxruntime exactly as OpenTrack runs them.

The checks follow OpenTrack's ``tracker-neuralnet/model_adapters.cpp``: one float32 input of
shape (B, 1, S, S); outputs recognised by name, each with its exact shape (batch axis first);
other outputs are ignored. Missing uncertainty outputs are allowed (the tracker then has no
uncertainty). ``model_version`` 2, 3 and 4 share OpenTrack's current rotation convention and
are accepted; anything else (OpenTrack reads it as the legacy version 1, whose quaternions are
in another frame) is refused.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import onnx
from numpy.typing import NDArray

from opnet.errors import OpNetError
from opnet.normalization import ONNX_METADATA_KEY, InputNorm, input_norm
from opnet.runtime.exact_int8 import exact_int8_session, is_quantised
from opnet.runtime.outputs import PoseOutputs, concatenate

SUPPORTED_VERSIONS = (2, 3, 4)
REQUIRED_OUTPUTS = ("quat", "pos_size", "box")

# Output name -> (per-sample shape, field of PoseOutputs). Older names map to the same fields.
UNDERSTOOD_OUTPUTS: dict[str, tuple[tuple[int, ...], str]] = {
    "quat": ((4,), "quat"),
    "pos_size": ((3,), "pos_size"),
    "box": ((4,), "box"),
    "rotaxis_scales_tril": ((3, 3), "rotaxis_scales_tril"),
    "rotaxis_std": ((3, 3), "rotaxis_scales_tril"),
    "pos_size_scales_tril": ((3, 3), "pos_size_scales_tril"),
    "pos_size_scales": ((3,), "pos_size_scales_tril"),
    "pos_size_std": ((3,), "pos_size_scales_tril"),
    "pt3d_68": ((68, 3), "points"),
}


def _is_batch_dim(dim: object) -> bool:
    """A batch axis is 1 or symbolic (a name or unknown)."""
    return dim == 1 or not isinstance(dim, int)


def _check_input(path: Path, inputs: list) -> tuple[str, int, bool]:
    """(input name, side S, dynamic batch?) of a model with one (B, 1, S, S) float32 input."""
    if len(inputs) != 1:
        raise OpNetError(
            f"{path}: has {len(inputs)} inputs; a pose model takes exactly one (B, 1, S, S) image"
        )
    info = inputs[0]
    shape = list(info.shape)
    ok = (
        len(shape) == 4
        and _is_batch_dim(shape[0])
        and shape[1] == 1
        and isinstance(shape[2], int)
        and shape[2] == shape[3]
        and shape[2] > 0
    )
    if not ok or info.type != "tensor(float)":
        raise OpNetError(f"{path}: input '{info.name}' is {info.type} {shape}; expected float32 (1, 1, S, S)")
    return info.name, int(shape[2]), shape[0] != 1


def _check_outputs(path: Path, outputs: list, dynamic: bool) -> dict[str, str]:
    """Output name -> PoseOutputs field for the outputs this module understands."""
    found: dict[str, str] = {}
    for info in outputs:
        if info.name not in UNDERSTOOD_OUTPUTS:
            continue
        sample_shape, field = UNDERSTOOD_OUTPUTS[info.name]
        shape = list(info.shape)
        batch_ok = bool(shape) and ((not isinstance(shape[0], int)) if dynamic else shape[0] == 1)
        if not batch_ok or tuple(shape[1:]) != sample_shape or info.type != "tensor(float)":
            expected = ", ".join(map(str, ("B" if dynamic else 1, *sample_shape)))
            raise OpNetError(
                f"{path}: output '{info.name}' is {info.type} {shape}; expected float32 ({expected})"
            )
        found[info.name] = field
    missing = [n for n in REQUIRED_OUTPUTS if n not in found]
    if missing:
        names = ", ".join(o.name for o in outputs) or "none"
        raise OpNetError(
            f"{path}: no output named {', '.join(missing)} (outputs: {names}); "
            f"not a pose model in OpenTrack's format"
        )
    return found


def _check_version(path: Path, version: int) -> None:
    if version not in SUPPORTED_VERSIONS:
        raise OpNetError(
            f"{path}: model_version {version} is not supported; OpenTrack reads it as the legacy version 1 "
            f"(another rotation convention); expected one of {', '.join(map(str, SUPPORTED_VERSIONS))}"
        )


def _recorded_input_norm(path: Path, metadata: dict[str, str]) -> InputNorm | None:
    """The normalisation named in the file's metadata (OpNet exports), None if it names none."""
    name = metadata.get(ONNX_METADATA_KEY)
    return None if name is None else input_norm(name, f"{path}: metadata {ONNX_METADATA_KEY}")


def _as_tril(values: NDArray[np.float32]) -> NDArray[np.float32]:
    """(B, 3) standard deviations (older outputs) -> (B, 3, 3) diagonal Cholesky factors."""
    out = np.zeros((*values.shape, 3), np.float32)
    out[:, [0, 1, 2], [0, 1, 2]] = values
    return out


class OnnxPoseModel:
    """A pose model file in OpenTrack's ONNX format (see :class:`opnet.runtime.PoseModel`).

    ``threads`` = CPU threads to use (default: all usable cores). Models with a dynamic batch
    axis run a whole batch in one call with that many intra-op threads; fixed-batch models (like
    OpenTrack's, batch 1) run ``threads`` single-sample calls at once, one thread each, which is
    faster for such small networks. ``intra_op_threads`` overrides the threads one call uses
    (as OpenTrack's "number of threads" setting does for its single-frame calls).

    int8 models are computed with exact integer arithmetic (:mod:`opnet.runtime.exact_int8`), so
    their predictions do not depend on the CPU; ``exact_int8=False`` uses onnxruntime's default
    kernels, which on x86 CPUs without VNNI saturate 16-bit intermediate sums (OpenTrack's int8
    model then moves by 2 deg per face on average, up to 10 deg).
    """

    def __init__(
        self,
        path: str | os.PathLike,
        threads: int | None = None,
        intra_op_threads: int | None = None,
        exact_int8: bool = True,
    ):
        import onnxruntime as ort

        self.path = Path(path)
        self.name = self.path.name
        self.threads = max(1, threads or len(os.sched_getaffinity(0)))
        try:
            probe = ort.InferenceSession(str(self.path), providers=["CPUExecutionProvider"])
        except Exception as e:  # onnxruntime raises its own exception types for unreadable files
            raise OpNetError(f"{self.path}: not a readable ONNX model ({str(e).splitlines()[0]})") from None
        self._input, self.input_size, dynamic = _check_input(self.path, probe.get_inputs())
        self._fields = _check_outputs(self.path, probe.get_outputs(), dynamic)
        meta = probe.get_modelmeta()
        self.version = int(meta.version)
        _check_version(self.path, self.version)
        self.max_batch: int | None = None if dynamic else 1
        self.has_points = "points" in self._fields.values()
        self.input_norm = _recorded_input_norm(self.path, meta.custom_metadata_map)
        self._description = self._describe(probe, meta)
        options = ort.SessionOptions()
        default_intra = self.threads if self.max_batch is None else 1
        options.intra_op_num_threads = max(1, intra_op_threads or default_intra)
        options.inter_op_num_threads = 1
        self.exact_int8 = exact_int8 and is_quantised(onnx.load(str(self.path), load_external_data=False))
        if self.exact_int8:
            self._session = exact_int8_session(self.path, options)
        else:
            self._session = ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])

    def _describe(self, session, meta) -> str:  # noqa: ANN001 - onnxruntime types
        lines = [
            f"{self.path} (model_version {meta.version}, producer {meta.producer_name or '?'}"
            f"{': ' + meta.description if meta.description else ''})"
        ]
        for info in session.get_inputs():
            lines.append(f"  input  {info.name:<22} {info.type} {list(info.shape)}")
        for info in session.get_outputs():
            used = f"-> {self._fields[info.name]}" if info.name in self._fields else "(ignored)"
            lines.append(f"  output {info.name:<22} {info.type} {list(info.shape)} {used}")
        return "\n".join(lines)

    def describe(self) -> str:
        return self._description

    def _run_once(self, x: NDArray[np.float32]) -> PoseOutputs:
        names = list(self._fields)
        values = dict(zip(names, self._session.run(names, {self._input: x}), strict=True))
        record: dict[str, NDArray[np.float32]] = {}
        for name, field in self._fields.items():
            value = values[name]
            record[field] = _as_tril(value) if name in ("pos_size_scales", "pos_size_std") else value
        return PoseOutputs(**record)

    def run(self, x: NDArray[np.float32]) -> PoseOutputs:
        x = np.ascontiguousarray(x, dtype=np.float32)
        if x.ndim != 4 or x.shape[1:] != (1, self.input_size, self.input_size):
            raise ValueError(
                f"{self.name}: input shape {x.shape}, expected (B, 1, {self.input_size}, {self.input_size})"
            )
        if self.max_batch is None or len(x) <= self.max_batch:
            return self._run_once(x)
        chunks = [x[i : i + self.max_batch] for i in range(0, len(x), self.max_batch)]
        with ThreadPoolExecutor(min(self.threads, len(chunks))) as pool:
            return concatenate(list(pool.map(self._run_once, chunks)))
