"""The Google Sheets backend, through real gspread over HTTP against the fake Sheets API."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import gspread
import pytest
import requests
from fake_sheets import FakeSheets, FakeSpreadsheet, Formula, Shown, iter_cells
from google.auth.credentials import AnonymousCredentials
from sample import as_a_new_user

from bulk.columns import RESULT_COLUMNS, find_header
from bulk.errors import ConfigError, SheetError
from bulk.grid import CellKind
from bulk.sheets import open_sheet
from bulk.sheets.base import RowUpdate, parse_target
from bulk.sheets.google import (
    ATTEMPTS,
    GoogleSheet,
    SheetsHTTPClient,
    open_google_sheet,
    parse_range,
)

pytest_plugins = ["conftest_google"]

KEY = "1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcd"
URL = f"https://docs.google.com/spreadsheets/d/{KEY}/edit#gid=0"
HEADER = ["Order ID", "Reason", "Details", "Items"]
ORDER_1 = "112-0000001-0000001"
ORDER_2 = "112-0000002-0000002"
ORDER_3 = "112-0000003-0000003"


def orders_sheet(fake: FakeSheets, cols: int = 26, rows: int = 1000) -> FakeSpreadsheet:
    """A typical team sheet: a title, a blank row, the header on row 3, three orders."""
    return fake.add_spreadsheet(
        KEY,
        "Cancellations",
        {
            "Orders": [
                ["Cancellations: week 12"],
                [],
                HEADER,
                [ORDER_1, "No stock", "Supplier ran out last week", None],
                [ORDER_2, "No stock", "Warehouse flood ruined the batch", "MUG-RED"],
                [ORDER_3, "Address", "Customer address is a PO box in Mars"],
            ]
        },
        rows=rows,
        cols=cols,
    )


def update(row: int, order_id: str, **values: str) -> RowUpdate:
    return RowUpdate(row, order_id, {k.replace("_", " "): v for k, v in values.items()})


# --- targets --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "key", "gid"),
    [
        (f"https://docs.google.com/spreadsheets/d/{KEY}/edit#gid=0", KEY, 0),
        (f"https://docs.google.com/spreadsheets/d/{KEY}/edit?gid=123#gid=123", KEY, 123),
        (f"https://docs.google.com/spreadsheets/d/{KEY}/edit", KEY, None),
        (f"https://docs.google.com/spreadsheets/d/{KEY}", KEY, None),
        (f"https://docs.google.com/spreadsheets/u/1/d/{KEY}/edit#gid=77", KEY, 77),
        (f"  https://docs.google.com/spreadsheets/d/{KEY}/htmlview  ", KEY, None),
        (f"gsheet:{KEY}", KEY, None),
        (f"gsheet:{KEY}#gid=42", KEY, 42),
    ],
)
def test_parse_target(target: str, key: str, gid: int | None) -> None:
    assert parse_target(target) == (key, gid)


@pytest.mark.parametrize(
    "target",
    [
        "https://docs.google.com/spreadsheets/",
        "https://docs.google.com/document/d/abc/edit",
        "gsheet:",
        "gsheet:has spaces",
    ],
)
def test_parse_target_refuses_what_is_not_a_sheet(target: str) -> None:
    with pytest.raises(SheetError, match="Google Sheet"):
        parse_target(target)


@pytest.mark.parametrize(
    ("a1", "bounds"),
    [
        ("Sheet1!A1:D4", (0, 0, 3, 3)),
        ("'My ''odd'' sheet'!A5:Z5", (4, 0, 4, 25)),
        ("'🌵 test 1'!A1:A10", (0, 0, 9, 0)),
        ("Sheet1!B3", (2, 1, 2, 1)),
        ("Sheet1!AA10:AB12", (9, 26, 11, 27)),
    ],
)
def test_parse_range(a1: str, bounds: tuple[int, int, int, int]) -> None:
    got = parse_range(a1)
    assert (got.first_row, got.first_col, got.last_row, got.last_col) == bounds


# --- opening ----------------------------------------------------------------------------------


def test_open_costs_one_metadata_request_and_names_the_sheet(fake_sheets: FakeSheets) -> None:
    orders_sheet(fake_sheets)
    sheet = open_google_sheet(URL, None)
    assert sheet.label == "Cancellations / Orders"
    assert dict(fake_sheets.counts) == {"spreadsheets.get": 1}
    assert isinstance(open_sheet(f"gsheet:{KEY}"), GoogleSheet)  # bulk.sheets routes to it


def test_worksheet_by_gid_by_title_or_first_visible(fake_sheets: FakeSheets) -> None:
    book = orders_sheet(fake_sheets)
    lists = book.add_sheet("Lists", sheet_id=555)
    hidden = book.add_sheet("Bob's sheet 🌵", sheet_id=777)
    book.sheet("Orders").hidden = True
    hidden.set_values([["Order ID", "Reason", "Details"], [ORDER_1, "x", "y"]])
    lists.index, hidden.index, book.sheet("Orders").index = 0, 1, 2

    assert open_google_sheet(f"{URL[:-1]}777", None).worksheet == "Bob's sheet 🌵"
    assert open_google_sheet(f"gsheet:{KEY}", "Orders").worksheet == "Orders"
    assert open_google_sheet(f"gsheet:{KEY}", None).worksheet == "Lists"  # first visible
    # an explicit --worksheet wins over the tab the browser URL happened to show
    assert open_google_sheet(f"{URL[:-1]}555", "Orders").worksheet == "Orders"
    # a title with a quote, spaces and an emoji survives A1 quoting and percent-encoding
    grid = open_google_sheet(f"{URL[:-1]}777", None).read()
    assert [r.cells[0].text for r in grid.rows] == ["Order ID", ORDER_1]


def test_unknown_worksheet_lists_the_ones_there(fake_sheets: FakeSheets) -> None:
    orders_sheet(fake_sheets)
    with pytest.raises(SheetError, match="no worksheet 'Sheet9'; it has: 'Orders'"):
        open_google_sheet(URL, "Sheet9")
    with pytest.raises(SheetError, match="no worksheet with gid 12345"):
        open_google_sheet(f"{URL[:-1]}12345", None)


def test_unknown_spreadsheet_is_a_sheet_error(fake_sheets: FakeSheets) -> None:
    with pytest.raises(SheetError, match="Google Sheet nope not found; check the URL"):
        open_google_sheet("gsheet:nope", None)


def test_sheet_not_shared_names_the_service_account(
    fake_sheets: FakeSheets, service_account_file: Path
) -> None:
    email = json.loads(service_account_file.read_text())["client_email"]
    orders_sheet(fake_sheets).shared_with = frozenset()
    with pytest.raises(SheetError) as caught:
        open_google_sheet(URL, None, credentials=str(service_account_file))
    message = str(caught.value)
    assert f"share the sheet with {email} (as Editor)" in message
    assert "\n" not in message
    assert fake_sheets.counts["token"] == 1  # google-auth got a token from the fake


def test_sheets_api_not_enabled_is_not_a_sharing_problem(
    fake_sheets: FakeSheets, service_account_file: Path
) -> None:
    orders_sheet(fake_sheets).shared_with = frozenset()
    fake_sheets.api_disabled_in_project = "123456789012"
    with pytest.raises(ConfigError) as caught:
        open_google_sheet(URL, None, credentials=str(service_account_file))
    message = str(caught.value)
    assert message.startswith(
        "the Google Sheets API is not enabled in Google Cloud project 123456789012"
    )
    assert "sheets.googleapis.com?project=123456789012" in message
    assert "share" not in message and "\n" not in message


def test_a_publish_to_the_web_link_says_what_it_is(fake_sheets: FakeSheets) -> None:
    for link in (
        "https://docs.google.com/spreadsheets/d/e/2PACX-1vQabcdefghijk/pubhtml",
        "https://docs.google.com/spreadsheets/d/e/2PACX-1vQabcdefghijk/pub?output=csv",
    ):
        with pytest.raises(SheetError) as caught:
            open_sheet(link)
        assert "'Publish to the web' link" in str(caught.value)
        assert "address bar" in str(caught.value)
    assert sum(fake_sheets.counts.values()) == 0  # refused before any request


def test_a_bad_key_file_in_bulk_toml_names_bulk_toml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_sheets: FakeSheets
) -> None:
    from typer.testing import CliRunner

    from bulk.cli import app

    orders_sheet(fake_sheets)
    (tmp_path / "key.json").write_text('{"installed": {"client_id": "x"}}', encoding="utf-8")
    (tmp_path / "bulk.toml").write_text('[google]\ncredentials = "key.json"\n', encoding="utf-8")
    as_a_new_user(monkeypatch, tmp_path)
    result = CliRunner().invoke(app, ["check", URL])
    assert result.exit_code == 2
    last = result.output.strip().splitlines()[-1]
    assert last.startswith(f"error: {tmp_path / 'key.json'} ([google] credentials in ")
    assert "bulk.toml" in last and "not a service account's key file" in last


def test_service_account_reads_a_sheet_shared_with_it(
    fake_sheets: FakeSheets, service_account_file: Path
) -> None:
    email = json.loads(service_account_file.read_text())["client_email"]
    orders_sheet(fake_sheets).shared_with = frozenset({email})
    sheet = open_google_sheet(URL, None, credentials=str(service_account_file))
    assert len(sheet.read().rows) == 5
    assert {e.authorization for e in fake_sheets.log} == {"Bearer fake-token-1"}


def test_missing_credentials_say_what_to_set(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("SHEETS_EMULATOR_HOST", raising=False)
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.config/gspread OAuth files
    monkeypatch.setenv("APPDATA", str(tmp_path))
    with pytest.raises(ConfigError) as caught:
        open_google_sheet(URL, None)
    message = str(caught.value)
    assert "set GOOGLE_APPLICATION_CREDENTIALS" in message
    assert "\n" not in message


def test_credentials_file_that_is_not_there(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("SHEETS_EMULATOR_HOST", raising=False)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "nope.json"))
    with pytest.raises(ConfigError, match=r"GOOGLE_APPLICATION_CREDENTIALS points to .*nope\.json"):
        open_google_sheet(URL, None)
    (tmp_path / "client.json").write_text('{"installed": {"client_id": "x"}}')
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "client.json"))
    with pytest.raises(
        ConfigError, match=r"is not a service account's key file \(its type is None\)"
    ):
        open_google_sheet(URL, None)


# --- reading ----------------------------------------------------------------------------------


def test_read_is_one_values_request_with_row_numbers_and_padding(fake_sheets: FakeSheets) -> None:
    orders_sheet(fake_sheets)
    sheet = open_google_sheet(URL, None)
    grid = sheet.read()
    assert dict(fake_sheets.counts) == {"spreadsheets.get": 1, "values.get": 1}
    assert grid.name == "Orders"
    assert [r.number for r in grid.rows] == [1, 3, 4, 5, 6]  # the blank row 2 is left out
    assert {len(r.cells) for r in grid.rows} == {4}  # trailing blanks padded back
    assert [c.text for c in grid.rows[1].cells] == HEADER
    assert grid.rows[2].cells[3].kind is CellKind.BLANK
    assert grid.rows[4].cells[3].kind is CellKind.BLANK
    assert grid.rows[3].cell(3).text == "MUG-RED"


def test_read_keeps_text_as_typed_and_types_numbers(fake_sheets: FakeSheets) -> None:
    fake_sheets.add_spreadsheet(
        KEY,
        "Kinds",
        {
            "Sheet1": [
                ["Order ID", "Reason", "Details", "Items", "Notify", "When", "Calc"],
                [
                    ORDER_1,
                    "00123",  # text with leading zeros stays text
                    12.5,
                    12345678901234,
                    True,
                    Shown(45366.0, "3/15/2024", date=True),
                    Formula("=1/0", "#DIV/0!"),
                ],
            ]
        },
    )
    row = open_google_sheet(URL, None).read().rows[1]
    assert [(c.text, c.kind) for c in row.cells] == [
        (ORDER_1, CellKind.TEXT),
        ("00123", CellKind.TEXT),
        ("12.5", CellKind.NUMBER),
        ("12345678901234", CellKind.NUMBER),
        ("TRUE", CellKind.BOOL),
        ("3/15/2024", CellKind.TEXT),  # dates come back as the sheet shows them
        ("#DIV/0!", CellKind.ERROR),
    ]
    query = fake_sheets.log[-1].query
    assert query["valueRenderOption"] == ["UNFORMATTED_VALUE"]
    assert query["dateTimeRenderOption"] == ["FORMATTED_STRING"]


def test_read_marks_merged_cells(fake_sheets: FakeSheets) -> None:
    book = orders_sheet(fake_sheets)
    ws = book.sheet("Orders")
    ws.merges.append(
        {"startRowIndex": 3, "endRowIndex": 5, "startColumnIndex": 1, "endColumnIndex": 2}
    )
    grid = open_google_sheet(URL, None).read()
    assert grid.rows[3].cell(1).merged_into == "B4"
    assert grid.rows[2].cell(1).merged_into == ""


def test_empty_worksheet_reads_as_no_rows(fake_sheets: FakeSheets) -> None:
    fake_sheets.add_spreadsheet(KEY, "Empty")
    assert open_google_sheet(URL, None).read().rows == ()


# --- writing ----------------------------------------------------------------------------------


def snapshot(book: FakeSpreadsheet) -> dict[str, Any]:
    return dict(iter_cells(book.sheet("Orders")))


def test_write_appends_result_columns_then_writes_in_two_requests(
    fake_sheets: FakeSheets,
) -> None:
    book = orders_sheet(fake_sheets, cols=6)
    sheet = open_google_sheet(URL, None)
    sheet.read()
    fake_sheets.reset_counts()
    report = sheet.write(
        [
            update(4, ORDER_1, Status="READY", Result="passed every check"),
            update(6, ORDER_3, Status="REJECTED", Result="=1+1 is not a reason"),
        ]
    )
    assert report.written == 2 and report.moved == () and report.missing == ()
    assert dict(fake_sheets.counts) == {
        "values.batchGet": 1,  # the sheet as it is now
        "spreadsheets.batchUpdate": 1,  # appendDimension
        "values.batchUpdate": 1,  # header cells and every result cell
    }
    append = fake_sheets.log[1].body["requests"]
    assert append == [{"appendDimension": {"sheetId": 0, "dimension": "COLUMNS", "length": 6}}]
    ws = book.sheet("Orders")
    assert ws.cols == 12  # 4 used + 8 result columns
    assert [ws.get(3, c) for c in range(5, 13)] == list(RESULT_COLUMNS)
    assert (ws.get(4, 5), ws.get(4, 6)) == ("READY", "passed every check")
    assert (ws.get(6, 5), ws.get(6, 6)) == ("REJECTED", "'=1+1 is not a reason")
    assert ws.get(5, 5) is None
    assert fake_sheets.log[2].body["valueInputOption"] == "RAW"


def test_write_into_existing_result_columns_is_two_requests(fake_sheets: FakeSheets) -> None:
    book = orders_sheet(fake_sheets)
    ws = book.sheet("Orders")
    ws.set_values([["Notes", "Status", "Result"]], top=3, left=5)  # Status in F, Result in G
    ws.set_values([["call back", "READY", "old"]], top=4, left=5)
    sheet = open_google_sheet(URL, None)
    sheet.read()
    fake_sheets.reset_counts()
    sheet.write([update(4, ORDER_1, Status="SUBMITTED", Result="feed 5001")])
    assert dict(fake_sheets.counts) == {"values.batchGet": 1, "values.batchUpdate": 1}
    data = fake_sheets.log[-1].body["data"]
    # the missing result columns are named after the last used header cell (H onwards)
    assert data[0] == {"range": "'Orders'!H3:M3", "values": [list(RESULT_COLUMNS[2:])]}
    assert data[1] == {"range": "'Orders'!F4:G4", "values": [["SUBMITTED", "feed 5001"]]}
    assert (ws.get(4, 5), ws.get(4, 6), ws.get(4, 7)) == ("call back", "SUBMITTED", "feed 5001")


def test_formula_like_text_is_escaped_and_stored_as_text(fake_sheets: FakeSheets) -> None:
    book = orders_sheet(fake_sheets)
    sheet = open_google_sheet(URL, None)
    sheet.read()
    sheet.write(
        [
            update(4, ORDER_1, Result='=HYPERLINK("http://x")', Customer_Message="plain"),
            update(5, ORDER_2, Result="+1 555", Customer_Message="@SUM(A1)"),
            update(6, ORDER_3, Result="-5"),
        ]
    )
    ws = book.sheet("Orders")
    assert [ws.get(r, 6) for r in (4, 5, 6)] == ['\'=HYPERLINK("http://x")', "'+1 555", "'-5"]
    assert [ws.get(r, 10) for r in (4, 5)] == ["plain", "'@SUM(A1)"]
    assert not any(isinstance(v, Formula) for v in ws.cells.values())


def test_rows_moved_between_read_and_write_land_on_their_order(fake_sheets: FakeSheets) -> None:
    book = orders_sheet(fake_sheets)
    ws = book.sheet("Orders")
    sheet = open_google_sheet(URL, None)
    sheet.read()

    def someone_sorts_and_inserts() -> None:
        rows = {r: [ws.get(r, c) for c in range(1, 5)] for r in (4, 5, 6)}
        ws.set_values([rows[6], rows[4], rows[5]], top=4)  # sorted: order 3 first
        ws.insert_rows(4, 2)  # and two new rows above them
        ws.set_values([["112-0000009-0000009", "No stock", "new row typed meanwhile"]], top=4)

    fake_sheets.before("values.batchGet", someone_sorts_and_inserts)
    report = sheet.write(
        [update(4, ORDER_1, Status="READY"), update(6, ORDER_3, Status="REJECTED")]
    )
    assert report.written == 2
    assert report.moved == ((ORDER_1, 4, 7),)  # order 3 happens to be on row 6 again
    assert (ws.get(6, 1), ws.get(6, 5)) == (ORDER_3, "REJECTED")
    assert (ws.get(7, 1), ws.get(7, 5)) == (ORDER_1, "READY")
    assert ws.get(4, 5) is None and ws.get(8, 5) is None


def test_deleted_row_is_missing_and_nothing_else_is_overwritten(fake_sheets: FakeSheets) -> None:
    book = orders_sheet(fake_sheets)
    ws = book.sheet("Orders")
    sheet = open_google_sheet(URL, None)
    sheet.read()
    before: dict[str, Any] = {}

    def someone_deletes_row_5() -> None:
        ws.delete_rows(5)
        before.update(snapshot(book))

    fake_sheets.before("values.batchGet", someone_deletes_row_5)
    report = sheet.write(
        [update(5, ORDER_2, Status="READY", Result="x"), update(6, ORDER_3, Status="HELD")]
    )
    assert report.missing == (ORDER_2,)
    assert report.moved == ((ORDER_3, 6, 5),)
    after = snapshot(book)
    changed = {k for k in after if after[k] != before.get(k)} | set(before) - set(after)
    assert changed == {f"{c}3" for c in "EFGHIJKL"} | {"E5"}
    assert after["E5"] == "HELD" and after["A5"] == ORDER_3


def test_row_without_order_id_below_the_data_is_still_written(fake_sheets: FakeSheets) -> None:
    book = orders_sheet(fake_sheets)
    book.sheet("Orders").set_values([[None, "No stock", "forgot the order id"]], top=7)
    sheet = open_google_sheet(URL, None)
    sheet.read()
    report = sheet.write([RowUpdate(7, "", {"Status": "REJECTED"})])
    assert (report.written, report.missing) == (1, ())
    assert book.sheet("Orders").get(7, 5) == "REJECTED"


def test_header_moved_since_the_read_is_found_again(fake_sheets: FakeSheets) -> None:
    book = orders_sheet(fake_sheets)
    ws = book.sheet("Orders")
    sheet = open_google_sheet(URL, None)
    header = find_header(sheet.read())
    assert header.row == 3
    fake_sheets.before("values.batchGet", lambda: ws.insert_rows(1))
    fake_sheets.reset_counts()
    report = sheet.write([update(4, ORDER_1, Status="READY")], header)
    assert report.moved == ((ORDER_1, 4, 5),)
    assert ws.get(4, 5) == "Status" and ws.get(5, 5) == "READY"
    # the sheet as it is now is read once; the header is found again in what it read
    assert dict(fake_sheets.counts) == {"values.batchGet": 1, "values.batchUpdate": 1}


def test_write_without_a_read_reads_first(fake_sheets: FakeSheets) -> None:
    book = orders_sheet(fake_sheets)
    report = open_google_sheet(URL, None).write([update(5, ORDER_2, Status="READY")])
    assert report.written == 1
    assert book.sheet("Orders").get(5, 5) == "READY"


def test_nothing_to_write_sends_nothing(fake_sheets: FakeSheets) -> None:
    orders_sheet(fake_sheets)
    sheet = open_google_sheet(URL, None)
    fake_sheets.reset_counts()
    assert sheet.write([]).written == 0
    assert not fake_sheets.counts


# --- quotas and failures -------------------------------------------------------------------------


def test_429_twice_then_success(fake_sheets: FakeSheets, sleeps: list[float]) -> None:
    orders_sheet(fake_sheets)
    sheet = open_google_sheet(URL, None)
    fake_sheets.fail_next(2)
    assert len(sheet.read().rows) == 5
    assert fake_sheets.counts["values.get"] == 3
    assert len(sleeps) == 2 and all(0 <= s <= 60 for s in sleeps)


def test_retry_after_is_honoured(fake_sheets: FakeSheets, sleeps: list[float]) -> None:
    orders_sheet(fake_sheets)
    sheet = open_google_sheet(URL, None)
    fake_sheets.fail_next(1, retry_after="7")
    sheet.read()
    assert sleeps == [7.0]


def test_429_forever_gives_up_with_a_clear_message(
    fake_sheets: FakeSheets, sleeps: list[float]
) -> None:
    orders_sheet(fake_sheets)
    sheet = open_google_sheet(URL, None)
    fake_sheets.fail_next(100)
    with pytest.raises(SheetError) as caught:
        sheet.read()
    assert str(caught.value) == (
        f"Google Sheets quota exhausted (429) after {ATTEMPTS} tries; wait a minute and run again"
    )
    assert fake_sheets.counts["values.get"] == ATTEMPTS
    assert len(sleeps) == ATTEMPTS - 1


def test_server_errors_are_retried_then_reported(fake_sheets: FakeSheets) -> None:
    orders_sheet(fake_sheets)
    sheet = open_google_sheet(URL, None)
    sheet.read()
    fake_sheets.fail_next(1, status=503)
    assert sheet.write([update(4, ORDER_1, Status="READY")]).written == 1
    fake_sheets.fail_next(100, status=500)
    fake_sheets.reset_counts()
    with pytest.raises(SheetError, match=r"Google Sheets failed \(500: .*\); run again"):
        sheet.write([update(4, ORDER_1, Status="READY")])
    assert fake_sheets.counts["values.batchGet"] == ATTEMPTS


def test_column_append_is_not_repeated_after_a_server_error(
    fake_sheets: FakeSheets, sleeps: list[float]
) -> None:
    book = orders_sheet(fake_sheets, cols=4)
    sheet = open_google_sheet(URL, None)
    sheet.read()
    fake_sheets.before("spreadsheets.batchUpdate", lambda: fake_sheets.fail_next(1, status=500))
    with pytest.raises(SheetError, match=r"Google Sheets failed \(500"):
        sheet.write([update(4, ORDER_1, Status="READY")])
    assert fake_sheets.counts["spreadsheets.batchUpdate"] == 1  # it may have been applied
    assert fake_sheets.counts["values.batchUpdate"] == 0
    fake_sheets.before("spreadsheets.batchUpdate", lambda: fake_sheets.fail_next(1))  # 429
    assert sheet.write([update(4, ORDER_1, Status="READY")]).written == 1
    assert fake_sheets.counts["spreadsheets.batchUpdate"] == 3
    assert book.sheet("Orders").cols == 12


def test_unreachable_emulator_is_a_sheet_error(monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeSheets() as fake:
        host = fake.host  # a port that was just free, now closed
    monkeypatch.setenv("SHEETS_EMULATOR_HOST", host)
    with pytest.raises(SheetError, match="cannot reach Google Sheets"):
        open_google_sheet(URL, None)


# --- the fake against Google's recorded answers ----------------------------------------------


def gspread_client(fake: FakeSheets) -> gspread.Client:
    client = gspread.Client(AnonymousCredentials(), http_client=SheetsHTTPClient)
    http = client.http_client
    assert isinstance(http, SheetsHTTPClient)
    http.emulator = fake.host
    return client


def test_fake_serves_gspreads_own_calls(fake_sheets: FakeSheets) -> None:
    orders_sheet(fake_sheets)
    ws = gspread_client(fake_sheets).open_by_key(KEY).worksheet("Orders")
    assert ws.get_all_values()[2] == HEADER
    ws.update([["x", "y"]], "F10", value_input_option="USER_ENTERED")
    ws.batch_update([{"range": "A20:B20", "values": [["=1+1", "'=2"]]}], raw=False)
    assert ws.get("A20:B20", value_render_option="FORMULA") == [["=1+1", "=2"]]
    assert ws.acell("F10").value == "x"


def shape(value: Any) -> Any:
    """Keys and value types of a JSON document (numbers are one type, as in JSON)."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(v) for v in value]
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


# Exchanges copied from gspread's recorded cassettes (tests/cassettes/, MIT): the fake is set up
# as the recorded sheet was, then asked the recorded request.
RECORDED: list[tuple[str, dict[str, list[list[Any]]], int, str, str, Any, int, Any]] = [
    (  # WorksheetTest.test_get_all_values: trailing blanks and blank rows left out
        "get_all_values",
        {"Sheet1": [["A1", "B1", "", "D1"], ["", "b2", "", ""], [], ["A4", "B4", "", "D4"]]},
        4,
        "GET",
        "/values/%27Sheet1%27",
        None,
        200,
        {
            "range": "Sheet1!A1:D4",
            "majorDimension": "ROWS",
            "values": [["A1", "B1", "", "D1"], ["", "b2"], [], ["A4", "B4", "", "D4"]],
        },
    ),
    (  # WorksheetTest.test_get_all_values: an empty range has no "values" at all
        "empty_range",
        {"Sheet1": []},
        4,
        "GET",
        "/values/%27Sheet1%27%21A1%3AD1",
        None,
        200,
        {"range": "Sheet1!A1:D1", "majorDimension": "ROWS"},
    ),
    (  # WorksheetTest.test_insert_row: a whole row is clipped to the grid (Z)
        "row_to_grid_edge",
        {"Sheet1": [[], [f"test_insert_row {n}" for n in range(25, 33)]]},
        1000,
        "GET",
        "/values/%27Sheet1%27%21A2%3A2",
        None,
        200,
        {
            "range": "Sheet1!A2:Z2",
            "majorDimension": "ROWS",
            "values": [[f"test_insert_row {n}" for n in range(25, 33)]],
        },
    ),
    (  # WorksheetTest.test_batch_update
        "values_batch_update",
        {"Sheet1": []},
        1000,
        "POST",
        "/values:batchUpdate",
        {
            "valueInputOption": "RAW",
            "data": [
                {"range": "'Sheet1'!A1:D1", "values": [["A1", "B1", "", "D1"]]},
                {"range": "'Sheet1'!A4:D4", "values": [["A4", "B4", "", "D4"]]},
            ],
        },
        200,
        {
            "spreadsheetId": "{id}",
            "totalUpdatedRows": 2,
            "totalUpdatedColumns": 4,
            "totalUpdatedCells": 8,
            "totalUpdatedSheets": 1,
            "responses": [
                {
                    "spreadsheetId": "{id}",
                    "updatedRange": "Sheet1!A1:D1",
                    "updatedRows": 1,
                    "updatedColumns": 4,
                    "updatedCells": 4,
                },
                {
                    "spreadsheetId": "{id}",
                    "updatedRange": "Sheet1!A4:D4",
                    "updatedRows": 1,
                    "updatedColumns": 4,
                    "updatedCells": 4,
                },
            ],
        },
    ),
    (  # WorksheetTest.test_add_validation: Google's error body for a malformed write
        "bad_values",
        {"Sheet1": []},
        1000,
        "PUT",
        "/values/%27Sheet1%27%21A1?valueInputOption=RAW",
        {"values": "X", "majorDimension": None},
        400,
        {
            "error": {
                "code": 400,
                "message": "Invalid value at 'data.values' "
                '(type.googleapis.com/google.protobuf.ListValue), "X"',
                "status": "INVALID_ARGUMENT",
                "details": [
                    {
                        "@type": "type.googleapis.com/google.rpc.BadRequest",
                        "fieldViolations": [
                            {
                                "field": "data.values",
                                "description": "Invalid value at 'data.values' "
                                '(type.googleapis.com/google.protobuf.ListValue), "X"',
                            }
                        ],
                    }
                ],
            }
        },
    ),
    (  # WorksheetTest.test_hide_show_worksheet: a refused spreadsheets:batchUpdate
        "hide_all",
        {"Sheet1": []},
        1000,
        "POST",
        ":batchUpdate",
        {
            "requests": [
                {
                    "updateSheetProperties": {
                        "properties": {"sheetId": 0, "hidden": True},
                        "fields": "hidden",
                    }
                }
            ]
        },
        400,
        {
            "error": {
                "code": 400,
                "message": "Invalid requests[0].updateSheetProperties: "
                "You can't hide all the sheets in a document.",
                "status": "INVALID_ARGUMENT",
            }
        },
    ),
]


@pytest.mark.parametrize("case", RECORDED, ids=[c[0] for c in RECORDED])
def test_fake_answers_as_recorded(fake_sheets: FakeSheets, case: tuple[Any, ...]) -> None:
    _, sheets, rows, method, path, body, status, expected = case
    book = fake_sheets.add_spreadsheet(
        KEY, "Recorded", sheets, rows=rows, cols=26 if rows > 4 else 4
    )
    assert book.sheet("Sheet1").rows == rows
    url = f"http://{fake_sheets.host}/v4/spreadsheets/{KEY}{path}"
    with requests.Session() as session:
        session.trust_env = False
        answer = session.request(method, url, json=body, timeout=5)
    assert answer.status_code == status
    assert answer.json() == json.loads(json.dumps(expected).replace("{id}", KEY))


# gspread's own recorded Sheets traffic (its tests' cassettes, github.com/burnash/gspread),
# kept unchanged in tests/data/sheets-cassettes; BULK_SHEETS_CASSETTES points at other ones.
CASSETTES = Path(
    os.environ.get("BULK_SHEETS_CASSETTES")
    or Path(__file__).resolve().parent / "data" / "sheets-cassettes"
)


def recordings() -> list[Path]:
    return sorted(CASSETTES.glob("*.json")) if CASSETTES.is_dir() else []


def test_the_recorded_cassettes_are_at_hand() -> None:
    assert len(recordings()) >= 10, CASSETTES


@pytest.mark.parametrize("cassette", recordings(), ids=lambda p: p.stem)
def test_fake_replays_recorded_cassette(fake_sheets: FakeSheets, cassette: Path) -> None:
    """Every Sheets request of the cassette's first recording, in order: same status, and the
    same keys and value types in the answer (values answers must be equal)."""
    interactions = json.loads(cassette.read_text(encoding="utf-8"))["interactions"]
    ids: dict[int, int] = {}  # recorded sheetId -> the fake's
    compared = 0
    for interaction in interactions:
        request, response = interaction["request"], interaction["response"]
        uri: str = request["uri"]
        if uri.startswith("https://www.googleapis.com/drive/v3/files"):
            if request["method"] == "POST":
                created = json.loads(response["body"]["string"])
                fake_sheets.add_spreadsheet(created["id"], created["name"])
            elif request["method"] == "DELETE":
                break  # the end of the first recording
            continue
        body = json.loads(request["body"]) if request["body"] else None
        if body is not None:
            body = json.loads(
                json.dumps(body),
                object_hook=lambda d: (
                    d | ({"sheetId": ids.get(d["sheetId"], d["sheetId"])} if "sheetId" in d else {})
                ),
            )
        url = uri.replace("https://sheets.googleapis.com", f"http://{fake_sheets.host}")
        with requests.Session() as session:
            session.trust_env = False
            answer = session.request(request["method"], url, json=body, timeout=5)
        if answer.status_code == 404 and "does not serve" in answer.text:
            break  # values:append and the like: not used by bulk, not served by the fake
        recorded_text = response["body"]["string"]
        assert answer.status_code == response["status"]["code"], (uri, answer.text)
        if not recorded_text:
            continue
        recorded = json.loads(recorded_text)
        got = answer.json()
        for recorded_reply, reply in zip(
            recorded.get("replies", []), got.get("replies", []), strict=True
        ):
            if "addSheet" in recorded_reply:
                ids[recorded_reply["addSheet"]["properties"]["sheetId"]] = reply["addSheet"][
                    "properties"
                ]["sheetId"]
        if "/values" in uri:
            assert got == recorded, uri
        else:
            assert shape(got) == shape(recorded), uri
        compared += 1
    assert compared >= 2
