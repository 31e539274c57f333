"""Does the ONNX file compute what the PyTorch network computes? onnxruntime against PyTorch.

Every output is compared element-wise (|onnx - torch| <= atol + rtol |torch|) and the rotation
is also compared as decoded angles in degrees: the geodesic angle between the two rotations and
the largest pitch/yaw/roll difference (AFLW convention). Tolerances depend on the precision:
float32 must agree to rounding, float16 to a few thousandths, int8 to a few degrees.
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from numpy.typing import NDArray

from opnet.errors import OpNetError
from opnet.evaluate.metrics import euler_errors, geodesic_errors
from opnet.export.outputs import INPUT_NAME
from opnet.models import PoseNet

BATCH = 64


@dataclass(frozen=True)
class Tolerance:
    """Largest accepted differences: per element (atol + rtol |reference|) and of decoded angles (degrees)."""

    atol: float
    rtol: float
    max_angle_deg: float
    mean_angle_deg: float


TOLERANCES = {
    "float32": Tolerance(atol=1e-4, rtol=1e-3, max_angle_deg=0.05, mean_angle_deg=0.01),
    "float16": Tolerance(atol=1e-2, rtol=1e-2, max_angle_deg=1.0, mean_angle_deg=0.25),
    "int8": Tolerance(atol=0.1, rtol=0.1, max_angle_deg=25.0, mean_angle_deg=5.0),
}


@dataclass(frozen=True)
class OutputDifference:
    """How far one output of the ONNX file is from PyTorch's over the test inputs."""

    name: str
    max_abs: float
    mean_abs: float
    worst_excess: float
    """max over elements of |diff| - (atol + rtol |reference|); > 0 means out of tolerance."""


@dataclass(frozen=True)
class Parity:
    """The comparison of every output, plus the rotation as angles (degrees), on ``samples`` inputs."""

    precision: str
    samples: int
    outputs: list[OutputDifference]
    max_angle_deg: float
    mean_angle_deg: float
    max_euler_deg: float

    def problems(self) -> list[str]:
        """One line per output (or angle) out of tolerance; empty if the export is good."""
        tol = TOLERANCES[self.precision]
        lines = [
            f"output '{d.name}' differs from PyTorch by up to {d.max_abs:.3g} "
            f"(allowed {tol.atol:g} + {tol.rtol:g} x |value|)"
            for d in self.outputs
            if not d.worst_excess <= 0
        ]
        if not (self.max_angle_deg <= tol.max_angle_deg and self.mean_angle_deg <= tol.mean_angle_deg):
            lines.append(
                f"output 'quat' rotates up to {self.max_angle_deg:.3g} deg "
                f"(mean {self.mean_angle_deg:.3g} deg) away from PyTorch's "
                f"(allowed {tol.max_angle_deg:g}, mean {tol.mean_angle_deg:g})"
            )
        return lines

    def to_dict(self) -> dict:
        return asdict(self)


def pytorch_outputs(
    net: PoseNet, x: NDArray[np.float32], names: dict[str, str]
) -> dict[str, NDArray[np.float32]]:
    """ONNX output name -> the network's values for inputs ``x`` (B, 1, S, S); ``net`` in eval mode."""
    parts: dict[str, list[NDArray[np.float32]]] = {name: [] for name in names}
    with torch.inference_mode():
        for start in range(0, len(x), BATCH):
            out = net(torch.from_numpy(np.ascontiguousarray(x[start : start + BATCH])))
            for name, field in names.items():
                parts[name].append(getattr(out, field).float().numpy())
    return {name: np.concatenate(values) for name, values in parts.items()}


def onnx_outputs(
    path: str | os.PathLike, x: NDArray[np.float32], threads: int | None = None
) -> dict[str, NDArray[np.float32]]:
    """Output name -> onnxruntime's values for inputs ``x``, one sample per call if the batch is fixed."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = max(0, threads or 0)
    session = ort.InferenceSession(str(Path(path)), options, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    step = 1 if session.get_inputs()[0].shape[0] == 1 else BATCH
    runs = [session.run(names, {INPUT_NAME: x[i : i + step]}) for i in range(0, len(x), step)]
    return {name: np.concatenate([r[k] for r in runs]) for k, name in enumerate(names)}


def _difference(name: str, got: NDArray, want: NDArray, tol: Tolerance) -> OutputDifference:
    if got.shape != want.shape:
        raise OpNetError(f"output '{name}' has shape {got.shape} in onnxruntime but {want.shape} in PyTorch")
    diff = np.abs(got.astype(np.float64) - want.astype(np.float64))
    excess = diff - (tol.atol + tol.rtol * np.abs(want.astype(np.float64)))
    worst = float(np.max(excess)) if np.all(np.isfinite(got)) else math.inf
    return OutputDifference(name, float(np.max(diff)), float(np.mean(diff)), worst)


def compare(exported: dict[str, NDArray], reference: dict[str, NDArray], precision: str) -> Parity:
    """The differences of every reference output (all must exist in ``exported``), and of the rotation."""
    tol = TOLERANCES[precision]
    missing = [name for name in reference if name not in exported]
    if missing:
        raise OpNetError(f"the ONNX file lacks the output(s) {', '.join(missing)}")
    outputs = [_difference(name, exported[name], want, tol) for name, want in reference.items()]
    geodesic = np.rad2deg(geodesic_errors(exported["quat"], reference["quat"]))
    euler = np.rad2deg(euler_errors(exported["quat"], reference["quat"]))
    return Parity(
        precision,
        len(reference["quat"]),
        outputs,
        float(np.max(geodesic)),
        float(np.mean(geodesic)),
        float(np.max(euler)),
    )


def check_parity(parity: Parity, path: str | os.PathLike) -> None:
    """Raises OpNetError naming the file and every output out of tolerance."""
    problems = parity.problems()
    if problems:
        raise OpNetError(
            f"{path}: onnxruntime does not reproduce PyTorch ({parity.precision}, "
            f"{parity.samples} inputs): " + "; ".join(problems)
        )
