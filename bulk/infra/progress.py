"""Progress of the steps that can take minutes, and the one console they share with log lines.

On a terminal a step is a rich progress bar on stderr, removed when it ends (the summary says
what it did); a log line printed while a bar shows goes through the bar's console, above it
(`print_above`), so the two never run together. Elsewhere (a scheduler's log, CI) a step is a
plain line when it starts and at every tenth of it.

Two kinds of step, and each estimate says what it is:
- counted work (order look-ups read one by one, customer messages): done/total and the time
  left at Amazon's published rate limits for the calls still to make (not the speed so far:
  the first calls go at once, in the burst);
- a wait for Amazon (a feed, a report), of which Amazon gives no estimate: the real time
  waited so far, what is usual and when bulk gives up.
Against the sandbox, which answers in fast time, neither estimate means anything: only the
real elapsed time is shown.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from bulk.marketplaces import rate_limited_seconds

# Steps shorter than this at Amazon's rates get no plain lines: a log should not fill up with
# the progress of a ten-row sheet.
MIN_SECONDS = 10.0

Watch = Callable[[], int]

# The rich consoles a bar is live on now (innermost last): log lines go through them.
_live: list[Any] = []
_live_lock = threading.Lock()


def print_above(line: str) -> bool:
    """Print `line` above the bar on screen, through its console; False when no bar shows."""
    with _live_lock:
        console = _live[-1] if _live else None
    if console is None:
        return False
    console.print(line, markup=False, highlight=False, emoji=False, soft_wrap=True)
    return True


@contextlib.contextmanager
def _showing(console: Any) -> Iterator[None]:
    with _live_lock:
        _live.append(console)
    try:
        yield
    finally:
        with _live_lock:
            _live.remove(console)


def duration(seconds: float) -> str:
    """12 -> "12s", 95 -> "2m", 4000 -> "1h 7m"."""
    if seconds < 60:
        return f"{seconds:.0f}s"
    minutes = round(seconds / 60)
    return f"{minutes}m" if minutes < 60 else f"{minutes // 60}h {minutes % 60}m"


class Step:
    """Counted work: `advance` as units finish (or `watch` a counter that moves by itself)."""

    def __init__(
        self,
        label: str,
        total: int,
        calls_each: Mapping[str, int],
        show: Callable[[Step], None],
        estimate: bool = True,
    ) -> None:
        self.label = label
        self.total = max(total, 0)
        self.calls_each = dict(calls_each)
        self.estimate = estimate  # False against the sandbox: its rates are not Amazon's
        self.done = 0
        self.started = time.monotonic()
        self._show = show
        self._lock = threading.Lock()

    def seconds_left(self) -> float:
        left = max(self.total - self.done, 0)
        return rate_limited_seconds({op: n * left for op, n in self.calls_each.items()})

    def left(self) -> str:
        if not self.estimate:
            return f"{duration(time.monotonic() - self.started)} so far"
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


class Wait:
    """A wait for Amazon: `update` with each status Amazon reports; the time is real time."""

    def __init__(self, label: str, usual: str, line: Callable[[str], None]) -> None:
        self.label = label
        self.usual = usual  # "usually a few minutes, gives up after 30 min"; "" in the sandbox
        self.status = ""
        self.started = time.monotonic()
        self._line = line
        self._on_status: Callable[[Wait], None] = lambda _w: None

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def text(self) -> str:
        status = f"{self.status}, " if self.status else ""
        usual = f" ({self.usual})" if self.usual else ""
        return f"{self.label}: {status}{duration(self.elapsed())} so far{usual}"

    def update(self, status: str) -> None:
        """A status from Amazon: a line when it changes (IN_QUEUE, IN_PROGRESS, DONE)."""
        if status == self.status:
            return
        first = not self.status
        self.status = status
        # The first status says what is usual, once.
        usual = f" ({self.usual})" if first and self.usual else ""
        self._line(f"{self.label}: {status} after {duration(self.elapsed())}{usual}")
        self._on_status(self)


class Progress:
    """Where steps are shown. `Progress()` shows nothing (tests, library use).

    `sandbox`: the marketplace answers in fast time, so no estimate at Amazon's rates and no
    usual waiting time is shown, only real elapsed time.
    """

    def __init__(
        self,
        terminal: bool = False,
        write: Callable[[str], None] | None = None,
        console: Any = None,
        sandbox: bool = False,
    ) -> None:
        self.terminal = terminal
        self.write = write
        self.console = console  # the rich Console of the bar; default: stderr
        self.sandbox = sandbox

    def _console(self) -> Any:
        if self.console is None:
            from rich.console import Console

            self.console = Console(stderr=True)
        return self.console

    @contextlib.contextmanager
    def step(self, label: str, total: int, calls_each: Mapping[str, int]) -> Iterator[Step]:
        estimate = not self.sandbox
        if self.write is None or total <= 0:
            yield Step(label, total, calls_each, lambda _s: None, estimate)
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

        step = Step(label, total, calls_each, line, estimate)
        if step.seconds_left() < MIN_SECONDS:
            yield Step(label, total, calls_each, lambda _s: None, estimate)
            return
        write(step.text())
        marks.add(0)
        yield step

    @contextlib.contextmanager
    def announced(
        self, label: str, count: Watch
    ) -> Iterator[Callable[[int, Mapping[str, int]], None]]:
        """A step shown only once its work is announced (how many units, the calls each takes),
        for work whose size is known only inside a call; `count` then follows it."""
        with contextlib.ExitStack() as shown:

            def start(total: int, calls_each: Mapping[str, int]) -> None:
                step = shown.enter_context(self.step(label, total, calls_each))
                base = count()
                shown.enter_context(step.watch(lambda: count() - base))

            yield start

    @contextlib.contextmanager
    def wait(self, label: str, usual: str) -> Iterator[Wait]:
        """A wait for Amazon; `usual` says what is usual and when bulk gives up."""
        usual = "" if self.sandbox else usual
        if self.write is None:
            yield Wait(label, usual, lambda _l: None)
            return
        if not self.terminal:
            yield Wait(label, usual, self.write)
            return
        from rich.progress import Progress as Bar
        from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn

        console = self._console()
        bar = Bar(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TextColumn("{task.fields[status]}"),
            TimeElapsedColumn(),
            TextColumn("{task.fields[usual]}"),
            console=console,
            transient=True,
        )
        waiting = Wait(label, usual, self.write)
        task: Any = bar.add_task(label, total=None, status="", usual=usual)

        def on_status(w: Wait) -> None:
            bar.update(task, status=w.status)

        waiting._on_status = on_status
        with bar, _showing(console):
            yield waiting

    @contextlib.contextmanager
    def _bar(self, label: str, total: int, calls_each: Mapping[str, int]) -> Iterator[Step]:
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
        from rich.progress import Progress as Bar

        console = self._console()
        estimate = not self.sandbox
        # Against the sandbox the bar shows only the real time so far.
        last = TextColumn("{task.fields[left]}") if estimate else TimeElapsedColumn()
        bar = Bar(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            last,
            console=console,
            transient=True,
        )

        def show(step: Step) -> None:
            bar.update(task, completed=step.done, left=step.left())

        step = Step(label, total, calls_each, show, estimate)
        task: Any = bar.add_task(label, total=total, left=step.left())
        with bar, _showing(console):
            yield step
