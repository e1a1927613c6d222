"""The CSV backend: read rows as text, write result columns back in the file's own dialect."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bulk.errors import SheetError
from bulk.sheets.base import (
    RESULT_COLUMNS,
    Cell,
    CellKind,
    Grid,
    RowUpdate,
    SheetRow,
    WriteReport,
    as_text,
    place_updates,
)
from bulk.sheets.files import check_not_open, replace_atomically


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
        sample = text[:8192]
        try:
            delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
        except csv.Error:
            delimiter = ","
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

    def write(self, updates: Sequence[RowUpdate]) -> WriteReport:
        from bulk.rows import find_header

        table = self._rows()  # read again: place results by Order ID in the file as it is now
        grid = Grid(
            self.path.stem,
            tuple(
                SheetRow(n, tuple(Cell(v, CellKind.TEXT) for v in r))
                for n, r in enumerate(table, 1)
            ),
        )
        header = find_header(grid)
        head = table[header.row - 1]
        columns = dict(header.columns)
        for name in RESULT_COLUMNS:
            if name not in columns:
                columns[name] = len(head)
                head.append(name)
        id_col = columns["Order ID"]
        ids_now = {
            n: (r[id_col] if id_col < len(r) else "")
            for n, r in enumerate(table, 1)
            if n > header.row
        }
        placed, moved, missing = place_updates(updates, ids_now)
        for number, update in placed:
            row = table[number - 1]
            for name, value in update.values.items():
                col = columns[name]
                if len(row) <= col:
                    row.extend([""] * (col + 1 - len(row)))
                row[col] = as_text(value)
        fmt = self._format

        def write(tmp: Path) -> None:
            with open(tmp, "w", encoding=fmt.encoding, newline="") as f:
                csv.writer(f, delimiter=fmt.delimiter, lineterminator=fmt.newline).writerows(table)

        replace_atomically(self.path, write, self.backup_dir)
        return WriteReport(len(placed), tuple(moved), tuple(missing))
