"""Tests for bulk.sheets.xlsx: lossless cell reads and writes in real Excel-saved workbooks."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import shutil
import struct
import subprocess
import warnings
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import workbooks
from lxml import etree
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.worksheet.formula import ArrayFormula

from bulk.errors import SheetError
from bulk.grid import CellKind, Grid
from bulk.sheets.xlsx import read_grid, sheet_names, write_cells

# The workbooks every fidelity test writes into: the repository's own (tests/workbooks.py),
# and, when the developers' Excel-saved reference workbooks sit beside the checkout, those too.
REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "workbooks"
REFERENCE_WORKBOOKS = sorted(REFERENCE.glob("*.xls[xm]")) if REFERENCE.is_dir() else []
names = [*workbooks.FEATURES, *(p.name for p in REFERENCE_WORKBOOKS)]


def workbook(name: str) -> Path:
    return workbooks.built().get(name) or REFERENCE / name


def reference(name: str) -> Any:
    """An extra case about one reference workbook's particulars, left out when it is not here
    (conftest.py); tests/workbooks.py's own workbooks cover the same features without it."""
    return pytest.mark.reference(f"workbooks/{name}")


SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


# ---------------------------------------------------------------------------------------------
# Helpers


def load(path: Path, **kwargs: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl warns about the parts it cannot keep
        return openpyxl.load_workbook(path, **kwargs)


def openpyxl_values(path: Path) -> dict[tuple[str, int, int], Any]:
    """Every cell value openpyxl sees, keyed by (sheet, row, 0-based column)."""
    wb = load(path)
    return {
        (ws.title, c.row, c.column - 1): c.value
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for c in row
        if c.value is not None
    }


def grid_texts(grid: Grid) -> dict[tuple[int, int], tuple[CellKind, str, str]]:
    return {
        (row.number, i): (c.kind, c.text, c.merged_into)
        for row in grid.rows
        for i, c in enumerate(row.cells)
        if c.kind is not CellKind.BLANK or c.merged_into
    }


def raw_member(path: Path, info: zipfile.ZipInfo) -> bytes:
    """A member's bytes as stored (still compressed)."""
    with open(path, "rb") as f:
        f.seek(info.header_offset + 26)
        name_len, extra_len = struct.unpack("<2H", f.read(4))
        f.seek(info.header_offset + 30 + name_len + extra_len)
        return f.read(info.compress_size)


def sheet_part(path: Path, sheet: str) -> str:
    """The zip member holding a worksheet (from workbook.xml and its relationships)."""
    with zipfile.ZipFile(path) as z:
        wb = z.read("xl/workbook.xml").decode()
        rels = z.read("xl/_rels/workbook.xml.rels").decode()
    rid = re.search(rf'<sheet [^>]*name="{re.escape(sheet)}"[^>]*r:id="(\w+)"', wb)
    assert rid
    target = re.search(rf'<Relationship [^>]*Id="{rid.group(1)}"[^>]*Target="([^"]+)"', rels)
    if target is None:
        target = re.search(rf'Target="([^"]+)"[^>]*Id="{rid.group(1)}"', rels)
    assert target
    return "xl/" + target.group(1).lstrip("/").removeprefix("xl/")


def split_sheet(xml: bytes) -> tuple[bytes, dict[int, bytes], bytes]:
    """(XML before <sheetData>, row number -> <row> element, XML after </sheetData>)."""
    m = re.search(rb"<sheetData\s*(/>|>(.*?)</sheetData>)", xml, re.DOTALL)
    assert m
    rows = {
        int(r.group(1)): r.group(0)
        for r in re.finditer(
            rb'<row r="(\d+)"[^>]*?(?:/>|>.*?</row>)', m.group(2) or b"", re.DOTALL
        )
    }
    return xml[: m.start()], rows, xml[m.end() :]


def assert_in_order(xml: bytes) -> None:
    """Rows ascend, and the cells of each row ascend, as Excel requires."""
    _, rows, _ = split_sheet(xml)
    numbers = [int(n) for n in re.findall(rb'<row r="(\d+)"', xml)]
    assert numbers == sorted(set(numbers)) == sorted(rows)
    for number, row in rows.items():
        refs = re.findall(rb'<c r="([A-Z]+)(\d+)"', row)
        assert all(int(r) == number for _, r in refs)
        cols = [_col(letters.decode()) for letters, _ in refs]
        assert cols == sorted(set(cols)), row[:200]


def _col(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def libreoffice_csv(paths: list[Path], out: Path) -> dict[Path, list[list[str]]]:
    """Each workbook's first sheet as LibreOffice reads it, through a headless CSV export."""
    assert SOFFICE
    profile = out / "profile"
    # 44,34,76: comma, double quote, UTF-8; the last token 1 exports the first sheet.
    fmt = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,1"
    command = [SOFFICE, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore"]
    command += ["--convert-to", fmt, "--outdir", str(out), *map(str, paths)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    tables = {}
    for path in paths:
        found = sorted(out.glob(f"{path.stem}-*.csv"))
        assert found, f"LibreOffice did not convert {path.name}: {done.stdout} {done.stderr}"
        with open(found[0], encoding="utf-8", newline="") as f:
            tables[path] = list(csv.reader(f))
    return tables


# ---------------------------------------------------------------------------------------------
# Every reference workbook: write a few cells into its first worksheet, check nothing else moved.


@dataclass(frozen=True)
class Written:
    src: Path
    dst: Path
    sheet: str
    cells: Mapping[tuple[int, int], str]


def planned_cells(path: Path, sheet: str) -> dict[tuple[int, int], str]:
    """New cells past the used range (in an existing row and in new rows), and one existing
    text cell overwritten."""
    ws = load(path)[sheet]
    grid = read_grid(path, sheet)
    first = grid.rows[0].number if grid.rows else 1
    last_row, last_col = ws.max_row, ws.max_column  # 1-based: index last_col is past the end
    cells = {
        (first, last_col): "Status",
        (first, last_col + 2): "Result ✓ <b>&amp;</b> \"quoted\" 'single'",
        (last_row + 1, 0): "  new row, leading and trailing spaces  ",
        (last_row + 1, last_col + 1): "Zeile mit Umlauten: äöü ß, 日本語, emoji 🚚",
        (last_row + 4, 2): "line one\nline two\ttab",
    }
    text = next(
        (
            (row.number, i)
            for row in grid.rows
            for i, c in enumerate(row.cells)
            if c.kind is CellKind.TEXT and c.text.strip()
        ),
        None,
    )
    if text:
        cells[text] = "overwritten"
    return cells


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Written]:
    out = tmp_path_factory.mktemp("written")
    done = {}
    for src in map(workbook, names):
        sheet = sheet_names(src)[0]
        cells = planned_cells(src, sheet)
        dst = out / src.name
        write_cells(src, dst, sheet, cells)
        done[src.name] = Written(src, dst, sheet, cells)
    return done


@pytest.fixture(scope="module")
def libreoffice(
    written: dict[str, Written], tmp_path_factory: pytest.TempPathFactory
) -> dict[Path, list[list[str]]]:
    if not SOFFICE:
        pytest.skip("LibreOffice (soffice) is not installed")
    return libreoffice_csv([w.dst for w in written.values()], tmp_path_factory.mktemp("csv"))


@pytest.mark.parametrize("name", names)
def test_other_members_are_byte_identical(written: dict[str, Written], name: str) -> None:
    w = written[name]
    part = sheet_part(w.src, w.sheet)
    with zipfile.ZipFile(w.src) as a, zipfile.ZipFile(w.dst) as b:
        assert b.testzip() is None
        assert a.namelist() == b.namelist()
        for info in a.infolist():
            if info.filename == part:
                continue
            other = b.getinfo(info.filename)
            assert a.read(info) == b.read(other), info.filename
            # Copied as stored: not even recompressed.
            assert raw_member(w.src, info) == raw_member(w.dst, other), info.filename
            assert (other.compress_type, other.date_time) == (info.compress_type, info.date_time)


@pytest.mark.parametrize("name", names)
def test_written_cells_read_back(written: dict[str, Written], name: str) -> None:
    w = written[name]
    ws = load(w.dst)[w.sheet]
    grid = grid_texts(read_grid(w.dst, w.sheet))
    for (row, col), value in w.cells.items():
        assert ws.cell(row, col + 1).value == value
        assert ws.cell(row, col + 1).data_type == "s"
        assert grid[(row, col)] == (CellKind.TEXT, value, "")


@pytest.mark.parametrize("name", names)
def test_every_other_cell_is_unchanged(written: dict[str, Written], name: str) -> None:
    w = written[name]
    before, after = openpyxl_values(w.src), openpyxl_values(w.dst)
    for row, col in w.cells:
        before.pop((w.sheet, row, col), None)
        after.pop((w.sheet, row, col))
    assert after == before
    for sheet in sheet_names(w.src):
        old, new = grid_texts(read_grid(w.src, sheet)), grid_texts(read_grid(w.dst, sheet))
        if sheet == w.sheet:
            for key in w.cells:
                old.pop(key, None)
                new.pop(key)
        assert new == old, sheet


@pytest.mark.parametrize("name", names)
def test_worksheet_xml_changes_only_where_written(written: dict[str, Written], name: str) -> None:
    w = written[name]
    part = sheet_part(w.src, w.sheet)
    with zipfile.ZipFile(w.src) as a, zipfile.ZipFile(w.dst) as b:
        old, new = a.read(part), b.read(part)
    assert_in_order(new)
    old_head, old_rows, old_tail = split_sheet(old)
    new_head, new_rows, new_tail = split_sheet(new)
    assert new_tail == old_tail  # merged cells, CF, validation, x14 extensions, drawings...
    dimension = rb'<dimension ref="[^"]*"/>'
    assert re.sub(dimension, b"", new_head) == re.sub(dimension, b"", old_head)
    written_rows = {row for row, _ in w.cells}
    for number, row in old_rows.items():
        if number not in written_rows:
            assert new_rows[number] == row
    m = re.search(rb'<dimension ref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"', new_head)
    if m:  # the dimension covers every written cell
        assert int(m.group(4) or m.group(2)) >= max(row for row, _ in w.cells)
        assert _col((m.group(3) or m.group(1)).decode()) >= max(col for _, col in w.cells)


@pytest.mark.parametrize("name", names)
def test_libreoffice_opens_the_written_file(
    written: dict[str, Written], libreoffice: dict[Path, list[list[str]]], name: str
) -> None:
    w = written[name]
    table = libreoffice[w.dst]
    for (row, col), value in w.cells.items():
        assert table[row - 1][col] == value


@pytest.mark.parametrize("name", [n for n in names if n.endswith(".xlsm")])
def test_macros_are_kept_byte_for_byte(written: dict[str, Written], name: str) -> None:
    w = written[name]
    with zipfile.ZipFile(w.src) as a, zipfile.ZipFile(w.dst) as b:
        assert a.read("xl/vbaProject.bin") == b.read("xl/vbaProject.bin")
        vba = a.getinfo("xl/vbaProject.bin")
        assert raw_member(w.src, vba) == raw_member(w.dst, b.getinfo("xl/vbaProject.bin"))
    wb = load(w.dst, keep_vba=True)
    assert wb.vba_archive is not None


@pytest.mark.parametrize("name", names)
def test_read_grid_agrees_with_openpyxl(name: str) -> None:
    path = workbook(name)
    wb = load(path)
    for sheet in sheet_names(path):
        grid = grid_texts(read_grid(path, sheet))
        ws = wb[sheet]
        for row in ws.iter_rows():
            for cell in row:
                if type(cell).__name__ == "MergedCell" or cell.value in (None, ""):
                    continue
                kind, text, _ = grid[(cell.row, cell.column - 1)]
                assert (kind, text) == expected(cell.value, cell.data_type), cell.coordinate


def expected(value: Any, data_type: str) -> tuple[CellKind, str]:
    """What read_grid should say for a value as openpyxl reads it."""
    if data_type == "f":
        return CellKind.FORMULA, str(value)
    if data_type == "e":
        return CellKind.ERROR, str(value)
    if isinstance(value, bool):
        return CellKind.BOOL, str(value).upper()
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return CellKind.DATE, value.date().isoformat()
    if isinstance(value, dt.date | dt.time):
        return CellKind.DATE, value.isoformat()
    if isinstance(value, int | float):
        number = float(value)
        return CellKind.NUMBER, str(int(number)) if number.is_integer() else repr(number)
    return CellKind.TEXT, str(value)


@pytest.mark.parametrize(
    "name", [n for n in names if n in ("fixture-plain.xlsx", "simple-monthly-budget.xlsx")]
)
def test_merged_cells_point_at_their_top_left(name: str) -> None:
    path = workbook(name)
    cells = {
        key: merged
        for key, (_, _, merged) in grid_texts(read_grid(path, sheet_names(path)[0])).items()
    }
    assert cells[(4, 4)] == ""  # E4, the top-left of E4:G5, holds the value
    assert cells[(4, 5)] == cells[(5, 4)] == cells[(5, 6)] == "E4"
    if name == "simple-monthly-budget.xlsx":
        assert cells[(5, 7)] == "H4"
        assert cells[(8, 2)] == "B8"


@reference("any_sheets.xlsx")
def test_sheet_names_leave_out_chart_sheets() -> None:
    assert sheet_names(REFERENCE / "any_sheets.xlsx") == ["Visible", "Hidden", "VeryHidden"]
    with pytest.raises(SheetError, match=r"'Chart' .* is a chartsheet, not a worksheet"):
        read_grid(REFERENCE / "any_sheets.xlsx", "Chart")
    with pytest.raises(SheetError, match="has no worksheet 'Nope'; it has: Visible, Hidden"):
        write_cells(REFERENCE / "any_sheets.xlsx", Path("unused.xlsx"), "Nope", {(1, 1): "x"})


# ---------------------------------------------------------------------------------------------
# Formulas, calcChain and what Excel would repair.


def calc_chain(path: Path) -> bytes:
    with zipfile.ZipFile(path) as z:
        return z.read("xl/calcChain.xml")


@reference("simple-monthly-budget.xlsx")
def test_overwritten_formula_leaves_the_calc_chain(tmp_path: Path) -> None:
    src = REFERENCE / "simple-monthly-budget.xlsx"
    dst = tmp_path / "out.xlsx"
    sheet = sheet_names(src)[0]
    # E9 starts the chain with i= and l=; the entry after it must now carry both.
    write_cells(
        src, dst, sheet, {(9, 4): "no formula", (4, 7): "none here either"}, replace_formulas=True
    )
    chain = calc_chain(dst)
    assert b'r="E9"' not in chain and b'r="H4"' not in chain
    assert b'<c l="1" r="E4" i="1"/>' in chain and b'<c r="G9" i="1" l="1"/>' in chain
    part = sheet_part(src, sheet)
    with zipfile.ZipFile(dst) as z:
        xml = z.read(part)
    e9 = re.search(rb'<c r="E9"[^>]*>.*?</c>', xml)
    assert e9 and b"<f>" not in e9.group(0) and b's="' in e9.group(0)  # style kept
    values = openpyxl_values(dst)
    assert values[(sheet, 9, 4)] == "no formula"
    assert values[(sheet, 9, 6)] == openpyxl_values(src)[(sheet, 9, 6)]  # G9 still a formula
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(dst) as b:
        assert a.namelist() == b.namelist()


@reference("simple-monthly-budget.xlsx")
def test_calc_chain_emptied_goes_with_its_links(tmp_path: Path) -> None:
    src = REFERENCE / "simple-monthly-budget.xlsx"
    dst = tmp_path / "out.xlsx"
    every = {(9, 4): "a", (4, 4): "b", (9, 6): "c", (4, 7): "d", (9, 5): "e"}
    write_cells(src, dst, sheet_names(src)[0], every, replace_formulas=True)
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(dst) as b:
        assert [n for n in a.namelist() if n != "xl/calcChain.xml"] == b.namelist()
        assert b"calcChain" not in b.read("[Content_Types].xml")
        assert b"calcChain" not in b.read("xl/_rels/workbook.xml.rels")
        assert b.read("xl/_rels/workbook.xml.rels") == re.sub(
            rb"<Relationship [^>]*calcChain[^>]*/>", b"", a.read("xl/_rels/workbook.xml.rels")
        )
    assert openpyxl_values(dst)[("Simple Monthly Budget", 4, 4)] == "b"
    if SOFFICE:
        table = libreoffice_csv([dst], tmp_path / "csv")[dst]
        assert table[3][4] == "b"


@reference("NewStyleConditionalFormattings.xlsx")
def test_shared_formulas_elsewhere_keep_working(tmp_path: Path) -> None:
    src = REFERENCE / "NewStyleConditionalFormattings.xlsx"
    dst = tmp_path / "out.xlsx"
    # K13 uses the shared formula whose master is J12: it becomes text, the others stay.
    write_cells(src, dst, "CF", {(13, 10): "text now"}, replace_formulas=True)
    before, after = openpyxl_values(src), openpyxl_values(dst)
    assert after.pop(("CF", 13, 10)) == "text now"
    before.pop(("CF", 13, 10))
    assert after == before
    with pytest.raises(SheetError, match=r"J12 .* holds the formula that cells J12:U17 share"):
        write_cells(src, tmp_path / "no.xlsx", "CF", {(12, 9): "x"})
    assert not (tmp_path / "no.xlsx").exists()


def test_array_formula_cells_are_refused(tmp_path: Path) -> None:
    src = tmp_path / "array.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "S"
    for i in range(1, 4):
        ws.cell(i, 1, i)
    ws["B1"] = ArrayFormula("B1:B3", "=A1:A3*2")
    wb.save(src)
    with pytest.raises(SheetError, match=r"B2 .* is part of the array formula B1:B3"):
        write_cells(src, tmp_path / "out.xlsx", "S", {(2, 1): "x"})
    with pytest.raises(SheetError, match=r"B1 .* holds the formula that cells B1:B3 share"):
        write_cells(src, tmp_path / "out.xlsx", "S", {(1, 1): "x"})
    write_cells(src, tmp_path / "out.xlsx", "S", {(2, 2): "beside it"})
    assert load(tmp_path / "out.xlsx")["S"]["C2"].value == "beside it"


@reference("pictures_in_cell_and_over_cell.xlsx")
def test_in_cell_picture_overwritten_drops_its_value_metadata(tmp_path: Path) -> None:
    src = REFERENCE / "pictures_in_cell_and_over_cell.xlsx"
    dst = tmp_path / "out.xlsx"
    write_cells(src, dst, "Sheet1", {(1, 0): "a picture was here"})
    with zipfile.ZipFile(dst) as z:
        xml = z.read("xl/worksheets/sheet1.xml")
    a1 = re.search(rb'<c r="A1"[^>]*>', xml)
    assert a1 and b"vm=" not in a1.group(0) and b't="inlineStr"' in a1.group(0)
    assert b'<c r="A3" t="e" vm="2">' in xml
    assert grid_texts(read_grid(dst, "Sheet1"))[(1, 0)] == (CellKind.TEXT, "a picture was here", "")
    if SOFFICE:
        assert libreoffice_csv([dst], tmp_path / "csv")[dst][0][0] == "a picture was here"


@reference("ExcelPivotTableSample.xlsx")
def test_tables_and_pivots_are_guarded(tmp_path: Path) -> None:
    src = REFERENCE / "ExcelPivotTableSample.xlsx"
    dst = tmp_path / "out.xlsx"
    with pytest.raises(SheetError, match=r"F1 .* is a column name of table 'Tabelle1'"):
        write_cells(src, dst, "Tabelle1", {(1, 5): "Renamed"})
    assert not dst.exists()
    write_cells(src, dst, "Tabelle1", {(1, 5): "Field2", (2, 5): "data is fine", (1, 3): "gap"})
    ws = load(dst)["Tabelle1"]
    assert (ws["F2"].value, ws["D1"].value) == ("data is fine", "gap")
    assert_in_order(zipfile.ZipFile(dst).read(sheet_part(src, "Tabelle1")))
    # Tabelle2 holds a pivot table at A3:D7; writing beside it is fine.
    with pytest.raises(SheetError, match=r"B4 .* is in pivot table 'PivotTable1' \(A3:D7\)"):
        write_cells(src, dst, "Tabelle2", {(4, 1): "x"})
    write_cells(src, dst, "Tabelle2", {(4, 5): "beside the pivot"})
    assert load(dst)["Tabelle2"]["F4"].value == "beside the pivot"


@reference("simple-monthly-budget.xlsx")
def test_cells_inside_merged_ranges_are_refused(tmp_path: Path) -> None:
    src = REFERENCE / "simple-monthly-budget.xlsx"
    with pytest.raises(SheetError, match=r"F4 .* is inside merged cells E4:G5; only E4"):
        write_cells(src, tmp_path / "out.xlsx", sheet_names(src)[0], {(4, 5): "x"})
    assert not (tmp_path / "out.xlsx").exists()


def test_the_repositorys_workbooks_guard_formulas_tables_and_merged_cells(tmp_path: Path) -> None:
    """What the reference workbooks' own tests check, on tests/workbooks.py's workbook: a shared
    formula's master and a table's column names are refused, a merged range's covered cells
    too; a cell that shares the formula becomes text and leaves the calculation chain."""
    src = workbook("fixture-everything.xlsx")
    sheet = sheet_names(src)[0]
    dst = tmp_path / "out.xlsx"
    with pytest.raises(SheetError, match=r"F4 .* is inside merged cells E4:G5; only E4"):
        write_cells(src, dst, sheet, {(4, 5): "x"})
    with pytest.raises(SheetError, match=r"B2 .* is a column name of table 'tblCosts'"):
        write_cells(src, dst, sheet, {(2, 1): "Renamed"})
    with pytest.raises(SheetError, match=r"C11 .* holds the formula that cells C11:C12 share"):
        write_cells(src, dst, sheet, {(11, 2): "x"})
    assert not dst.exists()
    write_cells(src, dst, sheet, {(12, 2): "text now", (7, 2): "no sum"}, replace_formulas=True)
    before, after = openpyxl_values(src), openpyxl_values(dst)
    assert after.pop((sheet, 12, 2)) == "text now" and after.pop((sheet, 7, 2)) == "no sum"
    before.pop((sheet, 12, 2))
    before.pop((sheet, 7, 2))
    assert after == before
    chain = calc_chain(dst)
    assert b'r="C12"' not in chain and b'r="C7"' not in chain and b'r="C11"' in chain


def test_chart_sheets_and_hidden_sheets_in_the_repositorys_workbook(tmp_path: Path) -> None:
    src = tmp_path / "sheets.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "Visible"
    wb.create_sheet("Hidden").sheet_state = "hidden"
    wb.create_sheet("VeryHidden").sheet_state = "veryHidden"
    wb.create_chartsheet("Chart")
    wb.save(src)
    assert sheet_names(src) == ["Visible", "Hidden", "VeryHidden"]
    with pytest.raises(SheetError, match=r"'Chart' .* is a chartsheet, not a worksheet"):
        read_grid(src, "Chart")


# ---------------------------------------------------------------------------------------------
# Workbooks made here.


@pytest.fixture
def kinds_book(tmp_path: Path) -> Path:
    path = tmp_path / "kinds.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Orders"
    ws.append(["Order ID", "Qty", "Price", "Date", "When", "Time", "OK", "Formula", "Error"])
    ws.append(
        [
            "112-1234567-1234567",
            3,
            19.99,
            dt.date(2024, 5, 1),
            dt.datetime(2024, 5, 1, 13, 45),
            dt.time(8, 30),
            True,
            "=B2*C2",
            "#N/A",
        ]
    )
    ws["A3"] = CellRichText("plain ", TextBlock(InlineFont(b=True), "bold"), " end")
    ws["B3"] = False
    ws["C3"] = 1234567890123
    ws["D3"] = -0.5
    ws["A5"] = "merged"
    ws.merge_cells("A5:C6")
    ws["A8"] = "   "  # whitespace only: a blank row
    ws["A9"] = 1
    ws["B9"] = "=SUM(A9:A10)"
    wb.save(path)
    return path


def test_read_grid_kinds(kinds_book: Path) -> None:
    grid = read_grid(kinds_book, "Orders")
    assert grid.name == "Orders"
    rows = {row.number: row for row in grid.rows}
    assert sorted(rows) == [1, 2, 3, 5, 6, 9]
    got = [(c.kind, c.text) for c in rows[2].cells]
    assert got == [
        (CellKind.TEXT, "112-1234567-1234567"),
        (CellKind.NUMBER, "3"),
        (CellKind.NUMBER, "19.99"),
        (CellKind.DATE, "2024-05-01"),
        (CellKind.DATE, "2024-05-01T13:45:00"),
        (CellKind.DATE, "08:30:00"),
        (CellKind.BOOL, "TRUE"),
        (CellKind.FORMULA, "=B2*C2"),
        (CellKind.ERROR, "#N/A"),
    ]
    assert [(c.kind, c.text) for c in rows[3].cells] == [
        (CellKind.TEXT, "plain bold end"),
        (CellKind.BOOL, "FALSE"),
        (CellKind.NUMBER, "1234567890123"),
        (CellKind.NUMBER, "-0.5"),
    ]
    assert [c.merged_into for c in rows[5].cells] == ["", "A5", "A5"]
    assert [c.merged_into for c in rows[6].cells] == ["A5", "A5", "A5"]
    assert rows[6].blank and rows[5].cells[0].text == "merged"
    assert (rows[9].cells[1].kind, rows[9].cells[1].text) == (CellKind.FORMULA, "=SUM(A9:A10)")


def test_shared_formulas_read_as_excel_shows_them(tmp_path: Path) -> None:
    path = tmp_path / "shared.xlsx"
    sheet = (
        b'<sheetData><row r="1"><c r="A1"><v>1</v></c><c r="B1"><f t="shared" ref="B1:B3" si="0">'
        b'A1*2</f><v>2</v></c></row><row r="2"><c r="A2"><v>2</v></c><c r="B2"><f t="shared" si="0"/>'
        b'<v>4</v></c></row><row r="3"><c r="B3"><f t="shared" si="0"/><v>0</v></c></row></sheetData>'
    )
    handmade(path, sheet)
    grid = grid_texts(read_grid(path, "Sheet"))
    assert [grid[(r, 1)][:2] for r in (1, 2, 3)] == [
        (CellKind.FORMULA, "=A1*2"),
        (CellKind.FORMULA, "=A2*2"),
        (CellKind.FORMULA, "=A3*2"),
    ]


TRICKY = [
    "<b>bold</b> & 'single' \"double\"",
    "  leading and trailing  ",
    "line one\nline two",
    "carriage\r\nreturn",
    "tab\there",
    "Grüße aus Köln, 東京, Ελλάδα, emoji 🚚📦",
    "]]> and <![CDATA[ and &amp; and &#13;",
    "=not a formula",
    "'quoted already",
    " ",
]


def test_values_are_escaped_and_read_back_exactly(tmp_path: Path) -> None:
    src, dst = tmp_path / "in.xlsx", tmp_path / "out.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "S"
    wb.active["A1"] = "header"
    wb.save(src)
    special = ["_x0041_ stays as typed", "bell \x07 and null \x00"]
    cells = {(i + 1, 1): value for i, value in enumerate(TRICKY + special)}
    write_cells(src, dst, "S", cells)
    ws = load(dst)["S"]
    for (row, col), value in cells.items():
        if value in TRICKY:  # openpyxl does not decode OOXML's _xHHHH_ escapes
            assert ws.cell(row, col + 1).value == value
    rows = {row.number: row for row in read_grid(dst, "S").rows}
    for (row, col), value in cells.items():
        if value.strip():
            assert rows[row].cells[col].text == value
    with zipfile.ZipFile(dst) as z:
        xml = z.read("xl/worksheets/sheet1.xml")
    assert b"_x005F_x0041_ stays" in xml and b"bell _x0007_ and null _x0000_" in xml
    assert b"carriage&#13;\nreturn" in xml
    assert b'<t xml:space="preserve">  leading and trailing  </t>' in xml
    etree.fromstring(xml)  # well-formed XML


def test_new_cells_take_the_row_or_column_format(tmp_path: Path) -> None:
    path = tmp_path / "styled.xlsx"
    handmade(
        path,
        b'<cols><col min="3" max="4" width="12" style="2" customWidth="1"/></cols>'
        b'<sheetData><row r="1" spans="1:1" s="1" customFormat="1"><c r="A1" s="1" t="inlineStr">'
        b'<is><t>head</t></is></c></row><row r="2" spans="1:1"><c r="A2"><v>5</v></c></row>'
        b"</sheetData>",
        styles=3,
    )
    dst = tmp_path / "out.xlsx"
    write_cells(
        path,
        dst,
        "Sheet",
        {(1, 3): "row style", (2, 2): "col style", (2, 5): "none", (4, 3): "new"},
    )
    with zipfile.ZipFile(dst) as z:
        xml = z.read("xl/worksheets/sheet1.xml")
    assert b'<c r="D1" s="1" t="inlineStr">' in xml
    assert b'<c r="C2" s="2" t="inlineStr">' in xml
    assert b'<c r="F2" t="inlineStr">' in xml
    assert b'<row r="4" spans="4:4"><c r="D4" s="2" t="inlineStr">' in xml
    assert b'<row r="1" spans="1:4" s="1" customFormat="1">' in xml
    assert b'<row r="2" spans="1:6">' in xml
    assert b'<dimension ref="A1:F4"/>' in xml
    assert_in_order(xml)


def test_rows_and_cells_without_r_and_with_a_prefix(tmp_path: Path) -> None:
    path = tmp_path / "prefixed.xlsx"
    sheet = (
        b'<x:sheetData><x:row><x:c t="inlineStr"><x:is><x:t>a</x:t></x:is></x:c><x:c><x:v>2</x:v>'
        b'</x:c></x:row><x:row r="3"><x:c r="B3"><x:v>7</x:v></x:c></x:row></x:sheetData>'
    )
    handmade(path, sheet, prefix="x")
    assert [(r.number, [c.text for c in r.cells]) for r in read_grid(path, "Sheet").rows] == [
        (1, ["a", "2"]),
        (3, ["", "7"]),
    ]
    dst = tmp_path / "out.xlsx"
    write_cells(path, dst, "Sheet", {(1, 0): "A", (2, 1): "new", (3, 0): "before B3", (3, 3): "D3"})
    assert [(r.number, [c.text for c in r.cells]) for r in read_grid(dst, "Sheet").rows] == [
        (1, ["A", "2"]),
        (2, ["", "new"]),
        (3, ["before B3", "7", "", "D3"]),
    ]
    ws = load(dst)["Sheet"]
    assert [ws["A1"].value, ws["B1"].value, ws["B2"].value, ws["A3"].value] == [
        "A",
        2,
        "new",
        "before B3",
    ]
    with zipfile.ZipFile(dst) as z:
        xml = z.read("xl/worksheets/sheet1.xml")
    assert b'<x:c r="B1"><x:v>2</x:v></x:c>' in xml  # given the r= its place implied
    assert b"<row" not in xml and b"<c " not in xml


def test_pretty_printed_xml(tmp_path: Path) -> None:
    path, dst = tmp_path / "pretty.xlsx", tmp_path / "out.xlsx"
    sheet = (
        b'<sheetData>\n  <row r="1">\n    <c r="A1" t="inlineStr">\n      <is><t>a</t></is>\n    </c>\n'
        b"    <c r='B1' t='b'>\n      <v>1</v>\n    </c>\n  </row>\n  <row r=\"3\">\n"
        b'    <c r="A3">\n      <v>3.5</v>\n    </c>\n  </row>\n</sheetData>\n'
    )
    handmade(path, sheet)
    texts = [(r.number, [(c.kind, c.text) for c in r.cells]) for r in read_grid(path, "Sheet").rows]
    assert texts == [
        (1, [(CellKind.TEXT, "a"), (CellKind.BOOL, "TRUE")]),
        (3, [(CellKind.NUMBER, "3.5")]),
    ]
    write_cells(path, dst, "Sheet", {(1, 1): "was TRUE", (1, 2): "C1", (2, 0): "A2", (3, 0): "A3"})
    rows = {r.number: [c.text for c in r.cells] for r in read_grid(dst, "Sheet").rows}
    assert rows == {1: ["a", "was TRUE", "C1"], 2: ["A2"], 3: ["A3"]}
    ws = load(dst)["Sheet"]
    assert [ws["A1"].value, ws["B1"].value, ws["C1"].value, ws["A3"].value] == [
        "a",
        "was TRUE",
        "C1",
        "A3",
    ]
    with zipfile.ZipFile(dst) as z:
        xml = z.read("xl/worksheets/sheet1.xml")
    assert_in_order(xml)
    assert b'</row>\n  <row r="3">\n' in xml  # the layout around untouched rows is kept


class Unseekable(io.RawIOBase):
    """A write-only stream: zipfile then writes data descriptors (flag bit 3), as streaming
    writers do."""

    def __init__(self) -> None:
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        self.data += bytes(b)
        return len(b)


def test_members_with_data_descriptors_are_copied(tmp_path: Path, kinds_book: Path) -> None:
    stream = Unseekable()
    with (
        zipfile.ZipFile(kinds_book) as src,
        zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as z,
    ):
        for info in src.infolist():
            z.writestr(info.filename, src.read(info))
    streamed, dst = tmp_path / "streamed.xlsx", tmp_path / "out.xlsx"
    streamed.write_bytes(bytes(stream.data))
    assert all(i.flag_bits & 0x8 for i in zipfile.ZipFile(streamed).infolist())
    write_cells(streamed, dst, "Orders", {(2, 12): "written"})
    with zipfile.ZipFile(streamed) as a, zipfile.ZipFile(dst) as b:
        assert b.testzip() is None
        for info in a.infolist():
            assert a.read(info) == b.read(info.filename) or info.filename.endswith("sheet1.xml")
    assert load(dst)["Orders"]["M2"].value == "written"


def test_refusals_leave_no_file(tmp_path: Path, kinds_book: Path) -> None:
    dst = tmp_path / "out.xlsx"
    with pytest.raises(SheetError, match="outside Excel's grid"):
        write_cells(kinds_book, dst, "Orders", {(0, 1): "x"})
    with pytest.raises(SheetError, match="has 32768 characters; a cell holds 32767"):
        write_cells(kinds_book, dst, "Orders", {(1, 1): "x" * 32768})
    with pytest.raises(SheetError, match=r"cannot write .* over itself"):
        write_cells(kinds_book, kinds_book, "Orders", {(1, 20): "x"})
    with pytest.raises(SheetError, match=r"B6 .* is inside merged cells A5:C6"):
        write_cells(kinds_book, dst, "Orders", {(6, 1): "x"})
    assert not dst.exists()
    not_zip = tmp_path / "fake.xlsx"
    not_zip.write_text("hello")
    with pytest.raises(SheetError, match=r"not an .xlsx/.xlsm workbook"):
        read_grid(not_zip, "Orders")
    with pytest.raises(SheetError, match="does not exist"):
        sheet_names(tmp_path / "missing.xlsx")


def test_an_empty_write_copies_the_file(tmp_path: Path, kinds_book: Path) -> None:
    dst = tmp_path / "out.xlsx"
    write_cells(kinds_book, dst, "Orders", {})
    with zipfile.ZipFile(kinds_book) as a, zipfile.ZipFile(dst) as b:
        assert [(i.filename, i.CRC) for i in a.infolist()] == [
            (i.filename, i.CRC) for i in b.infolist()
        ]


def test_large_sheet_round_trip(tmp_path: Path) -> None:
    """Rows longer than the stream's read window and many rows: nothing lost at the seams."""
    src, dst = tmp_path / "big.xlsx", tmp_path / "out.xlsx"
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("Big")
    ws.append(["wide " * 6000] * 40)  # one row of 1.2 MB, more than the stream reads at once
    for i in range(3000):
        ws.append([f"id-{i}", i, "x" * (i % 50)])
    wb.save(src)
    cells = {(r, 3): f"status {r}" for r in range(1, 3002, 7)}
    write_cells(src, dst, "Big", cells)
    rows = {row.number: row for row in read_grid(dst, "Big").rows}
    assert [c.text for c in rows[1].cells] == ["wide " * 6000] * 3 + ["status 1"] + [
        "wide " * 6000
    ] * 36
    assert all(rows[r].cells[3].text == v for (r, _), v in cells.items())
    assert rows[3001].cells[:2] == read_grid(src, "Big").rows[-1].cells[:2]


# ---------------------------------------------------------------------------------------------
# A minimal workbook written by hand, for forms openpyxl does not write.


def handmade(
    path: Path, sheet_data: bytes, prefix: str = "", styles: int = 1, bom: bool = False
) -> None:
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    p = f"{prefix}:" if prefix else ""
    ns = f'xmlns:{prefix}="{main}"' if prefix else f'xmlns="{main}"'
    sheet = (b"\xef\xbb\xbf" if bom else b"") + (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<{p}worksheet {ns}>'
        f'<{p}dimension ref="A1:B3"/>'.encode()
        + sheet_data
        + f"</{p}worksheet>".encode()
    )
    xfs = "".join('<xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>' for _ in range(styles))
    parts = {
        "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        "</Types>",
        "_rels/.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>",
        "xl/workbook.xml": f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{main}" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheets><sheet name="Sheet" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
        "</Relationships>",
        "xl/styles.xml": f'<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="{main}">'
        '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
        '<borders count="1"><border/></borders>'
        f'<cellXfs count="{styles}">{xfs}</cellXfs></styleSheet>',
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in parts.items():
            z.writestr(name, text)
        z.writestr("xl/worksheets/sheet1.xml", sheet)


# ---------------------------------------------------------------------------------------------
# Worksheet parts from the wild: BOM, CDATA, rows out of order or repeated, formulas


def sheet_xml(path: Path) -> bytes:
    with zipfile.ZipFile(path) as z:
        return z.read("xl/worksheets/sheet1.xml")


def test_a_byte_order_mark_of_the_worksheet_part_is_kept(tmp_path: Path) -> None:
    path, dst = tmp_path / "bom.xlsx", tmp_path / "out.xlsx"
    handmade(path, b'<sheetData><row r="1"><c r="A1"><v>1</v></c></row></sheetData>', bom=True)
    before = sheet_xml(path)
    assert before.startswith(b"\xef\xbb\xbf<?xml")
    write_cells(path, dst, "Sheet", {(1, 1): "new"})
    after = sheet_xml(dst)
    assert after.startswith(b"\xef\xbb\xbf<?xml")
    cell = b'<c r="B1" t="inlineStr"><is><t xml:space="preserve">new</t></is></c>'
    assert after.replace(cell, b"") == before  # every other byte kept
    assert [c.text for c in read_grid(dst, "Sheet").rows[0].cells] == ["1", "new"]


def test_cdata_in_inline_strings_is_read_and_written(tmp_path: Path) -> None:
    path, dst = tmp_path / "cdata.xlsx", tmp_path / "out.xlsx"
    handmade(
        path,
        b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t><![CDATA[Order ID]]></t></is></c>'
        b'<c r="B1" t="inlineStr"><is><t><![CDATA[a < b & </row> "c"]]></t></is></c></row>'
        b'<row r="2"><c r="A2"><v>2</v></c></row></sheetData>',
    )
    rows = read_grid(path, "Sheet").rows
    assert [c.text for c in rows[0].cells] == ["Order ID", 'a < b & </row> "c"']
    write_cells(path, dst, "Sheet", {(1, 2): "Status", (2, 2): "READY"})
    rows = read_grid(dst, "Sheet").rows
    assert [c.text for c in rows[0].cells] == ["Order ID", 'a < b & </row> "c"', "Status"]
    assert [c.text for c in rows[1].cells] == ["2", "", "READY"]
    ws = load(dst)["Sheet"]
    assert [ws["A1"].value, ws["B1"].value, ws["C2"].value] == [
        "Order ID",
        'a < b & </row> "c"',
        "READY",
    ]


def test_an_xml_comment_in_a_row_is_still_refused(tmp_path: Path) -> None:
    path = tmp_path / "comment.xlsx"
    handmade(path, b'<sheetData><row r="1"><!-- x --><c r="A1"><v>1</v></c></row></sheetData>')
    with pytest.raises(SheetError, match="XML comments in rows"):
        read_grid(path, "Sheet")


def test_one_row_element_per_cell_and_rows_out_of_order_are_read_and_written(
    tmp_path: Path,
) -> None:
    path, dst = tmp_path / "generated.xlsx", tmp_path / "out.xlsx"
    handmade(
        path,
        b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>Order ID</t></is></c></row>'
        b'<row r="1"><c r="B1" t="inlineStr"><is><t>Reason</t></is></c></row>'
        b'<row r="3"><c r="A3"><v>3</v></c></row>'
        b'<row r="2"><c r="A2"><v>2</v></c></row>'
        b'<row r="2"><c r="B2"><v>22</v></c></row></sheetData>',
    )
    rows = {r.number: [c.text for c in r.cells] for r in read_grid(path, "Sheet").rows}
    assert rows == {1: ["Order ID", "Reason"], 2: ["2", "22"], 3: ["3"]}
    write_cells(
        path, dst, "Sheet", {(1, 2): "Status", (2, 1): "was 22", (2, 2): "x", (5, 0): "new"}
    )
    rows = {r.number: [c.text for c in r.cells] for r in read_grid(dst, "Sheet").rows}
    assert rows == {
        1: ["Order ID", "Reason", "Status"],
        2: ["2", "was 22", "x"],
        3: ["3"],
        5: ["new"],
    }
    xml = sheet_xml(dst)
    # every element stays where it was; B2 is rewritten in the element that held it
    assert xml.index(b'<row r="3">') < xml.index(b'<c r="A2">') < xml.index(b'<c r="B2"')
    assert xml.count(b'<c r="B2"') == 1


def test_a_plain_formula_is_refused_unless_asked(tmp_path: Path) -> None:
    src = tmp_path / "formula.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "S"
    ws.append(["Order ID", "Result"])
    ws.append(["112-0000001-0000001", "=1+1"])
    wb.save(src)
    with pytest.raises(SheetError) as e:
        write_cells(src, tmp_path / "out.xlsx", "S", {(2, 1): "READY"})
    assert str(e.value) == (
        "B2 in formula.xlsx: xl/worksheets/sheet1.xml holds a formula, which a result would "
        "replace; move the formula out of that column (or clear the cell) and run again"
    )
    assert not (tmp_path / "out.xlsx").exists()
    write_cells(src, tmp_path / "out.xlsx", "S", {(2, 1): "READY"}, replace_formulas=True)
    assert load(tmp_path / "out.xlsx")["S"]["B2"].value == "READY"
