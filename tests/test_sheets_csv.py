"""bulk.sheets.csvfile: CSV files read as text and written back in their own dialect."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from bulk.columns import RESULT_COLUMNS, find_header
from bulk.config import Config
from bulk.errors import SheetError
from bulk.grid import CellKind
from bulk.rules.rows import parse_rows
from bulk.sheets.base import RowUpdate
from bulk.sheets.csvfile import CsvSheet

ID1 = "112-0000001-0000001"
ID2 = "112-0000002-0000002"
ID3 = "112-0000003-0000003"
DETAILS = "Warehouse has none left, sorry"


def write_csv(
    path: Path,
    rows: list[list[str]],
    *,
    encoding: str = "utf-8",
    delimiter: str = ",",
    newline: str = "\n",
) -> bytes:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=delimiter, lineterminator=newline).writerows(rows)
    data = buffer.getvalue().encode(encoding)
    path.write_bytes(data)
    return data


def read_back(path: Path, encoding: str = "utf-8", delimiter: str = ",") -> list[list[str]]:
    with open(path, encoding=encoding, newline="") as f:
        return list(csv.reader(f, delimiter=delimiter))


def orders(path: Path, **kwargs: str) -> bytes:
    return write_csv(
        path,
        [
            ["Order ID", "Reason", "Details", "Owner"],
            [ID1, "Out of stock", DETAILS, "Sam"],
            [ID2, "Buyer requested", "Customer asked by e-mail", "Kim"],
        ],
        **kwargs,
    )


def status(row: int, order_id: str, value: str = "READY", **more: str) -> RowUpdate:
    return RowUpdate(row, order_id, {"Status": value, **more})


# ---------------------------------------------------------------------------------------------
# Reading


def test_read_gives_rows_with_their_numbers(tmp_path: Path) -> None:
    path = tmp_path / "march.csv"
    write_csv(
        path,
        [
            ["Cancellations"],
            [],
            ["Order ID", "Reason", "Details"],
            [ID1, "Out of stock", "line one\nline two"],  # one record over two lines
            ["", " ", ""],
            [ID2, "Out of stock", DETAILS],
        ],
    )
    grid = CsvSheet(path).read()
    assert grid.name == "march"
    assert [r.number for r in grid.rows] == [1, 3, 4, 6]
    assert grid.rows[2].cells[2].text == "line one\nline two"
    assert {c.kind for r in grid.rows for c in r.cells} == {CellKind.TEXT}
    header = find_header(grid)
    assert header.row == 3
    assert [r.order_id for r in parse_rows(grid, header, Config())] == [ID1, ID2]


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [("utf-8", b""), ("utf-8-sig", b"\xef\xbb\xbf"), ("cp1252", b"")],
)
def test_encodings_are_read_and_kept(tmp_path: Path, encoding: str, bom: bytes) -> None:
    path = tmp_path / "orders.csv"
    rows = [["Order ID", "Reason", "Details"], [ID1, "Out of stock", "Müller’s order — 5 €"]]
    original = write_csv(path, rows, encoding=encoding)
    assert original.startswith(bom)
    sheet = CsvSheet(path)

    grid = sheet.read()
    assert grid.rows[0].cells[0].text == "Order ID"  # no BOM in the first header
    assert grid.rows[1].cells[2].text == "Müller’s order — 5 €"

    sheet.write([status(2, ID1, "REJECTED", Result="Größe: 5 €")])
    data = path.read_bytes()
    assert data.startswith(bom)
    assert data.count(b"\xef\xbb\xbf") == len(bom) // 3
    # Every byte of the original rows is still there: only the result cells were added.
    assert data.startswith(original.split(b"\n")[0])
    assert read_back(path, encoding)[1][:3] == rows[1]
    assert read_back(path, encoding)[1][3:5] == ["REJECTED", "Größe: 5 €"]


def test_a_utf8_file_is_not_taken_for_cp1252(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    write_csv(path, [["Order ID", "Reason", "Details"], [ID1, "Out of stock", "Ørsted ½"]])
    assert CsvSheet(path).read().rows[1].cells[2].text == "Ørsted ½"


@pytest.mark.parametrize("delimiter", [";", "\t", ","])
def test_delimiters_are_detected_and_kept(tmp_path: Path, delimiter: str) -> None:
    path = tmp_path / "orders.csv"
    rows = [
        ["Cancellations for March, all shops; see notes"],  # a title row with both separators
        ["Order ID", "Reason", "Details"],
        [ID1, "Out of stock", "Sorry, we ran out; really, badly"],
        [ID2, "Out of stock", "a; b, c; d"],
    ]
    write_csv(path, rows, delimiter=delimiter)
    sheet = CsvSheet(path)
    grid = sheet.read()
    assert find_header(grid).row == 2
    assert [c.text for c in grid.rows[2].cells] == rows[2]

    sheet.write([status(3, ID1), status(4, ID2, "HELD")])
    back = read_back(path, delimiter=delimiter)
    assert back[0] == rows[0]
    assert back[1] == ["Order ID", "Reason", "Details", *RESULT_COLUMNS]
    assert back[2] == [*rows[2], "READY"]
    assert back[3] == [*rows[3], "HELD"]


@pytest.mark.parametrize("newline", ["\r\n", "\n"])
def test_line_endings_are_kept(tmp_path: Path, newline: str) -> None:
    path = tmp_path / "orders.csv"
    orders(path, newline=newline)
    CsvSheet(path).write([status(2, ID1)])
    data = path.read_bytes()
    assert data.count(newline.encode()) == 3
    if newline == "\n":
        assert b"\r" not in data


# ---------------------------------------------------------------------------------------------
# Writing results


def test_result_columns_are_appended_after_the_last_column(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    orders(path)
    report = CsvSheet(path).write([status(3, ID2, "REJECTED", Result="Reason is missing")])
    assert (report.written, report.moved, report.missing) == (1, (), ())
    assert read_back(path) == [
        ["Order ID", "Reason", "Details", "Owner", *RESULT_COLUMNS],
        [ID1, "Out of stock", DETAILS, "Sam"],
        [
            ID2,
            "Buyer requested",
            "Customer asked by e-mail",
            "Kim",
            "REJECTED",
            "Reason is missing",
        ],
    ]


def test_a_data_column_without_a_header_is_never_written_into(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    write_csv(
        path,
        [
            ["Order ID", "Reason", "Details"],
            [ID1, "Out of stock", DETAILS, "note nobody named"],
            [ID2, "Out of stock", DETAILS],
        ],
    )
    CsvSheet(path).write([status(2, ID1), status(3, ID2)])
    assert read_back(path) == [
        ["Order ID", "Reason", "Details", "", *RESULT_COLUMNS],
        [ID1, "Out of stock", DETAILS, "note nobody named", "READY"],
        [ID2, "Out of stock", DETAILS, "", "READY"],
    ]


def test_existing_result_columns_are_reused_wherever_they_are(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    write_csv(
        path,
        [
            ["status", "Order ID", "Reason", "Details", "Results", "Owner"],
            ["FAILED", ID1, "Out of stock", DETAILS, "old", "Sam"],
        ],
    )
    CsvSheet(path).write([status(2, ID1, "READY", Result="Passed every check")])
    back = read_back(path)
    assert back[0][:6] == ["status", "Order ID", "Reason", "Details", "Results", "Owner"]
    assert back[0][6:] == [c for c in RESULT_COLUMNS if c not in ("Status", "Result")]
    assert back[1] == ["READY", ID1, "Out of stock", DETAILS, "Passed every check", "Sam"]


def test_formula_like_text_is_escaped(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    orders(path)
    CsvSheet(path).write(
        [
            RowUpdate(
                2,
                ID1,
                {
                    "Status": "READY",
                    "Result": '=HYPERLINK("http://evil","x")',
                    "Feed ID": "-1",
                    "Customer Message": "@SUM(1)",
                    "Support Case": "+1 555",
                },
            )
        ]
    )
    row = dict(zip(read_back(path)[0], read_back(path)[1], strict=True))
    assert row["Result"] == '\'=HYPERLINK("http://evil","x")'
    assert row["Feed ID"] == "'-1"
    assert row["Customer Message"] == "'@SUM(1)"
    assert row["Support Case"] == "'+1 555"
    assert row["Details"] == DETAILS  # the team's own text is theirs


def test_quotes_and_newlines_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    details = 'He said "cancel it",\r\nthen "never mind";\nthen "cancel".'
    write_csv(path, [["Order ID", "Reason", "Details"], [ID1, "Out of stock", details]])
    sheet = CsvSheet(path)
    assert sheet.read().rows[1].cells[2].text == details
    message = 'Dear "Kim",\nyour order, as asked, is cancelled.'
    sheet.write([RowUpdate(2, ID1, {"Status": "READY", "Customer Message": message})])
    back = read_back(path)
    assert back[1][2] == details
    assert back[1][back[0].index("Customer Message")] == message
    assert CsvSheet(path).read().rows[1].cells[2].text == details


def test_rows_moved_between_read_and_write(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    sheet = CsvSheet(path)
    orders(path)
    sheet.read()
    # Meanwhile someone inserts an order above and deletes ID2.
    write_csv(
        path,
        [
            ["Order ID", "Reason", "Details", "Owner"],
            [ID3, "Out of stock", "inserted by Kim", "Kim"],
            [ID1, "Out of stock", DETAILS, "Sam"],
        ],
    )
    report = sheet.write([status(2, ID1), status(3, ID2, "HELD")])
    assert report.written == 1
    assert report.moved == ((ID1, 2, 3),)
    assert report.missing == (ID2,)
    back = read_back(path)
    assert back[1] == [ID3, "Out of stock", "inserted by Kim", "Kim"]
    assert back[2] == [ID1, "Out of stock", DETAILS, "Sam", "READY"]


def test_cp1252_file_with_characters_it_cannot_hold(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    rows = [["Order ID", "Reason", "Details"], [ID1, "Out of stock", "Müller’s mug"]]
    write_csv(path, rows, encoding="cp1252")
    report = CsvSheet(path).write([status(2, ID1, "READY", Result="ok → 注文 ß")])
    back = read_back(path, "cp1252")
    assert back[1] == [*rows[1], "READY", "ok ? ?? ß"]
    assert report.warnings == (
        "warning: orders.csv is cp1252 text, which cannot hold some characters of the results "
        "on rows 2; they were written as '?' (save the file as CSV UTF-8 to keep them)",
    )


def test_a_backup_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    original = orders(path)
    CsvSheet(path, tmp_path / "backups").write([status(2, ID1)])
    (kept,) = (tmp_path / "backups").iterdir()
    assert kept.read_bytes() == original
    assert path.read_bytes() != original


# ---------------------------------------------------------------------------------------------
# Files that cannot be read


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SheetError, match=r"orders\.csv does not exist"):
        CsvSheet(tmp_path / "orders.csv").read()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("Order ID,Reason\n".encode("utf-16"), "is not a text CSV file; export it"),
        (b"PK\x03\x04\x00\x00binary", "is not a text CSV file; export it"),
        (b"Order ID,Reason,Details\n\x81\x8d,x,y\n", "is neither UTF-8 nor Windows-1252 text"),
    ],
)
def test_not_a_text_file(tmp_path: Path, data: bytes, expected: str) -> None:
    path = tmp_path / "orders.csv"
    path.write_bytes(data)
    with pytest.raises(SheetError, match=expected):
        CsvSheet(path).read()


def test_a_file_open_in_libreoffice_is_not_touched(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    original = orders(path)
    (tmp_path / ".~lock.orders.csv#").write_text("x")
    with pytest.raises(SheetError, match="open in a spreadsheet program"):
        CsvSheet(path).write([status(2, ID1)])
    assert path.read_bytes() == original


# ---------------------------------------------------------------------------------------------
# Files from the wild


def test_an_unterminated_quote_is_one_line_naming_the_line_and_nothing_is_written(
    tmp_path: Path,
) -> None:
    path = tmp_path / "orders.csv"
    data = (
        f'Order ID,Reason,Details\n{ID1},Out of stock,"Supplier ran out\n'
        f'{ID2},Out of stock,"Warehouse flood"\n{ID3},Out of stock,{DETAILS}\n'
    ).encode()
    path.write_bytes(data)
    with pytest.raises(SheetError) as e:
        CsvSheet(path).read()
    message = str(e.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: a quote on line 2 is not closed where its cell ends")
    with pytest.raises(SheetError, match="line 2"):
        CsvSheet(path).write([status(2, ID1)])
    assert path.read_bytes() == data


def test_a_quote_left_open_at_the_end_of_the_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_bytes(f'Order ID,Reason,Details\n{ID1},Out of stock,"Supplier ran out\n'.encode())
    with pytest.raises(SheetError, match=r"a quote on line 2 is not closed"):
        CsvSheet(path).read()


def test_a_utf8_file_with_one_stray_byte_is_refused_naming_the_line_and_byte(
    tmp_path: Path,
) -> None:
    path = tmp_path / "orders.csv"
    text = f"Order ID,Reason,Details\n{ID1},Out of stock,Café crème is gone\n"
    data = text.encode("utf-8") + f"{ID2},Out of stock,Caf".encode() + b"\xe9 noir\n"
    path.write_bytes(data)
    with pytest.raises(SheetError) as e:
        CsvSheet(path).read()
    assert str(e.value) == (
        f"{path} is UTF-8 text with a byte that is not UTF-8 (0xE9 on line 3); retype the "
        "character there, or save the file as CSV UTF-8 again"
    )
    assert path.read_bytes() == data


def test_a_windows_1252_file_without_any_utf8_is_still_read(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_bytes(f"Order ID,Reason,Details\n{ID1},Out of stock,Café noir\n".encode("cp1252"))
    grid = CsvSheet(path).read()
    assert grid.rows[1].cell(2).text == "Café noir"


def test_a_cr_only_file_keeps_its_line_endings(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    orders(path, newline="\r")
    sheet = CsvSheet(path)
    grid = sheet.read()
    assert [r.number for r in grid.rows] == [1, 2, 3]
    sheet.write([status(2, ID1)], find_header(grid))
    data = path.read_bytes()
    assert b"\n" not in data and data.count(b"\r") == 3
    assert read_back(path)[1][-1] == "READY"


def test_a_field_over_the_csv_modules_limit_is_read(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    huge = "x" * 200_000
    write_csv(path, [["Order ID", "Reason", "Details"], [ID1, "Out of stock", huge]])
    grid = CsvSheet(path).read()
    assert grid.rows[1].cell(2).text == huge
    CsvSheet(path).write([status(2, ID1)])
    assert path.read_text(encoding="utf-8").splitlines()[1] == f"{ID1},Out of stock,{huge},READY"
    assert csv.field_size_limit() == 131_072  # the process-wide limit is put back


def test_a_title_row_that_mentions_an_order_number_does_not_pick_the_delimiter(
    tmp_path: Path,
) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(
        f"Order number\n\nOrder ID;Reason;Details\n{ID1};Out of stock;{DETAILS}, again\n",
        encoding="utf-8",
    )
    grid = CsvSheet(path).read()
    header = find_header(grid)
    assert header.row == 3 and header.columns["Details"] == 2
    assert grid.rows[2].cell(2).text == f"{DETAILS}, again"
