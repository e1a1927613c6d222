"""Runs under Amazon's access model: a missing role stops `submit` before anything is sent, and
access lost between the feed and the read-back leaves rows SUBMITTED for `bulk status`."""

from __future__ import annotations

import csv
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from typer.testing import CliRunner

from bulk import access
from bulk.cli import app
from bulk.sandbox import start_sandbox

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()
WITHOUT_MESSAGES = f"{access.INVENTORY_AND_ORDER_TRACKING},{access.SELLING_PARTNER_INSIGHTS}"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    shutil.copytree(ROOT / "samples", tmp_path / "samples")
    monkeypatch.chdir(tmp_path)
    for name in ("BULK_HOME", "BULK_SANDBOX_ORDERS", "BULK_SANDBOX_ROLES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    yield tmp_path


def bulk(*args: str) -> Any:
    return runner.invoke(app, list(args), catch_exceptions=False)


def statuses(path: Path) -> dict[str, tuple[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return {r["Order ID"]: (r["Status"], r["Result"]) for r in csv.DictReader(f)}


def sandbox_feeds(workdir: Path) -> list[dict[str, Any]]:
    """The feeds the sandbox received, from its state in the state folder."""
    book = workdir / "samples" / "marketplace.json"
    with start_sandbox(book, workdir / ".bulk" / "sandbox") as sb:
        found: list[dict[str, Any]] = requests.get(f"{sb.url}/_sandbox/feeds", timeout=10).json()
    return found


def test_submit_refuses_before_sending_when_messages_need_a_missing_role(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BULK_SANDBOX_ROLES", WITHOUT_MESSAGES)
    result = bulk("submit", "samples/orders.csv", "--yes")
    assert result.exit_code == 2, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.output
    assert "nothing was sent" in errors[0] and "Buyer Communication" in errors[0]
    assert sandbox_feeds(workdir) == []
    # Without rows that message buyers, the same app may send.
    path = workdir / "samples" / "orders.csv"
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    notify = rows[0].index("Notify")
    for row in rows[1:]:
        row[notify] = "No"
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    result = bulk("submit", "samples/orders.csv", "--yes")
    assert result.exit_code in (0, 1), result.output
    assert len(sandbox_feeds(workdir)) == 1


def test_access_revoked_after_the_feed_leaves_rows_submitted_until_status(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = workdir / "samples" / "orders.csv"
    sent = bulk("submit", str(path), "--yes", "--no-wait")
    assert sent.exit_code in (0, 1), sent.output
    submitted = {o for o, (s, _r) in statuses(path).items() if s == "SUBMITTED"}
    assert submitted
    # The seller removes the app's Inventory and Order Tracking role: feeds and order reads
    # now answer 403.
    monkeypatch.setenv("BULK_SANDBOX_ROLES", access.BUYER_COMMUNICATION)
    refused = bulk("status", str(path))
    rows = statuses(path)
    for order_id in submitted:
        status, result = rows[order_id]
        assert status == "SUBMITTED"
        assert "refused access" in result and "`bulk status`" in result, result
    assert "refused access" in refused.output
    # Access comes back: `bulk status` finishes the rows; the feed was sent once.
    monkeypatch.delenv("BULK_SANDBOX_ROLES")
    done = bulk("status", str(path))
    assert done.exit_code in (0, 1), done.output
    rows = statuses(path)
    assert {rows[o][0] for o in submitted} <= {"CANCELLED", "FAILED"}
    assert "CANCELLED" in {rows[o][0] for o in submitted}
    assert len(sandbox_feeds(workdir)) == 1
