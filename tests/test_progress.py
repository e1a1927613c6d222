"""Progress of long steps: plain lines off a terminal, a rich bar on one, time left from the
rate limits."""

from __future__ import annotations

import io
import threading

from rich.console import Console

from bulk.infra.progress import Progress, Step, duration
from bulk.pipeline.notify import MESSAGE_CALLS


def test_time_left_comes_from_the_rate_limits() -> None:
    # Three messaging calls an order, each about 1 a second after a burst of 5:
    # 400 orders take about 20 minutes.
    step = Step("customer messages", 400, MESSAGE_CALLS, lambda _s: None)
    assert step.seconds_left() == 3 * (400 - 5)
    assert step.text() == "customer messages: 0/400, about 20m left at Amazon's rates"
    step.update(200)
    assert step.text() == "customer messages: 200/400, about 10m left at Amazon's rates"
    assert Step("feed 1", 1800, {}, lambda _s: None).left() == "up to about 30m more"


def test_durations_read_naturally() -> None:
    assert [duration(s) for s in (12, 95, 4000)] == ["12s", "2m", "1h 7m"]


def test_off_a_terminal_a_long_step_is_a_line_at_start_and_each_tenth() -> None:
    lines: list[str] = []
    with Progress(write=lines.append).step("customer messages", 100, MESSAGE_CALLS) as step:
        for _ in range(100):
            step.advance()
    assert lines[0] == "customer messages: 0/100, about 5m left at Amazon's rates"
    assert len(lines) == 11 and lines[-1].startswith("customer messages: 100/100, about 0s")
    assert lines[5].startswith("customer messages: 50/100")


def test_a_short_step_prints_nothing() -> None:
    lines: list[str] = []
    with Progress(write=lines.append).step("customer messages", 5, MESSAGE_CALLS) as step:
        step.advance(5)
    assert lines == []


def test_on_a_terminal_it_is_a_bar_with_the_count_and_time_left() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=120)
    progress = Progress(terminal=True, write=lambda _l: None, console=console)
    with progress.step("customer messages", 40, MESSAGE_CALLS) as step:
        step.advance(10)
        console.file.flush()
    text = out.getvalue()
    assert "customer messages" in text
    assert "10/40" in text and "left at Amazon's rates" in text


def test_watch_follows_a_counter_moved_elsewhere() -> None:
    lines: list[str] = []
    count = [0]
    moved = threading.Event()
    with Progress(write=lines.append).step("looking up orders", 100, {"getOrder": 1}) as step:
        with step.watch(lambda: count[0], every=0.01):
            count[0] = 60
            moved.wait(0.1)
        assert step.done == 60
    assert any(line.startswith("looking up orders: 60/100") for line in lines)
