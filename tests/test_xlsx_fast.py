"""The fast paths of bulk.sheets.xlsx against the general ones they stand in for.

The reader scans many rows at once when a part holds only rows and cells as Excel and openpyxl
write them; anything else goes to the row-by-row reader. These tests hold the two to the same
grid on every workbook the fidelity tests use, and check that each unusual row is handed over.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pytest
import workbooks
from test_xlsx import REFERENCE_WORKBOOKS, handmade

from bulk.errors import SheetError
from bulk.grid import Grid
from bulk.sheets.xlsx import _read, read_grid, sheet_names

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
