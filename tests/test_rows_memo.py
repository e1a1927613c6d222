"""bulk.rules.rows remembers what the checks after Order ID found, by the values of their cells:
every row must still get exactly the findings its own cells give."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from bulk.columns import ResultColumn, find_header
from bulk.config import Config, MessagesConfig
from bulk.grid import Cell, CellKind, Grid, SheetRow
from bulk.models import ItemRef
from bulk.rules import rows as row_checks
from bulk.rules.rows import ParsedRow, parse_rows

HEAD = ("Order ID", "Reason", "Details", "Items", "Remedy", "Note to Buyer", "Notify", "Status")
DETAILS = "Warehouse has none left after the stock count"


def text(value: str) -> Cell:
    return Cell(value, CellKind.TEXT) if value else Cell()


def order_id(n: int) -> Cell:
    return text(f"112-{n:07d}-{n:07d}")


def sheet(*rows: tuple[Cell, ...], head: tuple[str, ...] = HEAD) -> Grid:
    cells = [tuple(text(h) for h in head), *rows]
    return Grid("Orders", tuple(SheetRow(n, c) for n, c in enumerate(cells, 1)))


def parse(grid: Grid, config: Config | None = None) -> list[ParsedRow]:
    return parse_rows(grid, find_header(grid), config or Config())


def unremembered(
    monkeypatch: pytest.MonkeyPatch, grid: Grid, config: Config | None = None
) -> list[ParsedRow]:
    """The rows as the checks give them with nothing remembered."""
    with monkeypatch.context() as m:
        m.setattr(row_checks, "MAX_REMEMBERED", 0)
        return parse(grid, config)


# Values each column is given, valid and not, in several kinds of cell.
VALUES: dict[str, tuple[Cell, ...]] = {
    "Reason": (
        text("Out of stock"),
        text("  out of STOCK "),  # the same reason, typed differently
        text("Out of stok"),
        text(""),
        Cell("Out of stock", CellKind.FORMULA),
        Cell("Out of stock", CellKind.TEXT, merged_into="B2"),
    ),
    "Details": (
        text(DETAILS),
        text(f"  {DETAILS}  "),
        text("short"),
        Cell("45", CellKind.NUMBER),
    ),
    "Items": (
        text(""),
        text("MUG-RED x2"),
        text("MUG-RED x0"),
        Cell("12345678901234", CellKind.NUMBER),
    ),
    "Remedy": (text("Refund"), text("replacement"), text("Voucher"), text("")),
    "Notify": (text(""), text("Yes"), text(" no "), text("maybe"), Cell("TRUE", CellKind.BOOL)),
}


def varied_rows(count: int) -> list[tuple[Cell, ...]]:
    combos = itertools.cycle(itertools.product(*VALUES.values()))
    return [
        (order_id(n), reason, details, items, remedy, text(""), notify)
        for n, (reason, details, items, remedy, notify) in zip(
            range(1, count + 1), combos, strict=False
        )
    ]


def test_remembered_findings_are_what_each_rows_own_cells_give(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    grid = sheet(*varied_rows(1500), *varied_rows(1500))  # each value set twice, far apart
    got = parse(grid)
    assert got == unremembered(monkeypatch, grid)
    # The second half repeats the first half's order ids: each names its own first row.
    assert got[1500].problems[0].startswith("order 112-0000001-0000001 is already on row 2;")
    assert got[2999].problems[0].startswith("order 112-0001500-0001500 is already on row 1501;")


def test_past_the_bound_rows_are_checked_without_remembering(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    distinct = varied_rows(60)
    grid = sheet(*distinct, *distinct)  # every set of values twice
    monkeypatch.setattr(row_checks, "MAX_REMEMBERED", 5)
    reasons = counting(monkeypatch, "Reason")
    got = parse(grid)
    # The first 5 sets are remembered; the other 55 are checked on each of their rows.
    assert len(reasons) == 5 + 55 * 2
    assert got == unremembered(monkeypatch, grid)


def test_the_same_value_in_another_merged_range_names_its_own_range() -> None:
    # Equal text, equal kind: only the merged range tells them apart.
    a, b = parse(
        sheet(
            (order_id(1), Cell("Out of stock", CellKind.TEXT, merged_into="B2"), text(DETAILS)),
            (order_id(2), Cell("Out of stock", CellKind.TEXT, merged_into="B9"), text(DETAILS)),
        )
    )
    assert "Reason is inside merged cells starting at B2;" in a.problems[0]
    assert "Reason is inside merged cells starting at B9;" in b.problems[0]


def test_the_same_text_in_another_kind_of_cell_is_checked_as_that_kind() -> None:
    a, b = parse(
        sheet(
            (order_id(1), text("Out of stock"), text(DETAILS), text("1234")),
            (order_id(2), text("Out of stock"), text(DETAILS), Cell("1234", CellKind.DATE)),
        )
    )
    assert a.problems == ()
    assert b.problems == ("Items holds a date (1234); type it as plain text",)


def test_each_row_keeps_its_own_number_order_id_and_request() -> None:
    rows = parse(sheet(*[(order_id(n), text("Out of stock"), text(DETAILS)) for n in (1, 2, 3)]))
    assert [(r.row, r.order_id) for r in rows] == [
        (2, "112-0000001-0000001"),
        (3, "112-0000002-0000002"),
        (4, "112-0000003-0000003"),
    ]
    assert [(r.request.row, r.request.order_id) for r in rows if r.request] == [
        (r.row, r.order_id) for r in rows
    ]


def test_rows_differing_only_in_whitespace_or_case_get_their_own_values() -> None:
    a, b, c = parse(
        sheet(
            (order_id(1), text("Out of stock"), text(DETAILS), text(""), text("Refund")),
            (order_id(2), text(" OUT OF STOCK"), text(f"{DETAILS}  "), text(""), text(" refund")),
            (order_id(3), text("Out of stock"), text(DETAILS.upper()), text("mug-red")),
        )
    )
    assert a.request is not None and b.request is not None and c.request is not None
    # Read the same (trimmed, matched like headers)...
    assert (a.request.reason, a.request.details) == (b.request.reason, b.request.details)
    # ...but text keeps its case: a Detail or a SKU typed otherwise is another value.
    assert c.request.details == DETAILS.upper()
    assert c.request.items == (ItemRef("mug-red"),)


def test_the_teams_notify_default_is_part_of_the_findings() -> None:
    rows = [(order_id(1), text("Out of stock"), text(DETAILS))]
    on = parse(sheet(*rows), Config(messages=MessagesConfig(notify=True)))[0].request
    off = parse(sheet(*rows), Config(messages=MessagesConfig(notify=False)))[0].request
    assert on is not None and off is not None
    assert (on.notify, off.notify) == (True, False)


def counting(
    monkeypatch: pytest.MonkeyPatch, column: str
) -> list[Cell]:  # the cells the column's check was run on
    seen: list[Cell] = []
    check = row_checks._CHECKS[column]

    def counted(cell: Cell, *args: object) -> list[str]:
        seen.append(cell)
        return check(cell, *args)  # type: ignore[arg-type]

    wrapped: Callable[..., list[str]] = counted
    monkeypatch.setitem(row_checks._CHECKS, column, wrapped)
    return seen


def test_a_sheet_that_repeats_its_values_checks_each_set_of_values_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reasons = counting(monkeypatch, "Reason")
    rows = [
        (order_id(n), text("Out of stock" if n % 2 else "Undeliverable address"), text(DETAILS))
        for n in range(1, 1001)
    ]
    parsed = parse(sheet(*rows))
    assert len(parsed) == 1000 and all(r.request is not None for r in parsed)
    assert len(reasons) == 2


def test_rows_of_a_sheet_without_result_columns_share_one_read_only_empty_previous() -> None:
    head = ("Order ID", "Reason", "Details")
    a, b = parse(
        sheet(*[(order_id(n), text("Out of stock"), text(DETAILS)) for n in (1, 2)], head=head)
    )
    assert a.previous == b.previous == {}
    with pytest.raises(TypeError):
        a.previous[ResultColumn.STATUS] = "READY"  # type: ignore[index]
    assert b.previous == {}
