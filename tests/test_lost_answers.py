"""Faults after Amazon acted: the sandbox does the work, then the answer is lost (connection reset,
a gateway's 504, a 500, or no answer until the client gives up). Runs still end with every order
in exactly one feed, no buyer messaged twice, and every row final."""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest
from sample import MESSAGED, SENDABLE
from typer.testing import CliRunner

from bulk.cli import app
from bulk.sandbox import start_sandbox

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()
FINAL = {"CANCELLED", "FAILED", "REJECTED", "HELD", "DEFERRED", "ESCALATE"}
# A hang outlasts this client time-out; nothing in these tests waits longer. (Short enough
# to wait for, long enough for a loaded test machine to answer every other call in time.)
TIMEOUT_SECONDS = 3


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    shutil.copytree(ROOT / "samples", tmp_path / "samples")
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("BULK_HOME", raising=False)
    monkeypatch.delenv("BULK_SANDBOX_ORDERS", raising=False)
    (tmp_path / "bulk.toml").write_text(
        '[sandbox]\norders = "samples/marketplace.json"\n', encoding="utf-8"
    )
    yield tmp_path


def lose(workdir: Path, operation: str, how: str, limit: int = 1) -> None:
    """Make the sample book lose the answer of `operation`, `limit` times per run."""
    path = workdir / "samples" / "marketplace.json"
    book = json.loads(path.read_text(encoding="utf-8"))
    book["faults"] = {
        "rate": 1.0,
        "kinds": [how],
        "operations": [operation],
        "limit": limit,
        "hang_seconds": 30,
    }
    path.write_text(json.dumps(book), encoding="utf-8")
    if how == "lost-hang":
        with open(workdir / "bulk.toml", "a", encoding="utf-8") as f:
            f.write(f"[amazon]\ntimeout_seconds = {TIMEOUT_SECONDS}\n")


def view(workdir: Path, what: str) -> Any:
    """What the sandbox holds, through a calm copy of the book (no faults)."""
    book = json.loads((workdir / "samples" / "marketplace.json").read_text(encoding="utf-8"))
    book.pop("faults", None)
    calm = workdir / "calm.json"
    calm.write_text(json.dumps(book), encoding="utf-8")
    with start_sandbox(calm, workdir / ".bulk" / "sandbox") as sb:
        return httpx.get(f"{sb.url}/_sandbox/{what}").json()


def column(workdir: Path, name: str) -> dict[str, str]:
    ws = openpyxl.load_workbook(workdir / "samples" / "orders.xlsx")["Orders"]
    header = [c.value for c in ws[1]]
    found: dict[str, str] = {}
    for row in ws.iter_rows(min_row=2, values_only=True):
        if row[0]:
            found.setdefault(str(row[0]), str(row[header.index(name)] or ""))
    return found


def submit_until_settled(workdir: Path, runs: int = 3) -> list[Any]:
    results = []
    for _ in range(runs):
        result = runner.invoke(app, ["submit", "samples/orders.xlsx", "--yes", "-v"])
        results.append(result)
        assert "Traceback" not in result.output, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit), result.output
        if result.exit_code != 2 and all(column(workdir, "Status")[o] in FINAL for o in SENDABLE):
            return results
    pytest.fail("runs did not settle:\n" + "\n---\n".join(r.output for r in results))


def assert_sent_once(workdir: Path) -> Counter[str]:
    sent: Counter[str] = Counter()
    for feed in view(workdir, "feeds"):
        sent.update(re.findall(r"<AmazonOrderID>([^<]+)</AmazonOrderID>", feed["document"] or ""))
    assert set(sent) == SENDABLE, sent
    assert max(sent.values()) == 1, f"an order was in two feeds: {sent}"
    messages = Counter(m["orderId"] for m in view(workdir, "messages"))
    assert set(messages) == MESSAGED, messages
    assert max(messages.values()) == 1, f"a buyer got two messages: {messages}"
    status = column(workdir, "Status")
    assert all(status[o] == "CANCELLED" for o in SENDABLE), status
    return sent


HOWS = ["lost-reset", "lost-504", "lost-500", "lost-hang"]


@pytest.mark.parametrize("how", HOWS)
def test_a_feed_amazon_created_but_did_not_confirm_is_found_not_resent(
    workdir: Path, how: str
) -> None:
    lose(workdir, "createFeed", how)
    [first, *_] = submit_until_settled(workdir)
    # The branch for a feed Amazon may have created: the run looks for it before anything else.
    assert "checking Amazon's feed list" in first.output, first.output
    assert "waiting for 1 unrecorded feed" in first.output, first.output
    assert first.exit_code == 1, first.output
    assert_sent_once(workdir)
    assert len(view(workdir, "feeds")) == 1
    assert "createFeed" in view(workdir, "calls")


@pytest.mark.parametrize(
    ("operation", "how"),
    [
        ("createFeedDocument", "lost-reset"),
        ("createFeedDocument", "lost-hang"),
        ("upload", "lost-504"),
        ("upload", "lost-500"),
        ("upload", "lost-reset"),
        ("getFeed", "lost-reset"),
        ("getFeed", "lost-hang"),
        ("getFeedDocument", "lost-500"),
        ("getFeedDocument", "lost-504"),
        ("getReport", "lost-reset"),
        ("getReport", "lost-hang"),
        ("getOrder@2026-01-01", "lost-504"),
        ("getMessagingActionsForOrder", "lost-reset"),
    ],
)
def test_a_lost_answer_to_a_call_safe_to_repeat_is_retried(
    workdir: Path, operation: str, how: str
) -> None:
    lose(workdir, operation, how, limit=2)
    results = submit_until_settled(workdir)
    assert results[0].exit_code == 1, results[0].output
    assert len(results) == 1, "a repeatable call is retried within the run"
    assert_sent_once(workdir)
    calls = view(workdir, "calls")
    expected = "createFeedDocument" if operation == "upload" else operation
    assert calls.get(operation, 0) + calls.get(expected, 0) >= 3, calls  # 2 lost, then answered


@pytest.mark.parametrize("how", HOWS)
def test_a_message_whose_answer_was_lost_is_unknown_and_never_sent_again(
    workdir: Path, how: str
) -> None:
    lose(workdir, "createUnexpectedProblem", how)
    results = submit_until_settled(workdir)
    assert results[0].exit_code == 1, results[0].output
    assert_sent_once(workdir)
    status = column(workdir, "Message Status")
    unknown = [o for o in MESSAGED if status[o].startswith("Amazon did not confirm it")]
    assert len(unknown) == 1, status
    assert "not sent again" in status[unknown[0]]
    assert "check Buyer-Seller Messages" in status[unknown[0]]
    assert all(status[o].startswith("sent ") for o in MESSAGED - set(unknown)), status
    assert (
        "customer messages: 2 sent, 1 not allowed by Amazon, 1 not requested, 1 not sent"
        in results[0].output
    )
    # Another run, with the same faults, changes nothing.
    again = runner.invoke(app, ["submit", "samples/orders.xlsx", "--yes"])
    assert again.exit_code == 1, again.output
    assert_sent_once(workdir)
    assert column(workdir, "Message Status") == status
