"""bulk.sheets.plan: the one write plan, as a pure function and through every backend alike."""

from __future__ import annotations

import csv
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import openpyxl
import pytest
from fake_sheets import FakeSheets
from typer.testing import CliRunner

from bulk.cli import app
from bulk.columns import RESULT_COLUMNS, find_header
from bulk.grid import Cell, CellKind, Header, SheetRow
from bulk.sheets.base import RowUpdate, Sheet
from bulk.sheets.csvfile import CsvSheet
from bulk.sheets.excel import ExcelSheet
from bulk.sheets.google import open_google_sheet
from bulk.sheets.plan import merged_warning, plan_write, used_width

pytest_plugins = ["conftest_google"]

A = "112-0000001-0000001"
B = "112-0000002-0000002"
KEY = "1PlanTableKey0123456789abcdefghijklmnopqrs"
HEAD = ["Order ID", "Reason", "Details"]
ROOT = Path(__file__).resolve().parents[1]


def row(number: int, *values: str) -> SheetRow:
    return SheetRow(number, tuple(Cell(v, CellKind.TEXT) if v else Cell() for v in values))


# --- the pure function ------------------------------------------------------------------------


def test_used_width_counts_every_row_from_the_header_down() -> None:
    rows = [
        row(1, "a title", "", "", "", "", "", "wide"),
        row(2, *HEAD),
        row(3, A, "", "", "", "x"),
    ]
    assert used_width(rows, 2) == 5  # the note at E3, not the title's G1, not the header's C2
    assert used_width(rows, 1) == 7


def test_merged_cells_count_as_used() -> None:
    rows = [row(1, *HEAD), SheetRow(2, (Cell(A), Cell(), Cell(), Cell(), Cell(merged_into="C2")))]
    assert used_width(rows, 1) == 5


def test_plan_adds_missing_result_columns_right_of_the_used_range() -> None:
    header = Header(1, {"Order ID": 0, "Reason": 1, "Details": 2, "Status": 3})
    plan = plan_write(header, {2: A}, 6, [RowUpdate(2, A, {"Status": "READY", "Result": "ok"})])
    assert plan.columns["Status"] == 3  # adopted where it is
    assert plan.columns["Result"] == 6  # new: right of the used range
    assert plan.added[6] == "Result" and plan.cells[(1, 6)] == "Result"
    assert plan.cells[(2, 3)] == "READY" and plan.cells[(2, 6)] == "ok"
    assert [plan.added[i] for i in sorted(plan.added)] == [
        n for n in RESULT_COLUMNS if n != "Status"
    ]


def test_a_blank_result_goes_only_where_a_column_existed() -> None:
    # A column added by this write is blank below its header: a blank result there is no
    # cell at all (100,000 of them on a first run), while an existing column is cleared.
    header = Header(1, {"Order ID": 0, "Reason": 1, "Details": 2, "Result": 3})
    update = RowUpdate(2, A, {"Status": "READY", "Result": "", "Scheduled For": ""})
    plan = plan_write(header, {2: A}, 4, [update])
    added = {name: col for col, name in plan.added.items()}
    assert plan.cells[(2, added["Status"])] == "READY"
    assert plan.cells[(2, 3)] == ""  # the existing Result is cleared
    assert (2, added["Scheduled For"]) not in plan.cells
    assert plan.cells[(1, added["Scheduled For"])] == "Scheduled For"
    assert dict(plan.cells) == {(r, c): t for r, cols in plan.rows.items() for c, t in cols.items()}


def test_plan_with_nothing_to_write_adds_no_header() -> None:
    header = Header(1, {"Order ID": 0, "Reason": 1, "Details": 2})
    assert plan_write(header, {2: A}, 3, []).empty
    gone = plan_write(header, {2: A}, 3, [RowUpdate(2, B, {"Status": "READY"})])
    assert gone.empty and gone.missing == (B,)


def test_plan_escapes_formula_text_and_skips_merged_cells() -> None:
    header = Header(1, {"Order ID": 0, "Reason": 1, "Details": 2, "Status": 3, "Result": 4})
    plan = plan_write(
        header,
        {2: A, 3: B},
        5,
        [RowUpdate(2, A, {"Result": "=1+1"}), RowUpdate(3, B, {"Status": "READY"})],
        merged={(3, 3): "D2"},
    )
    assert plan.cells[(2, 4)] == "'=1+1"
    assert (3, 3) not in plan.cells and plan.skipped == ("D3",)
    assert plan.report().warnings == (merged_warning(["D3"]),)


# --- the same cases through xlsx, CSV and Google Sheets --------------------------------------

Table = list[list[str]]

# (rows of the sheet, updates, cells expected afterwards as A1 -> text; "" = blank)
CASES: dict[str, tuple[Table, list[RowUpdate], dict[str, str]]] = {
    "note under a blank header cell": (
        [[*HEAD, "", "", "", ""], [A, "No stock", "Supplier ran out", "", "", "", "call back"]],
        [RowUpdate(2, A, {"Status": "READY", "Result": "ok"})],
        {"G2": "call back", "G1": "", "H1": "Status", "H2": "READY", "I2": "ok"},
    ),
    "adopted result columns": (
        [[*HEAD, "Result", "Status"], [A, "No stock", "Supplier ran out", "old", ""]],
        [RowUpdate(2, A, {"Status": "READY", "Result": "ok"})],
        {"D2": "ok", "E2": "READY", "F1": "Scheduled For"},
    ),
    "title row wider than the table": (
        [
            ["Week 12", "", "", "", "", "", "", "", "draft"],
            HEAD,
            [A, "No stock", "Supplier ran out"],
        ],
        [RowUpdate(3, A, {"Status": "READY"})],
        {"D2": "Status", "D3": "READY", "I1": "draft"},
    ),
    "an order that moved": (
        [HEAD, [B, "No stock", "Supplier ran out"], [A, "No stock", "Supplier ran out"]],
        [RowUpdate(2, A, {"Status": "READY"})],
        {"D2": "", "D3": "READY"},
    ),
    "formula-like result": (
        [HEAD, [A, "No stock", "Supplier ran out"]],
        [RowUpdate(2, A, {"Result": "=HYPERLINK(1)"})],
        {"E2": "'=HYPERLINK(1)"},
    ),
    "nothing to write": (
        [HEAD, [A, "No stock", "Supplier ran out"]],
        [],
        {"D1": "", "D2": ""},
    ),
}


def _xlsx(tmp_path: Path, table: Table) -> tuple[Sheet, Callable[[], Table]]:
    path = tmp_path / "orders.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Orders"
    for values in table:
        ws.append([v or None for v in values])
    wb.save(path)

    def cells() -> Table:
        got = openpyxl.load_workbook(path)["Orders"]
        return [["" if c is None else str(c) for c in r] for r in got.iter_rows(values_only=True)]

    return ExcelSheet(path), cells


def _csv(tmp_path: Path, table: Table) -> tuple[Sheet, Callable[[], Table]]:
    path = tmp_path / "orders.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(table)

    def cells() -> Table:
        with open(path, newline="", encoding="utf-8") as f:
            return list(csv.reader(f))

    return CsvSheet(path), cells


@pytest.fixture(params=["xlsx", "csv", "google"])
def backend(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[[Table], tuple[Sheet, Callable[[], Table]]]]:
    if request.param == "xlsx":
        yield lambda table: _xlsx(tmp_path, table)
    elif request.param == "csv":
        yield lambda table: _csv(tmp_path, table)
    else:
        fake: FakeSheets = request.getfixturevalue("fake_sheets")

        def google(table: Table) -> tuple[Sheet, Callable[[], Table]]:
            book = fake.add_spreadsheet(KEY, "Plan", {"Orders": table}, rows=50, cols=10)
            ws = book.sheet("Orders")
            return open_google_sheet(f"gsheet:{KEY}", None), lambda: [
                ["" if v is None else str(v) for v in r] for r in ws.table()
            ]

        yield google


def _at(table: Table, ref: str) -> str:
    letters = ref.rstrip("0123456789")
    number = int(ref[len(letters) :])
    col = sum((ord(c) - 64) * 26**i for i, c in enumerate(reversed(letters))) - 1
    values = table[number - 1] if number - 1 < len(table) else []
    return values[col] if col < len(values) else ""


@pytest.mark.parametrize("case", list(CASES))
def test_every_backend_places_results_by_the_one_plan(
    case: str, backend: Callable[[Table], tuple[Sheet, Callable[[], Table]]]
) -> None:
    table, updates, expected = CASES[case]
    sheet, cells = backend(table)
    header = find_header(sheet.read())
    before = cells()
    report = sheet.write(updates, header)
    after = cells()
    assert {ref: _at(after, ref) for ref in expected} == expected
    if not updates:
        assert after == before and report.written == 0


# --- done when: a note under a blank header cell survives `bulk check` ------------------------


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    shutil.copytree(ROOT / "samples", tmp_path / "samples")
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    monkeypatch.chdir(tmp_path)
    for name in ("BULK_HOME", "BULK_SANDBOX_ORDERS", "BULK_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    yield tmp_path


# G1 is blank; G2 holds a colleague's note.
NOTE_TABLE = [
    ["Order ID", "Reason", "Details", "", "", "", ""],
    [
        A,
        "Out of stock",
        "Supplier ran out of the red mugs",
        "",
        "",
        "",
        "call back before cancelling",
    ],
]


@pytest.mark.parametrize("kind", ["xlsx", "csv", "google"])
def test_a_note_under_a_blank_header_cell_survives_bulk_check(
    kind: str, workdir: Path, request: pytest.FixtureRequest
) -> None:
    table = [r[:] for r in NOTE_TABLE]
    target: str
    cells: Callable[[], Table]
    if kind == "google":
        fake: FakeSheets = request.getfixturevalue("fake_sheets")
        ws = fake.add_spreadsheet(KEY, "Notes", {"Orders": table}, rows=20, cols=8).sheet("Orders")
        target = f"https://docs.google.com/spreadsheets/d/{KEY}/edit#gid=0"

        def cells() -> Table:
            return [["" if v is None else str(v) for v in r] for r in ws.table()]

    else:
        _, cells = (_xlsx if kind == "xlsx" else _csv)(workdir, table)
        target = str(workdir / f"orders.{kind}")
    result = CliRunner().invoke(app, ["check", target], catch_exceptions=False)
    assert result.exit_code in (0, 1), result.output
    after = cells()
    assert _at(after, "G2") == "call back before cancelling"
    assert _at(after, "G1") == ""
    assert _at(after, "H1") == "Status" and _at(after, "H2") != ""
