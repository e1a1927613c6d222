"""The ship-by date bounds deferral end to end: `bulk submit` against the sandbox never defers a
row past its order's ship-by date, and holds what cannot fit with both choices."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

from test_days import FIRST_DAY, _book, folder, rows, run_day, write_sheet

__all__ = ["folder"]  # the fixture, imported for the tests below


def test_no_row_is_deferred_past_its_ship_by_date_and_the_rest_are_held_with_both_choices(
    folder: Path,
) -> None:
    book = _book(10, cancels=3)
    # Six orders are due to ship in two days (the default, purchase + 2 days), four a week
    # from now.
    for entry in book["orders"][:6]:
        del entry["ship_by"]
    for entry in book["orders"][6:]:
        entry["ship_by"] = "+7d"
    (folder / "book.json").write_text(json.dumps(book), encoding="utf-8")
    sheet = write_sheet(folder, 10)
    result = run_day(FIRST_DAY, "submit", str(sheet), "--yes")
    assert result.exit_code == 0, result.output
    state = rows(sheet)
    ship_by = {
        entry["id"]: FIRST_DAY + timedelta(days=7 if "ship_by" in entry else 2)
        for entry in book["orders"]
    }
    by_status: dict[str, list[str]] = {}
    for order_id, row in state.items():
        by_status.setdefault(row["Status"], []).append(order_id)
        if row["Status"] == "DEFERRED":
            assert date.fromisoformat(row["Scheduled For"]) <= ship_by[order_id], row
    # 4 today (the daily share), the orders due first; the budget's next free days are 03-03,
    # 03-05, 03-07 and 03-09 (test_policy's schedule): the fifth order due 03-04 takes 03-03 and
    # the sixth cannot wait for 03-05; the orders due 03-09 take the other days but one.
    assert sorted(by_status["CANCELLED"]) == [f"112-0000009-{k:07d}" for k in range(3, 7)]
    assert sorted(state[o]["Scheduled For"] for o in by_status["DEFERRED"]) == [
        "2026-03-03",
        "2026-03-05",
        "2026-03-07",
        "2026-03-09",
    ]
    held = sorted(by_status["HELD"])
    assert [ship_by[o] for o in held] == [date(2026, 3, 4), date(2026, 3, 9)]
    for order_id in held:
        last = ship_by[order_id].isoformat()
        text = state[order_id]["Result"]
        assert f"the cancellation budget has no room by the order's ship-by date {last}" in text
        # 3 reported + 4 today + this one, of 400 orders: at the 2% the budget allows, but
        # over the day's share.
        assert "cancel today: rate 2%, within the 2% target, over today's share" in text, text
        assert text.endswith(f"or ship by {last}"), text
    assert "deferred: buyers of 4 rows wait 1 to 7 more days for their cancellation" in (
        result.output
    )


def test_a_deferred_row_whose_buyer_then_asks_amazon_goes_out_the_same_day(folder: Path) -> None:
    from test_days import write_book

    write_book(folder, 8, cancels=3)
    wb_rows = [
        (f"112-0000009-{k:07d}", "Buyer requested", "The buyer phoned us to cancel the order")
        for k in range(1, 9)
    ]
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Orders"
    ws.append(["Order ID", "Reason", "Details"])
    for row in wb_rows:
        ws.append(list(row))
    sheet = folder / "orders.xlsx"
    wb.save(sheet)
    # Amazon has no request from these buyers yet: the rows count, and four wait.
    assert run_day(FIRST_DAY, "submit", str(sheet), "--yes").exit_code == 0
    state = rows(sheet)
    deferred = sorted(o for o, r in state.items() if r["Status"] == "DEFERRED")
    assert len(deferred) == 4
    # Later that day one of those buyers asks Amazon to cancel.
    book = json.loads((folder / "book.json").read_text(encoding="utf-8"))
    for entry in book["orders"]:
        if entry["id"] == deferred[-1]:
            entry["items"][0]["buyer_requested_cancel"] = True
    (folder / "book.json").write_text(json.dumps(book), encoding="utf-8")
    again = run_day(FIRST_DAY, "submit", str(sheet), "--yes")
    assert again.exit_code == 0, again.output
    after = rows(sheet)
    assert after[deferred[-1]]["Status"] == "CANCELLED", after[deferred[-1]]
    assert [after[o]["Status"] for o in deferred[:-1]] == ["DEFERRED"] * 3


def test_a_row_deferred_past_a_ship_by_date_that_moved_earlier_is_planned_again(
    folder: Path,
) -> None:
    from test_days import write_book

    write_book(folder, 14, cancels=3)
    sheet = write_sheet(folder, 14)
    assert run_day(FIRST_DAY, "submit", str(sheet), "--yes").exit_code == 0
    state = rows(sheet)
    last = max(
        (o for o, r in state.items() if r["Status"] == "DEFERRED"),
        key=lambda o: state[o]["Scheduled For"],
    )
    assert state[last]["Scheduled For"] > "2026-03-04"
    # Amazon now says the order must ship by tomorrow.
    book = json.loads((folder / "book.json").read_text(encoding="utf-8"))
    for entry in book["orders"]:
        if entry["id"] == last:
            entry["ship_by"] = "+1d"
    (folder / "book.json").write_text(json.dumps(book), encoding="utf-8")
    again = run_day(FIRST_DAY, "submit", str(sheet), "--yes")
    assert again.exit_code == 0, again.output
    row = rows(sheet)[last]
    assert row["Status"] in ("HELD", "DEFERRED"), row
    if row["Status"] == "DEFERRED":
        assert row["Scheduled For"] <= "2026-03-03", row
    else:
        assert "ship-by date 2026-03-03" in row["Result"], row
