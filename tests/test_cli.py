"""The command line end to end: real sheets, the real sandbox over HTTP, a real ledger."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest
from lxml import etree
from sample import EXPECTED
from typer.testing import CliRunner

from bulk.cli import app
from bulk.sandbox import start_sandbox

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
XSD = ROOT / "bulk" / "sandbox" / "xsd" / "amzn-envelope.xsd"

runner = CliRunner()


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder like a fresh checkout's: samples/ and templates/, no state yet."""
    shutil.copytree(SAMPLES, tmp_path / "samples")
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    monkeypatch.chdir(tmp_path)
    for name in (
        "BULK_HOME",
        "BULK_SANDBOX_ORDERS",
        "LWA_APP_ID",
        "LWA_CLIENT_SECRET",
        "SP_API_REFRESH_TOKEN",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no credentials.yml of the machine's user
    yield tmp_path


def bulk(*args: str, env: dict[str, str] | None = None) -> Any:
    return runner.invoke(app, list(args), env=env, catch_exceptions=False)


def sheet_rows(path: Path) -> dict[int, dict[str, str]]:
    ws = openpyxl.load_workbook(path)["Orders"]
    header = [c.value for c in ws[1]]
    rows = {}
    for row in ws.iter_rows(min_row=2):
        values = {
            str(h): ("" if c.value is None else str(c.value))
            for h, c in zip(header, row, strict=False)
            if h
        }
        if values.get("Order ID"):
            rows[row[0].row] = values
    return rows


def sandbox_record(workdir: Path, what: str) -> Any:
    """What the sandbox received, read from its persisted state through its own HTTP window."""
    with start_sandbox(
        workdir / "samples" / "marketplace.json", workdir / ".bulk" / "sandbox"
    ) as sb:
        return httpx.get(f"{sb.url}/_sandbox/{what}").json()


def test_quick_start_submit_cancels_once_and_writes_every_row(workdir: Path) -> None:
    result = bulk("submit", "samples/orders.xlsx", "--yes")
    assert result.exit_code == 1, result.output  # the sample has rows to fix
    assert result.output.splitlines()[0].startswith("target: sandbox")
    assert "customer messages: 3 sent, 1 not allowed by Amazon, 1 not requested" in result.output
    rows = sheet_rows(workdir / "samples" / "orders.xlsx")
    assert {n: r["Status"] for n, r in rows.items()} == EXPECTED
    assert rows[8]["Result"] == "already cancelled on Amazon; nothing was sent"
    assert rows[4]["Scheduled For"]
    assert (
        "Subject:" in rows[7]["Support Case"] and "112-0000001-0000006" in rows[7]["Support Case"]
    )
    assert rows[2]["Feed ID"] and rows[2]["Message Status"].startswith("sent")
    assert rows[13]["Message Status"] == "not allowed by Amazon for this order"
    assert "Guten Tag" in rows[12]["Customer Message"]
    assert "already on row 2" in rows[15]["Result"]

    feeds = sandbox_record(workdir, "feeds")
    assert len(feeds) == 1
    messages = sandbox_record(workdir, "messages")
    assert sorted(m["orderId"] for m in messages) == [
        "112-0000001-0000001",
        "112-0000001-0000002",
        "112-0000001-0000011",
    ]
    # The buyer asked Amazon to cancel 0004 and Notify is blank: Amazon confirms it, bulk is silent.
    assert rows[5]["Message Status"].startswith("no message: the buyer asked to cancel")

    again = bulk("submit", "samples/orders.xlsx", "--yes")
    assert again.exit_code == 1
    assert len(sandbox_record(workdir, "feeds")) == 1, "a second run must send nothing"
    assert len(sandbox_record(workdir, "messages")) == 3, "no message is sent twice"
    assert {
        n: r["Status"] for n, r in sheet_rows(workdir / "samples" / "orders.xlsx").items()
    } == EXPECTED

    history = bulk("history", "--json")
    submissions = json.loads(history.output)["submissions"]
    assert len(submissions) == 1 and submissions[0]["outcomes"] == {"cancelled": 5}
    backups = list((workdir / ".bulk" / "backups").iterdir())
    assert len(backups) == 2


def test_check_and_dry_run_send_nothing(workdir: Path) -> None:
    result = bulk("check", "samples/orders.xlsx")
    assert result.exit_code == 1
    rows = sheet_rows(workdir / "samples" / "orders.xlsx")
    assert rows[2]["Status"] == "READY"
    assert rows[2]["Customer Message"].startswith("Hello")
    feed = workdir / "feed.xml"
    dry = bulk("submit", "samples/orders.xlsx", "--dry-run", "--save-feed", str(feed))
    assert "dry run: nothing was sent" in dry.output
    assert sandbox_record(workdir, "feeds") == []
    schema = etree.XMLSchema(etree.parse(str(XSD)))
    document = etree.parse(str(feed))
    assert schema.validate(document), schema.error_log
    assert len(document.findall("Message")) == 5


def test_submit_without_a_terminal_asks_for_yes_and_sends_nothing(workdir: Path) -> None:
    result = bulk("submit", "samples/orders.xlsx")
    assert "pass --yes" in result.output
    assert sandbox_record(workdir, "feeds") == []


def test_csv_sample_works_the_same(workdir: Path) -> None:
    result = bulk("submit", "samples/orders.csv", "--yes")
    assert result.exit_code == 1
    text = (workdir / "samples" / "orders.csv").read_text(encoding="utf-8")
    assert text.count("CANCELLED") == 6


@pytest.mark.parametrize(
    ("toml", "words"),
    [
        ('[amazon]\ntarget = "production"\nseller_id = "A2SELLER"\n', "LWA_APP_ID"),
        ('[amazon]\ntarget = "production"\n', "production needs [amazon] seller_id"),
        ('[amazon]\nseller_id = ""\n', "seller_id is empty"),
        ("[policy]\nwindow_hour = 24\n", "did you mean 'window_hours'"),
        ("[amazon\n", "not valid TOML"),
    ],
)
def test_bad_config_is_one_line_and_exit_2(workdir: Path, toml: str, words: str) -> None:
    (workdir / "bulk.toml").write_text(toml, encoding="utf-8")
    result = bulk("check", "samples/orders.xlsx")
    assert result.exit_code == 2
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and words in errors[0]
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("orders.xlsx", b"just text", "not a readable Excel workbook"),
        ("orders.xls", b"\xd0\xcf\x11\xe0", "old .xls workbook"),
        ("orders.txt", b"x", "not a sheet bulk can open"),
        ("missing.xlsx", None, "does not exist"),
    ],
)
def test_bad_sheet_is_one_line_and_exit_2(
    workdir: Path, name: str, content: bytes | None, words: str
) -> None:
    if content is not None:
        (workdir / name).write_bytes(content)
    result = bulk("check", name)
    assert result.exit_code == 2
    assert words in result.output
    if content is not None:
        assert (workdir / name).read_bytes() == content, "a bad file is never changed"


def test_locked_workbook_is_refused(workdir: Path) -> None:
    (workdir / "samples" / "~$orders.xlsx").write_bytes(b"owner")
    before = (workdir / "samples" / "orders.xlsx").read_bytes()
    result = bulk("submit", "samples/orders.xlsx", "--yes")
    assert result.exit_code == 2
    assert "open in a spreadsheet program" in result.output
    assert (workdir / "samples" / "orders.xlsx").read_bytes() == before


def test_new_then_check_an_empty_sheet(workdir: Path) -> None:
    assert bulk("new", "mine.xlsx").exit_code == 0
    result = bulk("check", "mine.xlsx")
    assert result.exit_code == 0
    assert "rows: none yet (add orders below the header" in result.output


def test_every_command_has_help() -> None:
    for command in ("check", "submit", "status", "new", "history", "sandbox"):
        result = runner.invoke(app, [command, "--help"])
        assert result.exit_code == 0
        assert len(result.output.strip()) > 50


def test_no_wait_then_status_collects_the_results(workdir: Path) -> None:
    sent = bulk("submit", "samples/orders.xlsx", "--yes", "--no-wait")
    assert sent.exit_code == 1
    rows = sheet_rows(workdir / "samples" / "orders.xlsx")
    assert rows[2]["Status"] == "SUBMITTED"
    assert "run `bulk status` later" in rows[2]["Result"]
    collected = bulk("status", "samples/orders.xlsx")
    assert collected.exit_code == 1
    rows = sheet_rows(workdir / "samples" / "orders.xlsx")
    assert {n: r["Status"] for n, r in rows.items()} == {
        **EXPECTED,
        4: "DEFERRED",
    }
    assert rows[2]["Message Status"].startswith("sent")
    assert len(sandbox_record(workdir, "feeds")) == 1


def test_a_feed_stuck_in_the_queue_leaves_rows_submitted(workdir: Path) -> None:
    book_path = workdir / "samples" / "marketplace.json"
    book = json.loads(book_path.read_text(encoding="utf-8"))
    book["feed_polls"] = 30
    book_path.write_text(json.dumps(book), encoding="utf-8")
    sandbox = '[sandbox]\norders = "samples/marketplace.json"\n'
    (workdir / "bulk.toml").write_text(sandbox + "[policy]\nfeed_wait_minutes = 5\n")
    result = bulk("submit", "samples/orders.xlsx", "--yes")
    assert result.exit_code == 1
    rows = sheet_rows(workdir / "samples" / "orders.xlsx")
    assert rows[2]["Status"] == "SUBMITTED"
    assert "still processing" in rows[2]["Result"]
    # A later `bulk status`, willing to wait longer, collects them; nothing is sent again.
    (workdir / "bulk.toml").write_text(sandbox + "[policy]\nfeed_wait_minutes = 120\n")
    later = bulk("status", "samples/orders.xlsx")
    assert later.exit_code == 1
    rows = sheet_rows(workdir / "samples" / "orders.xlsx")
    assert rows[2]["Status"] == "CANCELLED"
    assert len(sandbox_record(workdir, "feeds")) == 1


def test_a_fatal_feed_fails_its_rows_and_nothing_is_resent(workdir: Path) -> None:
    (workdir / "bulk.toml").write_text('[amazon]\nseller_id = "A2SOMEONEELSE"\n', encoding="utf-8")
    result = bulk("submit", "samples/orders.xlsx", "--yes")
    assert result.exit_code == 1
    rows = sheet_rows(workdir / "samples" / "orders.xlsx")
    assert rows[2]["Status"] == "FAILED"
    assert "FATAL" in rows[2]["Result"]
    again = bulk("submit", "samples/orders.xlsx", "--yes")
    assert again.exit_code == 1
    assert len(sandbox_record(workdir, "feeds")) == 1
    assert sheet_rows(workdir / "samples" / "orders.xlsx")[2]["Status"] == "FAILED"


def test_a_deferred_row_is_sent_when_its_day_comes(workdir: Path) -> None:
    from freezegun import freeze_time

    with freeze_time("2026-03-02 15:00:00"):
        first = bulk("submit", "samples/orders.xlsx", "--yes")
    assert first.exit_code == 1
    rows = sheet_rows(workdir / "samples" / "orders.xlsx")
    assert rows[4]["Status"] == "DEFERRED"
    assert rows[4]["Scheduled For"] == "2026-03-03"

    # Still the same day: nothing new goes out.
    with freeze_time("2026-03-02 18:00:00"):
        bulk("submit", "samples/orders.xlsx", "--yes")
    assert len(sandbox_record(workdir, "feeds")) == 1
    assert sheet_rows(workdir / "samples" / "orders.xlsx")[4]["Status"] == "DEFERRED"

    # Its day: the same checks run again, and it is sent (the budget has room again).
    with freeze_time("2026-03-03 09:00:00"):
        later = bulk("submit", "samples/orders.xlsx", "--yes")
    assert later.exit_code == 1, later.output
    rows = sheet_rows(workdir / "samples" / "orders.xlsx")
    assert rows[4]["Status"] == "CANCELLED", rows[4]["Result"]
    feeds = sandbox_record(workdir, "feeds")
    assert len(feeds) == 2
    assert "112-0000001-0000003" in feeds[1]["document"]
    assert "112-0000001-0000001" not in feeds[1]["document"]


@pytest.mark.parametrize(("answer", "feeds"), [("n\n", 0), ("y\n", 1)])
def test_submit_asks_before_sending(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, answer: str, feeds: int
) -> None:
    monkeypatch.setenv("BULK_ASSUME_TTY", "1")  # CliRunner's input is not a terminal
    result = runner.invoke(app, ["submit", "samples/orders.xlsx"], input=answer)
    assert (
        "Cancel 5 orders (5 items) in the sandbox and send up to 4 customer messages? [y/N]"
        in result.output
    )
    # 0004's buyer asked Amazon to cancel and its Notify is blank: no message, and why.
    assert (
        "  customer messages: 1 will not be sent: no message: the buyer asked to cancel"
        in result.output
    )
    # What a person needs to decide: where it goes, what is sent, the first rows.
    assert "about to send to the sandbox (local marketplace" in result.output
    assert "  cancellations: 5 orders (5 items) in US" in result.output
    assert "  cancellation rate (US): 0.83% now, 1.94% after (target under 2.5%)" in result.output
    assert "  customer messages: 4 will be sent after the cancellations" in result.output
    assert "    row 2  112-0000001-0000001  US  Out of stock, whole order, message" in result.output
    assert (
        "cancellation rate: 0.83% now, 1.94% after this run (target under 2.5%; Amazon's limit 2.5%)"
        in result.output
    )
    assert len(sandbox_record(workdir, "feeds")) == feeds
    rows = sheet_rows(workdir / "samples" / "orders.xlsx")
    assert rows[2]["Status"] == ("READY" if feeds == 0 else "CANCELLED")
    if feeds == 0:
        assert "nothing was sent" in result.output
