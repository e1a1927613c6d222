"""The fast paths of bulk.sheets.xlsx against the general ones they stand in for.

The reader scans many rows at once when a part holds only rows and cells as Excel and openpyxl
write them; anything else goes to the row-by-row reader. These tests hold the two to the same
grid on every workbook the fidelity tests use, and check that each unusual row is handed over.
"""

from __future__ import annotations

import gc
import re
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import workbooks
from test_xlsx import REFERENCE_WORKBOOKS, handmade, planned_cells

from bulk.columns import RESULT_COLUMNS
from bulk.errors import SheetError
from bulk.grid import Grid, Header
from bulk.sheets import excel
from bulk.sheets.base import RowUpdate
from bulk.sheets.plan import place_updates, plan_write
from bulk.sheets.xlsx import (
    _edit,
    _read,
    _rewrite,
    _scan,
    _zipcopy,
    read_grid,
    sheet_names,
    write_rows,
)

ALL_WORKBOOKS = [*workbooks.FEATURES, *(p.name for p in REFERENCE_WORKBOOKS)]


def _path(name: str) -> Path:
    return workbooks.built().get(name) or next(p for p in REFERENCE_WORKBOOKS if p.name == name)


def _outcome(path: Path, sheet: str, fast: bool) -> Any:
    try:
        return read_grid(path, sheet, fast=fast)
    except SheetError as e:
        return f"SheetError: {e}"


@pytest.mark.parametrize("name", ALL_WORKBOOKS)
def test_the_scanner_reads_every_workbook_as_the_row_by_row_reader_does(name: str) -> None:
    path = _path(name)
    for sheet in sheet_names(path):
        assert _outcome(path, sheet, True) == _outcome(path, sheet, False), (name, sheet)


def _texts(grid: Grid) -> dict[int, list[str]]:
    return {r.number: [c.text for c in r.cells] for r in grid.rows}


@pytest.fixture
def row_by_row(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the parts handed to the row-by-row reader."""
    calls: list[int] = []
    original = _read._each_row

    def counted(*args: Any) -> Any:
        calls.append(1)
        return original(*args)

    monkeypatch.setattr(_read, "_each_row", counted)
    return calls


def test_a_sheet_openpyxl_wrote_is_scanned_without_the_row_by_row_reader(
    tmp_path: Path, row_by_row: list[int]
) -> None:
    path = tmp_path / "plain.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "S"
    ws.append(["Order ID", "Reason", "", "Qty", "When"])
    for n in range(1, 40):
        ws.append([f"112-0000000-{n:07d}", "Out of stock", None, n, "=1+1" if n == 5 else "x"])
    ws.row_dimensions[7].hidden = True
    wb.save(path)
    grid = read_grid(path, "S")
    assert row_by_row == []
    assert grid == read_grid(path, "S", fast=False)
    assert _texts(grid)[6] == ["112-0000000-0000005", "Out of stock", "", "5", "=1+1"]
    assert [r.number for r in grid.rows if r.hidden] == [7]


# Rows the scanner does not take: each is handed to the row-by-row reader, which reads the
# cell that a scanner skipping it would lose.
UNUSUAL = {
    "attributes in another order": (
        b'<c s="0" r="B2" t="inlineStr"><is><t>late</t></is></c>',
        ["2", "late"],
    ),
    "a cell without r=": (b"<c><v>7</v></c>", ["2", "7"]),
    "single quotes": (b"<c r='B2' t='inlineStr'><is><t>late</t></is></c>", ["2", "late"]),
    "lower-case column letters": (b'<c r="b2"><v>7</v></c>', ["2", "7"]),
    "CDATA": (b'<c r="B2" t="inlineStr"><is><t><![CDATA[a<b]]></t></is></c>', ["2", "a<b"]),
}


@pytest.mark.parametrize("case", UNUSUAL)
def test_a_row_the_scanner_does_not_know_goes_to_the_row_by_row_reader(
    tmp_path: Path, case: str, row_by_row: list[int]
) -> None:
    cell, expected = UNUSUAL[case]
    path = tmp_path / "unusual.xlsx"
    handmade(
        path,
        b'<sheetData><row r="1"><c r="A1"><v>1</v></c></row>'
        b'<row r="2"><c r="A2"><v>2</v></c>' + cell + b"</row>"
        b'<row r="3"><c r="A3"><v>3</v></c></row></sheetData>',
    )
    grid = read_grid(path, "Sheet")
    assert row_by_row == [1]
    assert _texts(grid) == {1: ["1"], 2: expected, 3: ["3"]}
    assert grid == read_grid(path, "Sheet", fast=False)


def test_a_row_without_a_number_takes_the_one_after_the_row_before(
    tmp_path: Path, row_by_row: list[int]
) -> None:
    path = tmp_path / "numberless.xlsx"
    handmade(
        path,
        b'<sheetData><row r="4"><c r="A4"><v>4</v></c></row>'
        b'<row><c r="A5"><v>5</v></c></row></sheetData>',
    )
    assert _texts(read_grid(path, "Sheet")) == {4: ["4"], 5: ["5"]}
    assert row_by_row == [1]


def test_whitespace_empty_rows_hidden_rows_and_repeated_rows_are_scanned(
    tmp_path: Path, row_by_row: list[int]
) -> None:
    path = tmp_path / "pretty.xlsx"
    handmade(
        path,
        b'<sheetData>\n  <row r="1" spans="1:2">\n    <c r="A1" t="inlineStr"><is><t>a</t></is>'
        b'</c>\n    <c r="C1"><v>3</v></c>\n  </row>\n  <row r="2" hidden="1"/>\n'
        b'  <row r="3" hidden="true"><c r="A3" s="0"><v>1.5</v></c></row>\n'
        b'  <row r="3"><c r="B3" x="a>b"><v>2</v></c></row>\n'
        b'  <row r="4"><c r="A4" t="inlineStr"><is><t xml:space="preserve"> </t></is></c>'
        b'<c r="B4"/></row>\n</sheetData>',
    )
    grid = read_grid(path, "Sheet")
    assert row_by_row == []
    assert _texts(grid) == {1: ["a", "", "3"], 3: ["1.5", "2"]}
    assert [r.number for r in grid.rows if r.hidden] == [3]
    assert grid == read_grid(path, "Sheet", fast=False)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'<row r="1"><c r="A1"><v>1</v></c></row>oops<row r="2"/>', "text between rows"),
        (b'<row r="1"><c r="A1"><v>1</v></c><!-- x --></row>', "XML comments in rows"),
        (b'<row r="1"><c r="A1"><v>1</v></c>', "ends inside <sheetData>|never closed"),
        (b'<row r="0"><c r="A1"><v>1</v></c></row>', "outside Excel's grid"),
    ],
)
def test_a_damaged_part_is_refused_as_the_row_by_row_reader_refuses_it(
    tmp_path: Path, data: bytes, message: str
) -> None:
    path = tmp_path / "damaged.xlsx"
    handmade(path, b"<sheetData>" + data + b"</sheetData>")
    with pytest.raises(SheetError, match=message):
        read_grid(path, "Sheet")


# ---------------------------------------------------------------------------------------------
# The writer: rows as Excel and openpyxl write them get their new cells many rows at once.


@pytest.fixture
def row_by_row_writer(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Call it to make every write go row by row (_each_row), as for a part the many-rows
    writer does not take."""

    def refuse(*args: Any) -> Any:
        raise _edit._NotPlain
        yield b""  # a generator, as plain_rows is

    return lambda: monkeypatch.setattr(_edit._RowWriter, "plain_rows", refuse)


def _written(src: Path, dst: Path, sheet: str, rows: dict[int, dict[int, str]]) -> Any:
    try:
        write_rows(src, dst, sheet, rows)
    except SheetError as e:
        return f"SheetError: {e}"
    with zipfile.ZipFile(dst) as z:
        return {i.filename: z.read(i) for i in z.infolist()}


def _result_columns(path: Path, sheet: str) -> dict[int, dict[int, str]]:
    """What a run writes: a result column or two past the used range on every row, the first
    row its header, one value empty; and the cells test_xlsx.py's fidelity tests write."""
    grid = read_grid(path, sheet)
    width = max((len(r.cells) for r in grid.rows), default=0)
    numbers = [r.number for r in grid.rows] or [1]
    rows: dict[int, dict[int, str]] = {numbers[0]: {width: "Status", width + 2: "Message"}}
    for n in numbers[1:]:
        rows[n] = {width: "READY", width + 2: f"row {n} <&> _x0041_ \r\n" if n % 3 else ""}
    rows.setdefault(numbers[-1] + 2, {})[0] = "a row below"
    return rows


@pytest.mark.parametrize("name", ALL_WORKBOOKS)
def test_the_many_rows_writer_writes_every_workbook_as_the_row_by_row_writer_does(
    name: str, tmp_path: Path, row_by_row_writer: Callable[[], None]
) -> None:
    path = _path(name)
    plans = {s: _result_columns(path, s) for s in sheet_names(path)}
    first = sheet_names(path)[0]
    fidelity = planned_cells(path, first)
    fast = {
        s: _written(path, tmp_path / f"fast-{i}.xlsx", s, p)
        for i, (s, p) in enumerate(plans.items())
    }
    fast["fidelity"] = _written(path, tmp_path / "fast.xlsx", first, _by_row(fidelity))
    row_by_row_writer()
    for i, (sheet, plan) in enumerate(plans.items()):
        assert _written(path, tmp_path / f"slow-{i}.xlsx", sheet, plan) == fast[sheet], sheet
    assert _written(path, tmp_path / "slow.xlsx", first, _by_row(fidelity)) == fast["fidelity"]


def _by_row(cells: dict[tuple[int, int], str]) -> dict[int, dict[int, str]]:
    rows: dict[int, dict[int, str]] = {}
    for (row, col), value in cells.items():
        rows.setdefault(row, {})[col] = value
    return rows


# Rows plain_edit hands to edited_row, each with what only edited_row gets right.
HANDED_OVER = {
    # new cells take the row's format
    "a row format": (b'<row r="2" s="1" customFormat="1"><c r="A2"><v>2</v></c></row>', b' s="1"'),
    # a cell right of the new one: the new cell goes before it
    "a cell further right": (
        b'<row r="2"><c r="A2"><v>2</v></c><c r="F2"><v>6</v></c></row>',
        b'<c r="C2" t="inlineStr"><is><t xml:space="preserve">new</t></is></c><c r="F2">',
    ),
    # extLst stays the row's last child
    "an extLst": (
        b'<row r="2"><c r="A2"><v>2</v></c><extLst><ext uri="x"/></extLst></row>',
        b"new</t></is></c><extLst>",
    ),
    # a cell whose body holds <color>: its column is read by edited_row
    "a rich text last cell": (
        b'<row r="2"><c r="A2" t="inlineStr"><is><r><rPr><color rgb="FFFF0000"/></rPr>'
        b"<t>2</t></r></is></c></row>",
        b'</c><c r="C2" t="inlineStr">',
    ),
    # spans of another form are widened by edited_row
    "spans with two ranges": (
        b'<row r="2" spans="1:1 2:2"><c r="A2"><v>2</v></c></row>',
        b'<row r="2" spans="1:3">',
    ),
    "a space before >": (b'<row r="2" ><c r="A2"><v>2</v></c></row>', b'<row r="2">'),
    # the last cell has r= after another attribute: the new value replaces it
    "r= not first in the last cell": (
        b'<row r="2"><c r="A2"><v>2</v></c><c s="0" r="C2"><v>9</v></c></row>',
        b'<c r="A2"><v>2</v></c><c r="C2" t="inlineStr"><is><t xml:space="preserve">new</t>'
        b"</is></c></row>",
    ),
}


@pytest.mark.parametrize("case", HANDED_OVER)
def test_a_row_the_many_rows_writer_does_not_know_is_written_by_edited_row(
    tmp_path: Path, case: str, row_by_row_writer: Callable[[], None]
) -> None:
    row, expected = HANDED_OVER[case]
    path = tmp_path / "handed.xlsx"
    handmade(
        path,
        b'<sheetData><row r="1" spans="1:1"><c r="A1"><v>1</v></c></row>'
        + row
        + b'<row r="3"><c r="A3"><v>3</v></c></row></sheetData>',
        styles=2,
    )
    rows = {1: {2: "Status"}, 2: {2: "new"}, 3: {2: "x"}}
    fast = _written(path, tmp_path / "fast.xlsx", "Sheet", rows)
    xml = fast["xl/worksheets/sheet1.xml"]
    assert expected in xml, xml
    assert b'<row r="1" spans="1:3">' in xml
    row_by_row_writer()
    assert _written(path, tmp_path / "slow.xlsx", "Sheet", rows) == fast


@pytest.mark.parametrize(
    "data",
    [
        b'<row r="1"><c r="A1" t="inlineStr"><is><t><![CDATA[</row>]]></t></is></c></row>',
        b'<row r="1"/><row r="2"><c r="A2"><v>2</v></c></row>',
        b'<row r="2"><c r="A2"><v>2</v></c></row><row r="1"><c r="A1"><v>1</v></c></row>',
        b'<row spans="1:1"><c r="A1"><v>1</v></c></row>',
        b'\n <row r="1"><c r="A1"><v>1</v></c></row>\n <row r="2"/>\n',
        # CDATA is written as escaped text by edited_row
        b'<row r="1"><c r="A1" t="inlineStr"><is><t><![CDATA[a<b]]></t></is></c></row>',
    ],
)
def test_a_part_the_many_rows_writer_does_not_know_is_written_row_by_row(
    tmp_path: Path, data: bytes, row_by_row_writer: Callable[[], None]
) -> None:
    path = tmp_path / "odd.xlsx"
    handmade(path, b"<sheetData>" + data + b"</sheetData>")
    rows = {1: {3: "Status"}, 2: {3: "READY"}, 4: {0: "new"}}
    fast = _written(path, tmp_path / "fast.xlsx", "Sheet", rows)
    texts = _texts(read_grid(tmp_path / "fast.xlsx", "Sheet"))
    assert [texts[1][3], texts[2][3], texts[4][0]] == ["Status", "READY", "new"]
    row_by_row_writer()
    assert _written(path, tmp_path / "slow.xlsx", "Sheet", rows) == fast


def test_rows_openpyxl_and_excel_wrote_get_their_cells_without_edited_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "plain.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "S"
    ws.append(["Order ID", "Reason"])
    for n in range(1, 30):
        ws.append([f"112-0000000-{n:07d}", "Out of stock"])
    wb.save(path)
    excel = tmp_path / "excel.xlsx"  # with spans and x14ac:dyDescent, as Excel writes rows
    with zipfile.ZipFile(path) as z, zipfile.ZipFile(excel, "w") as out:
        for info in z.infolist():
            data = z.read(info)
            if info.filename.endswith("sheet1.xml"):
                data = re.sub(
                    rb'<row r="(\d+)"', rb'<row r="\1" spans="1:2" x14ac:dyDescent="0.25"', data
                )
                data = data.replace(b"<worksheet ", b'<worksheet xmlns:x14ac="urn:x14ac" ', 1)
            out.writestr(info, data)

    def refuse(*args: Any) -> bytes:
        raise AssertionError("edited_row")

    monkeypatch.setattr(_edit._RowWriter, "edited_row", refuse)
    rows = {n: {3: f"READY {n}", 4: "é <b>"} for n in range(1, 31)}
    for src in (path, excel):
        write_rows(src, tmp_path / "out.xlsx", "S", rows)
        grid = read_grid(tmp_path / "out.xlsx", "S")
        assert [c.text for c in grid.rows[4].cells] == [
            "112-0000000-0000004",
            "Out of stock",
            "",
            "READY 5",
            "é <b>",
        ]
    assert b'<row r="5" spans="1:5" x14ac:dyDescent="0.25">' in zipfile.ZipFile(
        tmp_path / "out.xlsx"
    ).read("xl/worksheets/sheet1.xml")


def test_a_comment_in_a_row_written_to_is_refused_by_either_writer(
    tmp_path: Path, row_by_row_writer: Callable[[], None]
) -> None:
    path = tmp_path / "comment.xlsx"
    handmade(path, b'<sheetData><row r="1"><c r="A1"><v>1</v></c><!-- x --></row></sheetData>')
    for _ in range(2):
        with pytest.raises(SheetError, match="XML comments in rows"):
            write_rows(path, tmp_path / "out.xlsx", "Sheet", {1: {3: "Status"}})
        row_by_row_writer()


def test_the_header_row_new_cells_take_the_format_of_the_cell_asked_for(tmp_path: Path) -> None:
    path = tmp_path / "header.xlsx"
    handmade(
        path,
        b'<sheetData><row r="1"><c r="A1" s="1" t="inlineStr"><is><t>Order ID</t></is></c></row>'
        b'<row r="2"><c r="A2"><v>2</v></c></row></sheetData>',
        styles=2,
    )
    write_rows(path, tmp_path / "out.xlsx", "Sheet", {1: {1: "Status"}, 2: {1: "x"}}, {1: 0})
    xml = zipfile.ZipFile(tmp_path / "out.xlsx").read("xl/worksheets/sheet1.xml")
    assert b'<c r="B1" s="1" t="inlineStr">' in xml
    assert b'<c r="B2" t="inlineStr">' in xml


def _escape_by_pattern(value: str) -> bytes:
    """_escape as the patterns alone define it (before the check of its bytes)."""
    if _scan._PLAIN.fullmatch(value):
        return value.encode("utf-8")
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    value = value.replace("\r", "&#13;")
    value = _scan._NEEDS_OOXML_ESCAPE.sub(lambda m: f"_x{ord(m.group()):04X}_", value)
    return value.encode("utf-8")


def test_text_is_escaped_as_the_patterns_say_for_every_character() -> None:
    for code in [*range(0x3000), *range(0xD7F0, 0xE010), *range(0xFFC0, 0x10000), 0x1F69A]:
        for value in (chr(code), f"{'x' * 150}{chr(code)}_x00", f"a_x{code % 0x10000:04X}_"):
            assert _scan._escape(value) == _escape_by_pattern(value), hex(code)


def test_a_long_result_loses_the_characters_a_cell_cannot_hold() -> None:
    for code in range(0x20):
        long = "Hello," + chr(code) + "x" * 200 + "\u00e9\ud83d"
        expected = long if chr(code) in "\t\n\r" else long.replace(chr(code), "")
        assert excel._cell_text(long) == expected, code
    assert excel._cell_text("=" + "x" * 200) == "'=" + "x" * 200


# ---------------------------------------------------------------------------------------------
# The plan: shortcuts that must not change where anything goes.

A_ID, B_ID = "112-0000001-0000001", "112-0000002-0000002"


def test_an_order_id_written_in_another_case_or_with_spaces_is_still_in_place() -> None:
    placed, moved, missing = place_updates(
        [RowUpdate(2, f" {A_ID.lower()} ", {}), RowUpdate(3, B_ID, {})],
        {2: A_ID, 3: f"{B_ID}  "},
    )
    assert [row for row, _ in placed] == [2, 3]
    assert (moved, missing) == ([], [])


def test_an_order_that_moved_is_found_where_it_is_now() -> None:
    updates = [RowUpdate(3, A_ID, {}), RowUpdate(2, B_ID, {}), RowUpdate(4, "gone", {})]
    placed, moved, missing = place_updates(updates, {2: A_ID, 3: "x", 4: B_ID.lower()})
    assert [(row, u.order_id) for row, u in placed] == [(4, B_ID), (2, A_ID)]
    assert moved == [(B_ID, 2, 4), (A_ID, 3, 2)]
    assert missing == ["gone"]


def test_new_columns_come_in_the_order_the_updates_first_name_them() -> None:
    header = Header(1, {"Order ID": 0})
    updates = [
        RowUpdate(2, A_ID, {"Status": "READY", "Zeta": "z", "Alpha": "a"}),
        RowUpdate(3, B_ID, {"Beta": "b", "Status": "READY", "Zeta": "z2"}),
        RowUpdate(4, B_ID, {"Status": "READY", "Zeta": "z", "Alpha": "a"}),
    ]
    plan = plan_write(header, {2: A_ID, 3: B_ID, 4: B_ID}, 1, updates)
    names = list(plan.added.values())
    assert names[: len(RESULT_COLUMNS)] == list(RESULT_COLUMNS)
    assert names[len(RESULT_COLUMNS) :] == ["Zeta", "Alpha", "Beta"]
    zeta = plan.columns["Zeta"]
    assert (plan.rows[2][zeta], plan.rows[3][zeta], plan.rows[4][zeta]) == ("z", "z2", "z")


# ---------------------------------------------------------------------------------------------
# The cyclic garbage collector is held off while a sheet is read, planned and written.


def test_no_cycle_collection_runs_while_a_workbook_is_read_or_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "plain.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Order ID", "Reason", "Details"])
    for n in range(1, 200):
        ws.append([f"112-0000000-{n:07d}", "Out of stock", "gone"])
    wb.save(path)
    collecting: dict[str, bool] = {}

    def watched(module: Any, name: str) -> None:
        original = getattr(module, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            collecting[name] = gc.isenabled()
            return original(*args, **kwargs)

        monkeypatch.setattr(module, name, call)

    watched(_read, "_scan_rows")  # reading the rows
    watched(excel, "_plan")  # planning the write
    watched(_rewrite, "_check_rows")  # writing
    sheet = excel.ExcelSheet(path)
    sheet.read()
    sheet.write([RowUpdate(n + 1, f"112-0000000-{n:07d}", {"Status": "OK"}) for n in range(1, 200)])
    assert collecting == {"_scan_rows": False, "_plan": False, "_check_rows": False}
    assert gc.isenabled()
    collecting.clear()
    write_rows(path, tmp_path / "out.xlsx", "Sheet", {2: {5: "x"}})
    assert collecting == {"_check_rows": False}
    assert gc.isenabled()
    assert read_grid(path, "Sheet").rows[1].cells[-1].text == "OK"


# ---------------------------------------------------------------------------------------------
# Deflating a new part chunk by chunk.


def test_a_part_is_deflated_whole_and_in_order(tmp_path: Path) -> None:
    chunks = [bytes([n % 251]) * (n * 997) for n in range(1, 60)]
    with open(tmp_path / "scratch", "w+b") as scratch:
        scratch.write(b"before")
        made = _zipcopy._deflate(iter(chunks), scratch)
        scratch.seek(made.offset)
        data = scratch.read(made.compress_size)
    whole = b"".join(chunks)
    assert zlib.decompress(data, -15) == whole
    assert (made.crc, made.file_size, made.offset) == (zlib.crc32(whole), len(whole), 6)


def test_an_error_while_a_part_is_made_stops_its_deflating(tmp_path: Path) -> None:
    def chunks() -> Any:
        yield b"x" * 100_000
        yield b"y" * 100_000
        raise SheetError("damaged")

    with open(tmp_path / "scratch", "w+b") as scratch, pytest.raises(SheetError, match="damaged"):
        _zipcopy._deflate(chunks(), scratch)


@pytest.mark.parametrize("size", [7, 64, 1000])
def test_a_part_read_and_written_in_small_pieces_comes_out_the_same(
    tmp_path: Path,
    size: int,
    monkeypatch: pytest.MonkeyPatch,
    row_by_row_writer: Callable[[], None],
) -> None:
    """Pieces that end in every place a row can (the stream reads on to the next </row>)."""
    path = _path("fixture-everything.xlsx")
    sheet = sheet_names(path)[0]
    plan = _result_columns(path, sheet)
    whole = (read_grid(path, sheet), _written(path, tmp_path / "whole.xlsx", sheet, plan))
    monkeypatch.setattr(_read, "_SCANNED", size)
    monkeypatch.setattr(_edit, "_PIECE", size)
    handed: list[str] = []
    each_row, rewrite_each_row = _read._each_row, _rewrite._each_row
    monkeypatch.setattr(_read, "_each_row", lambda *a: handed.append("read") or each_row(*a))
    monkeypatch.setattr(
        _rewrite, "_each_row", lambda *a: handed.append("write") or rewrite_each_row(*a)
    )
    assert read_grid(path, sheet) == whole[0]
    assert _written(path, tmp_path / "small.xlsx", sheet, plan) == whole[1]
    assert handed == []  # the pieces were all taken by the fast paths
    row_by_row_writer()
    assert _written(path, tmp_path / "slow.xlsx", sheet, plan) == whole[1]


def test_shared_strings_read_straight_are_those_read_one_by_one(tmp_path: Path) -> None:
    items = [
        b"<si><t>plain</t></si>",
        b'<si><t xml:space="preserve"> spaced </t></si>',
        b"<si><t></t></si>",
        b"<si><t/></si>",
        b"<si/>",
        b"<si><t>a &amp; b &lt;c&gt;</t></si>",
        b"<si><t>_x0041_ and</t></si>",
        b"<si><t>line\r\nend</t></si>",
        b'<si><r><rPr><b/></rPr><t>bold</t></r><r><t xml:space="preserve"> then</t></r></si>',
        b'<si><t>\xe6\x97\xa5\xe6\x9c\xac</t><rPh sb="0" eb="1"><t>\xe3\x81\xab</t></rPh></si>',
        b'<si xml:lang="en"><t>with an attribute</t></si>',
    ]
    sst = (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        + b"".join(items)
        + b"</sst>"
    )
    path = tmp_path / "sst.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("xl/sharedStrings.xml", sst)
    with zipfile.ZipFile(path) as z:
        found = _read._shared_strings(z, "xl/sharedStrings.xml")
    pat = _scan._patterns(b"")
    one_by_one = [_read._shared_string(pat, m.group(2) or b"") for m in pat.si.finditer(sst)]
    assert found == one_by_one
    assert found[:3] == ["plain", " spaced ", ""]
    assert found[5:8] == ["a & b <c>", "A and", "line\nend"]
    assert found[8:] == ["bold then", "日本", "with an attribute"]
