"""``opnet demo``: the whole job end to end on synthetic heads, on a laptop CPU, in minutes.

``run_demo(DemoConfig(), "opnet-demo", real_faces="aflw2kmini.h5")`` generates a training and a
held-out set of synthetic heads (:mod:`opnet.synth`), trains a narrow MobileNetV1
(:mod:`opnet.train`) within the time budget, exports it for OpenTrack (:mod:`opnet.export`),
evaluates the exported file (:mod:`opnet.evaluate`) and writes a report folder
(:mod:`opnet.demo.report`). See docs/demo.md.
"""

from opnet.demo.config import DemoConfig
from opnet.demo.result import DemoResult
from opnet.demo.run import dry_run_config, run_demo

__all__ = ["DemoConfig", "DemoResult", "dry_run_config", "run_demo"]
