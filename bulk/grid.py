"""What bulk reads from any sheet: cells as text with their kind, numbered rows, the grid of one
worksheet, and where its header is. Every sheet backend builds these; the row rules read them."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

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
    locale: str = ""  # the sheet's own locale where it says one (Google Sheets), e.g. "de_DE"
    # Ranges this reader may not edit (a Google Sheet's protected ranges): (first row, last row,
    # first column, last column), rows 1-based, columns 0-based, both inclusive.
    protected: tuple[tuple[int, int, int, int], ...] = ()

    def is_protected(self, row: int, col: int) -> bool:
        return any(r0 <= row <= r1 and c0 <= col <= c1 for r0, r1, c0, c1 in self.protected)


@dataclass(frozen=True)
class Header:
    """Where the header row is and which column holds each known name (bulk.columns)."""

    row: int  # 1-based row number of the header row
    columns: dict[str, int]  # canonical column name -> 0-based index

    def index(self, name: str) -> int | None:
        return self.columns.get(name)


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
