"""`bulk pull`: buyers' cancellation requests into the sheet, against the sandbox over HTTP, on
xlsx, CSV and a Google Sheet (the local Sheets v4 fake)."""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from fake_sheets import FakeSheets
from freezegun import freeze_time
from typer.testing import CliRunner

from bulk.cli import app

pytest_plugins = ["conftest_google"]

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()
NOW = "2026-03-02 15:00:00"
HEADER = ["Order ID", "Reason", "Details"]


def _order(n: int, *, asked: list[bool], status: str = "Unshipped", **extra: Any) -> dict[str, Any]:
    items = [
        {
            "id": f"{n:012d}{k:02d}",
            "sku": f"SKU-{n}-{k}",
            "title": f"Thing {n}.{k}",
            "qty": 1,
            **(
                {"buyer_requested_cancel": True, "buyer_cancel_reason": f"Changed my mind {n}"}
                if yes
                else {}
            ),
        }
        for k, yes in enumerate(asked, start=1)
    ]
    return {
        "id": f"112-0000024-{n:07d}",
        "status": status,
        "purchased": f"-{n}h",
        "items": items,
        **extra,
    }


def oid(n: int) -> str:
    return f"112-0000024-{n:07d}"


# Orders 1-6: unshipped with a buyer's request (order 3 for one of its two lines, order 6 with
# no reason given); 7-10: unshipped, no request; 11: shipped, with a request; 12: a request
# older than the 7-day window; 13: fulfilled by Amazon, with a request.
ASKED = [1, 2, 3, 4, 5, 6]
BOOK = {
    "seller_id": "A1SANDBOXSELLER",
    "marketplace_id": "ATVPDKIKX0DER",
    # 20 seller cancellations of 400 orders: 5%, far over the 2.5% target; no room at all.
    "performance": {"orders_last_7_days": 400, "seller_cancels_last_7_days": 20},
    "orders": [
        _order(1, asked=[True]),
        _order(2, asked=[True]),
        _order(3, asked=[False, True]),
        _order(4, asked=[True, True]),
        _order(5, asked=[True]),
        {
            **_order(6, asked=[True]),
            "items": [
                {
                    "id": "00000024000601",
                    "sku": "SKU-6",
                    "title": "Six",
                    "buyer_requested_cancel": True,
                }
            ],
        },
        _order(7, asked=[False]),
        _order(8, asked=[False]),
        _order(9, asked=[False, False]),
        _order(10, asked=[False]),
        _order(11, asked=[True], status="Shipped"),
        {**_order(12, asked=[True]), "purchased": "-9d"},
        _order(13, asked=[True], channel="AFN"),
    ],
}


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    monkeypatch.chdir(tmp_path)
    for name in ("BULK_HOME", "BULK_SANDBOX_ORDERS", "BULK_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "bulk.toml").write_text('[sandbox]\norders = "book.json"\n', encoding="utf-8")
    (tmp_path / "book.json").write_text(json.dumps(BOOK), encoding="utf-8")
    yield tmp_path


def bulk(*args: str) -> Any:
    with freeze_time(NOW):
        return runner.invoke(app, list(args), catch_exceptions=False)


# The sheet staff keep: a request they typed in themselves (order 1), and a row of their own
# that counts toward the rate (order 7, out of stock).
STAFF_ROWS = [
    [oid(1), "Buyer requested", "Buyer wrote to us asking to cancel"],
    [oid(7), "Out of stock", "The last units were damaged in the warehouse"],
]


def write_xlsx(path: Path, rows: list[list[str]]) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Orders"
    for row in [HEADER, *rows]:
        ws.append(row)
    wb.save(path)


def read_xlsx(path: Path) -> list[list[str]]:
    ws = openpyxl.load_workbook(path)["Orders"]
    return [["" if v is None else str(v) for v in row] for row in ws.iter_rows(values_only=True)]


def write_csv(path: Path, rows: list[list[str]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([HEADER, *rows])


def read_csv(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


def by_order(table: list[list[str]]) -> dict[str, dict[str, str]]:
    head = table[0]
    return {
        row[0]: {h: (row[i] if i < len(row) else "") for i, h in enumerate(head) if h}
        for row in table[1:]
        if row and row[0]
    }


FORMATS = {"xlsx": (write_xlsx, read_xlsx), "csv": (write_csv, read_csv)}


@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_pull_adds_the_missing_requests_once_and_submit_cancels_them_all_with_no_budget(
    folder: Path, kind: str
) -> None:
    write, read = FORMATS[kind]
    sheet = folder / f"orders.{kind}"
    write(sheet, STAFF_ROWS)

    first = bulk("pull", str(sheet))
    assert first.exit_code == 0, first.output
    assert "6 pending; 5 rows added (rows 4, 5, 6, 7, 8), 1 already in the sheet" in first.output
    table = read(sheet)
    assert table[:3] == [HEADER, *STAFF_ROWS] or [r[:3] for r in table[:3]] == [
        HEADER,
        *STAFF_ROWS,
    ]
    rows = by_order(table)
    assert [r[0] for r in table[3:]] == [oid(n) for n in (6, 5, 4, 3, 2)]  # oldest first
    for n in (2, 3, 4, 5):
        assert rows[oid(n)]["Reason"] == "Buyer requested"
        assert rows[oid(n)]["Details"] == f"The buyer asked Amazon to cancel: Changed my mind {n}"
    assert rows[oid(6)]["Details"] == "The buyer asked Amazon to cancel (no reason given)"
    # Order 3's buyer asked about its second line only; order 4's about both (the whole order).
    assert rows[oid(3)]["Items"] == "SKU-3-2"
    assert rows[oid(4)]["Items"] == rows[oid(2)]["Items"] == ""
    assert rows[oid(1)]["Details"] == "Buyer wrote to us asking to cancel"  # staff's, untouched

    second = bulk("pull", str(sheet), "--json")
    assert second.exit_code == 0, second.output
    doc = json.loads(second.stdout)
    assert (doc["schema"], doc["requests"], doc["added"], doc["already_in_sheet"]) == (
        "bulk.pull/1",
        6,
        [],
        6,
    )
    assert doc["api"]["calls"] == {"searchOrders": 1}
    assert read(sheet) == table

    sent = bulk("submit", str(sheet), "--yes")
    assert sent.exit_code == 0, sent.output
    after = by_order(read(sheet))
    assert {n: after[oid(n)]["Status"] for n in ASKED} == dict.fromkeys(ASKED, "CANCELLED")
    # The budget had no room: staff's counted row waits, the buyers' requests did not.
    assert after[oid(7)]["Status"] in ("HELD", "DEFERRED"), after[oid(7)]
    # No proactive message: Amazon tells a buyer who asked (set Notify to Yes to send one).
    assert all(
        after[oid(n)]["Message Status"].startswith("no message: the buyer asked to cancel")
        for n in ASKED
    )


def test_a_google_sheet_pull_appends_below_the_last_row(
    folder: Path, fake_sheets: FakeSheets
) -> None:
    key = "1PullRequestsKey0123456789abcdefghijklmno"
    # A grid of exactly the rows in use: the new rows need the grid to grow.
    book = fake_sheets.add_spreadsheet(key, "Requests", {"Orders": [HEADER, *STAFF_ROWS]}, rows=3)
    ws = book.sheet("Orders")
    result = bulk("pull", f"gsheet:{key}")
    assert result.exit_code == 0, result.output
    table = ws.table()
    assert [r[:3] for r in table[:3]] == [HEADER, *STAFF_ROWS]
    assert [r[0] for r in table[3:]] == [oid(n) for n in (6, 5, 4, 3, 2)]
    rows = by_order([[("" if v is None else str(v)) for v in r] for r in table])
    assert rows[oid(3)]["Items"] == "SKU-3-2"
    again = bulk("pull", f"gsheet:{key}")
    assert "0 rows added" in again.output and ws.table() == table


def test_a_pull_into_a_sheet_staff_sorted_adds_below_the_last_used_row(folder: Path) -> None:
    sheet = folder / "orders.xlsx"
    # Sorted by Reason, a note in an extra column, a blank line between two groups, and a
    # requested order (5) already in the middle.
    rows = [
        [oid(1), "Buyer requested", "Buyer wrote to us asking to cancel"],
        [oid(5), "Buyer requested", "Called the shop to cancel it", "call log 12"],
        [],
        [oid(8), "Out of stock", "The last units were damaged in the warehouse"],
        [oid(7), "Out of stock", "The last units were damaged in the warehouse"],
    ]
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Orders"
    for row in [[*HEADER, "Notes"], *rows]:
        ws.append(row)
    wb.save(sheet)
    before = read_xlsx(sheet)
    result = bulk("pull", str(sheet))
    assert result.exit_code == 0, result.output
    table = read_xlsx(sheet)
    # Nothing of staff's moved or changed; Items (order 3's buyer asked about one line) is a
    # new column at the right, blank on their rows.
    assert [r[:4] for r in table[: len(before)]] == before
    assert table[0][4] == "Items" and all(r[4] == "" for r in table[1 : len(before)])
    assert [r[0] for r in table[len(before) :]] == [oid(n) for n in (6, 4, 3, 2)]
    assert "4 rows added (rows 7, 8, 9, 10), 2 already in the sheet" in result.output


def test_the_write_plan_leaves_out_an_order_someone_added_since_the_read() -> None:
    from bulk.grid import Header
    from bulk.sheets.plan import plan_write

    header = Header(row=1, columns={"Order ID": 0, "Reason": 1, "Details": 2})
    ids = {2: oid(1), 4: f" {oid(2).lower()} "}  # row 3 blank; a colleague typed order 2
    new = [
        {"Order ID": oid(2), "Reason": "Buyer requested", "Details": "The buyer asked"},
        {"Order ID": oid(3), "Reason": "Buyer requested", "Details": "=1+1", "Items": "A"},
        {"Order ID": oid(3), "Reason": "Buyer requested", "Details": "twice"},
    ]
    plan = plan_write(header, ids, 3, [], appends=new, last_row=4)
    assert plan.appended == ((oid(3), 5),)
    assert plan.added == {3: "Items"}  # no result columns: no result was written
    assert plan.rows == {
        1: {3: "Items"},
        5: {0: oid(3), 1: "Buyer requested", 2: "'=1+1", 3: "A"},
    }
    assert plan.report().appended == ((oid(3), 5),)


def test_due_pulls_first_when_configured_and_sends_the_requests(folder: Path) -> None:

    sheet = folder / "orders.xlsx"
    write_xlsx(sheet, STAFF_ROWS)
    assert bulk("check", str(sheet)).exit_code == 0  # bulk due knows the sheets bulk used
    # Off by default: due pulls nothing.
    quiet = bulk("due", "--yes")
    assert "pulled" not in quiet.output and len(read_xlsx(sheet)) == 3, quiet.output
    (folder / "bulk.toml").write_text(
        '[sandbox]\norders = "book.json"\n[due]\npull = true\n', encoding="utf-8"
    )
    asked = bulk("due")  # without --yes: pulled, not sent
    assert "5 buyer cancellation requests pulled into the sheet" in asked.output, asked.output
    assert (
        ": 6 buyer requests to send: 5 buyer cancellation requests pulled into the sheet; "
        "run `bulk due --yes` to send them"
    ) in asked.output
    assert len(read_xlsx(sheet)) == 8
    result = bulk("due", "--yes", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    [one] = doc["sheets"]
    assert one["action"] == "sent" and one["summary"]["pulled"] == 0
    after = by_order(read_xlsx(sheet))
    assert {n: after[oid(n)]["Status"] for n in ASKED} == dict.fromkeys(ASKED, "CANCELLED")
    assert after[oid(7)]["Status"] in ("HELD", "DEFERRED")  # staff's row waits for a person


def test_the_summary_and_webhook_text_say_how_many_requests_arrived() -> None:
    from bulk.output.summary import build_summary, short_text, summary_lines
    from bulk.output.webhook import worth_posting
    from bulk.pipeline.context import RunReport

    doc = build_summary(RunReport([]), command="due", sheet="orders.xlsx", pulled=5)
    assert doc["pulled"] == 5
    assert "5 buyer cancellation requests arrived" in short_text(doc)
    assert "buyer cancellation requests pulled into the sheet: 5" in summary_lines(doc)
    assert worth_posting(doc)
    assert not worth_posting(build_summary(RunReport([]), command="due", pulled=0))


def test_due_pull_is_off_by_default_and_read_from_the_config(tmp_path: Path) -> None:
    from bulk.config import load_config
    from bulk.errors import ConfigError

    path = tmp_path / "bulk.toml"
    path.write_text("[policy]\n", encoding="utf-8")
    assert load_config(path).due.pull is False
    path.write_text("[due]\npull = true\n", encoding="utf-8")
    assert load_config(path).due.pull is True
    path.write_text('[due]\npull = "yes"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[due\] pull must be a bool"):
        load_config(path)


def test_a_pull_into_a_new_sheet_fills_it_from_the_first_row(folder: Path) -> None:
    sheet = folder / "orders.xlsx"
    assert bulk("new", str(sheet)).exit_code == 0
    result = bulk("pull", str(sheet))
    assert "6 rows added (rows 2, 3, 4, 5, 6, 7)" in result.output, result.output
    ws = openpyxl.load_workbook(sheet)["Orders"]
    head = [c.value for c in ws[1]]
    assert [ws.cell(r, 1).value for r in range(2, 9)] == [
        *(oid(n) for n in (6, 5, 4, 3, 2, 1)),
        None,
    ]
    # The new sheet's formats hold: ids stay text cells.
    assert ws.cell(2, 1).number_format == "@"
    assert ws.cell(5, head.index("Items") + 1).value == "SKU-3-2"
    assert bulk("check", str(sheet)).exit_code == 0
    ws = openpyxl.load_workbook(sheet)["Orders"]
    status = [c.value for c in ws[1]].index("Status") + 1
    assert [ws.cell(r, status).value for r in range(2, 8)] == ["READY"] * 6


def test_a_pull_that_fails_in_due_is_skipped_work_and_the_rest_is_still_done(
    folder: Path,
) -> None:
    sheet = folder / "orders.xlsx"
    write_xlsx(sheet, STAFF_ROWS)
    assert bulk("check", str(sheet)).exit_code == 0
    # No reason sends BuyerCanceled: rows for buyers' requests cannot be written.
    (folder / "bulk.toml").write_text(
        '[sandbox]\norders = "book.json"\n[due]\npull = true\n'
        '[reasons]\n"Out of stock" = "NoInventory"\n',
        encoding="utf-8",
    )
    result = bulk("due", "--yes")
    assert result.exit_code == 1, result.output
    assert "buyers' cancellation requests not pulled: [reasons] has no reason" in result.output
    assert "\nnothing due" not in result.output
    assert len(read_xlsx(sheet)) == 3
