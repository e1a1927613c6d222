"""Scheduled days that hold: the same sheet run on consecutive simulated days against the sandbox,
whose past cancellations age out a day at a time; every promised day is kept or explained."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from freezegun import freeze_time
from typer.testing import CliRunner

from bulk.cli import app

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()
FIRST_DAY = date(2026, 3, 2)


def _book(orders: int, cancels: int) -> dict[str, Any]:
    return {
        "seller_id": "A1SANDBOXSELLER",
        "marketplace_id": "ATVPDKIKX0DER",
        "performance": {"orders_last_7_days": 400, "seller_cancels_last_7_days": cancels},
        "orders": [
            {
                "id": f"112-0000009-{k:07d}",
                "status": "Unshipped",
                "channel": "MFN",
                "purchased": f"-{60 + k}m",
                # Far enough ahead that the ship-by date never bounds these deferrals
                # (tests/test_ship_by_cli.py covers that).
                "ship_by": "+20d",
                "locale": "en_US",
                "items": [{"id": f"{k:014d}", "sku": f"SKU-{k}", "title": "A thing", "qty": 1}],
            }
            for k in range(1, orders + 1)
        ],
    }


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    monkeypatch.chdir(tmp_path)
    for name in ("BULK_HOME", "BULK_SANDBOX_ORDERS", "BULK_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    # The figures below are worked out under a 2% cap (the marketplace's own target is 2.5%).
    (tmp_path / "bulk.toml").write_text(
        '[sandbox]\norders = "book.json"\n[policy]\ntarget_rate = 0.02\n', encoding="utf-8"
    )
    yield tmp_path


def write_book(folder: Path, orders: int, cancels: int) -> None:
    (folder / "book.json").write_text(json.dumps(_book(orders, cancels)), encoding="utf-8")


def write_sheet(folder: Path, orders: int) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Orders"
    ws.append(["Order ID", "Reason", "Details"])
    for k in range(1, orders + 1):
        ws.append(
            [f"112-0000009-{k:07d}", "Out of stock", "The last units were damaged in the warehouse"]
        )
    path = folder / "orders.xlsx"
    wb.save(path)
    return path


def rows(path: Path) -> dict[str, dict[str, str]]:
    ws = openpyxl.load_workbook(path)["Orders"]
    header = [c.value for c in ws[1]]
    found = {}
    for row in ws.iter_rows(min_row=2, values_only=True):
        values = {
            str(h): "" if v is None else str(v) for h, v in zip(header, row, strict=False) if h
        }
        found[values["Order ID"]] = values
    return found


def run_day(day: date, *args: str) -> Any:
    with freeze_time(f"{day.isoformat()} 09:00:00"):
        return runner.invoke(app, list(args), catch_exceptions=False)


def check_promises(
    before: dict[str, dict[str, str]], after: dict[str, dict[str, str]], day: date
) -> list[str]:
    """Rows promised for `day` that were neither sent nor re-planned with a reason."""
    broken = []
    for order_id, old in before.items():
        if old["Status"] != "DEFERRED" or old["Scheduled For"] != day.isoformat():
            continue
        new = after[order_id]
        if new["Status"] in ("SUBMITTED", "CANCELLED"):
            continue
        if new["Status"] == "DEFERRED" and new["Result"].startswith("re-planned:"):
            continue
        broken.append(f"{order_id}: {new['Status']} {new['Result']}")
    return broken


def test_every_scheduled_day_is_kept_as_past_cancellations_age_out(folder: Path) -> None:
    write_book(folder, 14, cancels=3)
    sheet = write_sheet(folder, 14)
    first = run_day(FIRST_DAY, "submit", str(sheet), "--yes")
    assert first.exit_code == 0, first.output
    state = rows(sheet)
    promised = sorted({r["Scheduled For"] for r in state.values() if r["Status"] == "DEFERRED"})
    assert len([r for r in state.values() if r["Status"] == "CANCELLED"]) == 4
    assert promised, "nothing was deferred"
    day = FIRST_DAY
    while any(r["Status"] == "DEFERRED" for r in state.values()):
        day += timedelta(days=1)
        assert day < FIRST_DAY + timedelta(days=30), "rows still deferred after a month"
        # Unattended, as a scheduler runs it: no arguments, from the same folder.
        result = run_day(day, "due", "--yes")
        assert result.exit_code == 0, result.output
        after = rows(sheet)
        assert check_promises(state, after, day) == []
        # With the sandbox's figures what bulk projected, no promise needs re-planning.
        assert not [r for r in after.values() if r["Result"].startswith("re-planned")]
        # A day's sends never exceed what it was promised.
        sent_today = [
            o
            for o, r in after.items()
            if r["Status"] == "CANCELLED" and state[o]["Status"] != "CANCELLED"
        ]
        assert len(sent_today) == sum(
            1 for r in state.values() if r["Scheduled For"] == day.isoformat()
        )
        state = after
    assert all(r["Status"] == "CANCELLED" for r in state.values())


def test_a_promised_day_whose_budget_is_still_full_is_replanned_with_the_reason(
    folder: Path,
) -> None:
    write_book(folder, 8, cancels=3)
    sheet = write_sheet(folder, 8)
    run_day(FIRST_DAY, "submit", str(sheet), "--yes")
    state = rows(sheet)
    tomorrow = FIRST_DAY + timedelta(days=1)
    due = [o for o, r in state.items() if r["Scheduled For"] == tomorrow.isoformat()]
    assert due
    # Staff cancelled orders by hand in Seller Central: Amazon's figures jump.
    write_book(folder, 8, cancels=10)
    result = run_day(tomorrow, "due", "--yes")
    assert "re-planned (see Result)" in result.output
    after = rows(sheet)
    assert check_promises(state, after, tomorrow) == []
    for order_id in due:
        row = after[order_id]
        assert row["Status"] == "DEFERRED", result.output
        assert row["Result"].startswith(
            f"re-planned: the cancellation budget was still full on {tomorrow.isoformat()}"
        )
        assert row["Scheduled For"] > tomorrow.isoformat()
        assert row["Result"].endswith(f"scheduled for {row['Scheduled For']}")


def test_a_long_look_up_shows_its_progress_on_stderr_and_json_stays_clean(folder: Path) -> None:
    write_book(folder, 45, cancels=0)
    sheet = write_sheet(folder, 45)
    result = run_day(FIRST_DAY, "check", str(sheet), "--json")
    # 45 orders: the planner finds one page of searchOrders cheaper than 45 getOrder calls, so
    # no estimate for reading them one by one is shown; against the sandbox (fast time) no
    # estimate at Amazon's rates is shown at all, only real time.
    assert "looking up orders" not in result.stderr.replace("looking up 45 orders", "")
    assert "Amazon's rates" not in result.stderr
    assert json.loads(result.stdout)["rows"]["total"] == 45
    # The performance report was read for the planner; the policy's wait for it shows nothing.
    assert "seller performance report" not in result.stderr
