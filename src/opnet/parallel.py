"""Parallel map over worker processes with results in input order and bounded memory."""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import islice
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


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
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=initializer, initargs=initargs)
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
