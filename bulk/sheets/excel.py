"""The Excel backend (.xlsx, .xlsm): read a worksheet, write result cells, save atomically."""

from __future__ import annotations

import importlib.util
import io
import re
import warnings
import zipfile
import zlib
from collections.abc import Sequence
from copy import copy
from datetime import date, datetime, time, timedelta
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
    column_letter,
    place_updates,
)
from bulk.sheets.files import check_not_open, replace_atomically, stamp

EXCEL_SUFFIXES = (".xlsx", ".xlsm")


def dropped_features(path: Path) -> list[str]:
    """What openpyxl would lose on save, found by reading the file's XML parts.

    Rich text in cells is not on the list: the workbook is loaded with `rich_text=True`,
    which keeps every run and its font.
    """
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

            if any_part("xl/drawings/", rb"<xdr:sp[ >]|<xdr:grpSp[ >]|<xdr:cxnSp[ >]"):
                found.append("shapes and text boxes")
            if any(n.startswith("xl/diagrams/") for n in names):
                found.append("SmartArt")
            # openpyxl reads pictures with Pillow; without it, it drops them without a word.
            if importlib.util.find_spec("PIL") is None and any_part(
                "xl/drawings/", rb"<xdr:pic[ >]"
            ):
                found.append("pictures")
            if any(n.startswith("xl/richData/") for n in names):
                found.append("pictures in cells")
            if any(n.startswith("xl/theme/_rels/") for n in names):
                found.append("the picture fill of the theme")
            if any_part("xl/worksheets/", rb"<x14:"):
                found.append("newer data validation and conditional formats (x14)")
            if any(n.startswith("xl/threadedComments/") for n in names):
                found.append("threaded comments (kept as notes)")
            if any(n.startswith("xl/ctrlProps/") for n in names):
                found.append("form controls")
            if "xl/connections.xml" in names:
                found.append("data connections")
    except (zipfile.BadZipFile, OSError, KeyError, zlib.error):
        return []
    return found


# openpyxl's load warnings that lose nothing `dropped_features` does not already name:
# extension lists (x14 and the like) and notes about the file that change nothing.
_NAMED_OR_HARMLESS = re.compile(
    r"extension is not supported|contains no default style|Title is more than 31 characters",
    re.IGNORECASE,
)

# Characters XML 1.0 cannot hold; openpyxl refuses a cell value holding one.
_ILLEGAL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _drop_theme_pictures(theme: bytes) -> bytes:
    """A theme's picture fill without its picture: openpyxl writes the theme but not its
    relationships, which would leave a reference to a missing part (a file Excel repairs)."""
    return re.sub(
        rb"<(\w+:|)blipFill\b.*?</\1blipFill>",
        rb'<\1solidFill><\1schemeClr val="phClr"/></\1solidFill>',
        theme,
        flags=re.DOTALL,
    )


def _cell(value: Any, data_type: str, number_format: str) -> Cell:
    if value is None:
        return Cell()
    if data_type == "f" or (isinstance(value, str) and data_type != "s" and value.startswith("=")):
        # Array and data-table formulas are objects; their text is what the cell shows.
        return Cell(str(getattr(value, "text", None) or value), CellKind.FORMULA)
    if data_type == "e":
        return Cell(str(value), CellKind.ERROR)
    if isinstance(value, bool):
        return Cell("TRUE" if value else "FALSE", CellKind.BOOL)
    if isinstance(value, datetime | date | time):
        return Cell(value.isoformat(), CellKind.DATE)
    if isinstance(value, timedelta):  # a duration format such as [h]:mm
        return Cell(str(value), CellKind.DATE)
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
        self._grid: Grid | None = None
        self._sheet = ""
        # Why the lossless path cannot apply to this file ("" while it can).
        self._fast_error = ""

    @property
    def label(self) -> str:
        return str(self.path)

    def _load(self) -> None:
        import openpyxl

        self._check_file()
        self._stamp = stamp(self.path)
        try:
            with warnings.catch_warnings(record=True) as caught:
                # openpyxl warns about parts it cannot keep; they are reported in one line.
                warnings.simplefilter("always")
                # From memory: no file handle stays open (openpyxl leaves its archive open
                # when it fails half way), and Windows can replace the file later.
                self._wb = openpyxl.load_workbook(
                    io.BytesIO(self.path.read_bytes()),
                    keep_vba=self.path.suffix.lower() == ".xlsm",
                    rich_text=True,
                    keep_links=True,
                )
        except PermissionError as e:
            raise SheetError(f"cannot read {self.path}: {e.strerror}") from e
        except Exception as e:
            # Whatever openpyxl trips over is a file it cannot read (InvalidFileException,
            # BadZipFile, zlib.error, XML syntax errors, KeyError for missing parts, and its
            # own AttributeErrors on parts it half understands), not a bug in bulk.
            raise SheetError(
                f"{self.path} is not a readable Excel workbook ({type(e).__name__}); "
                "open it in Excel and save it as .xlsx"
            ) from e
        archive = self._wb.vba_archive
        if archive is not None:
            # openpyxl keeps the macro parts in a zip open for appending; closed by the garbage
            # collector after its buffer, it raises. The save only reads it: keep a closed copy.
            buffer = archive.fp
            archive.close()
            self._wb.vba_archive = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
        if isinstance(self._wb.loaded_theme, bytes):
            self._wb.loaded_theme = _drop_theme_pictures(self._wb.loaded_theme)
        self._ws = self._pick_sheet()
        self._warnings = []
        dropped = dropped_features(self.path)
        if dropped:
            self._warnings.append(
                f"warning: {self.path.name} holds {', '.join(dropped)}, which openpyxl "
                "cannot keep; results will be written with openpyxl and those will be lost"
            )
        unread = sorted(
            {str(w.message) for w in caught if not _NAMED_OR_HARMLESS.search(str(w.message))}
        )
        if unread:
            self._warnings.append(
                f"warning: openpyxl could not read all of {self.path.name} "
                f"({'; '.join(unread)}); what it could not read will be lost"
            )

    def _pick_sheet(self) -> Any:
        wb = self._wb
        titles = [ws.title for ws in wb.worksheets]
        if self.worksheet is not None:
            return wb[self._title(titles)]
        from openpyxl.cell.rich_text import CellRichText

        from bulk.rows import is_order_id_header

        # The first worksheet with an Order ID header; else the first worksheet.
        for ws in wb.worksheets:
            for row in ws.iter_rows(max_row=min(ws.max_row, 50), values_only=True):
                if any(
                    isinstance(v, str | CellRichText) and is_order_id_header(str(v)) for v in row
                ):
                    return ws
        if not wb.worksheets:
            raise SheetError(f"{self.path} has no worksheets")
        return wb.worksheets[0]

    def read(self) -> Grid:
        """The fast, lossless reader first; openpyxl where it cannot apply."""
        from bulk.sheets import xlsx_xml

        self._check_file()
        try:
            names = xlsx_xml.sheet_names(self.path)
            self._stamp = stamp(self.path)
            self._sheet, grid = self._pick_grid(names)
        except _NoSuchSheetError:
            raise
        except SheetError as e:
            self._fast_error = str(e)
            return self._read_openpyxl()
        self._grid = grid
        self._fast_error = ""
        return grid

    def _check_file(self) -> None:
        if self.path.suffix.lower() == ".xls":
            raise SheetError(
                f"{self.path} is an old .xls workbook; save it as .xlsx in Excel and run again"
            )
        if not self.path.exists():
            raise SheetError(f"{self.path} does not exist")
        check_not_open(self.path)

    def _title(self, titles: list[str]) -> str:
        """The worksheet asked for by name; Excel's sheet names are unique regardless of case."""
        assert self.worksheet is not None
        wanted = self.worksheet
        matches = [t for t in titles if t == wanted] or [
            t for t in titles if t.casefold() == wanted.casefold()
        ]
        if not matches:
            raise _NoSuchSheetError(
                f"{self.path} has no worksheet '{wanted}'; it has: " + ", ".join(titles)
            )
        return matches[0]

    def _pick_grid(self, names: list[str]) -> tuple[str, Grid]:
        from bulk.rows import is_order_id_header
        from bulk.sheets import xlsx_xml

        if self.worksheet is not None:
            title = self._title(names)
            return title, xlsx_xml.read_grid(self.path, title)
        if not names:
            raise _NoSuchSheetError(f"{self.path} has no worksheets")
        # The first worksheet with an Order ID header; else the first worksheet.
        first: Grid | None = None
        for name in names:
            grid = xlsx_xml.read_grid(self.path, name)
            first = first or grid
            for row in grid.rows[:50]:
                if any(c.kind is CellKind.TEXT and is_order_id_header(c.text) for c in row.cells):
                    return name, grid
        assert first is not None
        return names[0], first

    def _read_openpyxl(self) -> Grid:
        self._load()
        ws = self._ws
        merged: dict[tuple[int, int], str] = {}
        for rng in ws.merged_cells.ranges:
            top_left = f"{column_letter(rng.min_col - 1)}{rng.min_row}"
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
        return Grid(ws.title, tuple(rows), tuple(self._warnings))

    def write(self, updates: Sequence[RowUpdate]) -> WriteReport:
        """Edit only the worksheet's XML; openpyxl (which loses some features) as the fallback."""

        if not self._fast_error:
            try:
                return self._write_fast(updates)
            except _NoSuchSheetError:
                raise
            except SheetError as e:
                self._fast_error = str(e)
        report = self._write_openpyxl(updates)
        why = f"warning: wrote {self.path.name} with openpyxl because {self._fast_error}"
        return WriteReport(report.written, report.moved, report.missing, (why, *report.warnings))

    def _write_fast(self, updates: Sequence[RowUpdate]) -> WriteReport:
        from bulk.rows import find_header
        from bulk.sheets import xlsx_xml

        self._check_file()
        if self._grid is None or self._stamp != stamp(self.path):
            # Someone saved the file since we read it: read it again and place results by
            # Order ID, so their edits are kept.
            names = xlsx_xml.sheet_names(self.path)
            self._stamp = stamp(self.path)
            self._sheet, self._grid = self._pick_grid(names)
        grid = self._grid
        header = find_header(grid)
        columns = dict(header.columns)
        rows_below = [r for r in grid.rows if r.number >= header.row]
        # New result columns go right of everything in use from the header row down, so no
        # column of the team's (named or not) is ever written into.
        used = [
            i for r in rows_below for i, c in enumerate(r.cells) if not c.blank or c.merged_into
        ]
        next_col = max(used, default=-1) + 1
        cells: dict[tuple[int, int], str] = {}
        for name in RESULT_COLUMNS:
            if name not in columns:
                columns[name] = next_col
                cells[(header.row, next_col)] = name
                next_col += 1
        id_col = columns["Order ID"]
        by_number = {r.number: r for r in grid.rows}
        ids_now = {
            r.number: r.cell(id_col).text.strip() for r in grid.rows if r.number > header.row
        }
        placed, moved, missing = place_updates(updates, ids_now)
        skipped: list[str] = []
        for number, update in placed:
            row = by_number.get(number)
            for name, value in update.values.items():
                col = columns[name]
                if row is not None and row.cell(col).merged_into:
                    skipped.append(f"{column_letter(col)}{number}")
                    continue
                cells[(number, col)] = as_text(_ILLEGAL_CHARACTERS.sub("", value))
        sheet = self._sheet
        replace_atomically(
            self.path,
            lambda tmp: xlsx_xml.write_cells(self.path, tmp, sheet, cells, {header.row: id_col}),
            self.backup_dir,
        )
        self._stamp = None  # the grid read no longer matches the file
        self._grid = None
        warnings_ = []
        if skipped:
            warnings_.append(
                "warning: result cells inside merged cells were not written: "
                + ", ".join(skipped[:5])
            )
        return WriteReport(len(placed), tuple(moved), tuple(missing), tuple(warnings_))

    def _write_openpyxl(self, updates: Sequence[RowUpdate]) -> WriteReport:
        if self._ws is None or not self.path.is_file() or self._stamp != stamp(self.path):
            # Someone saved the file since we read it: load it again and place results by
            # Order ID, so their edits are kept.
            self._load()
        ws = self._ws
        header_row, columns = _header(ws)
        id_col = columns["Order ID"]
        # New result columns go right of everything in use from the header row down, so no
        # column of the team's (named or not) is ever written into.
        next_col = _last_used_column(ws, header_row) + 1
        header_cell = ws.cell(header_row, id_col)
        for name in RESULT_COLUMNS:
            if name not in columns:
                cell = ws.cell(header_row, next_col, name)
                if header_cell.has_style:
                    cell._style = copy(header_cell._style)
                columns[name] = next_col
                next_col += 1
        ids_now = {
            row[0].row: _cell(row[0].value, row[0].data_type, "").text.strip()
            for row in ws.iter_rows(min_row=header_row + 1, min_col=id_col, max_col=id_col)
        }
        placed, moved, missing = place_updates(updates, ids_now)
        skipped: list[str] = []
        for row, update in placed:
            for name, value in update.values.items():
                cell = ws.cell(row, columns[name])
                if type(cell).__name__ == "MergedCell":
                    skipped.append(f"{cell.coordinate}")
                    continue
                text = as_text(_ILLEGAL_CHARACTERS.sub("", value))
                cell.value = text or None
                if text:
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


class _NoSuchSheetError(SheetError):
    """The worksheet asked for is not there: no fallback can help."""


def _header(ws: Any) -> tuple[int, dict[str, int]]:
    """Header row and 1-based column of each known column, found as `bulk check` finds them."""
    from bulk.rows import find_header, is_order_id_header

    # The first row holding an Order ID header, however far down (title rows above it).
    for row in ws.iter_rows():
        cells = tuple(_cell(c.value, c.data_type, "") for c in row)
        if any(c.kind is CellKind.TEXT and is_order_id_header(c.text) for c in cells):
            header = find_header(Grid(ws.title, (SheetRow(row[0].row, cells),)))
            return header.row, {name: index + 1 for name, index in header.columns.items()}
    raise SheetError(
        f"no header row with an 'Order ID' column in sheet '{ws.title}'; "
        "add one or run `bulk new FILE.xlsx` for a template"
    )


def _last_used_column(ws: Any, from_row: int) -> int:
    """The rightmost column with a value or a merged range in `from_row` or below."""
    last = 0
    for (row, col), cell in ws._cells.items():
        if col > last and row >= from_row and cell.value not in (None, ""):
            last = col
    for rng in ws.merged_cells.ranges:
        if rng.max_row >= from_row:
            last = max(last, rng.max_col)
    return last
