"""Sheets from the wild through the command line: what is refused, and what is left alone."""

from __future__ import annotations

import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from fake_sheets import FakeSheets
from typer.testing import CliRunner

from bulk.cli import app

pytest_plugins = ["conftest_google"]

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    shutil.copytree(ROOT / "samples", tmp_path / "samples")
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    monkeypatch.chdir(tmp_path)
    for name in ("BULK_HOME", "BULK_SANDBOX_ORDERS", "BULK_CONFIG", "LWA_APP_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    yield tmp_path


def bulk(*args: str) -> Any:
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.mark.parametrize("sample", ["orders.csv", "orders.xlsx"])
def test_status_with_nothing_pending_writes_nothing(workdir: Path, sample: str) -> None:
    path = workdir / "samples" / sample
    before = path.read_bytes()
    stamp = path.stat().st_mtime_ns
    result = bulk("status", str(path))
    assert result.exit_code in (0, 1), result.output
    assert path.read_bytes() == before and path.stat().st_mtime_ns == stamp
    backups = workdir / ".bulk" / "backups"
    assert not backups.exists() or not list(backups.iterdir())


@pytest.mark.parametrize("sample", ["orders.csv", "orders.xlsx"])
def test_a_read_only_sheet_is_one_line_and_exit_2(workdir: Path, sample: str) -> None:
    path = workdir / "samples" / sample
    path.chmod(0o444)
    before = path.read_bytes()
    result = bulk("check", str(path))
    assert result.exit_code == 2, result.output
    error = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert error == [
        f"error: {path} is read-only, so bulk cannot write results into it; "
        "make it writable (or work on a copy) and run again"
    ]
    assert path.read_bytes() == before
    backups = workdir / ".bulk" / "backups"
    assert not backups.exists() or not list(backups.iterdir())


# --- hidden and filtered-out rows -------------------------------------------------------------

HIDDEN = (
    "row is hidden in the sheet; unhide it (or clear the filter) to have it checked, or run "
    "with --include-hidden"
)


def hidden_book(path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Orders"
    ws.append(["Order ID", "Reason", "Details"])
    ws.append(["112-0000001-0000001", "Out of stock", "Supplier ran out of the red mugs"])
    ws.append(["112-0000001-0000002", "Out of stock", "Supplier ran out of the blue mugs"])
    ws.row_dimensions[3].hidden = True
    wb.save(path)


def results(path: Path) -> dict[str, tuple[str, str]]:
    ws = openpyxl.load_workbook(path)["Orders"]
    head = [c.value for c in ws[1]]
    return {
        str(r[0].value): (str(r[head.index("Status")].value), str(r[head.index("Result")].value))
        for r in ws.iter_rows(min_row=2)
    }


def test_a_hidden_row_is_held_and_never_sent(workdir: Path) -> None:
    path = workdir / "hidden.xlsx"
    hidden_book(path)
    result = bulk("submit", str(path), "--yes")
    assert result.exit_code == 0, result.output
    found = results(path)
    assert found["112-0000001-0000002"] == ("HELD", HIDDEN)
    assert found["112-0000001-0000001"][0] != "HELD"


def test_include_hidden_checks_hidden_rows(workdir: Path) -> None:
    path = workdir / "hidden.xlsx"
    hidden_book(path)
    result = bulk("check", str(path), "--include-hidden")
    assert result.exit_code in (0, 1), result.output
    assert results(path)["112-0000001-0000002"][1] != HIDDEN


def test_hidden_and_filtered_rows_of_a_google_sheet_are_held(
    workdir: Path, fake_sheets: FakeSheets
) -> None:
    key = "1HiddenRowsKey0123456789abcdefghijklmnopq"
    table = [
        ["Order ID", "Reason", "Details"],
        ["112-0000001-0000001", "Out of stock", "Supplier ran out of the red mugs"],
        ["112-0000001-0000002", "Out of stock", "Supplier ran out of the blue mugs"],
        ["112-0000001-0000003", "Out of stock", "Supplier ran out of the green mugs"],
    ]
    ws = fake_sheets.add_spreadsheet(key, "Hidden", {"Orders": table}, rows=20, cols=8).sheet(
        "Orders"
    )
    ws.hidden_rows.add(3)
    ws.filtered_rows.add(4)
    result = bulk("check", f"gsheet:{key}")
    assert result.exit_code in (0, 1), result.output
    head = ws.table()[0]
    status, why = head.index("Status"), head.index("Result")
    rows = ws.table()
    assert (rows[2][status], rows[2][why]) == ("HELD", HIDDEN)
    assert (rows[3][status], rows[3][why]) == ("HELD", HIDDEN)
    assert rows[1][why] != HIDDEN


# --- openpyxl only with consent ---------------------------------------------------------------


def only_openpyxl_reads(path: Path) -> bytes:
    """The sample workbook with an XML comment between two rows: openpyxl reads it, the
    lossless reader does not."""
    with zipfile.ZipFile(path) as z:
        parts = {i.filename: z.read(i.filename) for i in z.infolist()}
    name = next(n for n in parts if n.startswith("xl/worksheets/sheet"))
    parts[name] = parts[name].replace(b'<row r="2"', b'<!-- made by a tool --><row r="2"', 1)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for member, data in parts.items():
            z.writestr(member, data)
    return path.read_bytes()


def test_a_workbook_only_openpyxl_reads_needs_consent(workdir: Path) -> None:
    path = workdir / "samples" / "orders.xlsx"
    before = only_openpyxl_reads(path)
    result = bulk("check", str(path))
    assert result.exit_code == 2, result.output
    (line,) = [x for x in result.output.splitlines() if x.startswith("error:")]
    assert line.startswith("error: orders.xlsx cannot be edited losslessly (")
    assert "run again with --allow-lossy" in line
    assert path.read_bytes() == before


def test_asked_and_refused_writes_nothing_and_agreed_writes(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = workdir / "samples" / "orders.xlsx"
    before = only_openpyxl_reads(path)
    monkeypatch.setenv("BULK_ASSUME_TTY", "1")
    refused = runner.invoke(app, ["check", str(path)], input="n\n", catch_exceptions=False)
    assert refused.exit_code == 2, refused.output
    assert "Write it with openpyxl anyway?" in refused.output
    assert path.read_bytes() == before
    agreed = runner.invoke(app, ["check", str(path)], input="y\n", catch_exceptions=False)
    assert agreed.exit_code in (0, 1), agreed.output
    assert "warning: wrote orders.xlsx with openpyxl because" in agreed.output
    assert path.read_bytes() != before


def test_allow_lossy_writes_without_asking(workdir: Path) -> None:
    path = workdir / "samples" / "orders.xlsx"
    before = only_openpyxl_reads(path)
    result = bulk("check", str(path), "--allow-lossy")
    assert result.exit_code in (0, 1), result.output
    assert path.read_bytes() != before
    assert "Status" in [c.value for c in openpyxl.load_workbook(path).worksheets[0][1]]
