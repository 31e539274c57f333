"""Ctrl-C during training: stop after the current step, like SIGTERM, so nothing is cut mid-write.

A KeyboardInterrupt raised at an arbitrary point can land while a data loader queue or a log
handler holds a lock, and the shutdown that follows can then hang. So while :func:`stop_after_step`
is active, the first Ctrl-C (SIGINT) sends this process SIGTERM, which Lightning's own handler turns
into a stop at the next step boundary (the same path as ``kill PID``); a second Ctrl-C interrupts
at once. Outside Lightning's handler (before it is installed, or in a thread other than the main
one) Ctrl-C keeps its usual meaning.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

log = logging.getLogger(__name__)


@contextmanager
def stop_after_step() -> Iterator[None]:
    """Within the block, the first SIGINT becomes a SIGTERM to this process (see the module docstring)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)

    def first_ctrl_c(signum: int, frame: FrameType | None) -> None:
        signal.signal(signal.SIGINT, previous)
        if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, signal.SIG_IGN, None):
            raise KeyboardInterrupt
        log.warning("Ctrl-C: stopping after the current step (press Ctrl-C again to stop at once)")
        os.kill(os.getpid(), signal.SIGTERM)

    signal.signal(signal.SIGINT, first_ctrl_c)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
