"""The sheet interface every backend implements: read a grid with row numbers, write result cells."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, TypeVar

from bulk.errors import SheetError

# A cell starting with one of these is run as a formula by Excel, LibreOffice or Google
# Sheets (OWASP, "CSV injection"); tab and carriage return are included for CSV readers.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

# Excel's limit on the characters of one cell.
MAX_CELL_CHARS = 32767


class LossyFallbackError(SheetError):
    """Only openpyxl can write this file, and it would lose what the message lists: the user
    has to agree (--allow-lossy, or yes when asked)."""


_T = TypeVar("_T")

# Texts up to this long are remembered by `per_short_text`; longer ones (Details, messages) are
# seldom repeated.
SHORT_TEXT = 100


def per_short_text(fn: Callable[[str], _T]) -> Callable[[str], _T]:
    """`fn`, computed once for each short text. A sheet repeats its dropdown values, statuses
    and times on row after row: a 100,000-row run asks the same few questions 100,000 times."""
    remembered = functools.lru_cache(maxsize=4096)(fn)

    def call(text: str) -> _T:
        return remembered(text) if len(text) <= SHORT_TEXT else fn(text)

    return call


class CellKind(StrEnum):
    BLANK = "blank"
    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    BOOL = "bool"
    FORMULA = "formula"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Cell:
    """A cell's value as text, and what kind of value the sheet holds there."""

    text: str = ""
    kind: CellKind = CellKind.BLANK
    merged_into: str = ""  # "D4" when this cell is covered by a merged range starting there

    @property
    def blank(self) -> bool:
        return self.kind is CellKind.BLANK or (self.kind is CellKind.TEXT and not self.text.strip())


BLANK = Cell()


@dataclass(frozen=True, slots=True)
class SheetRow:
    number: int  # 1-based row number in the sheet
    cells: tuple[Cell, ...]
    hidden: bool = False  # hidden by hand, by a filter or by a collapsed outline

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
class Header:
    """Where the header row is and which column holds each known name (bulk.sheets.header)."""

    row: int  # 1-based row number of the header row
    columns: dict[str, int]  # canonical column name -> 0-based index

    def index(self, name: str) -> int | None:
        return self.columns.get(name)


@dataclass(frozen=True, slots=True)
class RowUpdate:
    """Result cells for one row, keyed by result column name (header.RESULT_COLUMNS)."""

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

    def write(self, updates: Sequence[RowUpdate], header: Header | None = None) -> WriteReport:
        """Write result cells. `header` is the one found in what `read` returned; a backend
        looks for it again only when the sheet changed since it was read."""
        ...


def as_text(value: str) -> str:
    """Text for a cell that no spreadsheet will run as a formula, within Excel's cell limit."""
    if value.startswith(FORMULA_PREFIXES):
        # The quote counts toward the limit: cut the value, not the quote.
        return "'" + value[: MAX_CELL_CHARS - 1]
    return value[:MAX_CELL_CHARS]


def column_letter(index: int) -> str:
    """0-based column index to Excel letters (0 -> A, 26 -> AA)."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def column_index(letters: str) -> int:
    """Excel letters to a 0-based column index (A -> 0, AA -> 26)."""
    index = 0
    for ch in letters.upper():
        index = index * 26 + ord(ch) - 64
    return index - 1
