"""bulk.commands.new: `bulk new` creates a blank order workbook that `bulk check` reads."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from bulk.columns import INPUT_COLUMNS, RESULT_COLUMNS, find_header
from bulk.commands.new import STATUS_COLOURS, create_order_sheet
from bulk.config import Config, PolicyConfig
from bulk.errors import SheetError
from bulk.models import Reason, Status
from bulk.rules.rows import parse_rows
from bulk.sheets.base import RowUpdate
from bulk.sheets.excel import ExcelSheet

HEADERS = [*INPUT_COLUMNS, *RESULT_COLUMNS]
REASONS = (Reason("Sold out", "NoInventory"), Reason("Buyer asked", "BuyerCanceled"))
CONFIG = Config(reasons=REASONS, policy=PolicyConfig(min_details_chars=20))
ID1 = "112-0000001-0000001"


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("new") / "orders.xlsx"
    create_order_sheet(path, CONFIG)
    return path


@pytest.fixture
def book(made: Path, tmp_path: Path) -> Path:
    """A fresh copy of the new workbook, for tests that change it."""
    path = tmp_path / made.name
    shutil.copy2(made, path)
    return path


@pytest.fixture(scope="module")
def orders(made: Path) -> Any:
    return openpyxl.load_workbook(made)["Orders"]


def letter(name: str) -> str:
    return openpyxl.utils.get_column_letter(HEADERS.index(name) + 1)


def test_the_header_row(orders: Any) -> None:
    assert [c.value for c in orders[1]] == HEADERS
    assert orders.parent.sheetnames == ["Orders", "Instructions"]
    assert all(c.font.b for c in orders[1])
    assert orders.max_row == 1001  # formatted rows, no values
    assert all(c.value is None for row in orders.iter_rows(min_row=2) for c in row)


def test_the_header_is_frozen(orders: Any) -> None:
    assert orders.freeze_panes == "A2"


@pytest.mark.parametrize(
    ("name", "width"), [("Order ID", 22), ("Details", 48), ("Status", 12), ("Result", 70)]
)
def test_column_widths(orders: Any, name: str, width: int) -> None:
    assert orders.column_dimensions[letter(name)].width == width


def test_every_column_has_a_width(orders: Any) -> None:
    assert all(orders.column_dimensions[letter(n)].width for n in HEADERS)


@pytest.mark.parametrize(
    ("name", "formula"),
    [
        ("Reason", '"Sold out,Buyer asked"'),
        ("Remedy", '"Refund,Replacement,None"'),
        ("Notify", '"Yes,No"'),
    ],
)
def test_dropdowns(orders: Any, name: str, formula: str) -> None:
    col = letter(name)
    (dv,) = [
        dv for dv in orders.data_validations.dataValidation if str(dv.sqref) == f"{col}2:{col}1001"
    ]
    assert dv.type == "list"
    assert dv.formula1 == formula
    assert dv.allow_blank
    assert dv.showErrorMessage
    assert dv.error == f"Pick a {name} from the list"


def test_only_those_three_columns_have_dropdowns(orders: Any) -> None:
    assert len(orders.data_validations.dataValidation) == 3


def test_the_default_reasons_fit_a_dropdown(tmp_path: Path) -> None:
    path = tmp_path / "orders.xlsx"
    create_order_sheet(path, Config())
    ws = openpyxl.load_workbook(path)["Orders"]
    reason = next(dv for dv in ws.data_validations.dataValidation if str(dv.sqref) == "B2:B1001")
    assert reason.formula1 == '"' + ",".join(r.label for r in Config().reasons) + '"'


def test_reason_labels_too_long_for_a_dropdown(tmp_path: Path) -> None:
    long = tuple(Reason(f"Reason number {i} with a long label", "NoInventory") for i in range(9))
    path = tmp_path / "orders.xlsx"
    with pytest.raises(SheetError, match="too long for an Excel dropdown"):
        create_order_sheet(path, Config(reasons=long))
    assert not path.exists()


def test_status_colours(orders: Any) -> None:
    status = letter("Status")
    rules = {
        rule.formula[0]: (str(cf.sqref), rule.dxf.fill.bgColor.rgb)
        for cf in orders.conditional_formatting
        for rule in cf.rules
    }
    assert rules == {
        f'${status}2="{value}"': (f"A2:{letter('Support Case')}1001", "00" + colour)
        for value, colour in STATUS_COLOURS.items()
    }
    assert set(STATUS_COLOURS) == {s.value for s in Status if s is not Status.NEW}


def test_ids_are_text_cells(orders: Any) -> None:
    # Excel would show a 14-digit item id as 1.23E+13 in a General cell.
    for name in ("Order ID", "Items"):
        assert orders[f"{letter(name)}2"].number_format == "@"
        assert orders[f"{letter(name)}1001"].number_format == "@"
    assert orders[f"{letter('Details')}2"].number_format == "General"


def test_instructions(book: Path) -> None:
    info = openpyxl.load_workbook(book)["Instructions"]
    lines = [c.value for c in info["A"] if c.value]
    assert lines[0] == "How to use this sheet"
    assert info["A1"].font.b
    assert any("at least 20 characters" in line for line in lines)
    assert any(line.startswith("READY ") for line in lines)
    assert any(line.startswith("10. `bulk pull FILE` adds a row") for line in lines)
    assert any("never defers a row past its order's ship-by date" in line for line in lines)
    assert lines[-3:] == [
        "Reasons and the Amazon code each sends",
        "Sold out: NoInventory",
        "Buyer asked: BuyerCanceled (not with Remedy Replacement)",
    ]
    # What reaches the buyer, said where staff fill the sheet in.
    text = "\n".join(lines)
    assert "Note to Buyer is optional: the only text of yours the buyer reads" in text
    assert "at most 500 characters" in text
    assert "the buyer never sees them" in text  # Details
    assert "What reaches the buyer" in text


def test_bulk_check_can_read_it(book: Path) -> None:
    sheet = ExcelSheet(book)
    grid = sheet.read()
    header = find_header(grid)
    assert header.row == 1
    assert header.columns == {name: i for i, name in enumerate(HEADERS)}
    assert parse_rows(grid, header, CONFIG) == []
    assert grid.warnings == ()


def test_a_filled_in_row_is_checked_and_results_land_in_their_columns(book: Path) -> None:
    wb = openpyxl.load_workbook(book)
    wb["Orders"].append([ID1, "Sold out", "The last mug broke in the warehouse", "MUG-RED x1"])
    wb.save(book)

    sheet = ExcelSheet(book)
    grid = sheet.read()
    (row,) = parse_rows(grid, find_header(grid), CONFIG)
    assert row.problems == ()
    assert row.request is not None
    assert row.request.reason == REASONS[0]
    sheet.write([RowUpdate(row.row, ID1, {"Status": "READY", "Result": "ok"})])

    ws = openpyxl.load_workbook(book)["Orders"]
    assert [c.value for c in ws[1]] == HEADERS  # nothing appended
    assert (ws[f"{letter('Status')}1002"].value, ws[f"{letter('Result')}1002"].value) == (
        "READY",
        "ok",
    )


def test_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "orders.xlsx"
    path.write_bytes(b"the team's work")
    with pytest.raises(SheetError, match=r"orders\.xlsx already exists; choose another name"):
        create_order_sheet(path, CONFIG)
    assert path.read_bytes() == b"the team's work"


@pytest.mark.parametrize("name", ["orders.xlsm", "orders.csv", "orders"])
def test_only_xlsx(tmp_path: Path, name: str) -> None:
    with pytest.raises(SheetError, match=r"`bulk new` writes \.xlsx workbooks; name the file"):
        create_order_sheet(tmp_path / name, CONFIG)
    assert list(tmp_path.iterdir()) == []


def test_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(SheetError, match=r"folder .*nowhere does not exist"):
        create_order_sheet(tmp_path / "nowhere" / "orders.xlsx", CONFIG)


def test_the_new_file_is_readable_by_the_team(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        path = tmp_path / "orders.xlsx"
        create_order_sheet(path, CONFIG)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["orders.xlsx"]  # no temporary file left


def _distance(a: str, b: str) -> float:
    return float(
        sum((int(a[i : i + 2], 16) - int(b[i : i + 2], 16)) ** 2 for i in (0, 2, 4)) ** 0.5
    )


def test_the_sheet_reads_well_a_filter_wrapped_text_and_statuses_told_apart(orders: Any) -> None:
    last = letter("Support Case")
    assert orders.auto_filter.ref == f"A1:{last}1001"
    for name in ("Result", "Customer Message", "Support Case"):
        column = orders.column_dimensions[letter(name)]
        assert column.width >= 60, name
        assert column.alignment.wrap_text, name
        for row in (2, 1001):
            cell = orders[f"{letter(name)}{row}"]
            assert cell.alignment.wrap_text and cell.alignment.vertical == "top", (name, row)
    status = letter("Status")
    assert orders.column_dimensions[status].font.b
    assert orders[f"{status}2"].font.b and orders[f"{status}1001"].font.b
    # The colours as the file holds them: every two statuses at least 50 apart.
    fills = [
        rule.dxf.fill.bgColor.rgb[-6:] for cf in orders.conditional_formatting for rule in cf.rules
    ]
    assert len(fills) == len(STATUS_COLOURS)
    close = [(a, b) for i, a in enumerate(fills) for b in fills[i + 1 :] if _distance(a, b) < 50]
    assert close == []


def test_results_written_into_the_sheet_stay_wrapped_and_the_status_bold(book: Path) -> None:
    wb = openpyxl.load_workbook(book)
    wb["Orders"]["A2"] = ID1
    wb["Orders"].append([ID1.replace("1", "2"), "Sold out", "The last mug broke in the warehouse"])
    wb.save(book)
    sheet = ExcelSheet(book)
    text = "Hello,\n\nwe are sorry: your order was cancelled.\n\nKind regards"
    sheet.write(
        [
            RowUpdate(2, ID1, {"Status": "REJECTED", "Result": "x " * 80}),
            RowUpdate(1002, ID1.replace("1", "2"), {"Status": "READY", "Customer Message": text}),
        ]
    )
    ws = openpyxl.load_workbook(book)["Orders"]
    assert ws[f"{letter('Result')}2"].alignment.wrap_text
    assert ws[f"{letter('Status')}2"].font.b
    # A row below the styled ones: its new cells take the column's style.
    assert ws[f"{letter('Customer Message')}1002"].value == text
    assert ws[f"{letter('Customer Message')}1002"].alignment.wrap_text
    assert ws[f"{letter('Status')}1002"].font.b
