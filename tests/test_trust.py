"""A status bulk did not write is not trusted: the ledger decides (bulk.rules.trust), end to end
through the command line, the real sandbox over HTTP, real CSV sheets and a real ledger."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from freezegun import freeze_time
from typer.testing import CliRunner

from bulk.cli import app
from bulk.infra.ledger import LedgerRow, StatusRecord
from bulk.models import Status
from bulk.rules import trust
from bulk.rules.rows import ParsedRow
from bulk.sandbox import start_sandbox

runner = CliRunner()
NOW = "2026-03-02 15:00:00"
FRESH = "112-0000001-0000001"  # Unshipped, 3 hours old
OLD = "112-0000001-0000002"  # Unshipped, 4 days old
GONE = "112-0000001-0000003"  # cancelled on Amazon, never by bulk
OTHER = "112-0000001-0000004"  # Unshipped, 2 hours old
HEADER = ["Order ID", "Reason", "Details", "Items", "Remedy", "Notify", "Status", "Result"]
HEADER += ["Scheduled For", "Feed ID"]


def _order(order_id: str, status: str, purchased: str, n: int) -> dict[str, Any]:
    return {
        "id": order_id,
        "status": status,
        "channel": "MFN",
        "purchased": purchased,
        "locale": "en_US",
        "items": [{"id": f"0000000000010{n}", "sku": f"MUG-{n}", "title": "Mug", "qty": 1}],
    }


BOOK = {
    "seller_id": "A1SANDBOXSELLER",
    "marketplace_id": "ATVPDKIKX0DER",
    "performance": {"orders_last_7_days": 400, "seller_cancels_last_7_days": 0},
    "orders": [
        _order(FRESH, "Unshipped", "-3h", 1),
        _order(OLD, "Unshipped", "-4d", 2),
        _order(GONE, "Canceled", "-5h", 3),
        _order(OTHER, "Unshipped", "-2h", 4),
    ],
}


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    for name in ("BULK_HOME", "BULK_CONFIG", "BULK_SANDBOX_ORDERS", "LWA_APP_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "book.json").write_text(json.dumps(BOOK), encoding="utf-8")
    (tmp_path / "bulk.toml").write_text('[sandbox]\norders = "book.json"\n', encoding="utf-8")
    yield tmp_path


def write_sheet(path: Path, rows: list[dict[str, str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        out = csv.DictWriter(f, fieldnames=HEADER)
        out.writeheader()
        for row in rows:
            out.writerow(
                {"Reason": "Out of stock", "Details": "Supplier lost the whole shipment"} | row
            )


def read_sheet(path: Path) -> dict[str, dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return {r["Order ID"]: r for r in csv.DictReader(f)}


def edit(path: Path, order_id: str, **values: str) -> None:
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        if row["Order ID"] == order_id:
            row.update({k.replace("_", " "): v for k, v in values.items()})
    with open(path, "w", newline="", encoding="utf-8") as f:
        out = csv.DictWriter(f, fieldnames=list(rows[0]))
        out.writeheader()
        out.writerows(rows)


def bulk(*args: str) -> Any:
    with freeze_time(NOW):
        return runner.invoke(app, list(args), catch_exceptions=False)


def feeds_sent(workdir: Path) -> list[list[str]]:
    """The orders of each feed the sandbox received, in order."""
    with start_sandbox(workdir / "book.json", workdir / ".bulk" / "sandbox") as sb:
        feeds = httpx.get(f"{sb.url}/_sandbox/feeds").json()
    return [re.findall(r"<AmazonOrderID>([^<]+)</AmazonOrderID>", f["document"]) for f in feeds]


def test_a_typed_deferred_on_an_old_order_is_held_by_due_not_sent(workdir: Path) -> None:
    sheet = workdir / "orders.csv"
    write_sheet(sheet, [{"Order ID": OLD}])
    checked = bulk("check", "orders.csv")  # the sheet becomes one `bulk due` knows
    assert read_sheet(sheet)[OLD]["Status"] == "HELD", checked.output

    # Someone types DEFERRED and a day that has come.
    edit(sheet, OLD, Status="DEFERRED", Scheduled_For="2026-03-02", Result="")
    due = bulk("due", "--yes")
    assert due.exit_code == 0, due.output
    row = read_sheet(sheet)[OLD]
    assert row["Status"] == "HELD", row
    assert row["Result"].startswith("Status DEFERRED was not written by bulk"), row["Result"]
    assert "outside the 24-hour window" in row["Result"]
    assert "--allow-late" in row["Result"] and "sent because" not in row["Result"]
    assert row["Scheduled For"] == ""
    assert feeds_sent(workdir) == []


def test_a_typed_deferred_on_a_fresh_order_waits_for_a_person_under_due(workdir: Path) -> None:
    sheet = workdir / "orders.csv"
    write_sheet(sheet, [{"Order ID": FRESH}])
    bulk("check", "orders.csv")
    edit(sheet, FRESH, Status="DEFERRED", Scheduled_For="2026-03-01")
    due = bulk("due", "--yes")
    assert due.exit_code == 0, due.output
    row = read_sheet(sheet)[FRESH]
    assert row["Status"] == "HELD", row
    assert "`bulk due` sends only rows bulk deferred" in row["Result"]
    assert feeds_sent(workdir) == []


def test_a_typed_cancelled_never_sent_is_checked_as_new(workdir: Path) -> None:
    sheet = workdir / "orders.csv"
    write_sheet(sheet, [{"Order ID": FRESH, "Status": "CANCELLED", "Result": "done by hand"}])
    checked = bulk("check", "orders.csv")
    row = read_sheet(sheet)[FRESH]
    assert row["Status"] == "READY", checked.output
    assert row["Result"].startswith("Status CANCELLED was not written by bulk"), row["Result"]
    assert "ready: 1 item" in row["Result"]

    sent = bulk("submit", "orders.csv", "--yes")
    assert sent.exit_code == 0, sent.output
    assert feeds_sent(workdir) == [[FRESH]]
    assert read_sheet(sheet)[FRESH]["Status"] == "CANCELLED"


def test_a_typed_cancelled_that_amazon_shows_cancelled_is_kept_and_marked(
    workdir: Path,
) -> None:
    sheet = workdir / "orders.csv"
    write_sheet(sheet, [{"Order ID": GONE, "Status": "CANCELLED"}])
    first = bulk("check", "orders.csv", "--json")
    row = read_sheet(sheet)[GONE]
    assert row["Status"] == "CANCELLED", first.output
    assert row["Result"].startswith("cancelled outside bulk"), row["Result"]
    assert json.loads(first.stdout)["api"]["calls"].get("getOrder") == 1

    # The ledger holds it now: the next run leaves the row alone and asks Amazon nothing.
    again = bulk("check", "orders.csv", "--json")
    assert json.loads(again.stdout)["api"]["calls"].get("getOrder") is None, again.stdout
    assert read_sheet(sheet)[GONE] == row
    assert feeds_sent(workdir) == []


def test_a_changed_order_id_on_a_cancelled_row_is_a_new_row(workdir: Path) -> None:
    sheet = workdir / "orders.csv"
    write_sheet(sheet, [{"Order ID": FRESH}])
    assert bulk("submit", "orders.csv", "--yes").exit_code == 0
    first = read_sheet(sheet)[FRESH]
    assert first["Status"] == "CANCELLED" and first["Feed ID"]

    edit(sheet, FRESH, Order_ID=OTHER)  # the row now names another order
    again = bulk("submit", "orders.csv", "--yes")
    assert again.exit_code == 0, again.output
    assert feeds_sent(workdir) == [[FRESH], [OTHER]]
    row = read_sheet(sheet)[OTHER]
    assert row["Status"] == "CANCELLED", row
    assert row["Feed ID"] and row["Feed ID"] != first["Feed ID"]


def test_a_submitted_typed_by_hand_is_checked_as_new(workdir: Path) -> None:
    sheet = workdir / "orders.csv"
    write_sheet(sheet, [{"Order ID": FRESH, "Status": "SUBMITTED", "Feed ID": "50001"}])
    checked = bulk("check", "orders.csv")
    row = read_sheet(sheet)[FRESH]
    assert row["Status"] == "READY", checked.output
    assert row["Result"].startswith("Status SUBMITTED was not written by bulk"), row["Result"]
    assert row["Feed ID"] == ""  # the typed feed id is not bulk's either
    sent = bulk("submit", "orders.csv", "--yes")
    assert sent.exit_code == 0, sent.output
    assert feeds_sent(workdir) == [[FRESH]]


def test_a_deferral_bulk_wrote_is_recorded_and_sent_on_its_day_without_allow_late_words(
    workdir: Path,
) -> None:
    (workdir / "bulk.toml").write_text(
        '[sandbox]\norders = "book.json"\n[policy]\nmax_daily_share = 0.1\n', encoding="utf-8"
    )
    # Bought at noon: by the afternoon of the next day, both orders are past the 24-hour window.
    book = json.loads((workdir / "book.json").read_text(encoding="utf-8"))
    for order in book["orders"]:
        order["purchased"] = "2026-03-02T12:00:00+00:00"
    (workdir / "book.json").write_text(json.dumps(book), encoding="utf-8")
    sheet = workdir / "orders.csv"
    write_sheet(sheet, [{"Order ID": FRESH}, {"Order ID": OTHER}])
    bulk("submit", "orders.csv", "--yes")
    rows = read_sheet(sheet)
    deferred = [o for o, r in rows.items() if r["Status"] == "DEFERRED"]
    assert len(deferred) == 1, rows
    day = rows[deferred[0]]["Scheduled For"]
    assert day == "2026-03-03"
    with freeze_time(f"{day} 16:00:00"):
        due = runner.invoke(app, ["due", "--yes"], catch_exceptions=False)
    assert due.exit_code == 0, due.output
    row = read_sheet(sheet)[deferred[0]]
    assert row["Status"] == "CANCELLED", row
    late = "outside the 24-hour window; sent because bulk deferred it to 2026-03-03"
    assert late in row["Result"]
    assert "--allow-late" not in row["Result"]
    assert row["Scheduled For"] == ""


# The rules, one case a line --------------------------------------------------------------


def parsed(status: Status, feed: str = "") -> ParsedRow:
    previous = {"Status": status.value, "Feed ID": feed}
    return ParsedRow(2, FRESH, status, previous, None, ())


def sent(outcome: str, sid: int = 1) -> LedgerRow:
    return LedgerRow(sid, 1, 2, FRESH, ("00000000000101",), "NoInventory", True, outcome, "", None)


FEEDS = {1: "50001", 2: "50002"}
CASES = [
    # (status, feed cell, ledger rows, status record, trusted)
    (Status.NEW, "", [], None, True),
    (Status.HELD, "", [], None, True),
    (Status.CANCELLED, "50001", [sent("cancelled")], None, True),
    (Status.CANCELLED, "", [sent("cancelled")], None, True),
    (Status.CANCELLED, "", [], None, False),
    (Status.CANCELLED, "", [], StatusRecord(FRESH, "CANCELLED"), True),
    (Status.CANCELLED, "50002", [sent("cancelled")], None, False),  # another order's feed
    (Status.CANCELLED, "", [sent("abandoned")], None, False),
    (Status.CANCELLED, "", [sent("failed")], None, False),
    (Status.FAILED, "50001", [sent("failed")], None, True),
    (Status.FAILED, "", [], None, False),
    (Status.SUBMITTED, "50001", [sent("pending")], None, True),
    (Status.SUBMITTED, "50009", [sent("pending")], None, False),
    (Status.SUBMITTED, "", [], None, False),
    (Status.DEFERRED, "", [], StatusRecord(FRESH, "DEFERRED", date(2026, 3, 3)), True),
    (Status.DEFERRED, "", [], StatusRecord(FRESH, "CANCELLED"), False),
    (Status.DEFERRED, "", [], None, False),
]


@pytest.mark.parametrize(("status", "feed", "history", "record", "trusted"), CASES)
def test_a_status_is_trusted_only_when_the_ledger_holds_it(
    status: Status,
    feed: str,
    history: list[LedgerRow],
    record: StatusRecord | None,
    trusted: bool,
) -> None:
    why = trust.doubt(parsed(status, feed), history, record, FEEDS)
    assert (why == "") is trusted, why
