"""Progress of long steps: plain lines off a terminal, a rich bar on one, time left from the
rate limits."""

from __future__ import annotations

import io
import re
import threading

from rich.console import Console

from bulk.infra.progress import Progress, Step, duration, print_above
from bulk.pipeline.messaging import MESSAGE_CALLS


def test_time_left_comes_from_the_rate_limits() -> None:
    # Three messaging calls an order, each about 1 a second after a burst of 5:
    # 400 orders take about 20 minutes.
    step = Step("customer messages", 400, MESSAGE_CALLS, lambda _s: None)
    assert step.seconds_left() == 3 * (400 - 5)
    assert step.text() == "customer messages: 0/400, about 20m left at Amazon's rates"
    step.update(200)
    assert step.text() == "customer messages: 200/400, about 10m left at Amazon's rates"


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


def test_against_the_sandbox_a_step_shows_real_time_only() -> None:
    lines: list[str] = []
    progress = Progress(write=lines.append, sandbox=True)
    with progress.step("customer messages", 100, MESSAGE_CALLS) as step:
        step.advance(100)
    assert lines[0] == "customer messages: 0/100, 0s so far"
    assert not any("Amazon's rates" in line or "left" in line for line in lines)


def test_a_wait_says_each_status_with_real_time_and_what_is_usual_once() -> None:
    lines: list[str] = []
    usual = "usually a few minutes, gives up after 30 min"
    with Progress(write=lines.append).wait("feed 5 with Amazon", usual) as waiting:
        for status in ("IN_QUEUE", "IN_QUEUE", "IN_PROGRESS", "DONE"):
            waiting.update(status)
    assert lines == [
        f"feed 5 with Amazon: IN_QUEUE after 0s ({usual})",
        "feed 5 with Amazon: IN_PROGRESS after 0s",
        "feed 5 with Amazon: DONE after 0s",
    ]
    # The sandbox answers in fast time: no usual minutes are promised.
    lines.clear()
    with Progress(write=lines.append, sandbox=True).wait("feed 5 with Amazon", usual) as waiting:
        waiting.update("DONE")
    assert lines == ["feed 5 with Amazon: DONE after 0s"]


def _screen(raw: str) -> list[str]:
    """What a terminal shows of `raw`, roughly: escape sequences out, carriage returns honoured."""
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", raw)
    return [part.rsplit("\r", 1)[-1] for part in text.split("\n")]


def test_a_log_line_printed_while_a_bar_shows_is_a_line_of_its_own() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=120)
    progress = Progress(terminal=True, write=lambda _l: None, console=console)
    with progress.wait("feed 5 with Amazon", "usually a few minutes") as waiting:
        waiting.update("IN_QUEUE")
        console.file.flush()
        assert print_above("feed 5 created")
    with progress.step("customer messages", 40, MESSAGE_CALLS) as step:
        step.advance(10)
        assert print_above("reading the language of 6 buyers")
    assert not print_above("no bar now")  # the caller prints it itself
    screen = _screen(out.getvalue())
    for line in ("feed 5 created", "reading the language of 6 buyers"):
        assert line in screen, screen
    # The bars are gone once done (transient): nothing of them is left on the last line.
    assert "━" not in screen[-1]


def test_a_step_announced_inside_a_call_shows_only_then_and_only_its_own_work() -> None:
    lines: list[str] = []
    count = [0]
    progress = Progress(write=lines.append)
    with progress.announced("looking up orders", lambda: count[0]) as one_by_one:
        count[0] = 500  # calls made before: a search, say; not this step's
        assert lines == []
        one_by_one(100, {"getOrder": 1})
        count[0] = 600
    assert lines[0] == "looking up orders: 0/100, about 2m left at Amazon's rates"
    assert lines[-1].startswith("looking up orders: 100/100")
