"""bulk.sheets.base (cell text, placing results, column letters) and bulk.sheets.files
(lock files, backups, atomic replacement), which every file backend shares."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl.utils import get_column_letter

from bulk.errors import SheetError
from bulk.grid import BLANK, Cell, CellKind, SheetRow
from bulk.sheets import open_sheet
from bulk.sheets.base import MAX_CELL_CHARS, RowUpdate, as_text, column_letter
from bulk.sheets.csvfile import CsvSheet
from bulk.sheets.excel import ExcelSheet
from bulk.sheets.files import backup, check_not_open, replace_atomically, stamp
from bulk.sheets.plan import place_updates

A = "112-0000001-0000001"
B = "112-0000002-0000002"
C = "112-0000003-0000003"

# ---------------------------------------------------------------------------------------------
# as_text: what a spreadsheet shows as text, never runs as a formula


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("READY", "READY"),
        ("", ""),
        ("a=b", "a=b"),
        ("'already quoted", "'already quoted"),
        ("order 112-1 - done", "order 112-1 - done"),
    ],
)
def test_as_text_escapes_formula_prefixes(value: str, expected: str) -> None:
    assert as_text(value) == expected


@pytest.mark.parametrize(
    ("value", "starts"),
    [
        ("x" * (MAX_CELL_CHARS + 500), "x"),
        ("=" + "x" * (MAX_CELL_CHARS + 500), "'="),
        ("-" * MAX_CELL_CHARS, "'-"),
    ],
)
def test_as_text_stays_within_excels_cell_limit(value: str, starts: str) -> None:
    text = as_text(value)
    assert len(text) == MAX_CELL_CHARS
    assert text.startswith(starts)


def test_as_text_keeps_a_value_at_the_limit() -> None:
    value = "y" * MAX_CELL_CHARS
    assert as_text(value) == value


# ---------------------------------------------------------------------------------------------
# place_updates: results go to the row that holds the order now


def update(row: int, order_id: str, status: str = "READY") -> RowUpdate:
    return RowUpdate(row, order_id, {"Status": status})


def placed_rows(placed: list[tuple[int, RowUpdate]]) -> dict[tuple[str, int], int]:
    """(order id, row read) -> row written."""
    return {(u.order_id, u.row): row for row, u in placed}


def test_place_updates_in_place() -> None:
    placed, moved, missing = place_updates([update(2, A), update(3, B)], {2: A, 3: B, 4: C})
    assert placed_rows(placed) == {(A, 2): 2, (B, 3): 3}
    assert moved == []
    assert missing == []


def test_place_updates_follows_a_moved_order() -> None:
    # Someone inserted a row above both orders and sorted B above A.
    placed, moved, missing = place_updates([update(2, A), update(3, B)], {2: C, 3: B, 4: A})
    assert placed_rows(placed) == {(A, 2): 4, (B, 3): 3}
    assert moved == [(A, 2, 4)]
    assert missing == []


def test_place_updates_matches_ids_ignoring_case_and_spaces() -> None:
    placed, moved, _ = place_updates([update(2, " 112-AbC ")], {5: "112-abc"})
    assert placed_rows(placed) == {(" 112-AbC ", 2): 5}
    assert moved == [(" 112-AbC ", 2, 5)]


def test_place_updates_reports_a_deleted_order_and_writes_nothing_over_its_old_row() -> None:
    placed, moved, missing = place_updates([update(2, A), update(3, B)], {2: B})
    assert placed_rows(placed) == {(B, 3): 2}
    assert moved == [(B, 3, 2)]
    assert missing == [A]


def test_place_updates_rows_without_an_id_stay_where_they_were() -> None:
    # A REJECTED row with no Order ID can only be found by its number: it is written while
    # that row still has no id, and never moved elsewhere.
    updates = [update(2, ""), update(3, ""), update(9, "")]
    placed, moved, missing = place_updates(updates, {2: "", 3: C, 4: ""})
    assert [row for row, _ in placed] == [2]
    assert moved == []
    assert missing == ["row 3", "row 9"]


def test_place_updates_duplicates_in_place_each_keep_their_row() -> None:
    placed, moved, missing = place_updates(
        [update(2, A), update(4, A, "REJECTED")], {2: A, 3: B, 4: A}
    )
    assert placed_rows(placed) == {(A, 2): 2, (A, 4): 4}
    assert (moved, missing) == ([], [])


def test_place_updates_moved_duplicates_never_share_a_row() -> None:
    # Two rows for one order; a row was inserted above them. Each update gets its own row,
    # in sheet order, so the duplicate's REJECTED never overwrites the first row's result.
    updates = [update(4, A, "REJECTED"), update(2, A)]
    placed, moved, missing = place_updates(updates, {2: C, 3: A, 4: B, 5: A})
    assert placed_rows(placed) == {(A, 2): 3, (A, 4): 5}
    assert sorted(moved) == [(A, 2, 3), (A, 4, 5)]
    assert missing == []


def test_place_updates_more_duplicates_than_rows_reports_the_extra_one() -> None:
    placed, _, missing = place_updates([update(2, A), update(3, A)], {7: A})
    assert [row for row, _ in placed] == [7]
    assert missing == [A]


# ---------------------------------------------------------------------------------------------
# column_letter, cells and rows


@pytest.mark.parametrize(
    ("index", "letters"),
    [(0, "A"), (1, "B"), (25, "Z"), (26, "AA"), (51, "AZ"), (52, "BA"), (701, "ZZ"), (702, "AAA"),
     (16383, "XFD")],
)  # fmt: skip
def test_column_letter(index: int, letters: str) -> None:
    assert column_letter(index) == letters


def test_column_letter_agrees_with_openpyxl_on_every_excel_column() -> None:
    assert all(column_letter(i) == get_column_letter(i + 1) for i in range(16384))


@pytest.mark.parametrize(
    ("cell", "blank"),
    [
        (Cell(), True),
        (Cell("  ", CellKind.TEXT), True),
        (Cell("x", CellKind.TEXT), False),
        (Cell("0", CellKind.NUMBER), False),
        (Cell("", CellKind.TEXT, merged_into="A2"), True),
    ],
)
def test_cell_blank(cell: Cell, blank: bool) -> None:
    assert cell.blank is blank


def test_sheet_row_cell_outside_the_row_is_blank() -> None:
    row = SheetRow(3, (Cell("x", CellKind.TEXT),))
    assert row.cell(0).text == "x"
    assert row.cell(5) is BLANK
    assert row.cell(-1) is BLANK


# ---------------------------------------------------------------------------------------------
# open_sheet picks a backend from what the user typed


@pytest.mark.parametrize(
    ("name", "backend"),
    [("orders.xlsx", ExcelSheet), ("orders.XLSM", ExcelSheet), ("orders.csv", CsvSheet)],
)
def test_open_sheet_picks_the_backend_by_suffix(tmp_path: Path, name: str, backend: type) -> None:
    sheet = open_sheet(str(tmp_path / name))
    assert isinstance(sheet, backend)
    assert sheet.label == str(tmp_path / name)


def test_open_sheet_refuses_other_files(tmp_path: Path) -> None:
    with pytest.raises(SheetError, match=r"orders\.txt is not a sheet bulk can open; use an"):
        open_sheet(str(tmp_path / "orders.txt"))


# ---------------------------------------------------------------------------------------------
# Lock files: a workbook open in Excel or LibreOffice is not written


@pytest.mark.parametrize(
    "lock_name",
    [
        "~$orders-march.xlsx",  # Excel
        "~$ders-march.xlsx",  # Excel, long names lose their first two characters
        ".~lock.orders-march.xlsx#",  # LibreOffice
    ],
)
def test_check_not_open_refuses_a_file_with_a_lock_file(tmp_path: Path, lock_name: str) -> None:
    sheet = tmp_path / "orders-march.xlsx"
    sheet.write_bytes(b"x")
    (tmp_path / lock_name).write_bytes(b"")
    with pytest.raises(SheetError) as e:
        check_not_open(sheet)
    message = str(e.value)
    assert "is open in a spreadsheet program" in message
    assert lock_name in message
    assert "close it there and run again" in message
    assert "\n" not in message


def test_check_not_open_ignores_other_files_locks(tmp_path: Path) -> None:
    sheet = tmp_path / "orders.xlsx"
    sheet.write_bytes(b"x")
    (tmp_path / "~$budget.xlsx").write_bytes(b"")
    (tmp_path / ".~lock.budget.xlsx#").write_bytes(b"")
    assert check_not_open(sheet) is None  # no SheetError


# ---------------------------------------------------------------------------------------------
# Atomic replacement with a backup


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_replace_atomically_swaps_in_the_new_file_and_keeps_a_backup(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    sheet = folder / "orders.csv"
    sheet.write_bytes(b"old")
    backups = tmp_path / "state" / "backups"

    replace_atomically(sheet, lambda tmp: tmp.write_bytes(b"new"), backups)

    assert sheet.read_bytes() == b"new"
    assert [p.name for p in folder.iterdir()] == ["orders.csv"]  # no temporary file left
    (kept,) = backups.iterdir()
    assert kept.read_bytes() == b"old"
    assert kept.name.startswith("orders.") and kept.suffix == ".csv"


def test_replace_atomically_without_a_backup_dir_keeps_no_backup(tmp_path: Path) -> None:
    sheet = tmp_path / "orders.csv"
    sheet.write_bytes(b"old")
    replace_atomically(sheet, lambda tmp: tmp.write_bytes(b"new"), None)
    assert sheet.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["orders.csv"]


def test_replace_atomically_leaves_the_original_when_the_write_fails(tmp_path: Path) -> None:
    sheet = tmp_path / "orders.xlsx"
    sheet.write_bytes(b"original")
    backups = tmp_path / "backups"

    def fail(tmp: Path) -> None:
        tmp.write_bytes(b"half written")
        raise RuntimeError("writer crashed")

    with pytest.raises(RuntimeError, match="writer crashed"):
        replace_atomically(sheet, fail, backups)

    assert sheet.read_bytes() == b"original"
    assert [p.name for p in tmp_path.iterdir()] == ["orders.xlsx"]
    assert not backups.exists()


def test_replace_atomically_turns_an_os_error_into_one_line(tmp_path: Path) -> None:
    sheet = tmp_path / "orders.csv"
    sheet.write_bytes(b"original")

    def disk_full(tmp: Path) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp))

    with pytest.raises(SheetError, match=r"cannot write .*orders\.csv: No space left on device"):
        replace_atomically(sheet, disk_full, None)
    assert sheet.read_bytes() == b"original"
    assert [p.name for p in tmp_path.iterdir()] == ["orders.csv"]


def test_replace_atomically_refuses_a_file_open_elsewhere(tmp_path: Path) -> None:
    sheet = tmp_path / "orders.xlsx"
    sheet.write_bytes(b"original")
    (tmp_path / "~$orders.xlsx").write_bytes(b"")
    called: list[Path] = []
    with pytest.raises(SheetError, match="open in a spreadsheet program"):
        replace_atomically(sheet, called.append, None)
    assert called == []
    assert sheet.read_bytes() == b"original"


def test_replace_atomically_keeps_the_files_permissions(tmp_path: Path) -> None:
    sheet = tmp_path / "orders.csv"
    sheet.write_bytes(b"old")
    sheet.chmod(0o640)
    replace_atomically(sheet, lambda tmp: tmp.write_bytes(b"new"), None)
    assert stat.S_IMODE(sheet.stat().st_mode) == 0o640


@pytest.mark.usefixtures("umask_022")
def test_replace_atomically_gives_a_new_file_the_usual_permissions(tmp_path: Path) -> None:
    # A temporary file is private to its owner; a new order sheet in a shared folder must
    # be readable by the team like any other new file.
    sheet = tmp_path / "new.xlsx"
    replace_atomically(sheet, lambda tmp: tmp.write_bytes(b"new"), tmp_path / "backups")
    assert stat.S_IMODE(sheet.stat().st_mode) == 0o644
    assert not (tmp_path / "backups").exists()  # nothing to back up


def test_replace_atomically_in_a_missing_folder_says_so(tmp_path: Path) -> None:
    with pytest.raises(SheetError, match=r"cannot write in .*nowhere"):
        replace_atomically(tmp_path / "nowhere" / "x.csv", lambda tmp: None, None)


def test_backup_copies_are_distinct(tmp_path: Path) -> None:
    sheet = tmp_path / "orders.csv"
    sheet.write_bytes(b"one")
    first = backup(sheet, tmp_path / "b")
    sheet.write_bytes(b"two")
    second = backup(sheet, tmp_path / "b")
    assert first != second
    assert (first.read_bytes(), second.read_bytes()) == (b"one", b"two")


def test_stamp_changes_when_the_file_changes(tmp_path: Path) -> None:
    sheet = tmp_path / "orders.csv"
    sheet.write_bytes(b"one")
    before = stamp(sheet)
    sheet.write_bytes(b"one, and more")
    assert stamp(sheet) != before


# ---------------------------------------------------------------------------------------------
# Symbolic links and read-only files


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_sheet_that_is_a_symbolic_link_is_written_through_to_its_target(
    tmp_path: Path, suffix: str
) -> None:
    real_dir = tmp_path / "shared"
    real_dir.mkdir()
    target = real_dir / f"orders{suffix}"
    if suffix == ".csv":
        target.write_text(f"Order ID,Reason,Details\n{A},Out of stock,Supplier ran out\n")
    else:
        import openpyxl

        wb = openpyxl.Workbook()
        wb.active.append(["Order ID", "Reason", "Details"])
        wb.active.append([A, "Out of stock", "Supplier ran out"])
        wb.save(target)
    link = tmp_path / f"link{suffix}"
    link.symlink_to(target)
    backups = tmp_path / "backups"
    sheet = open_sheet(str(link), backup_dir=backups)
    sheet.read()
    report = sheet.write([RowUpdate(2, A, {"Status": "READY"})])
    assert report.written == 1
    assert link.is_symlink() and link.resolve() == target.resolve()
    assert "READY" in [c.text for c in open_sheet(str(target)).read().rows[1].cells]
    assert sorted(p.name for p in real_dir.iterdir()) == [f"orders{suffix}"]  # no leftovers
    assert len(list(backups.iterdir())) == 1


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_read_only_sheet_is_refused_in_one_line_before_anything_is_written(
    tmp_path: Path, suffix: str
) -> None:
    path = tmp_path / f"orders{suffix}"
    if suffix == ".csv":
        path.write_text(f"Order ID,Reason,Details\n{A},Out of stock,Supplier ran out\n")
    else:
        import openpyxl

        wb = openpyxl.Workbook()
        wb.active.append(["Order ID", "Reason", "Details"])
        wb.save(path)
    path.chmod(0o444)
    before = path.read_bytes()
    with pytest.raises(SheetError) as e:
        open_sheet(str(path)).read()
    assert str(e.value) == (
        f"{path} is read-only, so bulk cannot write results into it; make it writable "
        "(or work on a copy) and run again"
    )
    with pytest.raises(SheetError, match="is read-only"):
        replace_atomically(path, lambda tmp: tmp.write_bytes(b"x"), None)
    assert path.read_bytes() == before
