"""Garbage collection for work that builds many objects which live until it ends."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def long_lived() -> Iterator[None]:
    """Collect cycles far less often while the block runs; the usual thresholds come back after.

    A run keeps a few objects per row alive from the read to the write (cells, parsed rows,
    orders, outcomes), and the sandbox a few per order of its book, none of them in a cycle.
    With Python's default thresholds the collector walks all of them again and again as they
    pile up: at 100,000 rows that was a third of `bulk check` (bench/RESULTS.md). What existed
    before the block (the imported modules) is frozen out of those walks as well.
    """
    old = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(10_000, 100, 100)
    try:
        yield
    finally:
        gc.set_threshold(*old)
        gc.unfreeze()


@contextmanager
def without_cycle_collection() -> Iterator[None]:
    """Python's cyclic garbage collector held off for a while that makes hundreds of thousands
    of objects and no reference cycle (reading a sheet, checking its rows, deciding, rendering
    the messages, planning and writing the results). Left on, it walks the whole heap of a
    large run again and again: a tenth to half a second a time with the objects of 100,000 rows
    held. Not for the look-ups: each HTTP connection leaves a cycle behind that can hold a
    downloaded report."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
