"""The columns bulk adds to a team's own workbook read well (a width; Result, Customer Message
and Support Case wrapped), and nothing of the team's own look changes. Real .xlsx files,
written by bulk's lossless writer and read back with openpyxl."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import openpyxl
from openpyxl.styles import Font, PatternFill

from bulk.sheets.base import RowUpdate
from bulk.sheets.excel import ExcelSheet

ID1 = "112-0000001-0000001"
MESSAGE = "Hello,\n\nwe are sorry: your order was cancelled.\n\nKind regards,\nNorthwind"


def _team_sheet(path: Path, widths: dict[str, float]) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Team"
    ws.append(["Order ID", "Reason", "Details", "Notify"])
    ws.append([ID1, "Out of stock", "Supplier shipment of red mugs lost in transit", "Yes"])
    ws["C2"].font = Font(italic=True)
    ws["C2"].fill = PatternFill("solid", fgColor="FFFF00")
    for letter, width in widths.items():
        ws.column_dimensions[letter].width = width
    wb.save(path)
    return path


def _write(path: Path) -> None:
    sheet = ExcelSheet(path)
    sheet.read()
    sheet.write(
        [
            RowUpdate(
                2,
                ID1,
                {"Status": "READY", "Result": "ready " * 30, "Customer Message": MESSAGE},
            )
        ]
    )


def _cols(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as z:
        return re.findall(r"<col [^>]*/>", z.read("xl/worksheets/sheet1.xml").decode())


def test_added_columns_get_a_width_and_wrapped_text_and_the_teams_cells_stay(
    tmp_path: Path,
) -> None:
    path = _team_sheet(tmp_path / "team.xlsx", {"A": 25, "P": 5})
    _write(path)
    ws = openpyxl.load_workbook(path)["Team"]
    header = {c.value: c.column_letter for c in ws[1]}
    for name in ("Result", "Customer Message", "Support Case"):
        column = ws.column_dimensions[header[name]]
        assert column.width == 70 and column.alignment.wrap_text, name
    assert ws.column_dimensions[header["Status"]].width == 12
    assert not ws.column_dimensions[header["Status"]].alignment.wrap_text
    for name in ("Result", "Customer Message"):
        cell = ws[f"{header[name]}2"]
        assert cell.alignment.wrap_text and cell.alignment.vertical == "top", name
    assert ws[f"{header['Customer Message']}2"].value == MESSAGE
    # The team's own: the width of their column, the look of their cell, a column far right.
    assert ws.column_dimensions["A"].width == 25 and ws.column_dimensions["P"].width == 5
    assert ws["C2"].font.i and ws["C2"].fill.fgColor.rgb == "00FFFF00"
    assert not ws["C2"].alignment.wrap_text
    # <col>s in column order, once each: a second write adds none.
    before = _cols(path)
    starts = [int(re.search(r'min="(\d+)"', c).group(1)) for c in before]  # type: ignore[union-attr]
    assert starts == sorted(starts) and len(starts) == 2 + 8
    _write(path)
    assert _cols(path) == before


def test_a_sheet_with_no_column_widths_gets_them_for_the_added_columns(tmp_path: Path) -> None:
    path = _team_sheet(tmp_path / "team.xlsx", {})
    with zipfile.ZipFile(path) as z:
        assert "<cols>" not in z.read("xl/worksheets/sheet1.xml").decode()
    _write(path)
    ws = openpyxl.load_workbook(path)["Team"]
    header = {c.value: c.column_letter for c in ws[1]}
    assert ws.column_dimensions[header["Result"]].width == 70
    assert ws[f"{header['Result']}2"].alignment.wrap_text


def test_a_column_the_team_already_styled_keeps_its_look(tmp_path: Path) -> None:
    # One <col> for every column (as some programs write): bulk leaves their look alone.
    path = _team_sheet(tmp_path / "team.xlsx", {})
    wb = openpyxl.load_workbook(path)
    wb["Team"].column_dimensions.group("A", "Z", hidden=False)
    wb["Team"].column_dimensions["A"].width = 11
    wb.save(path)
    before = _cols(path)
    _write(path)
    assert _cols(path) == before
    ws = openpyxl.load_workbook(path)["Team"]
    assert ws["F2"].value and not ws["F2"].alignment.wrap_text
