"""`bulk due`, `bulk schedule`, `--json` and the webhook, end to end: the real sandbox over HTTP,
real workbooks, a real ledger, a real HTTP receiver on 127.0.0.1, a frozen clock."""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_sheets import FakeSheets
from freezegun import freeze_time
from test_cli import ROOT, sandbox_record, sheet_rows
from test_webhook import Receiver
from typer.testing import CliRunner

from bulk.cli import app
from bulk.infra.state import sheet_lock

pytest_plugins = ["conftest_google"]
runner = CliRunner()
DAY1 = "2026-03-02 15:00:00"
DAY2 = "2026-03-03 09:00:00"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    shutil.copytree(ROOT / "samples", tmp_path / "samples")
    monkeypatch.chdir(tmp_path)
    for name in (
        "BULK_HOME",
        "BULK_CONFIG",
        "BULK_SANDBOX_ORDERS",
        "LWA_APP_ID",
        "LWA_CLIENT_SECRET",
        "SP_API_REFRESH_TOKEN",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    yield tmp_path


@pytest.fixture
def receiver(workdir: Path) -> Iterator[Receiver]:
    with Receiver() as r:
        (workdir / "bulk.toml").write_text(f'[notify]\nwebhook = "{r.url}"\n', encoding="utf-8")
        yield r


def bulk(when: str, *args: str) -> Any:
    with freeze_time(when):
        return runner.invoke(app, list(args), catch_exceptions=False)


def test_due_sends_the_deferred_row_on_its_day_and_then_nothing(
    workdir: Path, receiver: Receiver
) -> None:
    first = bulk(DAY1, "submit", "samples/orders.xlsx", "--yes")
    assert first.exit_code == 1, first.output
    assert sheet_rows(workdir / "samples" / "orders.xlsx")[4]["Status"] == "DEFERRED"
    assert len(receiver.posts) == 1  # the submit sent something

    # Later the same day: the row's day has not come; nothing is sent, nothing posted.
    same_day = bulk("2026-03-02 18:00:00", "due", "--yes")
    assert same_day.exit_code == 0, same_day.output
    assert "nothing due" in same_day.output
    assert len(sandbox_record(workdir, "feeds")) == 1

    # Its day, from the same folder with no arguments.
    later = bulk(DAY2, "due", "--yes")
    assert later.exit_code == 0, later.output
    assert "orders.xlsx: 1 deferred row due: sent 1 order in feed" in later.output
    rows = sheet_rows(workdir / "samples" / "orders.xlsx")
    assert rows[4]["Status"] == "CANCELLED", rows[4]["Result"]
    assert rows[4]["Scheduled For"] == ""
    feeds = sandbox_record(workdir, "feeds")
    assert len(feeds) == 2 and "112-0000001-0000003" in feeds[1]["document"]
    # Rows it was not asked about keep what the last person's run wrote.
    assert rows[6]["Status"] == "REJECTED"
    assert len(receiver.posts) == 2
    assert receiver.posts[1]["command"] == "due" and receiver.posts[1]["sent"]["orders"] == 1

    again = bulk("2026-03-03 10:00:00", "due", "--yes")
    assert again.exit_code == 0, again.output
    assert "nothing due" in again.output
    assert len(sandbox_record(workdir, "feeds")) == 2
    assert len(receiver.posts) == 2


def test_due_without_yes_sends_nothing_and_says_how(workdir: Path) -> None:
    bulk(DAY1, "submit", "samples/orders.xlsx", "--yes")
    result = bulk(DAY2, "due")
    assert result.exit_code == 0, result.output
    assert "1 deferred row due: run `bulk due --yes` to send it" in result.output
    assert len(sandbox_record(workdir, "feeds")) == 1
    assert sheet_rows(workdir / "samples" / "orders.xlsx")[4]["Status"] == "DEFERRED"


def test_due_collects_a_pending_submission(workdir: Path) -> None:
    bulk(DAY1, "submit", "samples/orders.xlsx", "--yes", "--no-wait")
    assert sheet_rows(workdir / "samples" / "orders.xlsx")[2]["Status"] == "SUBMITTED"
    result = bulk("2026-03-02 16:00:00", "due")
    assert result.exit_code == 0, result.output
    assert "pending" in result.output and "results collected" in result.output
    assert sheet_rows(workdir / "samples" / "orders.xlsx")[2]["Status"] == "CANCELLED"


def test_a_locked_or_missing_sheet_is_skipped_with_one_line(workdir: Path) -> None:
    bulk(DAY1, "check", "samples/orders.xlsx")
    bulk(DAY1, "check", "samples/orders.csv")
    (workdir / "samples" / "orders.csv").unlink()
    # The same day: the row `check` deferred is not due yet, so nothing waits on either sheet.
    with sheet_lock(str((workdir / "samples" / "orders.xlsx").resolve())):
        result = bulk("2026-03-02 18:00:00", "due", "--yes")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any(
        line.endswith("orders.xlsx: skipped, another bulk run is working on it") for line in lines
    )
    assert any(
        line.endswith("orders.csv: skipped, the file is no longer there (last used 2026-03-02)")
        for line in lines
    )
    assert "nothing due" in lines


@pytest.mark.parametrize("how", ["open in Excel", "moved", "unreadable"])
def test_due_exits_1_when_a_sheet_with_due_rows_is_skipped(
    workdir: Path, receiver: Receiver, how: str
) -> None:
    sheet = workdir / "samples" / "orders.xlsx"
    bulk(DAY1, "submit", "samples/orders.xlsx", "--yes")
    assert sheet_rows(sheet)[4]["Status"] == "DEFERRED"
    posts = len(receiver.posts)
    if how == "open in Excel":
        (workdir / "samples" / "~$orders.xlsx").write_bytes(b"lock")
        why = "is open in a spreadsheet program"
    elif how == "moved":
        sheet.rename(workdir / "orders-old.xlsx")
        why = "the file is no longer there"
    else:
        sheet.write_bytes(b"not a workbook")
        why = "skipped, "
    result = bulk(DAY2, "due", "--yes", "--json")
    assert result.exit_code == 1, result.output
    assert "nothing due" not in result.stderr
    assert "it has work due (deferred rows)" in result.stderr
    doc = json.loads(result.stdout)
    assert doc["exit_code"] == 1 and doc["nothing_due"] is False
    assert [s["sheet"] for s in doc["skipped"]] == [str(sheet.resolve())]
    assert why in doc["skipped"][0]["reason"]
    assert len(sandbox_record(workdir, "feeds")) == 1  # nothing was sent
    assert len(receiver.posts) == posts + 1
    assert receiver.posts[-1]["skipped"] == doc["skipped"]
    assert receiver.posts[-1]["text"].startswith("bulk due skipped 1 sheet with work due")


def test_due_counts_a_skipped_sheet_whose_work_is_not_known(workdir: Path) -> None:
    from bulk.infra.ledger import Ledger

    bulk(DAY1, "check", "samples/orders.csv")
    with Ledger(workdir / ".bulk" / "ledger.sqlite") as ledger:  # as an older bulk left it
        ledger.db.execute("UPDATE sheets SET deferred_until = NULL, pending = NULL")
    (workdir / "samples" / "orders.csv").unlink()
    result = bulk(DAY1, "due", "--yes")
    assert result.exit_code == 1, result.output
    assert "whether it has work due is not known" in result.output


def test_due_with_no_known_sheet_exits_0(workdir: Path) -> None:
    result = bulk(DAY1, "due", "--yes")
    assert result.exit_code == 0
    assert "no sheets known yet" in result.output


@pytest.mark.parametrize("command", ["check", "submit", "status"])
def test_json_is_one_document_on_stdout(workdir: Path, command: str) -> None:
    args = [command, "samples/orders.xlsx", "--json"] + (["--yes"] if command == "submit" else [])
    result = bulk(DAY1, *args)
    doc = json.loads(result.stdout)
    assert doc["schema"] == "bulk.summary/2" and doc["command"] == command
    assert doc["exit_code"] == result.exit_code
    assert doc["sheet"].endswith("orders.xlsx") and doc["target"] == "sandbox"
    assert "target: sandbox" in result.stderr and "rows:" in result.stderr
    if command != "status":
        assert doc["rows"]["by_status"]["REJECTED"] == 5
        assert doc["rate"]["now"] == round(3 / 360, 6) and doc["budget"]["week"] == 8
        assert doc["lookup"]["method"] == "getOrder" and doc["lookup"]["orders"] == {"getOrder": 13}
        assert doc["api"]["calls"]["getOrder"] >= 1
        assert [r["row"] for r in doc["rows_to_fix"]] == [6, 14, 15, 16, 17]
    if command == "submit":
        assert doc["sent"]["orders"] == 5 and len(doc["sent"]["feeds"]) == 1
        assert doc["messages"]["sent"] >= 1
        assert doc["deferred"] == [
            {
                "row": 4,
                "order_id": "112-0000001-0000003",
                "scheduled_for": "2026-03-03",
                "wait_days": 1,
            }
        ]


def test_due_json_lists_every_sheet(workdir: Path) -> None:
    bulk(DAY1, "submit", "samples/orders.xlsx", "--yes")
    result = bulk(DAY2, "due", "--yes", "--json")
    doc = json.loads(result.stdout)
    assert doc["command"] == "due" and doc["nothing_due"] is False
    [sheet] = doc["sheets"]
    assert sheet["action"] == "sent" and sheet["summary"]["sent"]["orders"] == 1
    assert sheet["sheet"] == str((workdir / "samples" / "orders.xlsx").resolve())


def test_schedule_prints_the_line_with_bulk_due(workdir: Path) -> None:
    for kind in ("cron", "systemd", "windows"):
        result = runner.invoke(app, ["schedule", "--kind", kind])
        assert result.exit_code == 0
        assert "due --yes" in result.output and str(workdir) in result.output
    default = runner.invoke(app, ["schedule"])
    assert "bulk due" in default.output
    assert not (workdir / ".bulk").exists()  # it installs nothing, writes nothing


def test_a_google_sheet_is_known_by_its_key_and_finished_by_due(
    workdir: Path, fake_sheets: FakeSheets
) -> None:
    key = "1BulkSampleSheetKey0123456789abcdefghijkl"
    with open(workdir / "samples" / "orders.csv", encoding="utf-8") as f:
        values = list(csv.reader(f))
    book = fake_sheets.add_spreadsheet(key, "Cancellations", {"Orders": values}, rows=100, cols=8)
    url = f"https://docs.google.com/spreadsheets/d/{key}/edit?usp=sharing#gid=0"
    bulk(DAY1, "submit", url, "--yes")

    def status(order_id: str) -> str:
        table = book.sheet("Orders").table()
        column = table[0].index("Status")
        return next(row[column] for row in table[1:] if row and row[0] == order_id)

    assert status("112-0000001-0000003") == "DEFERRED"
    result = bulk(DAY2, "due", "--yes")
    assert result.exit_code == 0, result.output
    assert f"https://docs.google.com/spreadsheets/d/{key}/edit#gid=0: 1 deferred row due" in (
        result.output
    )
    assert status("112-0000001-0000003") == "CANCELLED"


def test_a_hidden_deferred_row_not_yet_due_stays_deferred(workdir: Path) -> None:
    import openpyxl

    sheet = workdir / "samples" / "orders.xlsx"
    bulk(DAY1, "submit", "samples/orders.xlsx", "--yes")
    before = sheet_rows(sheet)[4]
    assert before["Status"] == "DEFERRED" and before["Scheduled For"] == "2026-03-03"
    wb = openpyxl.load_workbook(sheet)
    wb["Orders"].row_dimensions[4].hidden = True
    wb.save(sheet)
    # Staff filter the row out of sight; the next run before its day leaves it as it was.
    again = bulk("2026-03-02 18:00:00", "submit", "samples/orders.xlsx", "--yes")
    assert again.exit_code == 1, again.output  # the sample's REJECTED rows
    row = sheet_rows(sheet)[4]
    assert row["Status"] == "DEFERRED" and row["Scheduled For"] == "2026-03-03", row
    assert row["Result"] == before["Result"]
    # On its day it is not sent behind their back: a hidden row is held for a person.
    due = bulk(DAY2, "due", "--yes")
    assert sheet_rows(sheet)[4]["Status"] == "HELD", due.output
    assert len(sandbox_record(workdir, "feeds")) == 1


def test_every_webhook_format_names_the_skipped_sheets() -> None:
    from datetime import UTC, datetime

    from bulk.output.summary import due_document
    from bulk.output.webhook import FORMATS, worth_posting

    line = (
        "/books/orders.xlsx: skipped, the file is no longer there; it has work due (deferred rows)"
    )
    doc = due_document(
        [], 1, now=datetime(2026, 3, 3, tzinfo=UTC), skipped=[("/books/orders.xlsx", "", line)]
    )
    assert worth_posting(doc)
    assert not worth_posting(due_document([], 0, now=datetime(2026, 3, 3, tzinfo=UTC)))
    for name, build in FORMATS.items():
        body = json.dumps(build(doc))
        assert "bulk due skipped 1 sheet with work due" in body, name
        assert "/books/orders.xlsx: skipped, the file is no longer there" in body, name
