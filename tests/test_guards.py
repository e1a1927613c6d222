"""Guards for five mistakes that once went through every other test (each was made on purpose in a
copy of the code; tests/README.md lists them, and how to make each again and watch its test fail).
"""

from __future__ import annotations

from pathlib import Path

from fake_sheets import FakeSheets
from test_google import ORDER_1, ORDER_2, URL, orders_sheet, update
from test_pipeline import FR, A, C, context, market, read_sheet, sheet, submit, write_sheet

from bulk.infra.ledger import Ledger
from bulk.pipeline import run
from bulk.sheets.google import open_google_sheet

pytest_plugins = ["conftest_google"]


def test_a_pending_submission_blocks_a_second_feed_for_its_orders(tmp_path: Path) -> None:
    """submit --no-wait, then submit again: the ledger's pending rows are never sent twice, even
    when the sheet no longer shows them SUBMITTED (its write was lost, or someone cleared it)."""
    fake = market(A, C)
    fake.hold_feeds = True  # Amazon is still processing the first feeds
    path = write_sheet(tmp_path / "orders.csv", [A, C])
    submit(tmp_path, fake, path, wait=False)
    first = fake.calls["createFeed"]
    assert first == 2  # one feed per marketplace
    submit(tmp_path, fake, path, wait=False)  # the sheet says SUBMITTED
    write_sheet(path, [A, C])  # the sheet forgot: only the ledger knows
    submit(tmp_path, fake, path, wait=False)
    assert fake.calls["createFeed"] == first
    assert fake.calls["createFeedDocument"] == first
    assert {i: r["Status"] for i, r in read_sheet(path).items()} == {
        A: "SUBMITTED",
        C: "SUBMITTED",
    }


def test_a_warning_in_the_processing_report_is_not_an_error(tmp_path: Path) -> None:
    """A Warning result leaves the message processed: the order is cancelled, and the row does
    not carry the warning as the reason of a failure."""
    fake = market(A)
    fake.warnings[A] = ("5001", "The reason code was adjusted")
    path = write_sheet(tmp_path / "orders.csv", [A])
    submit(tmp_path, fake, path)
    row = read_sheet(path)[A]
    assert row["Status"] == "CANCELLED"
    assert row["Result"] == "Amazon cancelled the order"


def test_the_buyers_language_is_asked_of_the_orders_own_marketplace(tmp_path: Path) -> None:
    """An FR order in a DE-first account: getAttributes goes to FR (Amazon refuses the order in
    DE, and the adapter answers that refusal with no language at all)."""
    fake = market(A, C)  # A in DE (the main marketplace), C in FR
    fake.locales[C] = "es_ES"  # the FR buyer reads Spanish
    path = write_sheet(tmp_path / "orders.csv", [A, C])
    with Ledger(tmp_path / "ledger.sqlite") as ledger:
        run.check(context(tmp_path, fake, ledger), sheet(path, tmp_path))
    asked = {call[1]: call[2] for call in fake.log if call[0] == "getAttributes"}
    assert asked[C] == FR
    message = read_sheet(path)[C]["Customer Message"]
    assert message.startswith("Hola:"), message  # not the marketplace's "Bonjour,"


def test_a_colleagues_cell_between_result_columns_is_kept(fake_sheets: FakeSheets) -> None:
    """Status in F, a colleague's Notes in G, Result in H: one write per row spans F:H, and G
    must be sent as "leave it" (null), never as ""."""
    book = orders_sheet(fake_sheets)
    ws = book.sheet("Orders")
    ws.set_values([["Status", "Notes", "Result"]], top=3, left=6)
    ws.set_values([["READY", "call the buyer first", "old"]], top=4, left=6)
    sheet = open_google_sheet(URL, None)
    sheet.read()
    sheet.write([update(4, ORDER_1, Status="SUBMITTED", Result="feed 5001")])
    assert (ws.get(4, 6), ws.get(4, 7), ws.get(4, 8)) == (
        "SUBMITTED",
        "call the buyer first",
        "feed 5001",
    )


def test_result_cells_inside_merged_cells_are_not_written_to_a_google_sheet(
    fake_sheets: FakeSheets,
) -> None:
    book = orders_sheet(fake_sheets)
    ws = book.sheet("Orders")
    ws.set_values([["Status", "Result"]], top=3, left=6)
    # F5:G5 (row index 4, columns 5-6) merged: a note across both result cells of ORDER_2
    ws.merges.append(
        {"startRowIndex": 4, "endRowIndex": 5, "startColumnIndex": 5, "endColumnIndex": 7}
    )
    sheet = open_google_sheet(URL, None)
    sheet.read()
    report = sheet.write(
        [
            update(4, ORDER_1, Status="READY", Result="passed every check"),
            update(5, ORDER_2, Status="READY", Result="passed every check"),
        ]
    )
    assert (ws.get(4, 6), ws.get(4, 7)) == ("READY", "passed every check")
    # the range's top-left cell is the merged cell itself; the cell it covers is left alone
    assert (ws.get(5, 6), ws.get(5, 7)) == ("READY", None)
    assert report.warnings == ("warning: result cells inside merged cells were not written: G5",)
