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
