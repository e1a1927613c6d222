"""The CSV backend: read rows as text, write result columns back in the file's own dialect."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bulk.errors import SheetError
from bulk.sheets.base import Cell, CellKind, Grid, Header, RowUpdate, SheetRow, WriteReport
from bulk.sheets.files import check_not_open, replace_atomically
from bulk.sheets.header import current_header, is_order_id_header
from bulk.sheets.plan import plan_write, used_width


@dataclass(frozen=True)
class _Format:
    encoding: str
    delimiter: str
    newline: str


def _decode(raw: bytes, path: Path) -> tuple[str, str]:
    if b"\x00" in raw[:4096]:
        raise SheetError(
            f"{path} is not a text CSV file; export it from your spreadsheet as CSV (UTF-8)"
        )
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding == "utf-8-sig" and not raw.startswith(b"\xef\xbb\xbf"):
            encoding = "utf-8"
        return text, encoding
    raise SheetError(f"{path} is neither UTF-8 nor Windows-1252 text; save it as CSV UTF-8")


_DELIMITERS = (",", ";", "\t")


def _delimiter(sample: str) -> str:
    """The delimiter that splits the header row into its columns.

    The header may sit below title rows, and details often hold commas or semicolons, so
    the row that holds `Order ID` decides; csv.Sniffer only when no such row is found.
    """
    best, best_width = "", 0
    for delimiter in _DELIMITERS:
        try:
            for values in csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter):
                if any(is_order_id_header(v) for v in values):
                    width = sum(1 for v in values if v.strip())
                    if width > best_width:
                        best, best_width = delimiter, width
                    break
        except csv.Error:
            continue
    if best:
        return best
    try:
        return csv.Sniffer().sniff(sample, delimiters="".join(_DELIMITERS)).delimiter
    except csv.Error:
        return ","


class CsvSheet:
    def __init__(self, path: Path, backup_dir: Path | None = None):
        self.path = path
        self.backup_dir = backup_dir
        self._format = _Format("utf-8", ",", "\n")

    @property
    def label(self) -> str:
        return str(self.path)

    def _rows(self) -> list[list[str]]:
        if not self.path.exists():
            raise SheetError(f"{self.path} does not exist")
        check_not_open(self.path)
        try:
            raw = self.path.read_bytes()
        except OSError as e:
            raise SheetError(f"cannot read {self.path}: {e.strerror}") from e
        text, encoding = _decode(raw, self.path)
        sample = text[:65536]
        delimiter = _delimiter(sample)
        newline = "\r\n" if "\r\n" in sample else "\n"
        self._format = _Format(encoding, delimiter, newline)
        try:
            return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
        except csv.Error as e:
            raise SheetError(f"{self.path} is not valid CSV: {e}") from e

    def read(self) -> Grid:
        rows = []
        for number, values in enumerate(self._rows(), start=1):
            cells = tuple(Cell(v, CellKind.TEXT) if v.strip() else Cell() for v in values)
            row = SheetRow(number, cells)
            if not row.blank:
                rows.append(row)
        return Grid(self.path.stem, tuple(rows))

    def write(self, updates: Sequence[RowUpdate], header: Header | None = None) -> WriteReport:
        table = self._rows()  # read again: place results by Order ID in the file as it is now
        rows = tuple(
            SheetRow(n, tuple(Cell(v, CellKind.TEXT) if v.strip() else Cell() for v in r))
            for n, r in enumerate(table, 1)
        )
        header = current_header(Grid(self.path.stem, rows), header)
        id_col = header.columns["Order ID"]
        ids = {r.number: r.cell(id_col).text for r in rows if r.number > header.row}
        plan = plan_write(header, ids, used_width(rows, header.row), updates)
        if plan.empty:
            return plan.report()
        fmt = self._format
        lossy: list[int] = []
        for (number, col), value in plan.cells.items():
            row = table[number - 1]
            if len(row) <= col:
                row.extend([""] * (col + 1 - len(row)))
            row[col] = value
            if not _encodable(value, fmt.encoding):
                lossy.append(number)

        def write(tmp: Path) -> None:
            # Every value read from the file encodes back as it was; only new text can fall
            # outside a Windows-1252 file's characters, and is then written as "?".
            with open(tmp, "w", encoding=fmt.encoding, errors="replace", newline="") as f:
                csv.writer(f, delimiter=fmt.delimiter, lineterminator=fmt.newline).writerows(table)

        replace_atomically(self.path, write, self.backup_dir)
        warnings: tuple[str, ...] = ()
        if lossy:
            numbers = ", ".join(str(n) for n in sorted(set(lossy))[:5])
            warnings = (
                f"warning: {self.path.name} is {fmt.encoding} text, which cannot hold some "
                f"characters of the results on rows {numbers}; they were written as '?' "
                "(save the file as CSV UTF-8 to keep them)",
            )
        return plan.report(*warnings)


def _encodable(text: str, encoding: str) -> bool:
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True
