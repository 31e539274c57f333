"""Parallel map over worker processes with results in input order and bounded memory.

Workers end when the process that started them is gone, also after ``kill -9``: on Linux the kernel
kills a worker when its parent (the fork server) exits (``PR_SET_PDEATHSIG``), and everywhere a
thread in each worker checks once a second that the starting process still runs.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import islice
from typing import TypeVar

from opnet.fileio import process_is_running

T = TypeVar("T")
R = TypeVar("R")

PARENT_CHECK_S = 1.0
"""How often a worker checks that the process that started it still runs."""

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Asks Linux to kill this process when its parent exits (a no-op elsewhere)."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _watch(pid: int) -> None:
    while process_is_running(pid):
        time.sleep(PARENT_CHECK_S)
    os._exit(1)


def _init_orphan_safe(pid: int, initializer: Callable[..., None], initargs: tuple) -> None:
    """Worker start: end with the starting process ``pid``, then the pool's own ``initializer``."""
    _die_with_parent()
    threading.Thread(target=_watch, args=(pid,), daemon=True, name="opnet-parent-watch").start()
    initializer(*initargs)


def _apply(fn: Callable[[T], R], batch: list[T]) -> list[R]:
    return [fn(item) for item in batch]


def ordered_map(
    fn: Callable[[T], R],
    items: Iterable[T],
    workers: int,
    initializer: Callable[..., None],
    initargs: tuple,
    batch_size: int = 16,
) -> Generator[R, None, None]:
    """``map(fn, items)`` over ``workers`` processes, results in input order, few batches in flight.

    ``fn`` and ``initializer`` must be module-level functions (workers start from a fork server).
    """
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([fn.__module__])  # workers fork with the imports done
    pool = ProcessPoolExecutor(
        workers,
        mp_context=context,
        initializer=_init_orphan_safe,
        initargs=(os.getpid(), initializer, initargs),
    )
    batches = _batched(items, batch_size)
    try:
        pending: deque[Future[list[R]]] = deque(
            pool.submit(_apply, fn, batch) for batch in islice(batches, 3 * workers)
        )
        while pending:
            results = pending.popleft().result()
            following = next(batches, None)
            if following is not None:
                pending.append(pool.submit(_apply, fn, following))
            yield from results
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch
