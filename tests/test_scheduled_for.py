"""Scheduled For as a spreadsheet program may rewrite it: read in the common forms, and an
unreadable day on a DEFERRED row is a REJECTED row naming the cell, never a silent skip."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest
from test_due import DAY1, DAY2, bulk, workdir  # noqa: F401  (the fixture)

from bulk.formats import parse_day

pytest_plugins = ["conftest_google"]

CASES = [
    ("2026-12-07", "", date(2026, 12, 7)),
    ("2026-12-07 00:00:00", "", date(2026, 12, 7)),
    ("2026-12-07T00:00:00", "", date(2026, 12, 7)),
    ("2026/12/07", "", date(2026, 12, 7)),
    ("07.12.2026", "", date(2026, 12, 7)),  # dots: day first, in Germany and everywhere
    ("7.12.26", "de_DE", date(2026, 12, 7)),
    ("12/7/2026", "", date(2026, 12, 7)),  # no locale known: month first, as Excel writes
    ("12/7/2026", "en_US", date(2026, 12, 7)),
    ("12/7/2026", "en-US", date(2026, 12, 7)),
    ("12/7/2026", "en_GB", date(2026, 7, 12)),
    ("12/7/2026", "fr_FR", date(2026, 7, 12)),
    ("25/12/2026", "en_US", date(2026, 12, 25)),  # only one way is a date
    ("12/25/2026", "en_GB", date(2026, 12, 25)),
    ("12-7-2026", "", date(2026, 12, 7)),
    ("3/4/2026 0:00", "", date(2026, 3, 4)),
    (" 2026-03-03 ", "", date(2026, 3, 3)),
    ("", "", None),
    ("next Tuesday", "", None),
    ("2026-02-30", "", None),
    ("31/31/2026", "", None),
    ("46363", "", None),  # an Excel serial number shown as a number
    ("12/7", "", None),
    ("1/2/20266", "", None),
]


@pytest.mark.parametrize(("text", "locale", "day"), CASES)
def test_a_day_is_read_in_the_common_forms(text: str, locale: str, day: date | None) -> None:
    assert parse_day(text, locale) == day


def rewrite_scheduled_for(sheet: Path, order_id: str, text: str) -> None:
    with open(sheet, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    column = rows[0].index("Scheduled For")
    for row in rows[1:]:
        if row[0] == order_id:
            row[column] = text
    with open(sheet, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)


def status_of(sheet: Path, order_id: str) -> dict[str, str]:
    with open(sheet, newline="", encoding="utf-8") as f:
        return next(r for r in csv.DictReader(f) if r["Order ID"] == order_id)


DEFERRED = "112-0000001-0000003"  # the sample row the budget defers on DAY1


def test_a_day_rewritten_day_first_is_still_due_on_its_day(workdir: Path) -> None:  # noqa: F811
    sheet = workdir / "samples" / "orders.csv"
    bulk(DAY1, "submit", "samples/orders.csv", "--yes")
    assert status_of(sheet, DEFERRED)["Scheduled For"] == "2026-03-03"
    rewrite_scheduled_for(sheet, DEFERRED, "03.03.2026")  # as a German Excel saves it
    due = bulk(DAY2, "due", "--yes")
    assert due.exit_code == 0, due.output
    assert "1 deferred row due: sent 1 order in feed" in due.output
    assert status_of(sheet, DEFERRED)["Status"] == "CANCELLED"


def test_an_unreadable_day_is_a_rejected_row_naming_the_cell(workdir: Path) -> None:  # noqa: F811
    sheet = workdir / "samples" / "orders.csv"
    bulk(DAY1, "submit", "samples/orders.csv", "--yes")
    rewrite_scheduled_for(sheet, DEFERRED, "next Tuesday")
    due = bulk(DAY2, "due", "--yes")
    assert due.exit_code == 1, due.output
    row = status_of(sheet, DEFERRED)
    assert row["Status"] == "REJECTED", row
    with open(sheet, newline="", encoding="utf-8") as f:
        header = next(csv.reader(f))
    cell = f"{chr(ord('A') + header.index('Scheduled For'))}4"
    assert f"Scheduled For 'next Tuesday' (cell {cell}) is not a date" in row["Result"], row


def test_a_google_sheet_says_its_locale(request: pytest.FixtureRequest) -> None:
    from test_google import URL, orders_sheet

    from bulk.columns import find_header
    from bulk.config import Config
    from bulk.rules.rows import parse_rows
    from bulk.sheets.google import open_google_sheet

    fake = request.getfixturevalue("fake_sheets")
    book = orders_sheet(fake)
    book.locale = "en_GB"
    values = book.sheet("Orders").table()
    values[2] = [*values[2], "Status", "Scheduled For"]
    values[3] = [*values[3], *[""] * (4 - len(values[3])), "DEFERRED", "3/4/2026"]
    book.sheet("Orders").set_values(values)
    grid = open_google_sheet(URL, None).read()
    assert grid.locale == "en_GB"
    rows = parse_rows(grid, find_header(grid), Config())
    assert rows[0].scheduled_for == date(2026, 4, 3)  # British: day first
