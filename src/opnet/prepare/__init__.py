"""Converters from the public raw datasets (zip archives or folders) to the OpNet dataset layout.

``run_conversion(CONVERTERS[name](**options), source, output, ...)`` converts one dataset; see
docs/datasets.md for each dataset's layout, labels and licence, and :mod:`opnet.prepare.download`
for fetching the archives.
"""

from opnet.prepare.aflw2k3d import Aflw2k3d
from opnet.prepare.biwi import Biwi, read_opal_annotation
from opnet.prepare.lapa import Lapa
from opnet.prepare.runner import Converter, Skipped, Summary, Task, run_conversion
from opnet.prepare.synface import Synface
from opnet.prepare.w300lp import W300lp
from opnet.prepare.wflw import Wflw

CONVERTERS: dict[str, type] = {c.name: c for c in (Aflw2k3d, W300lp, Biwi, Synface, Wflw, Lapa)}
"""Dataset name (as on the command line) -> converter class."""

__all__ = [
    "CONVERTERS",
    "Aflw2k3d",
    "Biwi",
    "Converter",
    "Lapa",
    "Skipped",
    "Summary",
    "Synface",
    "Task",
    "W300lp",
    "Wflw",
    "read_opal_annotation",
    "run_conversion",
]
