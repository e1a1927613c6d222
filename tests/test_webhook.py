"""The run webhook against a real HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

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
    assert body["text"].startswith("bulk submit on orders.xlsx (sandbox); sent 1 cancellations")
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
        assert warning is not None and "ReadTimeout" in warning
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
