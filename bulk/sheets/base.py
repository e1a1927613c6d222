"""The sheet interface every backend implements: read a grid with row numbers, write result cells."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from bulk.errors import SheetError
from bulk.grid import Grid, Header
from bulk.grid import column_index as column_index
from bulk.grid import column_letter as column_letter

# A cell starting with one of these is run as a formula by Excel, LibreOffice or Google
# Sheets (OWASP, "CSV injection"); tab and carriage return are included for CSV readers.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

# Excel's limit on the characters of one cell.
MAX_CELL_CHARS = 32767


class LossyFallbackError(SheetError):
    """Only openpyxl can write this file, and it would lose what the message lists: the user
    has to agree (--allow-lossy, or yes when asked)."""


@dataclass(frozen=True, slots=True)
class RowUpdate:
    """Result cells for one row, keyed by result column name (bulk.columns.RESULT_COLUMNS)."""

    row: int
    order_id: str
    values: Mapping[str, str]


@dataclass(frozen=True)
class WriteReport:
    written: int = 0
    moved: tuple[tuple[str, int, int], ...] = ()  # (order id, row read, row written)
    missing: tuple[str, ...] = ()  # order ids no longer in the sheet: not written
    warnings: tuple[str, ...] = field(default=())
    appended: tuple[tuple[str, int], ...] = ()  # (order id, row) of each new row written


class Sheet(Protocol):
    """One worksheet of a workbook, CSV file or Google Sheet."""

    @property
    def label(self) -> str:
        """How messages name it: a file path or a Google Sheets title."""
        ...

    def read(self) -> Grid: ...

    def write(
        self,
        updates: Sequence[RowUpdate],
        header: Header | None = None,
        appends: Sequence[Mapping[str, str]] = (),
    ) -> WriteReport:
        """Write result cells, and `appends` as new rows below the last used row (orders the
        sheet holds already are left out: bulk.sheets.plan). `header` is the one found in what
        `read` returned; a backend looks for it again only when the sheet changed since it was
        read."""
        ...


def as_text(value: str) -> str:
    """Text for a cell that no spreadsheet will run as a formula, within Excel's cell limit."""
    if value.startswith(FORMULA_PREFIXES):
        # The quote counts toward the limit: cut the value, not the quote.
        return "'" + value[: MAX_CELL_CHARS - 1]
    return value[:MAX_CELL_CHARS]


# What names a Google Sheet rather than a file: its URL or `gsheet:KEY`.
GOOGLE_PREFIXES = ("https://docs.google.com/spreadsheets/", "gsheet:")
_URL_RE = re.compile(r"^https://docs\.google\.com/spreadsheets/(?:u/\d+/)?d/([A-Za-z0-9_-]+)")
_GID_RE = re.compile(r"[#?&]gid=(\d+)")
_KEY_RE = re.compile(r"^[A-Za-z0-9_-]+$")
# File > Share > Publish to the web gives /spreadsheets/d/e/2PACX-.../pubhtml (or /pub?output=...).
_PUBLISHED_RE = re.compile(r"^https://docs\.google\.com/spreadsheets/(?:u/\d+/)?d/e/")


def is_google_target(target: str) -> bool:
    return target.startswith(GOOGLE_PREFIXES)


def parse_target(target: str) -> tuple[str, int | None]:
    """`https://docs.google.com/spreadsheets/d/KEY/edit#gid=N` or `gsheet:KEY` -> (KEY, gid)."""
    text = target.strip()
    gid_match = _GID_RE.search(text)
    gid = int(gid_match.group(1)) if gid_match else None
    if text.startswith("gsheet:"):
        key = re.split(r"[#?]", text[len("gsheet:") :], maxsplit=1)[0]
        if _KEY_RE.match(key):
            return key, gid
        raise SheetError(
            f"{target} is not a Google Sheet reference; write gsheet:KEY with the key from the "
            "sheet's URL (the part after /d/)"
        )
    if _PUBLISHED_RE.match(text):
        raise SheetError(
            f"{target} is a 'Publish to the web' link, a read-only copy that bulk cannot write "
            "to; open the sheet itself and copy the URL from the browser's address bar "
            "(https://docs.google.com/spreadsheets/d/KEY/edit#gid=N)"
        )
    match = _URL_RE.match(text)
    if match is None:
        raise SheetError(
            f"{target} is not a Google Sheets URL; copy it from the browser's address bar "
            "(https://docs.google.com/spreadsheets/d/KEY/edit#gid=N) or write gsheet:KEY"
        )
    return match.group(1), gid
