"""What a person sees in a real terminal: `bulk submit` of the sample in tmux (120 x 40), the
real command against the real sandbox, the screen read back with capture-pane."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TMUX = shutil.which("tmux")

pytestmark = pytest.mark.skipif(
    TMUX is None and not os.environ.get("CI"), reason="tmux is not installed here"
)

# Lines bulk prints while a run goes; one of them in the middle of a line means two lines ran
# together (a log line printed into a progress bar).
LINE_STARTS = (
    "target:",
    "looking up",
    "seller performance report",
    "reading the language",
    "rows:",
    "cancellation rate",
    "budget",
    "look-up:",
    "about to send",
    "uploading the cancellation feed",
    "feed 5",  # feed 50000000002 with Amazon: ...
    "sent:",
    "customer messages:",
    "wrote results",
    "Cancel ",
)
# An estimate of time to come: none may show against the sandbox, which answers in fast time.
PROMISE = re.compile(
    r"\b\d+\s*(m|min|mins|minutes?|h|hours?)\b|usually|left at Amazon|up to about|more\)"
)


class Terminal:
    def __init__(self, socket: str) -> None:
        self.socket = socket

    def tmux(self, *args: str) -> str:
        assert TMUX is not None
        done = subprocess.run(
            [TMUX, "-L", self.socket, *args], capture_output=True, text=True, timeout=30
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def screen(self) -> list[str]:
        # -J joins lines the terminal wrapped: one captured line is one line bulk printed.
        return self.tmux("capture-pane", "-p", "-J", "-S", "-", "-t", "bulk").splitlines()

    def wait_for(self, pattern: str, seconds: float = 90.0) -> list[str]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            screen = self.screen()
            if any(re.search(pattern, line) for line in screen):
                return screen
            time.sleep(0.2)  # a real process in a real terminal: polled, not frozen
        raise AssertionError(f"{pattern!r} never showed:\n" + "\n".join(self.screen()))


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    term = Terminal(f"bulk-test-{os.getpid()}")
    term.tmux("new-session", "-d", "-s", "bulk", "-x", "120", "-y", "40")
    try:
        yield term
    finally:
        term.tmux("kill-server")


def _run_together(screen: list[str]) -> list[str]:
    """Lines holding the start of another line glued to some text ("... 30m morefeed 5...")."""
    return [
        line
        for line in screen
        for start in LINE_STARTS
        if re.search(r"\S" + re.escape(start), line)
    ]


def test_submit_in_a_terminal_asks_with_the_target_and_messages_and_keeps_lines_apart(
    terminal: Terminal, tmp_path: Path
) -> None:
    shutil.copy(ROOT / "samples" / "orders.xlsx", tmp_path / "orders.xlsx")
    env = {"BULK_HOME": str(tmp_path / "state"), "HOME": str(tmp_path)}
    command = (
        f"cd {shlex.quote(str(tmp_path))} && env -u BULK_CONFIG -u BULK_SANDBOX_ORDERS "
        + " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        + f" {shlex.quote(sys.executable)} -m bulk submit orders.xlsx; echo BULK-EXIT=$?"
    )
    terminal.tmux("send-keys", "-t", "bulk", command, "Enter")

    asked = terminal.wait_for(r"\[y/N\]")
    question = next(line for line in asked if "[y/N]" in line)
    assert question.startswith(
        "Cancel 5 orders (5 items) in the sandbox and send up to 4 customer messages?"
    ), question
    assert any(line.startswith("about to send to the sandbox (") for line in asked), asked
    assert any(
        line.startswith("  customer messages: 4 will be sent after the cancellations")
        for line in asked
    ), asked
    assert any(line.startswith("  cancellations: 5 orders (5 items) in US") for line in asked)
    # The row whose buyer asked to cancel gets no message (Amazon tells them), and says why.
    assert any(
        line.startswith(
            "  customer messages: 1 will not be sent: no message: the buyer asked to cancel"
        )
        for line in asked
    ), asked

    terminal.tmux("send-keys", "-t", "bulk", "y", "Enter")
    screen = terminal.wait_for(r"^BULK-EXIT=\d")
    # Exit 1: the sample holds rows to fix.
    assert "BULK-EXIT=1" in screen, screen
    assert any(
        line.startswith("customer messages: 3 sent, 1 not allowed by Amazon") for line in screen
    ), screen
    # Progress bars are gone once done, and no log line was printed into one.
    assert not [line for line in screen if "━" in line], screen
    assert _run_together(screen) == [], screen
    # Against the sandbox, nothing promises minutes to come.
    assert [line for line in screen if PROMISE.search(line)] == [], screen
