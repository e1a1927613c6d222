"""A run killed at any point is finished by the next one: each order reaches Amazon once."""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest
from fake_sheets import FakeSheets

from bulk.sandbox import start_sandbox

pytest_plugins = ["conftest_google"]

ROOT = Path(__file__).resolve().parents[1]
CRASHED = 77  # the exit code of a crash point (bulk.amazon.account.crash_point)


def run_bulk(
    workdir: Path, *args: str, crash_at: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    drop = ("BULK_", "LWA_", "SP_API_", "SHEETS_EMULATOR_HOST", "GOOGLE_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)} | (env or {})
    env["HOME"] = str(workdir)
    if crash_at:
        env["BULK_CRASH_AT"] = crash_at
    return subprocess.run(
        [sys.executable, "-m", "bulk", *args],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def sandbox_view(workdir: Path, what: str) -> Any:
    with start_sandbox(
        workdir / "samples" / "marketplace.json", workdir / ".bulk" / "sandbox"
    ) as sb:
        return httpx.get(f"{sb.url}/_sandbox/{what}").json()


def orders_sent(workdir: Path) -> Counter[str]:
    """How many feeds each order was put in, from the documents the sandbox received."""
    sent: Counter[str] = Counter()
    for feed in sandbox_view(workdir, "feeds"):
        sent.update(
            re.findall(r"<AmazonOrderID>([^<]+)</AmazonOrderID>", feed.get("document") or "")
        )
    return sent


def statuses(path: Path) -> dict[str, str]:
    ws = openpyxl.load_workbook(path)["Orders"]
    header = [c.value for c in ws[1]]
    col = header.index("Status")
    found: dict[str, str] = {}
    for row in ws.iter_rows(min_row=2, values_only=True):
        if row[0]:
            found.setdefault(str(row[0]), str(row[col] or ""))
    return found


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "samples", tmp_path / "samples")
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    return tmp_path


SENDABLE = [
    "112-0000001-0000001",
    "112-0000001-0000002",
    "112-0000001-0000004",
    "112-0000001-0000011",
    "112-0000001-0000012",
]
# Amazon allows no message for ...12; ...04 is the buyer's own request (no message, Notify blank).
MESSAGED = set(SENDABLE) - {"112-0000001-0000012", "112-0000001-0000004"}
GERMAN = "112-0000001-0000011"


class SheetUnderTest:
    """The sample order sheet as an .xlsx workbook, a .csv file or a Google Sheet (the fake)."""

    def __init__(self, kind: str, workdir: Path, fake: FakeSheets | None) -> None:
        self.kind = kind
        self.workdir = workdir
        self.fake = fake
        self.env: dict[str, str] = {}
        if kind == "gsheet":
            assert fake is not None
            key = "1BulkCrashSheetKey0123456789abcdefghijklmn"
            with open(workdir / "samples" / "orders.csv", encoding="utf-8") as f:
                values = list(csv.reader(f))
            fake.add_spreadsheet(key, "Cancellations", {"Orders": values}, rows=100, cols=8)
            self.arg = f"https://docs.google.com/spreadsheets/d/{key}/edit#gid=0"
            self.env["SHEETS_EMULATOR_HOST"] = fake.host
            self.book = fake.books[key]
        else:
            self.arg = f"samples/orders.{kind}"

    @property
    def path(self) -> Path:
        return self.workdir / self.arg

    def snapshot(self) -> object:
        if self.kind == "gsheet":
            return self.book.sheet("Orders").table()
        return self.path.read_bytes()

    def table(self) -> list[list[str]]:
        if self.kind == "gsheet":
            return [[str(c or "") for c in row] for row in self.book.sheet("Orders").table()]
        if self.kind == "csv":
            with open(self.path, encoding="utf-8") as f:
                return list(csv.reader(f))
        ws = openpyxl.load_workbook(self.path)["Orders"]
        return [
            ["" if c is None else str(c) for c in row] for row in ws.iter_rows(values_only=True)
        ]

    def column(self, name: str) -> dict[str, str]:
        table = self.table()
        col = table[0].index(name)
        found: dict[str, str] = {}
        for row in table[1:]:
            if row and row[0]:
                found.setdefault(row[0], row[col] if col < len(row) else "")
        return found


CRASHES = [
    ("after-ledger-write", "submit"),
    ("after-upload", "submit"),
    ("after-create-feed", "submit"),
    ("after-create-feed", "status"),
    ("while-polling", "status"),
    ("before-message", "submit"),
    ("after-message", "submit"),
    ("before-sheet-write", "submit"),
    ("during-sheet-write", "submit"),
]
# Every crash point on a workbook; on a CSV file and a Google Sheet, the points where the
# sheet's own reading and writing matter (a Google Sheet is written in one request, so it
# has no "during" point).
SCENARIOS = [("xlsx", *c) for c in CRASHES] + [
    (kind, crash_at, finish_with)
    for kind in ("csv", "gsheet")
    for crash_at, finish_with in CRASHES
    if crash_at in ("after-create-feed", "before-message", "after-message", "before-sheet-write")
    or (kind == "csv" and crash_at == "during-sheet-write")
]


@pytest.mark.parametrize(("kind", "crash_at", "finish_with"), SCENARIOS)
def test_a_crash_is_finished_by_the_next_run(
    workdir: Path, request: pytest.FixtureRequest, kind: str, crash_at: str, finish_with: str
) -> None:
    fake = request.getfixturevalue("fake_sheets") if kind == "gsheet" else None
    sheet = SheetUnderTest(kind, workdir, fake)
    before = sheet.snapshot()
    crashed = run_bulk(workdir, "submit", sheet.arg, "--yes", crash_at=crash_at, env=sheet.env)
    assert crashed.returncode == CRASHED, crashed.stderr
    assert sheet.snapshot() == before, "the sheet is written at the end, all at once"

    yes = ["--yes"] if finish_with == "submit" else []
    finish = run_bulk(workdir, finish_with, sheet.arg, *yes, env=sheet.env)
    # The sample always has REJECTED rows; a status run sees only the SUBMITTED ones.
    assert finish.returncode == (1 if finish_with == "submit" else 0), finish.stderr
    if finish_with == "status":
        # `status` finishes what was sent; a submit then writes everything else.
        finish = run_bulk(workdir, "submit", sheet.arg, "--yes", env=sheet.env)
        assert finish.returncode == 1, finish.stderr

    sent = orders_sent(workdir)
    assert set(sent) == set(SENDABLE)
    assert all(n == 1 for n in sent.values()), f"an order was sent twice: {sent}"
    found = sheet.column("Status")
    assert all(found[order] == "CANCELLED" for order in SENDABLE), found
    # Each cancelled row names the feed that carried it, whichever run recorded that feed
    # (after a crash at "after-create-feed", the next run finds it in Amazon's feed list).
    carried = {
        order: f["feedId"]
        for f in sandbox_view(workdir, "feeds")
        for order in re.findall(r"<AmazonOrderID>([^<]+)</AmazonOrderID>", f["document"] or "")
    }
    feed_ids = sheet.column("Feed ID")
    assert all(feed_ids[order] == carried[order] for order in SENDABLE), feed_ids
    messages = sandbox_view(workdir, "messages")
    # Every buyer who may be messaged got exactly one message, whatever the crash point: a
    # crash before a message is claimed sends it on the next run; one after it was sent does
    # not send it again.
    assert sorted(m["orderId"] for m in messages) == sorted(MESSAGED)
    texts = {m["orderId"]: m["text"] for m in messages}
    written = sheet.column("Customer Message")
    assert all(written[order] == text for order, text in texts.items())
    assert texts[GERMAN].startswith("Guten Tag,") and "Gooseneck Kettle" in texts[GERMAN]
    if crash_at == "after-message":
        # Which one was sent when the run died is not known to the next run: it says so.
        status = sheet.column("Message Status")
        assert sum("not sent again" in status[o] for o in MESSAGED) == 1, status

    assert sorted(p.name for p in (workdir / "samples").iterdir() if p.name.startswith(".")) == []
    # And a third run changes nothing.
    third = run_bulk(workdir, "submit", sheet.arg, "--yes", env=sheet.env)
    assert third.returncode == 1, third.stderr
    assert orders_sent(workdir) == sent
    assert len(sandbox_view(workdir, "messages")) == len(MESSAGED)


def test_two_runs_on_one_state_folder_do_not_interleave(workdir: Path) -> None:
    from bulk.errors import LockError
    from bulk.infra.state import StateDir, run_lock

    state = StateDir(workdir / ".bulk")
    with run_lock(state):
        other = run_bulk(workdir, "submit", "samples/orders.xlsx", "--yes")
        assert other.returncode == 2
        assert "another bulk run" in other.stderr
        with pytest.raises(LockError), run_lock(state):
            pass
    assert sandbox_view(workdir, "feeds") == []


def test_two_runs_on_one_sheet_with_different_state_folders_do_not_interleave(
    workdir: Path,
) -> None:
    from bulk.infra.state import sheet_lock

    with sheet_lock(str((workdir / "samples" / "orders.xlsx").resolve())):
        other = run_bulk(workdir, "check", "samples/orders.xlsx")
    assert other.returncode == 2
    assert "is working on" in other.stderr


def test_a_failure_the_sheet_never_heard_of_is_not_resent_until_staff_clear_it(
    workdir: Path,
) -> None:
    # The seller id does not match the account: Amazon ends the feed FATAL.
    (workdir / "bulk.toml").write_text('[amazon]\nseller_id = "A2SOMEONEELSE"\n', encoding="utf-8")
    sheet = workdir / "samples" / "orders.xlsx"
    crashed = run_bulk(
        workdir, "submit", "samples/orders.xlsx", "--yes", crash_at="before-sheet-write"
    )
    assert crashed.returncode == CRASHED
    again = run_bulk(workdir, "submit", "samples/orders.xlsx", "--yes")
    assert again.returncode == 1, again.stderr
    assert statuses(sheet)["112-0000001-0000001"] == "FAILED"
    first_feed = orders_sent(workdir)
    # Only the row the first run had deferred went out now (the failures freed the budget).
    assert first_feed == Counter({**dict.fromkeys(SENDABLE, 1), "112-0000001-0000003": 1})

    # Staff clear the status to try the row again: then it is checked and sent again.
    wb = openpyxl.load_workbook(sheet)
    ws = wb["Orders"]
    status_column = [c.value for c in ws[1]].index("Status") + 1
    ws.cell(row=2, column=status_column).value = None
    wb.save(sheet)
    retry = run_bulk(workdir, "submit", "samples/orders.xlsx", "--yes")
    assert retry.returncode == 1, retry.stderr
    feeds = sandbox_view(workdir, "feeds")
    assert len(feeds) == 3
    assert re.findall(r"<AmazonOrderID>([^<]+)</AmazonOrderID>", feeds[2]["document"]) == [
        "112-0000001-0000001"
    ]


def test_submitted_rows_settle_from_the_ledger_after_a_crash_in_status(workdir: Path) -> None:
    sheet = workdir / "samples" / "orders.xlsx"
    sent = run_bulk(workdir, "submit", "samples/orders.xlsx", "--yes", "--no-wait")
    assert sent.returncode == 1, sent.stderr
    assert statuses(sheet)["112-0000001-0000001"] == "SUBMITTED"
    crashed = run_bulk(workdir, "status", "samples/orders.xlsx", crash_at="before-sheet-write")
    assert crashed.returncode == CRASHED
    assert statuses(sheet)["112-0000001-0000001"] == "SUBMITTED"
    settled = run_bulk(workdir, "status", "samples/orders.xlsx")
    assert settled.returncode == 1, settled.stderr
    found = statuses(sheet)
    assert all(found[order] == "CANCELLED" for order in SENDABLE), found
    assert all(n == 1 for n in orders_sent(workdir).values())
    messages = Counter(m["orderId"] for m in sandbox_view(workdir, "messages"))
    assert set(messages) == MESSAGED
    assert max(messages.values()) == 1
