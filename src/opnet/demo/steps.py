"""The demo's steps, one line of log each and their wall time."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

STEPS = ("generate", "train", "export", "evaluate", "report")


@dataclass
class StepClock:
    """Wall time of each step (seconds) since ``started`` (time.monotonic())."""

    started: float = field(default_factory=time.monotonic)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def elapsed_s(self) -> float:
        return time.monotonic() - self.started

    @contextmanager
    def step(self, name: str, what: str) -> Iterator[None]:
        """Logs ``[k/5] name: what`` before the step and its time after it."""
        log.info("[%d/%d] %s: %s", STEPS.index(name) + 1, len(STEPS), name, what)
        start = time.monotonic()
        yield
        self.seconds[name] = time.monotonic() - start
        log.info("      %s took %.1f s", name, self.seconds[name])
