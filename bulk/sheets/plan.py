"""The one write plan: which cell each result goes to, decided once for every backend."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from operator import attrgetter

from bulk.columns import RESULT_COLUMNS
from bulk.grid import SHORT_TEXT, Header, SheetRow
from bulk.sheets.base import RowUpdate, WriteReport, as_text, column_letter


class Cells(Mapping[tuple[int, int], str]):
    """The plan's cells as (row 1-based, column 0-based) -> text, read from its rows."""

    def __init__(self, rows: Mapping[int, Mapping[int, str]]) -> None:
        self._rows = rows

    def __getitem__(self, key: tuple[int, int]) -> str:
        return self._rows[key[0]][key[1]]

    def __iter__(self) -> Iterator[tuple[int, int]]:
        return ((row, col) for row, cols in self._rows.items() for col in cols)

    def __len__(self) -> int:
        return sum(len(cols) for cols in self._rows.values())


@dataclass(frozen=True)
class WritePlan:
    """Cells to write, row by row (row 1-based -> column 0-based -> text), and what to report.

    Kept by row, as the xlsx writer takes them: a cell per result column on every row of a
    100,000-row sheet is 600,000 cells, and a (row, column) key each was the largest single
    cost in memory of a run."""

    rows: dict[int, dict[int, str]] = field(default_factory=dict)
    added: dict[int, str] = field(default_factory=dict)  # new result columns: index -> name
    columns: dict[str, int] = field(default_factory=dict)  # every column name -> index
    written: int = 0
    moved: tuple[tuple[str, int, int], ...] = ()  # (order id, row read, row written)
    missing: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()  # cells inside merged ranges, left alone
    appended: tuple[tuple[str, int], ...] = ()  # (order id, row) of each row added below

    @property
    def cells(self) -> Cells:
        """Every cell to write, as (row 1-based, column 0-based) -> text."""
        return Cells(self.rows)

    @property
    def empty(self) -> bool:
        """Nothing to write: the backend leaves the sheet exactly as it is."""
        return not self.rows

    def report(self, *warnings: str) -> WriteReport:
        found = (merged_warning(self.skipped),) if self.skipped else ()
        return WriteReport(
            self.written, self.moved, self.missing, (*found, *warnings), self.appended
        )


def merged_warning(cells: Sequence[str]) -> str:
    """The one wording, for every backend, of results not written inside merged cells."""
    return "warning: result cells inside merged cells were not written: " + ", ".join(cells[:5])


def used_width(rows: Iterable[SheetRow], from_row: int) -> int:
    """Columns in use from `from_row` down: one past the rightmost value or merged cell.

    Measured over the whole used range, not the header row alone, so a note under a blank
    header cell is never written over by a new result column.
    """
    width = 0
    for row in rows:
        if row.number < from_row:
            continue
        for index in range(len(row.cells) - 1, width - 1, -1):
            cell = row.cells[index]
            if not cell.blank or cell.merged_into:
                width = index + 1
                break
    return width


def merged_cells(rows: Iterable[SheetRow]) -> dict[tuple[int, int], str]:
    """(row 1-based, column 0-based) of every cell a merged range covers -> its top-left."""
    merged = attrgetter("merged_into")
    return {
        (row.number, index): cell.merged_into
        for row in rows
        if any(map(merged, row.cells))  # most rows have none: looked at in C
        for index, cell in enumerate(row.cells)
        if cell.merged_into
    }


def last_used_row(rows: Iterable[SheetRow], header: Header) -> int:
    """The last row that holds a value or a merged cell (the header's, when none below does)."""
    return max((row.number for row in rows if row.number > header.row), default=header.row)


def plan_write(
    header: Header,
    ids: Mapping[int, str],
    width: int,
    updates: Sequence[RowUpdate],
    merged: Mapping[tuple[int, int], str] | None = None,
    text: Callable[[str], str] = as_text,
    appends: Sequence[Mapping[str, str]] = (),
    last_row: int = 0,
) -> WritePlan:
    """Decide where every result goes, and where each new row goes.

    `ids` maps each row below the header to its Order ID cell as the sheet holds it now;
    `width` is `used_width` of the sheet now; `merged` names covered cells. Missing result
    columns are added right of `width`, only when some result is written at all.

    `appends` are new rows (column name -> text, with an Order ID), written below `last_row`
    (`last_used_row` of the sheet now), one after another; a row whose order the sheet holds
    already in any row is left out, so nobody's row is written over or repeated. A column a
    new row needs and the sheet lacks (Items) is added like a result column.
    """
    merged = merged or {}
    placed, moved, missing = place_updates(updates, ids)
    new_rows = _new_rows(appends, ids, max(last_row, header.row))
    columns = dict(header.columns)
    added: dict[int, str] = {}
    results = any(u.values for _, u in placed)
    # Each update's column names, in order, once per distinct list (rows share one or two).
    shapes = dict.fromkeys(tuple(u.values) for _, u in placed) if results else {}
    wanted = [*RESULT_COLUMNS, *(n for names in shapes for n in names)] if results else []
    wanted += [name for _, values in new_rows for name, value in values.items() if value]
    rows: dict[int, dict[int, str]] = {}
    skipped: list[str] = []
    written = 0
    if wanted:
        for name in dict.fromkeys(wanted):
            if name not in columns:
                columns[name] = width + len(added)
                added[columns[name]] = name
                rows.setdefault(header.row, {})[columns[name]] = name
        known: dict[str, str] = {}  # short value -> its text (statuses, times repeat)
        for number, update in placed if results else ():
            cells = rows.setdefault(number, {})
            for name, value in update.values.items():
                col = columns[name]
                if not value and col in added:
                    continue  # a column added now is blank below its header: nothing to clear
                if merged and (number, col) in merged:
                    skipped.append(f"{column_letter(col)}{number}")
                    continue
                if (cell := known.get(value)) is None:
                    cell = text(value)
                    if len(value) <= SHORT_TEXT:
                        known[value] = cell
                cells[col] = cell
            if not cells:
                del rows[number]
            written += 1
        for number, values in new_rows:
            cells = rows.setdefault(number, {})
            for name, value in values.items():
                if not value:
                    continue
                col = columns[name]
                if (number, col) in merged:
                    skipped.append(f"{column_letter(col)}{number}")
                    continue
                cells[col] = text(value)
    appended = tuple((values["Order ID"], number) for number, values in new_rows)
    return WritePlan(
        rows, added, columns, written, tuple(moved), tuple(missing), tuple(skipped), appended
    )


def _new_rows(
    appends: Sequence[Mapping[str, str]], ids: Mapping[int, str], last_row: int
) -> list[tuple[int, Mapping[str, str]]]:
    """The row number of each new row whose order the sheet does not hold yet."""
    if not appends:
        return []
    present = {normalize_id(value) for value in ids.values()}
    found: list[tuple[int, Mapping[str, str]]] = []
    for values in appends:
        key = normalize_id(values.get("Order ID", ""))
        if key and key not in present:
            present.add(key)
            found.append((last_row + 1 + len(found), values))
    return found


def normalize_id(value: str) -> str:
    return value.strip().upper()


def place_updates(
    updates: Sequence[RowUpdate], ids_now: Mapping[int, str]
) -> tuple[list[tuple[int, RowUpdate]], list[tuple[str, int, int]], list[str]]:
    """Find the row that holds each update's order now.

    `ids_now` maps row numbers to the Order ID cell as the sheet holds it at write
    time. A row still holding its order is written in place; an order that moved
    (someone sorted or inserted rows) is written where it is now; an order that is
    gone is reported, never written over someone else's row. An order on several rows
    (duplicates) gets one row per update, in sheet order, never the same row twice.
    """
    taken: set[int] = set()
    in_place: dict[int, int] = {}  # index of the update -> its row, unchanged
    for i, update in enumerate(updates):
        row = update.row
        if (
            (now := ids_now.get(row)) is not None
            and row not in taken
            # the same text is the same id: normalized only when the texts differ
            and (now == update.order_id or normalize_id(now) == normalize_id(update.order_id))
        ):
            in_place[i] = row
            taken.add(row)
    placed: list[tuple[int, RowUpdate]] = []
    moved: list[tuple[str, int, int]] = []
    missing: list[str] = []
    rows_of: dict[str, list[int]] | None = None  # made when an order is not where it was
    for i in sorted(range(len(updates)), key=[u.row for u in updates].__getitem__):
        update = updates[i]
        if i in in_place:
            placed.append((in_place[i], update))
            continue
        if rows_of is None:
            rows_of = {}
            for number in sorted(ids_now):
                rows_of.setdefault(normalize_id(ids_now[number]), []).append(number)
        key = normalize_id(update.order_id)
        # A row without an id can only be recognised by its number: it never moves.
        free = [n for n in rows_of.get(key, []) if n not in taken] if key else []
        if free:
            taken.add(free[0])
            placed.append((free[0], update))
            moved.append((update.order_id, update.row, free[0]))
        else:
            missing.append(update.order_id or f"row {update.row}")
    return placed, moved, missing
