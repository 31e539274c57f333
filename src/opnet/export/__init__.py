"""Exporting pose networks to ONNX for OpenTrack: ``export_model(net, path, ExportOptions(...))``.

- :mod:`~opnet.export.outputs`: output names (OpenTrack's five, plus landmarks etc. for ``full``);
- :mod:`~opnet.export.graph`: the TorchScript export (opset 13) and OpenTrack's metadata;
- :mod:`~opnet.export.precision`: float16 and int8 (onnxruntime post-training quantisation);
- :mod:`~opnet.export.contract`, :mod:`~opnet.export.verify`: the checks every export passes;
- :mod:`~opnet.export.accuracy`: float32 vs converted model under the evaluation protocol;
- :mod:`~opnet.export.export`: the front door. See docs/opentrack.md.
"""

from opnet.export.export import ExportOptions, ExportReport, export_log_path, export_model
from opnet.export.outputs import CONTRACT_OUTPUTS, FULL_EXTRA_OUTPUTS, OPENTRACK_MODEL_VERSION

__all__ = [
    "CONTRACT_OUTPUTS",
    "FULL_EXTRA_OUTPUTS",
    "OPENTRACK_MODEL_VERSION",
    "ExportOptions",
    "ExportReport",
    "export_log_path",
    "export_model",
]
