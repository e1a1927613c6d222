"""The run webhook against a real HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sample import as_a_new_user

from bulk.infra.masking import remember_secret
from bulk.models import Status
from bulk.output.summary import build_summary
from bulk.output.webhook import ATTEMPTS, MAX_ROWS, post, worth_posting
from bulk.pipeline.context import RowOutcome, RunReport


class Receiver:
    """Records every POST; answers with the next status in `answers` (then 200)."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        self.headers: list[str] = []
        self.answers: list[int] = []
        self.delay = 0.0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.posts.append(json.loads(body))
                receiver.headers.append(self.headers["Content-Type"])
                if receiver.delay:
                    threading.Event().wait(receiver.delay)
                status = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/T000/SECRETPATH"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


def _doc(sent: bool = True, rejected: int = 1, changed: bool = True) -> dict[str, Any]:
    outcomes = [
        RowOutcome(2, "112-0000001-0000001", Status.CANCELLED, "Amazon cancelled the order"),
        *(
            RowOutcome(3 + k, f"112-0000001-{k:07d}", Status.REJECTED, "bad id", changed=changed)
            for k in range(rejected)
        ),
    ]
    report = RunReport(outcomes, feed_ids=["50001"] if sent else [], sent_orders=1, sent_items=1)
    return build_summary(report, command="submit", sheet="orders.xlsx", target="sandbox")


def test_a_run_that_sent_something_is_posted_once_with_a_text(receiver: Receiver) -> None:
    assert post(receiver.url, _doc()) is None
    assert len(receiver.posts) == 1
    body = receiver.posts[0]
    assert body["schema"] == "bulk.summary/2" and body["sent"]["feeds"] == ["50001"]
    assert body["text"].startswith("bulk submit on orders.xlsx (sandbox); sent 1 cancellation;")
    assert receiver.headers[0].startswith("application/json")


@pytest.mark.parametrize(
    ("sent", "rejected", "changed", "posted"),
    [
        (True, 0, True, True),
        (False, 1, True, True),
        (False, 1, False, False),
        (False, 0, True, False),
    ],
)
def test_what_is_worth_posting(sent: bool, rejected: int, changed: bool, posted: bool) -> None:
    assert worth_posting(_doc(sent, rejected, changed)) is posted


def test_a_passing_failure_is_tried_again(receiver: Receiver) -> None:
    receiver.answers = [503, 500]
    assert post(receiver.url, _doc(), sleep=lambda _s: None) is None
    assert len(receiver.posts) == 3


def test_a_receiver_that_keeps_failing_gives_one_warning_without_the_secret_path(
    receiver: Receiver,
) -> None:
    receiver.answers = [500] * ATTEMPTS
    warning = post(receiver.url, _doc(), sleep=lambda _s: None)
    assert warning is not None and "\n" not in warning
    assert warning.startswith("warning: the run summary was not delivered to 127.0.0.1 (HTTP 500)")
    assert "SECRETPATH" not in warning
    assert len(receiver.posts) == ATTEMPTS


def test_a_refusal_is_final(receiver: Receiver) -> None:
    receiver.answers = [404]
    assert "HTTP 404" in (post(receiver.url, _doc(), sleep=lambda _s: None) or "")
    assert len(receiver.posts) == 1


def test_a_slow_or_absent_receiver_is_bounded() -> None:
    with Receiver() as slow:
        slow.delay = 1.0
        warning = post(slow.url, _doc(), timeout=0.2, sleep=lambda _s: None)
        assert warning is not None and "no answer within 0.2s" in warning
    # The server is gone: the connection is refused, every attempt.
    warning = post(slow.url, _doc(), timeout=0.2, sleep=lambda _s: None)
    assert warning is not None and "ConnectError" in warning


def test_long_lists_are_cut_and_credentials_are_masked(receiver: Receiver) -> None:
    remember_secret("Atzr|not-a-real-token-123")
    doc = _doc(rejected=MAX_ROWS + 5)
    doc["rows_to_fix"][0]["result"] = "echoed refresh_token=Atzr|not-a-real-token-123"
    assert post(receiver.url, doc) is None
    body = receiver.posts[0]
    assert len(body["rows_to_fix"]) == MAX_ROWS and body["rows_to_fix_left_off"] == 5
    assert "not-a-real-token" not in json.dumps(body)


class Trickle:
    """A receiver that answers one byte at a time, 0.05 s apart, for ever: no single read ever
    waits long, so only a limit on the whole attempt ends it."""

    def __init__(self) -> None:
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/hook"
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:

        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._trickle, args=(conn,), daemon=True).start()

    def _trickle(self, conn: Any) -> None:
        import contextlib

        with contextlib.suppress(OSError), conn:
            conn.recv(65536)
            answer = b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 100000
            for byte in answer:
                if self.stop.is_set():
                    return
                conn.sendall(bytes([byte]))
                threading.Event().wait(0.05)

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


def test_a_trickling_receiver_cannot_hold_the_run() -> None:
    import time

    trickle = Trickle()
    try:
        started = time.monotonic()
        warning = post(trickle.url, _doc(), timeout=0.5, sleep=lambda _s: None)
        took = time.monotonic() - started
    finally:
        trickle.close()
    assert warning is not None and "no answer within 0.5s" in warning
    assert took < ATTEMPTS * 0.5 + 1.0, took


def test_slack_gets_text_with_its_control_characters_escaped(receiver: Receiver) -> None:
    doc = _doc()
    doc["rows_to_fix"][0]["result"] = "Details <b>too</b> short & *bold* _it_ ~x~ `code` <!here>"
    assert post(receiver.url, doc, format="slack") is None
    body = receiver.posts[0]
    # Slack's incoming-webhook message: `text`; markup parsing off keeps * _ ~ ` as typed.
    assert set(body) == {"text", "mrkdwn"} and body["mrkdwn"] is False
    text = body["text"]
    assert text.startswith("bulk submit on orders.xlsx (sandbox); sent 1 cancellation;")
    assert (
        "row 3: REJECTED: Details &lt;b&gt;too&lt;/b&gt; short &amp; *bold* _it_ ~x~ `code` "
        "&lt;!here&gt;" in text
    )
    unescaped = text.replace("&amp;", "").replace("&lt;", "").replace("&gt;", "")
    assert not set("<>&") & set(unescaped)


def test_teams_gets_a_message_with_one_adaptive_card(receiver: Receiver) -> None:
    doc = _doc(rejected=2)
    doc["rows_to_fix"][0]["result"] = "**not bold** [not a link](http://x) <b>"
    assert post(receiver.url, doc, format="teams") is None
    body = receiver.posts[0]
    assert body["type"] == "message"
    [attachment] = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    assert card["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json"
    # Every element is a RichTextBlock of TextRuns, which Teams never reads as Markdown.
    runs = []
    for element in card["body"]:
        assert element["type"] == "RichTextBlock"
        for inline in element["inlines"]:
            assert inline["type"] == "TextRun" and isinstance(inline["text"], str)
            runs.append(inline["text"])
    assert runs[0] == "bulk submit on orders.xlsx"
    assert "row 3: REJECTED: **not bold** [not a link](http://x) <b>" in runs
    assert "Rows to fix" in runs


def test_a_format_bulk_does_not_know_is_a_config_error() -> None:
    from bulk.config import parse_config
    from bulk.errors import ConfigError

    assert parse_config({"notify": {"format": "teams"}}).notify.format == "teams"
    assert parse_config({}).notify.format == "json"
    with pytest.raises(ConfigError, match=r"\[notify\] format must be one of json, slack, teams"):
        parse_config({"notify": {"format": "discord"}})


def test_submit_posts_in_the_configured_format(
    receiver: Receiver, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil
    from pathlib import Path

    from typer.testing import CliRunner

    from bulk.cli import app

    root = Path(__file__).resolve().parents[1]
    shutil.copy(root / "samples" / "orders.xlsx", tmp_path / "orders.xlsx")
    (tmp_path / "bulk.toml").write_text(
        f'[notify]\nwebhook = "{receiver.url}"\nformat = "teams"\n', encoding="utf-8"
    )
    as_a_new_user(monkeypatch, tmp_path)
    result = CliRunner().invoke(app, ["submit", "orders.xlsx", "--yes"])
    assert result.exit_code == 1, result.output
    [body] = receiver.posts
    assert body["attachments"][0]["content"]["type"] == "AdaptiveCard"
