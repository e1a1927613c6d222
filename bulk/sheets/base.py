"""The sheet interface every backend implements: read a grid with row numbers, write result cells."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

# Result columns, in the order they are appended (DESIGN.md, "The sheet").
RESULT_COLUMNS: tuple[str, ...] = (
    "Status",
    "Result",
    "Scheduled For",
    "Feed ID",
    "Updated At",
    "Customer Message",
    "Message Status",
    "Support Case",
)

# A cell starting with one of these is run as a formula by Excel, LibreOffice or Google
# Sheets (OWASP, "CSV injection"); tab and carriage return are included for CSV readers.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

# Excel's limit on the characters of one cell.
MAX_CELL_CHARS = 32767


class CellKind(StrEnum):
    BLANK = "blank"
    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    BOOL = "bool"
    FORMULA = "formula"
    ERROR = "error"


@dataclass(frozen=True)
class Cell:
    """A cell's value as text, and what kind of value the sheet holds there."""

    text: str = ""
    kind: CellKind = CellKind.BLANK
    merged_into: str = ""  # "D4" when this cell is covered by a merged range starting there

    @property
    def blank(self) -> bool:
        return self.kind is CellKind.BLANK or (self.kind is CellKind.TEXT and not self.text.strip())


BLANK = Cell()


@dataclass(frozen=True)
class SheetRow:
    number: int  # 1-based row number in the sheet
    cells: tuple[Cell, ...]

    def cell(self, index: int) -> Cell:
        return self.cells[index] if 0 <= index < len(self.cells) else BLANK

    @property
    def blank(self) -> bool:
        return all(c.blank for c in self.cells)


@dataclass(frozen=True)
class Grid:
    """Everything a backend read: every non-empty row of one worksheet."""

    name: str  # worksheet title, for messages
    rows: tuple[SheetRow, ...]
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class RowUpdate:
    """Result cells for one row, keyed by result column name (RESULT_COLUMNS)."""

    row: int
    order_id: str
    values: Mapping[str, str]


@dataclass(frozen=True)
class WriteReport:
    written: int = 0
    moved: tuple[tuple[str, int, int], ...] = ()  # (order id, row read, row written)
    missing: tuple[str, ...] = ()  # order ids no longer in the sheet: not written
    warnings: tuple[str, ...] = field(default=())


class Sheet(Protocol):
    """One worksheet of a workbook, CSV file or Google Sheet."""

    @property
    def label(self) -> str:
        """How messages name it: a file path or a Google Sheets title."""
        ...

    def read(self) -> Grid: ...

    def write(self, updates: Sequence[RowUpdate]) -> WriteReport: ...


def as_text(value: str) -> str:
    """Text for a cell that no spreadsheet will run as a formula, within Excel's cell limit."""
    if value.startswith(FORMULA_PREFIXES):
        # The quote counts toward the limit: cut the value, not the quote.
        return "'" + value[: MAX_CELL_CHARS - 1]
    return value[:MAX_CELL_CHARS]


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
    rows_of: dict[str, list[int]] = {}
    for number in sorted(ids_now):
        rows_of.setdefault(normalize_id(ids_now[number]), []).append(number)
    taken: set[int] = set()
    in_place: dict[int, int] = {}  # index of the update -> its row, unchanged
    for i, update in enumerate(updates):
        if (
            update.row in ids_now
            and update.row not in taken
            and normalize_id(ids_now[update.row]) == normalize_id(update.order_id)
        ):
            in_place[i] = update.row
            taken.add(update.row)
    placed: list[tuple[int, RowUpdate]] = []
    moved: list[tuple[str, int, int]] = []
    missing: list[str] = []
    for i in sorted(range(len(updates)), key=lambda i: updates[i].row):
        update = updates[i]
        if i in in_place:
            placed.append((in_place[i], update))
            continue
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


def normalize_id(value: str) -> str:
    return value.strip().upper()


def column_letter(index: int) -> str:
    """0-based column index to Excel letters (0 -> A, 26 -> AA)."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters
