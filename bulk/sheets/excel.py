"""The Excel backend (.xlsx, .xlsm): read a worksheet, write result cells, save atomically."""

from __future__ import annotations

import importlib.util
import io
import re
import warnings
import zipfile
import zlib
from collections.abc import Mapping, Sequence
from copy import copy
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from bulk.columns import (
    COLUMN_WIDTHS,
    HEADER_SEARCH_ROWS,
    WRAPPED_COLUMNS,
    current_header,
    has_order_id_header,
    is_order_id_header,
)
from bulk.errors import SheetError
from bulk.grid import Cell, CellKind, Grid, Header, SheetRow
from bulk.infra.heap import without_cycle_collection
from bulk.sheets.base import LossyFallbackError, RowUpdate, WriteReport, as_text, column_letter
from bulk.sheets.files import check_not_open, check_writable, replace_atomically, stamp
from bulk.sheets.plan import WritePlan, last_used_row, merged_cells, plan_write, used_width


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


def openpyxl_losses(path: Path) -> list[str]:
    """Everything an openpyxl save of this file loses that bulk can find in its parts."""
    lost = dropped_features(path)
    try:
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
            sheets = [n for n in names if n.startswith("xl/worksheets/") and n.endswith(".xml")]
            if any(re.search(rb"<(\w+:)?f[ >/]", z.read(n)) for n in sheets):
                lost.append("the saved results of its formulas (shown again after recalculation)")
            if "xl/calcChain.xml" in names:
                lost.append("its calculation chain")
            if any(n.startswith("xl/printerSettings/") for n in names):
                lost.append("printer settings")
            if any(n.startswith("customXml/") for n in names):
                lost.append("custom XML parts")
    except (zipfile.BadZipFile, OSError, zlib.error):
        return lost
    return lost


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

    def __init__(
        self,
        path: Path,
        worksheet: str | None = None,
        backup_dir: Path | None = None,
        allow_lossy: bool = False,
    ):
        self.path = path
        self.allow_lossy = allow_lossy  # the user agreed to openpyxl where it is the only way
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

        # The first worksheet with an Order ID header; else the first worksheet.
        for ws in wb.worksheets:
            for row in ws.iter_rows(max_row=min(ws.max_row, HEADER_SEARCH_ROWS), values_only=True):
                if any(
                    isinstance(v, str | CellRichText) and is_order_id_header(str(v)) for v in row
                ):
                    return ws
        if not wb.worksheets:
            raise SheetError(f"{self.path} has no worksheets")
        return wb.worksheets[0]

    def read(self) -> Grid:
        """The lossless reader; openpyxl only where it cannot read the file at all, and only
        with the user's consent (`allow_lossy`), since openpyxl would also write it."""
        with without_cycle_collection():
            return self._read_lossless()

    def _read_lossless(self) -> Grid:
        from bulk.sheets import xlsx

        self._check_file()
        try:
            names = xlsx.sheet_names(self.path)
            self._stamp = stamp(self.path)
            self._sheet, grid = self._pick_grid(names)
        except _NoSuchSheetError:
            raise
        except SheetError as e:
            self._fast_error = str(e)
            # A file openpyxl cannot read either is simply not a workbook: say that.
            grid = self._read_openpyxl()
            if not self.allow_lossy:
                lost = openpyxl_losses(self.path)
                raise LossyFallbackError(
                    f"{self.path.name} cannot be edited losslessly ({e}); openpyxl could write "
                    f"it but would lose {', '.join(lost) if lost else 'formatting it does not know'}"
                    "; run again with --allow-lossy to accept that (a backup is kept), or save "
                    "the file in Excel and try again"
                ) from e
            return grid
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
        check_writable(self.path)

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
        from bulk.sheets import xlsx

        if self.worksheet is not None:
            title = self._title(names)
            return title, xlsx.read_grid(self.path, title)
        if not names:
            raise _NoSuchSheetError(f"{self.path} has no worksheets")
        # The first worksheet with an Order ID header; else the first worksheet.
        first: Grid | None = None
        for name in names:
            grid = xlsx.read_grid(self.path, name)
            first = first or grid
            if any(has_order_id_header(row) for row in grid.rows[:HEADER_SEARCH_ROWS]):
                return name, grid
        assert first is not None
        return names[0], first

    def _read_openpyxl(self) -> Grid:
        self._load()
        return self._openpyxl_grid()

    def _openpyxl_grid(self) -> Grid:
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
            number = row[0].row if row else 0
            dimension = ws.row_dimensions.get(number)
            sheet_row = SheetRow(number, tuple(cells), bool(dimension and dimension.hidden))
            if not sheet_row.blank or any(c.merged_into for c in cells):
                rows.append(sheet_row)
        return Grid(ws.title, tuple(rows), tuple(self._warnings))

    def write(
        self,
        updates: Sequence[RowUpdate],
        header: Header | None = None,
        appends: Sequence[Mapping[str, str]] = (),
    ) -> WriteReport:
        """Edit only the worksheet's XML. A refusal of that writer (a formula, a table, a merged
        range where a result would go) stops the write: it is never handed to openpyxl, which
        would do what was refused. openpyxl writes only files the lossless reader could not
        read at all, and only with the user's consent (see `read`)."""
        if not self._fast_error:
            return self._write_fast(updates, header, appends)
        report = self._write_openpyxl(updates, header, appends)
        why = f"warning: wrote {self.path.name} with openpyxl because {self._fast_error}"
        return replace(report, warnings=(why, *report.warnings))

    def _write_fast(
        self,
        updates: Sequence[RowUpdate],
        header: Header | None,
        appends: Sequence[Mapping[str, str]],
    ) -> WriteReport:
        with without_cycle_collection():
            return self._write_lossless(updates, header, appends)

    def _write_lossless(
        self,
        updates: Sequence[RowUpdate],
        header: Header | None,
        appends: Sequence[Mapping[str, str]],
    ) -> WriteReport:
        from bulk.sheets import xlsx

        self._check_file()
        if self._grid is None or self._stamp != stamp(self.path):
            # Someone saved the file since we read it: read it again and place results by
            # Order ID, so their edits are kept.
            names = xlsx.sheet_names(self.path)
            self._stamp = stamp(self.path)
            self._sheet, self._grid = self._pick_grid(names)
            header = None
        grid = self._grid
        header = current_header(grid, header)
        plan = _plan(grid, header, updates, appends)
        if plan.empty:
            return plan.report()
        sheet = self._sheet
        id_col = header.columns["Order ID"]
        replace_atomically(
            self.path,
            lambda tmp: xlsx.write_rows(
                self.path, tmp, sheet, plan.rows, {header.row: id_col}, looks=_looks(plan)
            ),
            self.backup_dir,
        )
        self._stamp = None  # the grid read no longer matches the file
        self._grid = None
        return plan.report()

    def _write_openpyxl(
        self,
        updates: Sequence[RowUpdate],
        header: Header | None,
        appends: Sequence[Mapping[str, str]],
    ) -> WriteReport:
        if self._ws is None or not self.path.is_file() or self._stamp != stamp(self.path):
            # Someone saved the file since we read it: load it again and place results by
            # Order ID, so their edits are kept.
            self._load()
            header = None
        ws = self._ws
        grid = self._openpyxl_grid()
        header = current_header(grid, header)
        plan = _plan(grid, header, updates, appends)
        if plan.empty:
            return plan.report(*self._warnings)
        header_cell = ws.cell(header.row, header.columns["Order ID"] + 1)
        from openpyxl.styles import Alignment

        looks = _looks(plan)
        for col, (width, wrap) in looks.items():
            dimension = ws.column_dimensions[column_letter(col)]
            dimension.width = width
            if wrap:
                dimension.alignment = Alignment(wrap_text=True, vertical="top")
        for (row, col), text in plan.cells.items():
            cell = ws.cell(row, col + 1)
            cell.value = text or None
            if text:
                cell.data_type = "s"
            if col in plan.added and row == header.row and header_cell.has_style:
                cell._style = copy(header_cell._style)
            elif col in looks and looks[col][1] and row != header.row:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
        replace_atomically(self.path, lambda tmp: self._wb.save(tmp), self.backup_dir)
        self._stamp = stamp(self.path)
        return plan.report(*self._warnings)


def _looks(plan: WritePlan) -> dict[int, tuple[float, bool]]:
    """The columns this write adds: their width, and whether their text wraps."""
    return {
        col: (float(COLUMN_WIDTHS.get(name, 16)), name in WRAPPED_COLUMNS)
        for col, name in plan.added.items()
    }


def _plan(
    grid: Grid,
    header: Header,
    updates: Sequence[RowUpdate],
    appends: Sequence[Mapping[str, str]] = (),
) -> WritePlan:
    id_col = header.columns["Order ID"]
    ids = {r.number: r.cell(id_col).text.strip() for r in grid.rows if r.number > header.row}
    return plan_write(
        header,
        ids,
        used_width(grid.rows, header.row),
        updates,
        merged_cells(grid.rows),
        _cell_text,
        appends,
        last_used_row(grid.rows, header),
    )


# The UTF-8 bytes of _ILLEGAL_CHARACTERS (no other character's encoding holds them).
_ILLEGAL_BYTES = bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])


def _cell_text(value: str) -> str:
    """A result as a cell holds it (plan_write keeps what it makes of short values)."""
    if not value.isprintable():  # else no control character at all
        # A message of 500 characters is looked through several times faster as bytes.
        data = value.encode("utf-8", "surrogatepass")
        if len(data.translate(None, _ILLEGAL_BYTES)) != len(data):
            value = _ILLEGAL_CHARACTERS.sub("", value)
    return as_text(value)


class _NoSuchSheetError(SheetError):
    """The worksheet asked for is not there: no fallback can help."""
