"""A result write that will fail is refused before anything is sent; one that fails anyway still
leaves the summary, --json and the webhook saying what was sent."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from freezegun.api import FrozenDateTimeFactory
from sample import SENDABLE
from test_unfinished_runs import bulk, clock, column, sandbox_view, workdir  # noqa: F401
from test_webhook import Receiver

from bulk.amazon.account import AmazonAccount as SellerAccount

pytest_plugins = ["conftest_google"]


def put_formula(folder: Path, cell_of: str, row: int) -> None:
    path = folder / "samples" / "orders.xlsx"
    wb = openpyxl.load_workbook(path)
    ws = wb["Orders"]
    header = [c.value for c in ws[1]]
    ws.cell(row=row, column=header.index(cell_of) + 1, value='=IF(A2="","","see notes")')
    wb.save(path)


def test_a_formula_in_a_result_cell_is_refused_before_anything_is_sent(
    workdir: Path,  # noqa: F811
    clock: FrozenDateTimeFactory,  # noqa: F811
) -> None:
    bulk("check", "samples/orders.xlsx")  # the result columns exist now
    put_formula(workdir, "Result", 2)
    before = (workdir / "samples" / "orders.xlsx").read_bytes()
    result = bulk("submit", "samples/orders.xlsx", "--yes")
    assert result.exit_code == 2, result.output
    assert "result cell" in result.output and "(Result) holds a formula" in result.output
    assert "nothing was sent" in result.output
    assert sandbox_view(workdir, "feeds") == []
    assert sandbox_view(workdir, "messages") == []
    assert (workdir / "samples" / "orders.xlsx").read_bytes() == before


def test_a_write_that_fails_after_sending_still_reports_what_was_sent(
    workdir: Path,  # noqa: F811
    clock: FrozenDateTimeFactory,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with Receiver() as receiver:
        (workdir / "bulk.toml").write_text(
            f'[notify]\nwebhook = "{receiver.url}"\n', encoding="utf-8"
        )
        bulk("check", "samples/orders.xlsx")
        original = SellerAccount.wait_for_feed

        # While Amazon processes the feed, someone types a formula into a sent row's Result.
        def wait_for_feed(self: SellerAccount, *args: Any, **kwargs: Any) -> Any:
            put_formula(workdir, "Result", 2)
            return original(self, *args, **kwargs)

        monkeypatch.setattr(SellerAccount, "wait_for_feed", wait_for_feed)
        result = bulk("submit", "samples/orders.xlsx", "--yes", "--json")
        monkeypatch.setattr(SellerAccount, "wait_for_feed", original)
        assert result.exit_code == 2, result.output
        doc = json.loads(result.stdout)
        assert doc["exit_code"] == 2
        assert doc["sent"]["orders"] == 5 and len(doc["sent"]["feeds"]) == 1
        assert doc["messages"]["sent"] >= 1  # the buyers heard, and the document says so
        assert any(w.startswith("the results were not written: ") for w in doc["warnings"])
        assert "sent: 5 orders" in result.stderr
        assert len(receiver.posts) == 2  # the check found rows to fix; the submit sent
        assert receiver.posts[-1]["sent"]["orders"] == 5

    # Once the formula is gone, `bulk status` writes what was sent; nothing is sent twice.
    wb = openpyxl.load_workbook(workdir / "samples" / "orders.xlsx")
    wb["Orders"].cell(
        row=2, column=[c.value for c in wb["Orders"][1]].index("Result") + 1
    ).value = None
    wb.save(workdir / "samples" / "orders.xlsx")
    (workdir / "bulk.toml").unlink()
    status = bulk("status", "samples/orders.xlsx")
    assert status.exit_code in (0, 1), status.output
    found = column(workdir, "Status")
    assert all(found[o] == "CANCELLED" for o in SENDABLE), found
    assert len(sandbox_view(workdir, "feeds")) == 1


def test_a_protected_result_column_of_a_google_sheet_is_refused_before_anything_is_sent(
    workdir: Path,  # noqa: F811
    clock: FrozenDateTimeFactory,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    import csv

    fake = request.getfixturevalue("fake_sheets")
    key = "1BulkProtectedSheetKey0123456789abcdefghijk"
    with open(workdir / "samples" / "orders.csv", encoding="utf-8") as f:
        values = list(csv.reader(f))
    book = fake.add_spreadsheet(key, "Cancellations", {"Orders": values}, rows=100, cols=20)
    # The owner protected everything right of the input columns; bulk's account may not edit it.
    book.sheet("Orders").protected.append(
        {"range": {"startColumnIndex": len(values[0])}, "requestingUserCanEdit": False}
    )
    monkeypatch.setenv("SHEETS_EMULATOR_HOST", fake.host)
    url = f"https://docs.google.com/spreadsheets/d/{key}/edit#gid=0"
    result = bulk("submit", url, "--yes")
    assert result.exit_code == 2, result.output
    assert re.search(r"result cells [A-Z]+2 \(Status\), [A-Z]+2 \(Result\)", result.output)
    assert "are protected, and this account may not edit them" in result.output
    assert "nothing was sent" in result.output
    assert sandbox_view(workdir, "feeds") == []

    # A warning-only protection asks people to confirm; it does not stop the account.
    book.sheet("Orders").protected[0]["warningOnly"] = True
    sent = bulk("submit", url, "--yes")
    assert sent.exit_code == 1, sent.output  # the sample's rows to fix
    assert len(sandbox_view(workdir, "feeds")) == 1


def test_a_deferred_row_sent_by_a_run_that_could_not_write_loses_its_day_when_written(
    workdir: Path,  # noqa: F811
    clock: FrozenDateTimeFactory,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from test_unfinished_runs import open_in_excel_while_waiting

    bulk("submit", "samples/orders.xlsx", "--yes")
    deferred = "112-0000001-0000003"
    assert column(workdir, "Status")[deferred] == "DEFERRED"
    assert column(workdir, "Scheduled For")[deferred] == "2026-03-03"
    clock.move_to("2026-03-03T09:00:00+00:00")
    # Its day: `bulk due` sends it, but the workbook is open until the run gives up writing.
    open_in_excel_while_waiting(workdir, monkeypatch, clock, close_after=0)
    due = bulk("due", "--yes")
    assert "the results were not written" in due.output, due.output
    assert due.exit_code == 2  # sent, but the sheet does not show it
    assert column(workdir, "Status")[deferred] == "DEFERRED"
    (workdir / "samples" / "~$orders.xlsx").unlink()
    # The next run writes what the ledger says: cancelled, with no day left to wait for.
    status = bulk("status", "samples/orders.xlsx")
    assert column(workdir, "Status")[deferred] == "CANCELLED", status.output
    assert column(workdir, "Scheduled For")[deferred] == ""
    assert column(workdir, "Feed ID")[deferred]
