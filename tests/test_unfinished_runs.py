"""Runs that finish what others started: a workbook opened mid-run, rows another state folder
sent, and summaries that count only what each run did."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest
from freezegun import freeze_time
from freezegun.api import FrozenDateTimeFactory
from sample import SENDABLE
from typer.testing import CliRunner

from bulk.amazon.account import AmazonAccount as SellerAccount
from bulk.cli import app
from bulk.pipeline.run import SHEET_WAIT_SECONDS
from bulk.sandbox import start_sandbox

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    shutil.copytree(ROOT / "samples", tmp_path / "samples")
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("BULK_HOME", raising=False)
    monkeypatch.delenv("BULK_SANDBOX_ORDERS", raising=False)
    yield tmp_path


@pytest.fixture
def clock() -> Iterator[FrozenDateTimeFactory]:
    with freeze_time("2026-03-02T15:00:00+00:00") as frozen:
        yield frozen


def bulk(*args: str) -> Any:
    return runner.invoke(app, list(args), catch_exceptions=False)


def column(workdir: Path, name: str) -> dict[str, str]:
    ws = openpyxl.load_workbook(workdir / "samples" / "orders.xlsx")["Orders"]
    header = [c.value for c in ws[1]]
    if name not in header:
        return {}
    found: dict[str, str] = {}
    for row in ws.iter_rows(min_row=2, values_only=True):
        if row[0]:
            found.setdefault(str(row[0]), str(row[header.index(name)] or ""))
    return found


def sandbox_view(workdir: Path, what: str, home: str = ".bulk") -> Any:
    with start_sandbox(workdir / "samples" / "marketplace.json", workdir / home / "sandbox") as sb:
        return httpx.get(f"{sb.url}/_sandbox/{what}").json()


def open_in_excel_while_waiting(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, clock: FrozenDateTimeFactory, close_after: int
) -> list[float]:
    """Someone opens the workbook in Excel while submit waits for the feed (Excel's lock file
    appears), and closes it after `close_after` of bulk's waits (0: never). bulk's waiting
    moves the frozen clock instead of sleeping."""
    lock = workdir / "samples" / "~$orders.xlsx"
    original = SellerAccount.wait_for_feed

    def wait_for_feed(self: SellerAccount, *args: Any, **kwargs: Any) -> Any:
        lock.write_bytes(b"someone")
        return original(self, *args, **kwargs)

    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        clock.tick(seconds)
        if close_after and len(waits) == close_after:
            lock.unlink()

    monkeypatch.setattr(SellerAccount, "wait_for_feed", wait_for_feed)
    monkeypatch.setattr(time, "sleep", sleep)
    return waits


def test_a_workbook_opened_mid_run_is_waited_for_with_a_countdown(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, clock: FrozenDateTimeFactory
) -> None:
    waits = open_in_excel_while_waiting(workdir, monkeypatch, clock, close_after=3)
    result = bulk("submit", "samples/orders.xlsx", "--yes", "-v")
    assert result.exit_code == 1, result.output
    countdown = [
        line for line in result.output.splitlines() if "was opened in a spreadsheet" in line
    ]
    assert [line.rsplit("(", 1)[1] for line in countdown] == [
        "waiting 10:00 more)",
        "waiting 9:45 more)",
        "waiting 9:30 more)",
    ]
    assert waits == [15.0, 15.0, 15.0]
    assert "customer messages: 3 sent, 1 not allowed by Amazon, 1 not requested" in result.output
    status = column(workdir, "Status")
    assert all(status[o] == "CANCELLED" for o in SENDABLE), status


def test_a_workbook_left_open_is_reported_and_the_next_runs_write_it_counting_only_their_own(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, clock: FrozenDateTimeFactory
) -> None:
    sheet = workdir / "samples" / "orders.xlsx"
    before = sheet.read_bytes()
    waits = open_in_excel_while_waiting(workdir, monkeypatch, clock, close_after=0)
    result = bulk("submit", "samples/orders.xlsx", "--yes")
    # The run says what it sent, and that the sheet does not show it.
    assert result.exit_code == 2, result.output
    assert "sent: 5 orders (5 items) in feed" in result.output
    assert "customer messages: 3 sent, 1 not allowed by Amazon, 1 not requested" in result.output
    assert "the results were not written" in result.output
    assert "`bulk status` writes the sent rows" in result.output
    assert sum(waits) == SHEET_WAIT_SECONDS  # bounded
    assert sheet.read_bytes() == before
    assert "Traceback" not in result.output

    (workdir / "samples" / "~$orders.xlsx").unlink()
    monkeypatch.undo()
    monkeypatch.chdir(workdir)
    status = bulk("status", "samples/orders.xlsx")
    assert status.exit_code == 0, status.output
    assert "rows: 11 NEW, 5 CANCELLED" in status.output, status.output
    assert "customer messages" not in status.output  # it sent none
    found = column(workdir, "Status")
    assert all(found[o] == "CANCELLED" for o in SENDABLE), found
    assert column(workdir, "Message Status")["112-0000001-0000001"].startswith("sent ")

    again = bulk("submit", "samples/orders.xlsx", "--yes")
    assert again.exit_code == 1, again.output
    assert "customer messages" not in again.output
    assert "sent:" not in again.output
    assert len(sandbox_view(workdir, "feeds")) == 1
    assert len(sandbox_view(workdir, "messages")) == 3


def test_a_submitted_row_this_state_folder_never_sent_is_reported(workdir: Path) -> None:
    sent = bulk("submit", "samples/orders.xlsx", "--yes", "--no-wait")
    assert sent.exit_code == 1, sent.output
    assert column(workdir, "Status")["112-0000001-0000001"] == "SUBMITTED"

    # Another machine (another state folder) collects the results.
    elsewhere = runner.invoke(app, ["status", "samples/orders.xlsx"], env={"BULK_HOME": "other"})
    assert elsewhere.exit_code == 1, elsewhere.output  # the sample's REJECTED rows
    rows = [2, 3, 5, 12, 13]  # the rows of the sent orders
    for row in rows:
        assert f"this state folder (other) has no record of the feed for row {row}" in (
            elsewhere.output
        )
    result = column(workdir, "Result")
    assert all("has no record of the feed" in result[o] for o in SENDABLE), result
    assert column(workdir, "Status")["112-0000001-0000001"] == "SUBMITTED"

    # Staff edit the Order ID of one SUBMITTED row: the folder that sent it says so too.
    wb = openpyxl.load_workbook(workdir / "samples" / "orders.xlsx")
    wb["Orders"]["A2"] = "112-0000001-0000010"
    wb.save(workdir / "samples" / "orders.xlsx")
    here = bulk("status", "samples/orders.xlsx")
    assert here.exit_code == 1, here.output
    assert "this state folder (.bulk) has no record of the feed for row 2" in here.output
    status = column(workdir, "Status")
    assert status["112-0000001-0000010"] == "SUBMITTED"
    assert all(status[o] == "CANCELLED" for o in SENDABLE - {"112-0000001-0000001"}), status
