"""``export_model``: a pose network -> a checked ONNX file for OpenTrack (or a full one for evaluation).

Steps: export the float32 graph; convert it (float16 / int8, calibrated on real-looking crops);
check the file against OpenTrack's contract; run onnxruntime and PyTorch on real-looking inputs
and refuse the file if they disagree; for float16/int8, evaluate float32 and converted model
side by side; write the model and a JSON log (``NAME.export.json``) atomically.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import onnx

from opnet.data import open_dataset
from opnet.errors import DataError, OpNetError
from opnet.export.accuracy import AccuracyChange, compare_accuracy
from opnet.export.contract import check_file, check_values
from opnet.export.graph import BATCH_AXIS, export_graph, set_metadata
from opnet.export.outputs import OPENTRACK_MODEL_VERSION, output_names, output_shapes
from opnet.export.precision import PRECISIONS, quantize_int8, to_float16
from opnet.export.samples import dataset_inputs, synthetic_dataset
from opnet.export.verify import Parity, check_parity, compare, onnx_outputs, pytorch_outputs
from opnet.fileio import atomic_output, check_writable
from opnet.models import ModelConfig, PoseNet
from opnet.runtime.checkpoint_model import torch_threads
from opnet.settings import to_plain

log = logging.getLogger(__name__)

LOG_SCHEMA = "opnet-export/1"
SYNTHETIC_LABEL = "synthetic heads"
SERIAL_SYNTH_MAX = 64
"""Render up to this many synthetic heads in this process, more in worker processes."""


@dataclass(frozen=True)
class ExportOptions:
    """What to export and how to check it (``opnet export`` flags in brackets).

    full: dynamic batch and every output, landmarks included (``--full``); precision: "float32",
    "float16" (``--fp16``) or "int8" (``--quantize int8``); data: dataset file whose crops are the
    test inputs and the int8 calibration set (``--data``; default: rendered synthetic heads);
    eval_data: labelled dataset for the float16/int8 accuracy change, evaluated whole (``--eval``;
    default: up to ``max_eval_samples`` of ``data``); threads: CPU threads (default all cores).
    """

    full: bool = False
    precision: str = "float32"
    data: Path | None = None
    eval_data: Path | None = None
    num_calibration: int = 200
    num_validation: int = 32
    max_eval_samples: int = 1000
    seed: int = 0
    threads: int | None = None
    progress: bool = True

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise OpNetError(f"precision {self.precision!r}: expected one of {', '.join(PRECISIONS)}")
        if min(self.num_calibration, self.num_validation, self.max_eval_samples) < 1:
            raise OpNetError("--num-calibration, validation and evaluation sample counts must be at least 1")


@dataclass(frozen=True)
class ExportReport:
    """What :func:`export_model` wrote and measured."""

    path: Path
    log_path: Path
    source: str
    precision: str
    full: bool
    input_shape: list[int | str]
    outputs: list[str]
    size_bytes: int
    inputs_from: str
    parity: Parity
    accuracy: AccuracyChange | None = None
    config: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "schema": LOG_SCHEMA,
            "model": str(self.path),
            "source": self.source,
            "precision": self.precision,
            "full": self.full,
            "model_version": OPENTRACK_MODEL_VERSION,
            "input_shape": self.input_shape,
            "outputs": self.outputs,
            "size_bytes": self.size_bytes,
            "config": self.config,
            "inputs_from": self.inputs_from,
            "parity": asdict(self.parity),
            "accuracy": self.accuracy.to_dict() if self.accuracy else None,
        }

    def summary(self) -> str:
        """Several lines for people: the file, the parity table, the accuracy change."""
        kind = "full outputs, dynamic batch" if self.full else "OpenTrack contract, model_version 4"
        lines = [
            f"wrote {self.path} ({self.size_bytes / 1e6:.2f} MB, {self.precision}, {kind})",
            f"  input x {self.input_shape}; outputs {', '.join(self.outputs)}",
            f"onnxruntime vs PyTorch on {self.parity.samples} crops of {self.inputs_from}:",
            "| output | max abs diff | mean abs diff |",
            "|---|---:|---:|",
        ]
        lines += [f"| {d.name} | {d.max_abs:.3g} | {d.mean_abs:.3g} |" for d in self.parity.outputs]
        lines.append(
            f"rotation: geodesic max {self.parity.max_angle_deg:.4f} deg, mean "
            f"{self.parity.mean_angle_deg:.4f} deg; pitch/yaw/roll max "
            f"{self.parity.max_euler_deg:.4f} deg"
        )
        if self.accuracy is not None:
            same = (
                " (also the calibration data; --eval gives held-out numbers)"
                if (self.precision == "int8" and self.accuracy.dataset == self.inputs_from)
                else ""
            )
            lines += [
                f"accuracy on {self.accuracy.samples} samples of {self.accuracy.dataset}{same}:",
                self.accuracy.table(),
            ]
        return "\n".join(lines + [f"log: {self.log_path}"])


def export_log_path(path: str | os.PathLike) -> Path:
    """Where the JSON log of an export to ``path`` goes: ``NAME.export.json`` next to it."""
    path = Path(path)
    return path.with_name(f"{path.stem}.export.json")


def _save(model: onnx.ModelProto, path: Path) -> Path:
    onnx.save(model, str(path))
    return path


def _converted(
    model: onnx.ModelProto, options: ExportOptions, data: Path, config: ModelConfig
) -> onnx.ModelProto:
    if options.precision == "float16":
        return to_float16(model)
    if options.precision == "int8":
        calibration = dataset_inputs(data, options.num_calibration, config.input_size, config.input_norm)
        log.info("calibrating int8 on %d crops of %s", len(calibration), data)
        return quantize_int8(model, calibration)
    return model


def _accuracy(float_path: Path, candidate: Path, options: ExportOptions, data: Path) -> AccuracyChange | None:
    from opnet.runtime.onnx_model import OnnxPoseModel

    source = options.eval_data or data
    with open_dataset(source) as ds:
        if not ds.has("quats") and options.eval_data is not None:
            raise DataError(source, "has no field 'quats'; --eval needs the true head rotations")
        if not ds.has("quats"):
            log.warning(
                "%s has no 'quats': no accuracy comparison (give --eval with a labelled file)", source
            )
            return None
    models = [OnnxPoseModel(p, options.threads) for p in (float_path, candidate)]
    limit = None if options.eval_data else options.max_eval_samples
    change = compare_accuracy(
        models, source, ["float32", options.precision], limit, options.threads, options.progress
    )
    synthetic = options.data is None and options.eval_data is None
    return dataclasses.replace(change, dataset=_label(source, synthetic))


def _label(data: Path, synthetic: bool) -> str:
    return SYNTHETIC_LABEL if synthetic else str(data)


def _test_data(work: Path, options: ExportOptions) -> Path:
    for given in (options.data, options.eval_data):
        if given is not None:
            open_dataset(given).close()  # a file that cannot be read is refused before the export
    if options.data is not None:
        return Path(options.data)
    count = max(options.num_validation, options.num_calibration if options.precision == "int8" else 0)
    log.info("no --data: rendering %d synthetic heads for the checks", count)
    cores = max(1, options.threads or len(os.sched_getaffinity(0)))
    workers = 1 if count <= SERIAL_SYNTH_MAX else cores  # worker processes take a second or two to start
    return synthetic_dataset(work / "synthetic.h5", count, options.seed, workers, options.progress)


def _build(net: PoseNet, work: Path, options: ExportOptions, data: Path, source: str) -> tuple[Path, Path]:
    """(float32 file, file to ship) in ``work``, each with OpenTrack's metadata."""
    float_model = export_graph(net, options.full)
    converted = _converted(float_model, options, data, net.config)
    for model, precision in ((float_model, "float32"), (converted, options.precision)):
        set_metadata(model, net, precision, options.full, source)
    float_path = _save(float_model, work / "float32.onnx")
    if converted is float_model:
        return float_path, float_path
    candidate = _save(converted, work / f"{options.precision}.onnx")
    return float_path, candidate


def _verify(candidate: Path, reference: PoseNet, options: ExportOptions, data: Path) -> Parity:
    """Contract and parity checks of the file to ship; raises OpNetError on any failure."""
    config = reference.config
    check_file(candidate, output_shapes(config, options.full), config.input_size, options.full)
    inputs = dataset_inputs(data, options.num_validation, config.input_size, config.input_norm)
    exported = onnx_outputs(candidate, inputs, options.threads)
    check_values(candidate, exported)
    expected = pytorch_outputs(reference, inputs, output_names(config, options.full))
    parity = compare(exported, expected, options.precision)
    check_parity(parity, candidate)
    return parity


def export_model(
    net: PoseNet,
    path: str | os.PathLike,
    options: ExportOptions = ExportOptions(),
    overwrite: bool = False,
    source: str = "",
) -> ExportReport:
    """Exports ``net`` to ``path`` (ONNX), checks it, and writes ``NAME.export.json`` beside it.

    Raises OpNetError, and writes nothing, if the file breaks OpenTrack's contract or onnxruntime
    disagrees with PyTorch beyond the precision's tolerance (:mod:`opnet.export.verify`).
    ``source``: where the network came from (a checkpoint path), kept in the metadata and log.

    >>> from opnet.models import ModelConfig, create_model
    >>> from opnet.synth import SynthConfig, generate_dataset
    >>> generate_dataset("heads.h5", 8, SynthConfig(image_size=64), progress=False)
    8
    >>> net = create_model(ModelConfig(width=0.25, input_size=64, landmarks=False))
    >>> options = ExportOptions(data="heads.h5", num_validation=4, progress=False)  # crops to check on
    >>> report = export_model(net, "net.onnx", options)
    >>> report.path.name, report.input_shape, report.outputs[:2], report.log_path.name
    ('net.onnx', [1, 1, 64, 64], ['pos_size', 'quat'], 'net.export.json')
    """
    path, log_path = Path(path), export_log_path(path)
    for target in (path, log_path):
        check_writable(target, overwrite)
    reference = copy.deepcopy(net).cpu().float().eval()
    threads = max(1, options.threads or len(os.sched_getaffinity(0)))
    with tempfile.TemporaryDirectory(prefix="opnet-export-") as tmp, torch_threads(threads):
        data = _test_data(Path(tmp), options)
        float_path, candidate = _build(reference, Path(tmp), options, data, source)
        try:
            parity = _verify(candidate, reference, options, data)
        except OpNetError as e:
            reason = str(e).replace(f"{candidate}: ", "")  # the temporary file's name says nothing
            raise OpNetError(f"{path}: not written, the export failed its checks: {reason}") from None
        accuracy = None if options.precision == "float32" else _accuracy(float_path, candidate, options, data)
        with atomic_output(path, overwrite) as out:
            shutil.copyfile(candidate, out)
    size = reference.config.input_size
    report = ExportReport(
        path,
        log_path,
        source,
        options.precision,
        options.full,
        [BATCH_AXIS if options.full else 1, 1, size, size],
        list(output_names(reference.config, options.full)),
        path.stat().st_size,
        _label(data, options.data is None),
        parity,
        accuracy,
        to_plain(reference.config),
    )
    with atomic_output(log_path, overwrite) as out:
        out.write_text(json.dumps(report.to_dict(), indent=2) + "\n")
    return report
