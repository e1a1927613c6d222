"""bulk.sheets.excel: read a worksheet of a real .xlsx/.xlsm, write result cells, keep the rest.

Workbooks are built in tmp_path with openpyxl, or by tests/workbooks.py (every feature an Excel
user puts in a team sheet); the developers' Excel-saved reference workbooks are extra cases when
they sit beside the checkout.
"""

from __future__ import annotations

import csv
import importlib.util
import posixpath
import re
import shutil
import subprocess
import time
import warnings
import zipfile
from datetime import date, datetime
from datetime import time as clock
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import workbooks
from lxml import etree
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.chart import BarChart, Reference
from openpyxl.comments import Comment
from openpyxl.formatting.rule import CellIsRule, FormulaRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.table import Table, TableStyleInfo
from openpyxl.xml.functions import tostring

from bulk.columns import RESULT_COLUMNS, find_header
from bulk.config import Config
from bulk.errors import SheetError
from bulk.grid import Cell, CellKind
from bulk.models import Status
from bulk.rules.rows import parse_rows
from bulk.sheets.base import RowUpdate, column_letter
from bulk.sheets.excel import ExcelSheet, dropped_features

ID1 = "112-0000001-0000001"
ID2 = "112-0000002-0000002"
ID3 = "112-0000003-0000003"
ID4 = "112-0000004-0000004"
DETAILS = "Warehouse has none left, sorry"
HEAD = ["Order ID", "Reason", "Details"]

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "workbooks"
HAS_PILLOW = importlib.util.find_spec("PIL") is not None


def status(row: int, order_id: str, value: str = "READY", **more: str) -> RowUpdate:
    return RowUpdate(row, order_id, {"Status": value, **more})


def simple(path: Path, rows: list[list[Any]] | None = None, title: str = "Orders") -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = title
    for row in rows or [HEAD, [ID1, "Out of stock", DETAILS], [ID2, "Out of stock", DETAILS]]:
        ws.append(row)
    wb.save(path)
    return path


def load(path: Path) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the reference files hold parts openpyxl warns about
        return openpyxl.load_workbook(path, rich_text=True)


def header_map(ws: Any, row: int) -> dict[str, int]:
    return {c.value: c.column for c in ws[row] if c.value is not None}


# ---------------------------------------------------------------------------------------------
# What "unchanged" means: everything openpyxl can see, cell by cell and structure by structure.


def _value(v: Any) -> Any:
    if isinstance(v, CellRichText):
        return ("rich", tuple((str(b), getattr(b, "font", None)) for b in v))
    if hasattr(v, "ref") and hasattr(v, "text"):  # an array formula
        return ("array", v.ref, v.text)
    return v


def _style(wb: Any, cell: Any) -> tuple[Any, ...]:
    s = cell._style
    return (
        wb._fonts[s.fontId],
        wb._fills[s.fillId],
        wb._borders[s.borderId],
        wb._alignments[s.alignmentId],
        wb._protections[s.protectionId],
        cell.number_format,
    )


def cells(wb: Any) -> dict[tuple[str, int, int], tuple[Any, ...]]:
    """Every cell that holds a value or a style (what a save writes), sheet by sheet."""
    found = {}
    for ws in wb.worksheets:
        for (r, c), cell in ws._cells.items():
            if type(cell).__name__ == "MergedCell" or (cell.value is None and not cell.has_style):
                continue
            found[(ws.title, r, c)] = (_value(cell.value), _style(wb, cell))
    return found


def _rule(rule: Any) -> tuple[bytes, bytes]:
    """A conditional format rule and its format; the format's number is openpyxl's to pick
    (it stores equal formats once)."""
    xml = re.sub(rb' dxfId="\d+"', b"", tostring(rule.to_tree()))
    return xml, (tostring(rule.dxf.to_tree()) if rule.dxf is not None else b"")


def structure(wb: Any) -> dict[str, Any]:
    """Sheets and every workbook structure the tool must leave as it found them."""
    out: dict[str, Any] = {
        "sheets": [(s.title, s.sheet_state, type(s).__name__) for s in wb._sheets],
        "names": {n: d.attr_text for n, d in wb.defined_names.items()},
    }
    for ws in wb.worksheets:
        features = {
            "merged": sorted(str(r) for r in ws.merged_cells.ranges),
            "validations": sorted(
                tostring(dv.to_tree()) for dv in ws.data_validations.dataValidation
            ),
            "conditional": sorted(
                (str(cf.sqref), _rule(rule))
                for cf in ws.conditional_formatting
                for rule in cf.rules
            ),
            "tables": {t.name: tostring(t.to_tree()) for t in ws.tables.values()},
            "names": {n: d.attr_text for n, d in ws.defined_names.items()},
            "freeze": ws.freeze_panes,
            "columns": {
                k: (d.width, d.hidden, d.customWidth, d.outlineLevel)
                for k, d in ws.column_dimensions.items()
            },
            "row heights": {k: (d.height, d.hidden) for k, d in ws.row_dimensions.items()},
            "comments": {
                c.coordinate: (c.comment.text, c.comment.author)
                for row in ws.iter_rows()
                for c in row
                if c.comment is not None
            },
            "hyperlinks": sorted((h.ref, h.target or h.location) for h in ws._hyperlinks),
            "protection": (ws.protection.sheet, ws.protection.password),
            "print area": ws.print_area,
            "auto filter": ws.auto_filter.ref,
            "charts": len(ws._charts),
            "pivots": len(ws._pivots),
        }
        out.update({f"{ws.title}: {k}": v for k, v in features.items()})
    return out


def differences(before: Any, after: Any, allowed: set[tuple[str, int, int]]) -> list[str]:
    found = []
    b, a = cells(before), cells(after)
    for key in sorted(set(b) | set(a), key=str):
        if key not in allowed and b.get(key) != a.get(key):
            found.append(f"{key}: {b.get(key)!r} -> {a.get(key)!r}")
    sb, sa = structure(before), structure(after)
    found += [
        f"{k}: {sb.get(k)!r} -> {sa.get(k)!r}"
        for k in sb.keys() | sa.keys()
        if sb.get(k) != sa.get(k)
    ]
    return found[:20]


# ---------------------------------------------------------------------------------------------
# Reading


def test_read_gives_row_numbers_and_kinds(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "March"
    ws["A1"] = "Cancellations, March"
    ws.append([])
    ws.append([*HEAD, "Items", "Count", "When", "Time", "Flag", "Check", "Err"])
    ws.append([ID1, "Out of stock", DETAILS, 12345678901234, 3, datetime(2024, 3, 1, 9, 30),
               clock(8, 15), True, "=B4&C4", "#N/A"])  # fmt: skip
    ws.append([])
    ws.append([None, " ", None])  # spaces only: blank
    ws.append([ID2, "Out of stock", DETAILS, 2.5, -0.0, date(2024, 3, 2)])
    ws.merge_cells("A8:A9")
    ws["A8"] = ID3
    ws["B9"] = "Out of stock"
    path = tmp_path / "orders.xlsx"
    wb.save(path)

    grid = ExcelSheet(path).read()

    assert grid.name == "March"
    assert [r.number for r in grid.rows] == [1, 3, 4, 7, 8, 9]
    row4 = grid.rows[2].cells
    assert row4[:3] == (
        Cell(ID1, CellKind.TEXT),
        Cell("Out of stock", CellKind.TEXT),
        Cell(DETAILS, CellKind.TEXT),
    )
    assert row4[3:] == (
        Cell("12345678901234", CellKind.NUMBER),
        Cell("3", CellKind.NUMBER),
        Cell("2024-03-01T09:30:00", CellKind.DATE),
        Cell("08:15:00", CellKind.DATE),
        Cell("TRUE", CellKind.BOOL),
        Cell("=B4&C4", CellKind.FORMULA),
        Cell("#N/A", CellKind.ERROR),
    )
    assert grid.rows[3].cells[3:6] == (
        Cell("2.5", CellKind.NUMBER),
        Cell("0", CellKind.NUMBER),
        Cell("2024-03-02", CellKind.DATE),
    )
    assert grid.rows[5].cells[0] == Cell(merged_into="A8")
    assert grid.warnings == ()
    assert find_header(grid).row == 3


def test_a_rich_text_header_is_found(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    wb.active.title = "Notes"
    ws = wb.create_sheet("Orders")
    ws.append([CellRichText([TextBlock(InlineFont(b=True), "Order"), " ID"]), "Reason", "Details"])
    ws.append([ID1, "Out of stock", DETAILS])
    path = tmp_path / "orders.xlsx"
    wb.save(path)

    sheet = ExcelSheet(path)
    grid = sheet.read()
    assert grid.name == "Orders"
    assert find_header(grid).columns == {"Order ID": 0, "Reason": 1, "Details": 2}
    assert sheet.write([status(2, ID1)]).written == 1


# ---------------------------------------------------------------------------------------------
# Writing results


def test_missing_result_columns_are_appended_after_the_last_column(tmp_path: Path) -> None:
    path = simple(
        tmp_path / "orders.xlsx",
        [
            ["Cancellations, March"],
            [*HEAD, "Owner", None, "Notes"],
            [ID1, "Out of stock", DETAILS, "Sam", "no header", "call back"],
            [ID2, "Out of stock", DETAILS, "Kim"],
        ],
    )
    report = ExcelSheet(path).write([status(3, ID1, "REJECTED", Result="Reason is missing")])
    assert (report.written, report.moved, report.missing) == (1, (), ())

    ws = load(path).active
    assert [c.value for c in ws[2]] == [*HEAD, "Owner", None, "Notes", *RESULT_COLUMNS]
    assert [c.value for c in ws[3]][:9] == [
        ID1, "Out of stock", DETAILS, "Sam", "no header", "call back", "REJECTED",
        "Reason is missing", None,
    ]  # fmt: skip
    assert [c.value for c in ws[4]] == [ID2, "Out of stock", DETAILS, "Kim"] + [None] * 10
    assert ws["A1"].value == "Cancellations, March"


def test_a_data_column_without_a_header_is_never_written_into(tmp_path: Path) -> None:
    path = simple(
        tmp_path / "orders.xlsx",
        [HEAD, [ID1, "Out of stock", DETAILS, None, "kept"], [ID2, "Out of stock", DETAILS]],
    )
    ExcelSheet(path).write([status(2, ID1), status(3, ID2)])
    ws = load(path).active
    assert ws["E2"].value == "kept"
    assert header_map(ws, 1)["Status"] == 6


def test_appended_headers_take_the_header_style(tmp_path: Path) -> None:
    path = simple(tmp_path / "orders.xlsx")
    wb = openpyxl.load_workbook(path)
    wb.active["A1"].font = Font(bold=True, color="FF0000")
    wb.active["A1"].fill = PatternFill("solid", fgColor="305496")
    wb.save(path)
    ExcelSheet(path).write([status(2, ID1)])
    ws = load(path).active
    assert ws["D1"].value == "Status"
    assert ws["D1"].font.b is True
    assert ws["D1"].fill.fgColor.rgb == "00305496"


def test_existing_result_columns_are_reused_wherever_they_are(tmp_path: Path) -> None:
    path = simple(
        tmp_path / "orders.xlsx",
        [
            ["status", *HEAD, "Owner", "Results", "Updated"],
            ["FAILED", ID1, "Out of stock", DETAILS, "Sam", "old", "yesterday"],
        ],
    )
    ExcelSheet(path).write([status(2, ID1, Result="Passed every check", **{"Updated At": "now"})])
    ws = load(path).active
    heads = [c.value for c in ws[1]]
    assert heads[:7] == ["status", *HEAD, "Owner", "Results", "Updated"]
    assert heads[7:] == [c for c in RESULT_COLUMNS if c not in ("Status", "Result", "Updated At")]
    assert [c.value for c in ws[2]][:7] == [
        "READY", ID1, "Out of stock", DETAILS, "Sam", "Passed every check", "now",
    ]  # fmt: skip


def test_a_second_write_appends_nothing(tmp_path: Path) -> None:
    path = simple(tmp_path / "orders.xlsx")
    ExcelSheet(path).write([status(2, ID1)])
    ExcelSheet(path).write([status(3, ID2, "HELD")])
    ws = load(path).active
    assert ws.max_column == 3 + len(RESULT_COLUMNS)
    assert (ws["D2"].value, ws["D3"].value) == ("READY", "HELD")


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        (
            '=HYPERLINK("http://evil.example","click")',
            '\'=HYPERLINK("http://evil.example","click")',
        ),
        ("+1 555 0100", "'+1 555 0100"),
        ("-", "'-"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("#N/A", "#N/A"),  # text, not an error value
        ("12", "12"),  # text, not a number
        ("TRUE", "TRUE"),
        ("bad\x00char\x1b!", "badchar!"),  # characters XML cannot hold are dropped
        ("", None),
    ],
)
def test_written_cells_are_text_never_formulas(tmp_path: Path, value: str, stored: str) -> None:
    path = simple(tmp_path / "orders.xlsx")
    ExcelSheet(path).write([status(2, ID1, Result=value)])
    ws = openpyxl.load_workbook(path).active
    cell = ws.cell(2, header_map(ws, 1)["Result"])
    assert cell.value == stored
    assert cell.data_type == ("s" if stored else "n")
    with zipfile.ZipFile(path) as z:
        assert b"<f>" not in z.read("xl/worksheets/sheet1.xml")


def test_merged_result_cells_are_skipped_with_a_warning(tmp_path: Path) -> None:
    path = simple(tmp_path / "orders.xlsx", [[*HEAD, "Status", "Result"], [ID1, "x", DETAILS]])
    wb = openpyxl.load_workbook(path)
    wb.active.merge_cells("D2:E2")
    wb.save(path)
    report = ExcelSheet(path).write([status(2, ID1, Result="kept out")])
    assert report.warnings == ("warning: result cells inside merged cells were not written: E2",)
    ws = load(path).active
    assert ws["D2"].value == "READY"
    assert ws["E2"].value is None


def test_every_other_cell_and_structure_is_kept(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Orders"
    ws.append(["Cancellations for March"])
    ws.merge_cells("A1:F1")
    ws.append([*HEAD, "Items", "Price", "Total"])
    for i, order_id in enumerate([ID1, ID2, ID3], start=3):
        ws.append([order_id, "Out of stock", DETAILS, "MUG-RED", 9.5 + i, f"=E{i}*2"])
    ws["A1"].font = Font(bold=True, size=14)
    ws["B3"].fill = PatternFill("solid", fgColor="FFEEAA")
    ws["C3"].alignment = Alignment(wrap_text=True)
    ws["C4"].border = Border(bottom=Side(style="thin"))
    ws["E3"].number_format = "#,##0.00 €"
    ws["F6"] = "=SUM(F3:F5)"
    ws["G3"] = "=E3:E5*2"
    ws["C3"].comment = Comment("Ask Kim first", "Sam")
    ws["A3"].hyperlink = "https://sellercentral.amazon.com/orders-v3/order/" + ID1
    dv = DataValidation(type="list", formula1='"Out of stock,Buyer requested"', allow_blank=True)
    dv.add("B3:B100")
    ws.add_data_validation(dv)
    ws.conditional_formatting.add(
        "E3:E100",
        CellIsRule(
            operator="greaterThan", formula=["11"], fill=PatternFill("solid", bgColor="FFC7CE")
        ),
    )
    ws.conditional_formatting.add(
        "A3:F100", FormulaRule(formula=['$B3="Out of stock"'], font=Font(i=True))
    )
    ws.freeze_panes = "B3"
    ws.column_dimensions["C"].width = 48
    ws.column_dimensions["D"].hidden = True
    ws.row_dimensions[2].height = 30
    ws.auto_filter.ref = "A2:F5"
    wb.defined_names["Prices"] = DefinedName("Prices", attr_text="Orders!$E$3:$E$5")
    ws.print_area = "A1:F6"
    other = wb.create_sheet("Lookup")
    other.append(["Label", "Code"])
    other.append(["Out of stock", "NoInventory"])
    other.append(["Buyer requested", "BuyerCanceled"])
    table = Table(displayName="Reasons", ref="A1:B3")
    table.tableStyleInfo = TableStyleInfo(name="TableStyleMedium9", showRowStripes=True)
    other.add_table(table)
    other.sheet_state = "hidden"
    chart = BarChart()
    chart.add_data(Reference(ws, min_col=5, min_row=2, max_row=5), titles_from_data=True)
    wb.create_sheet("Chart").add_chart(chart, "A1")
    path = tmp_path / "orders.xlsx"
    wb.save(path)
    before = load(path)

    sheet = ExcelSheet(path, backup_dir=tmp_path / "backups")
    sheet.read()
    report = sheet.write([status(3, ID1, Result="ok"), status(5, ID3, "HELD")])

    assert report.written == 2
    after = load(path)
    result_cells = {
        ("Orders", r, c) for r in (2, 3, 4, 5) for c in range(8, 8 + len(RESULT_COLUMNS))
    }
    # The columns bulk added get a width (tests/test_workbook_look.py); nothing else changes.
    added = [column_letter(c - 1) for c in range(8, 8 + len(RESULT_COLUMNS))]
    columns = after["Orders"].column_dimensions
    assert all(columns[letter].width >= 12 for letter in added)
    for letter in added:
        del columns[letter]
    assert differences(before, after, result_cells) == []
    out = after["Orders"]
    assert [out.cell(2, c).value for c in range(8, 8 + len(RESULT_COLUMNS))] == list(RESULT_COLUMNS)
    assert (out["H3"].value, out["I3"].value, out["H4"].value, out["H5"].value) == (
        "READY", "ok", None, "HELD",
    )  # fmt: skip
    (kept,) = (tmp_path / "backups").iterdir()
    assert cells(load(kept)) == cells(before)


def test_written_workbook_opens_in_libreoffice(tmp_path: Path) -> None:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice is not installed")
    path = simple(tmp_path / "orders.xlsx")
    ExcelSheet(path).write([status(2, ID1, Result="=1+1"), status(3, ID2, "HELD")])
    subprocess.run(
        [soffice, "--headless", "--norestore", f"-env:UserInstallation={(tmp_path / 'lo').as_uri()}",
         "--convert-to", "csv", "--outdir", str(tmp_path / "out"), str(path)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    with open(tmp_path / "out" / "orders.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0][:5] == [*HEAD, "Status", "Result"]
    assert rows[1][:5] == [ID1, "Out of stock", DETAILS, "READY", "'=1+1"]  # text, not 2
    assert rows[2][:5] == [ID2, "Out of stock", DETAILS, "HELD", ""]


def test_xlsm_keeps_its_macros(tmp_path: Path) -> None:
    # An .xlsm built by hand: openpyxl's workbook plus a VBA project part, as Excel adds it.
    plain = simple(tmp_path / "plain.xlsx")
    vba = b"\xd0\xcf\x11\xe0 not really OLE, but bytes to keep" * 50
    path = tmp_path / "orders.xlsm"
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in src.namelist():
            data = src.read(name)
            if name == "[Content_Types].xml":
                data = data.replace(
                    b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                    b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
                ).replace(
                    b"</Types>",
                    b'<Override PartName="/xl/vbaProject.bin" '
                    b'ContentType="application/vnd.ms-office.vbaProject"/></Types>',
                )
            if name == "xl/_rels/workbook.xml.rels":
                data = data.replace(
                    b"</Relationships>",
                    b'<Relationship Id="rIdVba" Type="http://schemas.microsoft.com/office/2006/'
                    b'relationships/vbaProject" Target="vbaProject.bin"/></Relationships>',
                )
            dst.writestr(name, data)
        dst.writestr("xl/vbaProject.bin", vba)

    ExcelSheet(path).write([status(2, ID1)])

    with zipfile.ZipFile(path) as z:
        assert z.read("xl/vbaProject.bin") == vba
        assert b"macroEnabled.main+xml" in z.read("[Content_Types].xml")
        assert b"vbaProject.bin" in z.read("xl/_rels/workbook.xml.rels")
    assert load(path).active["D2"].value == "READY"


# ---------------------------------------------------------------------------------------------
# A file that changed between read and write


def test_a_file_changed_on_disk_is_reloaded_and_results_placed_by_order_id(
    tmp_path: Path,
) -> None:
    path = simple(
        tmp_path / "orders.xlsx",
        [HEAD, [ID1, "Out of stock", DETAILS], [ID2, "Out of stock", DETAILS],
         [ID3, "Out of stock", DETAILS]],
    )  # fmt: skip
    sheet = ExcelSheet(path)
    sheet.read()

    # Meanwhile Kim inserts two orders at the top and deletes ID3.
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    ws.delete_rows(4)
    ws.insert_rows(2, 2)
    ws["A2"], ws["B2"], ws["C2"] = ID4, "Out of stock", "added by Kim"
    ws["A3"], ws["B3"], ws["C3"] = "112-9999999-9999999", "Out of stock", "added by Kim"
    ws["F3"] = "Kim's note"
    wb.save(path)

    report = sheet.write([status(2, ID1), status(3, ID2, "HELD"), status(4, ID3, "REJECTED")])

    assert report.written == 2
    assert report.moved == ((ID1, 2, 4), (ID2, 3, 5))
    assert report.missing == (ID3,)
    out = load(path).active
    col = header_map(out, 1)["Status"]
    assert col == 7  # right of Kim's note
    assert [out.cell(r, col).value for r in range(2, 6)] == [None, None, "READY", "HELD"]
    assert out["A2"].value == ID4
    assert out["F3"].value == "Kim's note"


def test_non_text_order_ids_are_found_again_on_write(tmp_path: Path) -> None:
    # A REJECTED row whose Order ID cell is a number, a date or a formula still gets its
    # status written, in place and after rows were inserted above it.
    path = simple(
        tmp_path / "orders.xlsx",
        [HEAD, [1121234567.0, "x", DETAILS], [datetime(2024, 3, 1), "x", DETAILS],
         ["=A2&A3", "x", DETAILS], [ID1, "Out of stock", DETAILS]],
    )  # fmt: skip
    sheet = ExcelSheet(path)
    grid = sheet.read()
    parsed = parse_rows(grid, find_header(grid), Config())
    assert [p.order_id for p in parsed] == ["1121234567", "2024-03-01", "=A2&A3", ID1]

    wb = openpyxl.load_workbook(path)
    wb.active.insert_rows(2)
    wb.save(path)

    report = sheet.write([status(p.row, p.order_id, "REJECTED") for p in parsed[:3]])
    assert report.missing == ()
    assert [m[2] for m in report.moved] == [3, 4, 5]
    out = load(path).active
    assert [out.cell(r, 4).value for r in range(2, 7)] == [
        None,
        "REJECTED",
        "REJECTED",
        "REJECTED",
        None,
    ]


def test_a_deleted_file_is_reported(tmp_path: Path) -> None:
    path = simple(tmp_path / "orders.xlsx")
    sheet = ExcelSheet(path)
    sheet.read()
    path.unlink()
    with pytest.raises(SheetError, match=r"orders\.xlsx does not exist"):
        sheet.write([status(2, ID1)])


# ---------------------------------------------------------------------------------------------
# Files that are not workbooks


def _zip(path: Path, parts: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w") as z:
        for name, data in parts.items():
            z.writestr(name, data)


def _broken(good: Path, part: str, data: bytes, path: Path) -> None:
    with zipfile.ZipFile(good) as src:
        _zip(path, {n: (data if n == part else src.read(n)) for n in src.namelist()})


@pytest.mark.parametrize(
    "make",
    [
        "text renamed",
        "empty",
        "zip of something else",
        "old xls bytes renamed",
        "truncated",
        "broken workbook xml",
        "broken sheet xml",
        "folder",
    ],
)
def test_a_file_that_is_not_a_workbook(tmp_path: Path, make: str) -> None:
    good = simple(tmp_path / "good.xlsx")
    path = tmp_path / "orders.xlsx"
    if make == "text renamed":
        path.write_text("Order ID,Reason,Details\n")
    elif make == "empty":
        path.write_bytes(b"")
    elif make == "zip of something else":
        _zip(path, {"word/document.xml": b"<w:document/>", "mimetype": b"x"})
    elif make == "old xls bytes renamed":
        path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504)
    elif make == "truncated":
        path.write_bytes(good.read_bytes()[:2000])
    elif make == "broken workbook xml":
        _broken(good, "xl/workbook.xml", b"<workbook xmlns='x'><sheets", path)
    elif make == "broken sheet xml":
        _broken(good, "xl/worksheets/sheet1.xml", b"<worksheet><sheetData><row", path)
    else:
        path.mkdir()
    with pytest.raises(SheetError) as e:
        ExcelSheet(path).read()
    message = str(e.value)
    assert message.startswith(f"{path} is not a readable Excel workbook (")
    assert message.endswith("open it in Excel and save it as .xlsx")
    assert "\n" not in message


def test_an_old_xls_workbook(tmp_path: Path) -> None:
    path = tmp_path / "orders.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504)
    with pytest.raises(
        SheetError, match=r"orders\.xls is an old \.xls workbook; save it as \.xlsx"
    ):
        ExcelSheet(path).read()


def test_a_missing_workbook(tmp_path: Path) -> None:
    with pytest.raises(SheetError, match=r"orders\.xlsx does not exist"):
        ExcelSheet(tmp_path / "orders.xlsx").read()


def test_a_workbook_open_in_excel(tmp_path: Path) -> None:
    path = simple(tmp_path / "orders.xlsx")
    sheet = ExcelSheet(path)
    sheet.read()
    (tmp_path / "~$orders.xlsx").write_bytes(b"")
    original = path.read_bytes()
    with pytest.raises(
        SheetError, match=r"open in a spreadsheet program \(~\$orders\.xlsx exists\)"
    ):
        sheet.write([status(2, ID1)])
    assert path.read_bytes() == original
    assert sorted(p.name for p in tmp_path.iterdir()) == ["orders.xlsx", "~$orders.xlsx"]


# ---------------------------------------------------------------------------------------------
# Which worksheet


def several(path: Path) -> Path:
    wb = openpyxl.Workbook()
    wb.active.title = "Notes"
    wb.active["A1"] = "Read me first"
    archive = wb.create_sheet("Archive")
    archive.append(HEAD)
    archive.append([ID1, "Out of stock", DETAILS])
    orders = wb.create_sheet("Orders")
    orders.append(["Cancellations"])
    orders.append(["AmazonOrderId", "Reason", "Details"])
    orders.append([ID2, "Out of stock", DETAILS])
    chart = BarChart()
    chart.add_data(Reference(orders, min_col=1, min_row=2, max_row=3))
    wb.create_chartsheet("Chart").add_chart(chart)
    wb.save(path)
    return path


def test_the_default_worksheet_is_the_first_with_an_order_id_header(tmp_path: Path) -> None:
    grid = ExcelSheet(several(tmp_path / "book.xlsx")).read()
    assert grid.name == "Archive"
    assert grid.rows[1].cells[0].text == ID1


@pytest.mark.parametrize("name", ["Orders", "orders", "ORDERS"])
def test_a_worksheet_by_name(tmp_path: Path, name: str) -> None:
    path = several(tmp_path / "book.xlsx")
    sheet = ExcelSheet(path, name)
    grid = sheet.read()
    assert grid.name == "Orders"
    assert find_header(grid).row == 2
    sheet.write([status(3, ID2)])
    wb = load(path)
    assert wb["Orders"]["D3"].value == "READY"
    assert wb["Archive"]["D2"].value is None


@pytest.mark.parametrize("name", ["Order", "Chart"])
def test_an_unknown_worksheet_lists_the_worksheets(tmp_path: Path, name: str) -> None:
    with pytest.raises(SheetError) as e:
        ExcelSheet(several(tmp_path / "book.xlsx"), name).read()
    assert str(e.value).endswith(f"has no worksheet '{name}'; it has: Notes, Archive, Orders")


def test_without_any_header_the_first_worksheet_is_read(tmp_path: Path) -> None:
    path = simple(tmp_path / "book.xlsx", [["Name", "Total"], ["Sam", 3]], title="Budget")
    grid = ExcelSheet(path).read()
    assert grid.name == "Budget"
    with pytest.raises(
        SheetError, match="no header row with an 'Order ID' column in sheet 'Budget'"
    ):
        find_header(grid)


# ---------------------------------------------------------------------------------------------
# Size


def test_a_big_sheet_reads_and_writes(tmp_path: Path) -> None:
    # 20,000 rows keeps the suite fast; 100,000 rows were timed by hand (see the report).
    n = 20_000
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("Orders")
    ws.append([*HEAD, "Items", "Owner"])
    for i in range(n):
        ws.append([f"112-{i:07d}-0000001", "Out of stock", DETAILS, "MUG-RED", "Sam"])
    path = tmp_path / "big.xlsx"
    wb.save(path)

    started = time.perf_counter()
    sheet = ExcelSheet(path)
    grid = sheet.read()
    parsed = parse_rows(grid, find_header(grid), Config())
    report = sheet.write([status(p.row, p.order_id) for p in parsed])
    elapsed = time.perf_counter() - started

    assert len(parsed) == n
    assert all(p.request is not None for p in parsed)
    assert report.written == n
    assert (report.moved, report.missing) == ((), ())
    out = openpyxl.load_workbook(path, read_only=True)["Orders"]
    last = list(next(out.iter_rows(min_row=n + 1, max_row=n + 1, values_only=True)))
    while last and last[-1] is None:  # read-only rows are padded to the sheet's dimension
        last.pop()
    assert last == [f"112-{n - 1:07d}-0000001", "Out of stock", DETAILS, "MUG-RED", "Sam", "READY"]
    out.parent.close()
    assert elapsed < 20


# ---------------------------------------------------------------------------------------------
# The Excel-saved reference workbooks


X14 = "newer data validation and conditional formats (x14)"
SHAPES = "shapes and text boxes"
PICTURES = [] if HAS_PILLOW else ["pictures"]  # openpyxl keeps pictures only with Pillow

# What openpyxl cannot keep in each file, from the features SOURCES.md lists for it. Rich
# text in cells (richtext-after-plain, issue.4248, 56644) is kept: `rich_text=True`, and the
# cell-by-cell comparison below proves it. The chart sheet of any_sheets is kept too.
REFERENCE_DROPPED: dict[str, list[str]] = {
    "AllShapes.xlsx": [SHAPES, "SmartArt"],
    "ValidationWithSheetReference.xlsx": [X14],
    "56644.xlsx": [*PICTURES, X14],
    "NewStyleConditionalFormattings.xlsx": [X14],
    "ExcelPivotTableSample.xlsx": ["data connections"],  # xl/connections.xml (an Access link)
    "pictures_in_cell_and_over_cell.xlsx": [*PICTURES, "pictures in cells"],
    "64759.xlsx": ["threaded comments (kept as notes)"],
    "simple-monthly-budget.xlsx": [SHAPES, "the picture fill of the theme", X14],
    "issue.4248.xlsx": [SHAPES, *PICTURES],
    "any_sheets.xlsx": [],
    "62629_target.xlsm": [SHAPES, *PICTURES, "form controls"],
    "richtext-after-plain.xlsx": [],
}
# The repository's own workbooks (tests/workbooks.py), and the reference ones that are here.
EXPECTED_DROPPED: dict[str, list[str]] = {
    **workbooks.FEATURES,
    **{n: d for n, d in REFERENCE_DROPPED.items() if (REFERENCE / n).is_file()},
}


def workbook(name: str) -> Path:
    return workbooks.built().get(name) or REFERENCE / name


def reference_files() -> list[str]:
    if not REFERENCE.is_dir():
        return []
    return sorted(p.name for p in REFERENCE.iterdir() if p.suffix in (".xlsx", ".xlsm"))


@pytest.mark.reference("workbooks")
def test_every_reference_workbook_has_an_expectation() -> None:
    assert reference_files() == sorted(REFERENCE_DROPPED)


@pytest.mark.parametrize("name", sorted(workbooks.FEATURES))
def test_the_repositorys_workbooks_hold_what_openpyxl_cannot_keep(name: str) -> None:
    assert sorted(dropped_features(workbook(name))) == sorted(workbooks.FEATURES[name])


_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PR = "{http://schemas.openxmlformats.org/package/2006/relationships}"


def dangling_relationships(path: Path) -> list[str]:
    """References to parts that are not in the package: what makes Excel offer a repair."""
    found = []
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
        for name in sorted(names):
            if not name.endswith((".xml", ".vml")) or "/_rels/" in name:
                continue
            folder, base = posixpath.split(name)
            rels = posixpath.join(folder, "_rels", base + ".rels")
            ids = set()
            if rels in names:
                for rel in etree.fromstring(z.read(rels)).iter(_PR + "Relationship"):
                    ids.add(rel.get("Id"))
                    target = rel.get("Target", "")
                    if rel.get("TargetMode") != "External":
                        part = (
                            target.lstrip("/")
                            if target.startswith("/")
                            else posixpath.normpath(posixpath.join(folder, target))
                        )
                        if part not in names:
                            found.append(f"{rels}: {rel.get('Id')} -> missing {part}")
            try:
                root = etree.fromstring(z.read(name))
            except etree.XMLSyntaxError:
                continue  # VML is not always well-formed XML
            for element in root.iter():
                for key, value in element.attrib.items():
                    if key.startswith(f"{{{_R}}}") and value and value not in ids:
                        found.append(f"{name}: {key.split('}')[1]}={value} has no relationship")
    return found


def add_orders_table(source: Path, target: Path) -> int:
    """Copy `source` with a small order table below everything on its first worksheet.

    The table goes in by editing that worksheet's XML, not through openpyxl, so every other
    part of the file stays exactly as Excel saved it. Returns the header's row number.
    """
    with zipfile.ZipFile(source) as z:
        workbook = z.read("xl/workbook.xml").decode("utf-8")
        rels = etree.fromstring(z.read("xl/_rels/workbook.xml.rels"))
        targets = {r.get("Id"): r for r in rels.iter(_PR + "Relationship")}
        part = ""
        for rid in re.findall(r'<sheet [^>]*?r:id="([^"]+)"', workbook):
            rel = targets[rid]
            if rel.get("Type", "").endswith("/worksheet"):
                where = rel.get("Target", "")
                part = (
                    where.lstrip("/")  # absolute, as openpyxl writes it
                    if where.startswith("/")
                    else posixpath.normpath(posixpath.join("xl", where))
                )
                break
        xml = z.read(part).decode("utf-8")
        bottom = max(
            [int(r) for r in re.findall(r'<row [^>]*?r="(\d+)"', xml)]
            + [int(r) for r in re.findall(r'<mergeCell ref="[A-Z]+\d+:[A-Z]+(\d+)"', xml)]
            + [0]
        )
        start = bottom + 3
        table = [HEAD, [ID1, "Out of stock", DETAILS], [ID2, "Buyer requested", DETAILS]]
        rows = "".join(
            f'<row r="{start + i}">'
            + "".join(
                f'<c r="{"ABC"[j]}{start + i}" t="inlineStr"><is><t>{v}</t></is></c>'
                for j, v in enumerate(values)
            )
            + "</row>"
            for i, values in enumerate(table)
        )
        if "<sheetData/>" in xml:
            xml = xml.replace("<sheetData/>", f"<sheetData>{rows}</sheetData>")
        else:
            xml = xml.replace("</sheetData>", f"{rows}</sheetData>")
        with zipfile.ZipFile(target, "w") as out:
            for info in z.infolist():
                data = xml.encode("utf-8") if info.filename == part else z.read(info)
                out.writestr(info, data, compress_type=info.compress_type)
    return start


@pytest.mark.parametrize("name", sorted(EXPECTED_DROPPED))
def test_reference_workbook_survives_a_write_back(tmp_path: Path, name: str) -> None:
    source = workbook(name)
    path = tmp_path / name
    start = add_orders_table(source, path)
    assert sorted(dropped_features(path)) == sorted(dropped_features(source))
    before = load(path)

    sheet = ExcelSheet(path, backup_dir=tmp_path / "backups")
    grid = sheet.read()
    header = find_header(grid)
    assert header.row == start
    parsed = parse_rows(grid, header, Config())
    assert [(p.row, p.order_id, p.problems) for p in parsed] == [
        (start + 1, ID1, ()),
        (start + 2, ID2, ()),
    ]

    # What openpyxl cannot keep is known; the lossless writer keeps it, so nobody is warned.
    assert sorted(dropped_features(path)) == sorted(EXPECTED_DROPPED[name])
    assert [w for w in grid.warnings if "openpyxl" in w] == []
    with zipfile.ZipFile(path) as z:
        parts_before = {i.filename: z.read(i.filename) for i in z.infolist()}

    report = sheet.write(
        [
            status(start + 1, ID1, "READY", Result="Passed every check"),
            status(start + 2, ID2, "REJECTED", Result='=HYPERLINK("x")'),
        ]
    )
    assert (report.written, report.moved, report.missing) == (2, (), ())
    assert report.warnings == ()
    # Every part but the edited worksheet is byte for byte what Excel saved, except one cell
    # format added at the end of the styles' list for the result columns bulk added (wrapped
    # text: tests/test_workbook_look.py).
    with zipfile.ZipFile(path) as z:
        parts_after = {i.filename: z.read(i.filename) for i in z.infolist()}
    changed = {n for n in parts_before if parts_before[n] != parts_after.get(n)}
    assert list(parts_after) == list(parts_before)
    styles = [n for n in changed if n.endswith("styles.xml")]
    for name in styles:
        old, new = parts_before[name], parts_after[name]
        grown = re.sub(rb'(<(?:\w+:)?cellXfs\b[^>]*count=")\d+"', rb"\1", new)
        assert re.sub(rb'(<(?:\w+:)?cellXfs\b[^>]*count=")\d+"', rb"\1", old) == re.sub(
            rb"<(\w+:)?xf [^>]*><(\w+:)?alignment vertical=\"top\" wrapText=\"1\"/></(\w+:)?xf>"
            rb"(?=</(\w+:)?cellXfs>)",
            b"",
            grown,
        )
    (sheet_part,) = changed - set(styles)
    assert sheet_part.startswith("xl/worksheets/sheet")

    after = load(path)
    ws = after[grid.name]
    heads = header_map(ws, start)
    first = heads["Status"]
    assert [ws.cell(start, c).value for c in range(first, first + 8)] == list(RESULT_COLUMNS)
    assert ws.cell(start + 1, first).value == "READY"
    assert ws.cell(start + 2, heads["Result"]).value == '\'=HYPERLINK("x")'
    written = {(grid.name, r, c) for r in range(start, start + 3) for c in range(first, first + 8)}
    # The added columns have a width now; the sheet's own columns keep theirs.
    columns = ws.column_dimensions
    own = before[grid.name].column_dimensions
    for c in range(first, first + 8):
        if column_letter(c - 1) not in own:
            columns.pop(column_letter(c - 1), None)
    assert differences(before, after, written) == []
    assert dangling_relationships(path) == []
    if name.endswith(".xlsm"):
        with zipfile.ZipFile(source) as a, zipfile.ZipFile(path) as b:
            assert b.read("xl/vbaProject.bin") == a.read("xl/vbaProject.bin")

    again = ExcelSheet(path).read()
    statuses = [p.status for p in parse_rows(again, find_header(again), Config())]
    assert statuses == [Status.READY, Status.REJECTED]
    assert len(list((tmp_path / "backups").iterdir())) == 1


@pytest.mark.parametrize(
    "name", [n for n in EXPECTED_DROPPED if n in ("fixture-everything.xlsx", "AllShapes.xlsx")]
)
def test_reading_twice_repeats_no_warning(tmp_path: Path, name: str) -> None:
    source = workbook(name)
    path = tmp_path / source.name
    add_orders_table(source, path)
    # The openpyxl path (the fallback where the lossless writer cannot apply) warns once.
    sheet = ExcelSheet(path)
    first = sheet._read_openpyxl().warnings
    assert first and any("shapes and text boxes" in w for w in first)
    assert sheet._read_openpyxl().warnings == first


@pytest.mark.parametrize(
    "name",
    [n for n in EXPECTED_DROPPED if n in ("fixture-everything.xlsx", "simple-monthly-budget.xlsx")],
)
def test_parts_openpyxl_cannot_read_are_named(tmp_path: Path, name: str) -> None:
    # Both hold a data bar whose maximum is a defined name; openpyxl drops that rule with a
    # warning, which reaches the user instead of vanishing.
    source = workbook(name)
    path = tmp_path / source.name
    add_orders_table(source, path)
    warnings_ = ExcelSheet(path)._read_openpyxl().warnings  # the fallback path
    assert any(
        w.startswith(f"warning: openpyxl could not read all of {name} (")
        and "Failed to load a conditional formatting rule" in w
        for w in warnings_
    )


def test_a_refusal_of_the_lossless_writer_stops_the_write_and_openpyxl_never_does_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bulk.sheets import xlsx

    path = tmp_path / "orders.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Orders"
    ws.append(["Order ID", "Reason", "Details"])
    ws.append([ID1, "Out of stock", DETAILS])
    wb.save(path)
    before = path.read_bytes()

    def refuse(*args: object, **kwargs: object) -> None:
        raise SheetError("B2 holds the formula that cells B2:B9 share")

    monkeypatch.setattr(xlsx, "write_rows", refuse)
    sheet = ExcelSheet(path)
    sheet.read()
    with pytest.raises(SheetError, match=r"^B2 holds the formula that cells B2:B9 share$"):
        sheet.write([status(2, ID1, "READY", Result="ok")])
    assert path.read_bytes() == before


# ---------------------------------------------------------------------------------------------
# openpyxl only with consent, and only where the lossless reader cannot read the file


def unreadable_losslessly(path: Path) -> bytes:
    """A workbook openpyxl reads but the lossless reader does not (an XML comment in a row),
    with a formula and printer settings that an openpyxl save would lose."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Orders"
    ws.append(["Order ID", "Reason", "Details", "Total"])
    ws.append([ID1, "Out of stock", DETAILS, "=1+1"])
    wb.save(path)
    with zipfile.ZipFile(path) as z:
        parts = {i.filename: z.read(i.filename) for i in z.infolist()}
    sheet = parts["xl/worksheets/sheet1.xml"]
    parts["xl/worksheets/sheet1.xml"] = sheet.replace(
        b'<row r="2"', b'<!-- by a tool --><row r="2"', 1
    ).replace(b'<c r="A2"', b'<!-- id --><c r="A2"', 1)
    parts["xl/printerSettings/printerSettings1.bin"] = b"\x00printer"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return path.read_bytes()


def test_openpyxl_is_never_used_without_consent_and_the_refusal_lists_the_losses(
    tmp_path: Path,
) -> None:
    from bulk.sheets import LossyFallbackError

    path = tmp_path / "orders.xlsx"
    before = unreadable_losslessly(path)
    with pytest.raises(LossyFallbackError) as e:
        ExcelSheet(path).read()
    message = str(e.value)
    assert "\n" not in message
    assert message.startswith("orders.xlsx cannot be edited losslessly (")
    assert "xl/worksheets/sheet1.xml has '<!-- by a tool -->" in message
    assert (
        "openpyxl could write it but would lose the saved results of its formulas (shown again "
        "after recalculation), printer settings; run again with --allow-lossy" in message
    )
    assert path.read_bytes() == before


def test_with_consent_openpyxl_writes_and_says_why(tmp_path: Path) -> None:
    path = tmp_path / "orders.xlsx"
    unreadable_losslessly(path)
    sheet = ExcelSheet(path, allow_lossy=True)
    grid = sheet.read()
    report = sheet.write([status(2, ID1, "READY")], find_header(grid))
    assert report.written == 1
    assert report.warnings[0].startswith("warning: wrote orders.xlsx with openpyxl because ")
    assert openpyxl.load_workbook(path)["Orders"]["E2"].value == "READY"


def test_a_formula_in_an_adopted_result_column_stops_the_write(tmp_path: Path) -> None:
    path = tmp_path / "orders.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Orders"
    ws.append(["Order ID", "Reason", "Details", "Result"])
    ws.append([ID1, "Out of stock", DETAILS, '=IF(A2="","","check")'])
    wb.save(path)
    before = path.read_bytes()
    sheet = ExcelSheet(path)
    grid = sheet.read()
    with pytest.raises(
        SheetError, match=r"^D2 in orders.xlsx: xl/worksheets/sheet1.xml holds a formula"
    ):
        sheet.write([status(2, ID1, "READY", Result="ok")], find_header(grid))
    assert path.read_bytes() == before


@pytest.mark.parametrize("how", ["hidden", "filtered"])
def test_hidden_and_filtered_out_rows_are_flagged(tmp_path: Path, how: str) -> None:
    path = tmp_path / "orders.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Orders"
    ws.append(["Order ID", "Reason", "Details"])
    ws.append([ID1, "Out of stock", DETAILS])
    ws.append([ID2, "Out of stock", DETAILS])
    if how == "filtered":
        ws.auto_filter.ref = "A1:C3"
        ws.auto_filter.add_filter_column(0, [ID1])
    ws.row_dimensions[3].hidden = True  # Excel hides the rows a filter leaves out the same way
    wb.save(path)
    rows = {r.number: r.hidden for r in ExcelSheet(path).read().rows}
    assert rows == {1: False, 2: False, 3: True}


def test_hidden_rows_are_flagged_on_the_openpyxl_path_too(tmp_path: Path) -> None:
    path = tmp_path / "orders.xlsx"
    unreadable_losslessly(path)
    with zipfile.ZipFile(path) as z:
        parts = {i.filename: z.read(i.filename) for i in z.infolist()}
    name = "xl/worksheets/sheet1.xml"
    parts[name] = parts[name].replace(b'<row r="2"', b'<row r="2" hidden="1"', 1)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for member, data in parts.items():
            z.writestr(member, data)
    rows = {r.number: r.hidden for r in ExcelSheet(path, allow_lossy=True).read().rows}
    assert rows == {1: False, 2: True}
