"""The Excel backend (.xlsx, .xlsm): read a worksheet, write result cells, save atomically."""

from __future__ import annotations

import re
import warnings
import zipfile
from collections.abc import Sequence
from copy import copy
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

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
from bulk.sheets.files import check_not_open, replace_atomically, stamp

EXCEL_SUFFIXES = (".xlsx", ".xlsm")


def dropped_features(path: Path) -> list[str]:
    """What openpyxl would lose on save, found by reading the file's XML parts."""
    found: list[str] = []
    try:
        with zipfile.ZipFile(path) as z:
            names = z.namelist()

            def any_part(prefix: str, pattern: bytes) -> bool:
                return any(
                    n.startswith(prefix) and re.search(pattern, z.read(n)) is not None
                    for n in names
                    if n.endswith((".xml", ".vml"))
                )

            if any_part("xl/drawings/", rb"<xdr:sp[ >]|<xdr:grpSp[ >]"):
                found.append("shapes and text boxes")
            if any(n.startswith("xl/diagrams/") for n in names):
                found.append("SmartArt")
            if any_part("xl/worksheets/", rb"<x14:"):
                found.append("newer data validation and conditional formats (x14)")
            if "xl/sharedStrings.xml" in names and re.search(
                rb"<r>|<r ", z.read("xl/sharedStrings.xml")
            ):
                found.append("rich text formatting inside cells")
            if any(n.startswith("xl/richData/") for n in names):
                found.append("pictures in cells")
            if any(n.startswith("xl/threadedComments/") for n in names):
                found.append("threaded comments (kept as notes)")
            if any(n.startswith("xl/ctrlProps/") for n in names):
                found.append("form controls")
            if any(n.startswith("xl/chartsheets/") for n in names):
                found.append("chart sheets")
    except (zipfile.BadZipFile, OSError, KeyError):
        return []
    return found


def _cell(value: Any, data_type: str, number_format: str) -> Cell:
    if value is None:
        return Cell()
    if data_type == "f" or (isinstance(value, str) and data_type != "s" and value.startswith("=")):
        return Cell(str(value), CellKind.FORMULA)
    if data_type == "e":
        return Cell(str(value), CellKind.ERROR)
    if isinstance(value, bool):
        return Cell("TRUE" if value else "FALSE", CellKind.BOOL)
    if isinstance(value, datetime | date | time):
        return Cell(value.isoformat(), CellKind.DATE)
    if isinstance(value, int | float):
        text = str(int(value)) if float(value).is_integer() else repr(value)
        return Cell(text, CellKind.NUMBER)
    return Cell(str(value), CellKind.TEXT)


class ExcelSheet:
    """One worksheet of a workbook on disk. The workbook is loaded once, by `read`."""

    def __init__(self, path: Path, worksheet: str | None = None, backup_dir: Path | None = None):
        self.path = path
        self.worksheet = worksheet
        self.backup_dir = backup_dir
        self._wb: Any = None
        self._ws: Any = None
        self._stamp: tuple[int, int] | None = None
        self._warnings: list[str] = []

    @property
    def label(self) -> str:
        return str(self.path)

    def _load(self) -> None:
        import openpyxl
        from openpyxl.utils.exceptions import InvalidFileException

        if not self.path.exists():
            raise SheetError(f"{self.path} does not exist")
        if self.path.suffix.lower() == ".xls":
            raise SheetError(
                f"{self.path} is an old .xls workbook; save it as .xlsx in Excel and run again"
            )
        check_not_open(self.path)
        self._stamp = stamp(self.path)
        try:
            with warnings.catch_warnings():
                # openpyxl warns about parts it cannot keep; `dropped_features` reports them in one line.
                warnings.simplefilter("ignore")
                self._wb = openpyxl.load_workbook(
                    self.path,
                    keep_vba=self.path.suffix.lower() == ".xlsm",
                    rich_text=True,
                    keep_links=True,
                )
        except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, TypeError) as e:
            raise SheetError(
                f"{self.path} is not a readable Excel workbook ({type(e).__name__}); "
                "open it in Excel and save it as .xlsx"
            ) from e
        except PermissionError as e:
            raise SheetError(f"cannot read {self.path}: {e.strerror}") from e
        self._ws = self._pick_sheet()

    def _pick_sheet(self) -> Any:
        wb = self._wb
        if self.worksheet is not None:
            if self.worksheet not in wb.sheetnames:
                raise SheetError(
                    f"{self.path} has no worksheet '{self.worksheet}'; it has: "
                    + ", ".join(wb.sheetnames)
                )
            return wb[self.worksheet]
        from bulk.rows import is_order_id_header

        # The first worksheet with an Order ID header; else the first worksheet.
        for ws in wb.worksheets:
            for row in ws.iter_rows(max_row=min(ws.max_row, 50), values_only=True):
                if any(isinstance(v, str) and is_order_id_header(v) for v in row):
                    return ws
        if not wb.worksheets:
            raise SheetError(f"{self.path} has no worksheets")
        return wb.worksheets[0]

    def read(self) -> Grid:
        self._load()
        ws = self._ws
        merged: dict[tuple[int, int], str] = {}
        for rng in ws.merged_cells.ranges:
            top_left = f"{_letters(rng.min_col)}{rng.min_row}"
            for r in range(rng.min_row, rng.max_row + 1):
                for c in range(rng.min_col, rng.max_col + 1):
                    if (r, c) != (rng.min_row, rng.min_col):
                        merged[(r, c)] = top_left
        rows: list[SheetRow] = []
        for row in ws.iter_rows():
            cells: list[Cell] = []
            for cell in row:
                if (cell.row, cell.column) in merged:
                    cells.append(Cell(merged_into=merged[(cell.row, cell.column)]))
                else:
                    cells.append(_cell(cell.value, cell.data_type, cell.number_format))
            sheet_row = SheetRow(row[0].row if row else 0, tuple(cells))
            if not sheet_row.blank or any(c.merged_into for c in cells):
                rows.append(sheet_row)
        dropped = dropped_features(self.path)
        if dropped:
            self._warnings.append(
                f"warning: {self.path.name} holds {', '.join(dropped)}, which openpyxl "
                "cannot keep; results will be written with openpyxl and those will be lost"
            )
        return Grid(ws.title, tuple(rows), tuple(self._warnings))

    def write(self, updates: Sequence[RowUpdate]) -> WriteReport:
        if self._ws is None or self._stamp != stamp(self.path):
            # Someone saved the file since we read it: load it again and place results by
            # Order ID, so their edits are kept.
            self._load()
        ws = self._ws
        header_row, columns = _header(ws)
        id_col = columns["Order ID"]
        next_col = max(columns.values()) + 1
        header_cell = ws.cell(header_row, id_col)
        for name in RESULT_COLUMNS:
            if name not in columns:
                next_col = _first_free_column(ws, header_row, next_col)
                cell = ws.cell(header_row, next_col, name)
                if header_cell.has_style:
                    cell._style = copy(header_cell._style)
                columns[name] = next_col
                next_col += 1
        ids_now = {
            row: _id_text(ws.cell(row, id_col).value)
            for row in range(header_row + 1, ws.max_row + 1)
        }
        placed, moved, missing = place_updates(updates, ids_now)
        skipped: list[str] = []
        for row, update in placed:
            for name, value in update.values.items():
                cell = ws.cell(row, columns[name])
                if type(cell).__name__ == "MergedCell":
                    skipped.append(f"{cell.coordinate}")
                    continue
                cell.value = as_text(value)
                cell.data_type = "s"
        replace_atomically(self.path, lambda tmp: self._wb.save(tmp), self.backup_dir)
        self._stamp = stamp(self.path)
        report_warnings = list(self._warnings)
        if skipped:
            report_warnings.append(
                "warning: result cells inside merged cells were not written: "
                + ", ".join(skipped[:5])
            )
        return WriteReport(len(placed), tuple(moved), tuple(missing), tuple(report_warnings))


def _letters(col: int) -> str:
    from openpyxl.utils import get_column_letter

    return str(get_column_letter(col))


def _id_text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _header(ws: Any) -> tuple[int, dict[str, int]]:
    """Header row and 1-based column of each known column, found as `bulk check` finds them."""
    from bulk.rows import find_header

    rows = tuple(
        SheetRow(number, tuple(_cell(v, "s", "") for v in values))
        for number, values in enumerate(
            ws.iter_rows(max_row=min(ws.max_row, 1000), values_only=True), 1
        )
    )
    header = find_header(Grid(ws.title, rows))
    return header.row, {name: index + 1 for name, index in header.columns.items()}


def _first_free_column(ws: Any, header_row: int, start: int) -> int:
    col = start
    while ws.cell(header_row, col).value not in (None, ""):
        col += 1
    return col
