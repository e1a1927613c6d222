"""Progress of the steps that can take minutes: done/total and the time left at Amazon's rates.

On a terminal it is a rich progress bar (rich comes with typer) on stderr; elsewhere (a
scheduler's log, CI) it is a plain line when a long step starts and at every tenth of it.
The time left is computed from Amazon's published rate limits for the calls still to make,
not from the speed so far: the first calls go at once (the burst), so speed so far misleads.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from bulk.marketplaces import rate_limited_seconds

# Steps shorter than this at Amazon's rates get no plain lines: a log should not fill up with
# the progress of a ten-row sheet.
MIN_SECONDS = 10.0

Watch = Callable[[], int]


def duration(seconds: float) -> str:
    """12 -> "12s", 95 -> "2m", 4000 -> "1h 7m"."""
    if seconds < 60:
        return f"{seconds:.0f}s"
    minutes = round(seconds / 60)
    return f"{minutes}m" if minutes < 60 else f"{minutes // 60}h {minutes % 60}m"


class Step:
    """One long step: `advance` as units finish (or `watch` a counter that moves by itself)."""

    def __init__(
        self,
        label: str,
        total: int,
        calls_each: Mapping[str, int],
        show: Callable[[Step], None],
    ) -> None:
        self.label = label
        self.total = max(total, 0)
        self.calls_each = dict(calls_each)
        self.done = 0
        self._show = show
        self._lock = threading.Lock()

    def seconds_left(self) -> float:
        left = max(self.total - self.done, 0)
        if not self.calls_each:
            return float(left)  # a wait counted in seconds (a feed Amazon is processing)
        return rate_limited_seconds({op: n * left for op, n in self.calls_each.items()})

    def left(self) -> str:
        if not self.calls_each:
            # A wait with no estimate from Amazon: the longest bulk waits, or the usual time.
            return f"up to about {duration(self.seconds_left())} more"
        return f"about {duration(self.seconds_left())} left at Amazon's rates"

    def text(self) -> str:
        return f"{self.label}: {self.done}/{self.total}, {self.left()}"

    def advance(self, n: int = 1) -> None:
        self.update(self.done + n)

    def update(self, done: int) -> None:
        with self._lock:
            done = min(max(done, 0), self.total)
            if done == self.done:
                return
            self.done = done
        self._show(self)

    @contextlib.contextmanager
    def watch(self, count: Watch, every: float = 0.5) -> Iterator[None]:
        """Follow `count` (units done) from a helper thread while the block runs: for work done
        inside a call that reports no progress of its own (an order look-up)."""
        stop = threading.Event()

        def follow() -> None:
            while not stop.wait(every):
                self.update(count())

        thread = threading.Thread(target=follow, name="bulk-progress", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()
            self.update(count())


class Progress:
    """Where steps are shown. `Progress()` shows nothing (tests, library use)."""

    def __init__(
        self,
        terminal: bool = False,
        write: Callable[[str], None] | None = None,
        console: Any = None,
    ) -> None:
        self.terminal = terminal
        self.write = write
        self.console = console  # the rich Console of the bar; default: stderr

    @contextlib.contextmanager
    def step(self, label: str, total: int, calls_each: Mapping[str, int]) -> Iterator[Step]:
        if self.write is None or total <= 0:
            yield Step(label, total, calls_each, lambda _s: None)
            return
        if self.terminal:
            with self._bar(label, total, calls_each) as step:
                yield step
            return
        write = self.write
        marks: set[int] = set()

        def line(step: Step) -> None:
            tenth = step.done * 10 // max(step.total, 1)
            if tenth not in marks:
                marks.add(tenth)
                write(step.text())

        step = Step(label, total, calls_each, line)
        if step.seconds_left() < MIN_SECONDS:
            yield Step(label, total, calls_each, lambda _s: None)
            return
        write(step.text())
        marks.add(0)
        yield step

    @contextlib.contextmanager
    def _bar(self, label: str, total: int, calls_each: Mapping[str, int]) -> Iterator[Step]:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn
        from rich.progress import Progress as Bar

        bar = Bar(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[left]}"),
            console=self.console or Console(stderr=True),
            transient=True,
        )

        def show(step: Step) -> None:
            bar.update(task, completed=step.done, left=step.left())

        step = Step(label, total, calls_each, show)
        task: Any = bar.add_task(label, total=total, left=step.left())
        with bar:
            yield step
