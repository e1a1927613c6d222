"""bulk.infra.heap: fewer collections while a run holds many objects, and the defaults after."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

from bulk.infra.heap import long_lived


@contextmanager
def _collections() -> Iterator[list[int]]:
    """The generation of each collection that starts while the block runs."""
    seen: list[int] = []

    def callback(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            seen.append(info["generation"])

    gc.callbacks.append(callback)
    try:
        yield seen
    finally:
        gc.callbacks.remove(callback)


def _hold_rows(n: int) -> list[dict[str, str]]:
    """What a run keeps per row, in miniature: a container per row that lives to the end."""
    return [{"Order ID": str(i)} for i in range(n)]


def test_a_run_holding_many_rows_is_collected_far_less_often() -> None:
    gc.collect()
    with _collections() as usual:
        kept = _hold_rows(300_000)
    del kept
    gc.collect()
    with long_lived(), _collections() as tuned:
        kept = _hold_rows(300_000)
    del kept
    # Python's defaults walk the young objects every 700 new containers, and the older
    # ones every 7,000, again and again as the rows pile up.
    assert len(usual) >= 300_000 // 1_000
    assert len(tuned) <= len(usual) // 10
    assert sum(1 for g in tuned if g > 0) <= sum(1 for g in usual if g > 0) // 10


def test_the_defaults_come_back_and_nothing_stays_frozen() -> None:
    before = gc.get_threshold()
    frozen = gc.get_freeze_count()
    with long_lived():
        assert gc.get_threshold()[0] > before[0]
        assert gc.get_freeze_count() >= frozen
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == frozen


def test_cycles_made_inside_are_still_collected() -> None:
    class Node:
        def __init__(self) -> None:
            self.me = self

    with long_lived():
        Node()
        assert gc.collect() > 0
