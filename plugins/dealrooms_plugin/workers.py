"""Forked worker processes: how the engine uses every core (loading and rendering deals).

Work is handed to workers forked from the building process, so they start
with its state in memory (a page shell holding a Jinja environment cannot be
pickled). A fork copies only the calling thread: callers fork only while no
other thread runs (a build has none until it starts one itself).
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
from collections.abc import Iterator


def can_fork(workers: int, jobs: int, minimum: int) -> bool:
    """Whether ``jobs`` are worth ``workers`` forked processes (at least ``minimum`` jobs, fork available)."""
    return workers >= 2 and jobs >= minimum and "fork" in multiprocessing.get_all_start_methods()


def fork_context() -> multiprocessing.context.BaseContext:
    """The start method of every worker pool: fork."""
    return multiprocessing.get_context("fork")


@contextlib.contextmanager
def forking() -> Iterator[None]:
    """Around forking worker processes: the parent's objects as they are now are left out of garbage collection.

    Forked workers share the parent's memory until they write to it, and a
    collection in a worker writes to every object it visits (reference
    counts, GC links), copying that memory page by page. Frozen objects are
    never visited.
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
