"""bulk.rules.rows: header matching, cell parsing and the per-row checks that need no Amazon call."""

from __future__ import annotations

import re
from datetime import date

import pytest

from bulk.columns import INPUT_COLUMNS, Header, find_header, header_key, is_order_id_header
from bulk.config import DEFAULT_REASONS, Config, MessagesConfig, PolicyConfig
from bulk.errors import SheetError
from bulk.grid import Cell, CellKind, Grid, SheetRow
from bulk.models import CancelRequest, ItemRef, Reason, Remedy, Status
from bulk.rules import rows as row_checks
from bulk.rules.rows import ParsedRow, parse_items, parse_rows, reason_lookup

CONFIG = Config()
ID1 = "112-1234567-1234567"
ID2 = "203-7654321-7654321"
DETAILS = "Warehouse has none left after the stock count"
HEAD = ("Order ID", "Reason", "Details", "Items", "Remedy", "Notify", "Status", "Result")

Value = str | Cell


def cell(value: Value) -> Cell:
    if isinstance(value, Cell):
        return value
    return Cell(value, CellKind.TEXT) if value else Cell()


def grid(*rows: tuple[Value, ...] | None, name: str = "Orders") -> Grid:
    """Rows from row 1 down; None is a row the backend did not report (an empty row)."""
    return Grid(
        name,
        tuple(
            SheetRow(number, tuple(cell(v) for v in values))
            for number, values in enumerate(rows, 1)
            if values is not None
        ),
    )


def parse(*rows: tuple[Value, ...] | None, config: Config = CONFIG) -> list[ParsedRow]:
    g = grid(HEAD, *rows)
    return parse_rows(g, find_header(g), config)


def one(*values: Value, config: Config = CONFIG) -> ParsedRow:
    (row,) = parse(values, config=config)
    return row


def problems(*values: Value, config: Config = CONFIG) -> tuple[str, ...]:
    return one(*values, config=config).problems


# ---------------------------------------------------------------------------------------------
# Headers


@pytest.mark.parametrize(
    ("text", "key"),
    [("Order ID", "orderid"), (" order-id ", "orderid"), ("Order_ID", "orderid"),
     ("AmazonOrderId", "amazonorderid"), ("Bestell-Nr.", "bestellnr"), ("在庫切れ", "在庫切れ"),
     ("STRASSE", "strasse"), ("", "")],
)  # fmt: skip
def test_header_key(text: str, key: str) -> None:
    assert header_key(text) == key


@pytest.mark.parametrize(
    "text",
    ["Order ID", "order-id", "AmazonOrderId", "order_id", "ORDER ID", "  Order   Id ", "Order.ID",
     "amazon-order-id", "Order Number", "order no."],
)  # fmt: skip
def test_order_id_header_aliases(text: str) -> None:
    assert is_order_id_header(text)
    header = find_header(grid(("Reason", text, "Details")))
    assert header == Header(1, {"Reason": 0, "Order ID": 1, "Details": 2})


@pytest.mark.parametrize("text", ["Order", "ID", "Order IDs", "Order ID lookup", "SKU", ""])
def test_not_an_order_id_header(text: str) -> None:
    assert not is_order_id_header(text)


@pytest.mark.parametrize(
    ("text", "name"),
    [("Cancel Reason", "Reason"), ("cancellation-reason", "Reason"), ("Notes", "Details"),
     ("SKUs", "Items"), ("Order Item IDs", "Items"), ("Resolution", "Remedy"),
     ("Notify Buyer", "Notify"), ("STATUS", "Status"), ("Results", "Result"),
     ("Scheduled", "Scheduled For"), ("FeedId", "Feed ID"), ("updated_at", "Updated At"),
     ("Message", "Customer Message"), ("Message Status", "Message Status"),
     ("Seller Support Case", "Support Case")],
)  # fmt: skip
def test_other_column_aliases(text: str, name: str) -> None:
    head = [c for c in ("Order ID", "Reason", "Details") if c != name] + ["Owner", text]
    if name in ("Reason", "Details"):
        head.append(name.upper() + " (old)")  # not an alias: ignored
    header = find_header(grid(tuple(head)))
    assert header.columns[name] == head.index(text)


def test_header_below_title_rows() -> None:
    g = grid(
        ("Cancellations, March",),
        None,
        ("Prepared by", "Ops team"),
        ("Order ID", "Reason", "Details"),
        (ID1, "Out of stock", DETAILS),
    )
    header = find_header(g)
    assert header.row == 4
    (row,) = parse_rows(g, header, CONFIG)
    assert row.row == 5
    assert row.request is not None


def test_a_column_named_exactly_wins_over_an_alias() -> None:
    # "Notes" is an alias of Details; the team's own notes column must not be read as it.
    header = find_header(grid(("Order ID", "Reason", "Notes", "Details", "Message", "Status")))
    assert header.columns["Details"] == 3
    assert header.columns["Customer Message"] == 4


def test_extra_columns_are_ignored() -> None:
    g = grid(
        ("Owner", "Order ID", "Tracking", "Reason", "Details", "Total"),
        ("Sam", ID1, "1Z999", "Out of stock", DETAILS, "12.50"),
    )
    header = find_header(g)
    assert header.columns == {"Order ID": 1, "Reason": 3, "Details": 4}
    (row,) = parse_rows(g, header, CONFIG)
    assert row.problems == ()
    assert row.request == CancelRequest(5 - 3, ID1, DEFAULT_REASONS[0], DETAILS)


@pytest.mark.parametrize(
    ("head", "missing"),
    [
        (("Order ID", "Details"), "column 'Reason' is missing"),
        (("Order ID", "Reason"), "column 'Details' is missing"),
        (("Order ID", "Items"), "columns 'Reason' and 'Details' are missing"),
    ],
)
def test_missing_required_columns(head: tuple[str, ...], missing: str) -> None:
    g = grid(("March",), head, name="Cancels")
    with pytest.raises(SheetError) as e:
        find_header(g)
    message = str(e.value)
    assert message.startswith(missing)
    assert "in sheet 'Cancels' (header row 2)" in message
    assert "run `bulk new FILE.xlsx` for a template" in message


def test_a_title_row_that_mentions_an_order_number_does_not_win_over_the_real_header() -> None:
    g = grid(
        ("Order number list, week 12", "Order number"),  # a title that mentions an order id
        ("Ask Sam before adding rows",),
        None,
        None,
        None,
        None,
        None,
        ("Order number", "Reason", "Details"),  # the real header, 7 rows below
        (ID1, "Out of stock", DETAILS),
    )
    header = find_header(g)
    assert header.row == 8
    assert [r.order_id for r in parse_rows(g, header, CONFIG)] == [ID1]


def test_when_no_row_is_a_whole_header_both_candidates_are_named() -> None:
    g = grid(("Order number",), (), ("Order ID", "Reason"), (ID1, "Out of stock"))
    with pytest.raises(SheetError) as e:
        find_header(g)
    message = str(e.value)
    assert message.startswith("column 'Details' is missing in sheet 'Orders' (header row 3; ")
    assert "row 1 also mentions an order id" in message


def test_empty_sheet() -> None:
    with pytest.raises(SheetError, match=r"sheet 'Orders' is empty; add a header row"):
        find_header(grid(None, ("", "  "), None))


def test_sheet_without_an_order_id_header() -> None:
    with pytest.raises(SheetError, match=r"no header row with an 'Order ID' column in sheet 'S1'"):
        find_header(grid(("Order", "Reason", "Details"), (ID1, "x", "y"), name="S1"))


def test_a_header_must_be_text() -> None:
    # A formula that shows "Order ID" is not a header: find the real one below.
    g = grid((Cell('="Order ID"', CellKind.FORMULA), "Reason", "Details"), HEAD)
    assert find_header(g).row == 2


# ---------------------------------------------------------------------------------------------
# Which rows are read


def test_blank_rows_are_skipped() -> None:
    rows = parse(
        (ID1, "Out of stock", DETAILS),
        None,
        ("  ", "", " "),  # spaces only
        ("", "", "", "", "", "", "READY", "old result"),  # result columns only
        (ID2, "Out of stock", DETAILS),
    )
    assert [r.row for r in rows] == [2, 6]


def test_rows_above_the_header_are_not_orders() -> None:
    g = grid((ID2, "Out of stock", DETAILS), HEAD, (ID1, "Out of stock", DETAILS))
    assert [r.order_id for r in parse_rows(g, find_header(g), CONFIG)] == [ID1]


def test_a_valid_row_makes_a_request() -> None:
    row = one(ID1, "Out of stock", DETAILS, "MUG-RED, 12345678901234 x1", "Replacement", "No")
    assert row.problems == ()
    assert row.order_id == ID1
    assert row.status is Status.NEW
    assert row.request == CancelRequest(
        row=2,
        order_id=ID1,
        reason=Reason("Out of stock", "NoInventory"),
        details=DETAILS,
        items=(ItemRef("MUG-RED"), ItemRef("12345678901234", 1)),
        remedy=Remedy.REPLACEMENT,
        notify=False,
        notify_explicit=True,
    )


# ---------------------------------------------------------------------------------------------
# Order ID


@pytest.mark.parametrize("typed", [ID1, f"  {ID1} ", f"\u00a0{ID1}\t"])
def test_order_id_spaces_are_trimmed(typed: str) -> None:
    row = one(typed, "Out of stock", DETAILS)
    assert row.order_id == ID1
    assert row.request is not None
    assert row.request.order_id == ID1


@pytest.mark.parametrize(
    "typed",
    ["112-123456-1234567", "112-1234567-12345678", "1121234567 1234567", "112 1234567 1234567",
     "A12-1234567-1234567", "112-1234567-1234567-1", "#112-1234567-1234567"],
)  # fmt: skip
def test_bad_order_id_formats(typed: str) -> None:
    row = one(typed, "Out of stock", DETAILS)
    assert row.problems == (
        f"Order ID '{typed.strip()}' is not an Amazon order id; it looks like "
        "112-1234567-1234567 (3, 7 and 7 digits)",
    )
    assert row.request is None


@pytest.mark.parametrize(
    ("typed", "shown", "found"),
    [
        (f"112\u200b-{ID1[4:]}", f"112<U+200B>-{ID1[4:]}",
         "an invisible character, U+200B ZERO WIDTH SPACE, at character 4"),
        (f"\ufeff{ID1}", f"<U+FEFF>{ID1}",
         "an invisible character, U+FEFF ZERO WIDTH NO-BREAK SPACE, at character 1"),
        ("112\u20111234567-1234567", "112\u20111234567-1234567",
         "a character that is not ASCII, U+2011 NON-BREAKING HYPHEN, at character 4"),
        ("112–1234567–1234567", "112–1234567–1234567",
         "a character that is not ASCII, U+2013 EN DASH, at character 4"),
        ("１１２-１２３４５６７-１２３４５６７", "１１２-１２３４５６７-１２３４５６７",
         "a character that is not ASCII, U+FF11 FULLWIDTH DIGIT ONE, at character 1"),
    ],
)  # fmt: skip
def test_an_order_id_with_a_hidden_or_look_alike_character_says_which_and_where(
    typed: str, shown: str, found: str
) -> None:
    row = one(typed, "Out of stock", DETAILS)
    (problem,) = row.problems
    assert problem.startswith(f"Order ID '{shown}")
    assert f"' holds {found}; retype the id" in problem
    assert row.request is None


def test_a_huge_bad_value_is_echoed_in_at_most_about_40_characters() -> None:
    huge = "9" * 1_000_000
    row = one(huge, huge, DETAILS, "MUG-RED x" + huge + "z")
    assert len(row.problems) == 3  # Order ID, Reason, Items
    assert all("9" * 41 not in p and len(p) < 400 for p in row.problems), row.problems
    assert row.problems[0].startswith("Order ID '" + "9" * 40 + "… (1000000 characters)'")


def test_missing_order_id() -> None:
    assert problems("", "Out of stock", DETAILS) == (
        "Order ID is missing; copy it from Seller Central, e.g. 112-1234567-1234567",
    )


@pytest.mark.parametrize(
    ("order_cell", "words"),
    [
        (Cell("1121234567", CellKind.NUMBER), "a number (1121234567)"),
        (Cell(f'="{ID1}"', CellKind.FORMULA), f'a formula (="{ID1}")'),
        (Cell("#N/A", CellKind.ERROR), "an error value (#N/A)"),
        (Cell("2024-03-01T00:00:00", CellKind.DATE), "a date (2024-03-01T00:00:00)"),
        (Cell("TRUE", CellKind.BOOL), "TRUE/FALSE (TRUE)"),
    ],
)
def test_order_id_that_is_not_text(order_cell: Cell, words: str) -> None:
    row = one(order_cell, "Out of stock", DETAILS)
    assert row.problems == (f"Order ID holds {words}; type it as plain text",)
    assert row.request is None
    # The row keeps what the cell shows: results are written back on this row by that id.
    assert row.order_id == order_cell.text


# ---------------------------------------------------------------------------------------------
# Reason


@pytest.mark.parametrize(
    ("typed", "label"),
    [("Out of stock", "Out of stock"), ("out of stock", "Out of stock"),
     ("OUT-OF-STOCK", "Out of stock"), ("NoInventory", "Out of stock"),
     ("no inventory", "Out of stock"), ("BuyerCanceled", "Buyer requested"),
     (" Undeliverable address ", "Undeliverable address")],
)  # fmt: skip
def test_reason_by_label_or_amazon_code(typed: str, label: str) -> None:
    row = one(ID1, typed, DETAILS)
    assert row.request is not None
    assert row.request.reason.label == label


def test_an_amazon_code_maps_to_its_first_label() -> None:
    reasons = (Reason("Sold out", "NoInventory"), Reason("Damaged", "NoInventory"))
    assert reason_lookup(reasons)["noinventory"] == reasons[0]


def test_unknown_reason_lists_the_labels() -> None:
    labels = ", ".join(r.label for r in DEFAULT_REASONS)
    assert problems(ID1, "Pricing error", DETAILS) == (
        f"Reason 'Pricing error' is not in the list; pick one of: {labels}",
    )
    assert problems(ID1, "", DETAILS) == (f"Reason is missing; pick one of: {labels}",)


def test_only_configured_reasons_are_accepted() -> None:
    # The team offers two reasons; another Amazon code typed by hand is not one of them.
    config = Config(reasons=(Reason("Sold out", "NoInventory"), Reason("Asked", "BuyerCanceled")))
    assert problems(ID1, "GeneralAdjustment", DETAILS, config=config) == (
        "Reason 'GeneralAdjustment' is not in the list; pick one of: Sold out, Asked",
    )
    row = one(ID1, "buyercanceled", DETAILS, config=config)
    assert row.request is not None
    assert row.request.reason == Reason("Asked", "BuyerCanceled")


def test_reason_labels_in_other_scripts_keep_their_own_code() -> None:
    config = Config(
        reasons=(
            Reason("在庫切れ", "NoInventory"),
            Reason("住所不明", "ShippingAddressUndeliverable"),
        )
    )
    row = one(ID1, "住所不明", DETAILS, config=config)
    assert row.request is not None
    assert row.request.reason.code == "ShippingAddressUndeliverable"
    assert problems(ID1, "不明", DETAILS, config=config) == (
        "Reason '不明' is not in the list; pick one of: 在庫切れ, 住所不明",
    )


def test_reason_that_is_not_text() -> None:
    assert problems(ID1, Cell("3", CellKind.NUMBER), DETAILS) == (
        "Reason holds a number (3); type it as plain text",
    )


# ---------------------------------------------------------------------------------------------
# Details


@pytest.mark.parametrize(
    ("minimum", "details", "expected"),
    [
        (15, "Out of stock!!", ("Details is too short (14 characters); say why in at least 15 characters",)),
        (15, "Out of stock!!!", ()),
        (15, "   Out of stock!!   ", ("Details is too short (14 characters); say why in at least 15 characters",)),
        (15, "", ("Details is missing; say why in at least 15 characters",)),
        (5, "Gone.", ()),
        (5, "Gone", ("Details is too short (4 characters); say why in at least 5 characters",)),
        (0, "", ()),
    ],
)  # fmt: skip
def test_details_minimum_length_comes_from_config(
    minimum: int, details: str, expected: tuple[str, ...]
) -> None:
    config = Config(policy=PolicyConfig(min_details_chars=minimum))
    row = one(ID1, "Out of stock", details, config=config)
    assert row.problems == expected
    assert (row.request is not None) is (expected == ())
    if row.request is not None:
        assert row.request.details == details.strip()


def test_details_that_is_not_text_is_one_problem() -> None:
    assert problems(ID1, "Out of stock", Cell("=A1&B1", CellKind.FORMULA)) == (
        "Details holds a formula (=A1&B1); type it as plain text",
    )


# ---------------------------------------------------------------------------------------------
# Items


@pytest.mark.parametrize(
    ("text", "refs"),
    [
        ("", ()),
        ("MUG-RED", (ItemRef("MUG-RED"),)),
        ("12345678901234", (ItemRef("12345678901234"),)),
        ("MUG-RED, MUG-BLUE", (ItemRef("MUG-RED"), ItemRef("MUG-BLUE"))),
        ("MUG-RED;MUG-BLUE\nMUG-GREEN", (ItemRef("MUG-RED"), ItemRef("MUG-BLUE"), ItemRef("MUG-GREEN"))),
        (" MUG-RED ,, MUG-BLUE, ", (ItemRef("MUG-RED"), ItemRef("MUG-BLUE"))),
        ("MUG-RED x1", (ItemRef("MUG-RED", 1),)),
        ("MUG-RED X 2", (ItemRef("MUG-RED", 2),)),
        ("MUG-RED:2", (ItemRef("MUG-RED", 2),)),
        ("MUG-RED: 3", (ItemRef("MUG-RED", 3),)),
        ("MUG-RED*4", (ItemRef("MUG-RED", 4),)),
        ("12345678901234 x1, BOX", (ItemRef("12345678901234", 1), ItemRef("BOX"))),
        ("MUGx1", (ItemRef("MUGx1"),)),  # no space: part of the SKU
        ("MUG-RED x10", (ItemRef("MUG-RED", 10),)),
    ],
)  # fmt: skip
def test_parse_items(text: str, refs: tuple[ItemRef, ...]) -> None:
    assert parse_items(text) == (refs, [])


def test_order_item_ids_are_recognised() -> None:
    refs, _ = parse_items("12345678901234, 1234567890123, MUG")
    assert [r.is_order_item_id for r in refs] == [True, False, False]


@pytest.mark.parametrize("quantity", ["0", "-1", "1.5", "two", "²", "x"])
def test_parse_items_bad_quantity(quantity: str) -> None:
    refs, found = parse_items(f"MUG-BLUE, MUG-RED x{quantity}")
    assert refs == (ItemRef("MUG-BLUE"),)
    assert found == [
        f"Items entry 'MUG-RED x{quantity}' has quantity '{quantity}'; use a whole number "
        "of at least 1, e.g. 'MUG-RED x1'"
    ]


@pytest.mark.parametrize("token", ["MUG RED", "MUG-RED x", "MUG-RED x 1 2", ":3"])
def test_parse_items_not_an_item(token: str) -> None:
    refs, found = parse_items(f"{token}, MUG-BLUE")
    assert refs == (ItemRef("MUG-BLUE"),)
    assert found == [
        f"Items entry '{token}' is not a SKU or order item id; separate entries with commas, "
        "e.g. 'MUG-RED, MUG-BLUE x1'"
    ]


def test_items_problems_reject_the_row() -> None:
    assert problems(ID1, "Out of stock", DETAILS, "MUG x0") == (
        "Items entry 'MUG x0' has quantity '0'; use a whole number of at least 1, "
        "e.g. 'MUG-RED x1'",
    )


def test_an_order_item_id_typed_as_a_number_is_read() -> None:
    # Excel keeps a typed 14-digit id as a number; it is exact, so it is accepted.
    row = one(ID1, "Out of stock", DETAILS, Cell("12345678901234", CellKind.NUMBER))
    assert row.request is not None
    assert row.request.items == (ItemRef("12345678901234"),)


def test_items_that_is_a_date_is_a_problem() -> None:
    assert problems(ID1, "Out of stock", DETAILS, Cell("2024-01-02", CellKind.DATE)) == (
        "Items holds a date (2024-01-02); type it as plain text",
    )


# ---------------------------------------------------------------------------------------------
# Remedy and Notify


@pytest.mark.parametrize(
    ("typed", "remedy"),
    [("", Remedy.REFUND), ("Refund", Remedy.REFUND), ("refund", Remedy.REFUND),
     ("REPLACEMENT", Remedy.REPLACEMENT), ("None", Remedy.NONE), ("No refund", Remedy.NONE)],
)  # fmt: skip
def test_remedy(typed: str, remedy: Remedy) -> None:
    row = one(ID1, "Out of stock", DETAILS, "", typed)
    assert row.request is not None
    assert row.request.remedy is remedy


def test_unknown_remedy() -> None:
    assert problems(ID1, "Out of stock", DETAILS, "", "Voucher") == (
        "Remedy 'Voucher' is unknown; use Refund, Replacement or None",
    )


@pytest.mark.parametrize(
    ("notify_cell", "default", "expected"),
    [("Yes", False, True), ("y", False, True), ("No", True, False), ("NO", True, False),
     ("", True, True), ("", False, False),
     (Cell("TRUE", CellKind.BOOL), False, True), (Cell("FALSE", CellKind.BOOL), True, False),
     (Cell("1", CellKind.NUMBER), False, True), (Cell("0", CellKind.NUMBER), True, False)],
)  # fmt: skip
def test_notify(notify_cell: Value, default: bool, expected: bool) -> None:
    config = Config(messages=MessagesConfig(notify=default))
    row = one(ID1, "Out of stock", DETAILS, "", "", notify_cell, config=config)
    assert row.problems == ()
    assert row.request is not None
    assert row.request.notify is expected


@pytest.mark.parametrize("typed", ["Maybe", Cell("2", CellKind.NUMBER)])
def test_unknown_notify(typed: Value) -> None:
    shown = typed.text if isinstance(typed, Cell) else typed
    assert problems(ID1, "Out of stock", DETAILS, "", "", typed) == (
        f"Notify '{shown}' is unknown; use Yes or No (blank: the default)",
    )


# ---------------------------------------------------------------------------------------------
# Duplicates, merged cells, existing statuses


def test_duplicates_name_the_first_row() -> None:
    rows = parse(
        (ID1, "Out of stock", DETAILS),
        (ID2, "Out of stock", DETAILS),
        (f" {ID1}", "Buyer requested", DETAILS),
        (ID1, "Out of stock", DETAILS),
    )
    assert rows[0].request is not None
    assert rows[1].request is not None
    for row in rows[2:]:
        assert row.request is None
        assert row.problems == (
            f"order {ID1} is already on row 2; delete this row or merge its details into that one",
        )


def test_an_invalid_row_is_not_the_first_of_a_duplicate() -> None:
    rows = parse(("112-1", "Out of stock", DETAILS), (ID1, "Out of stock", DETAILS))
    assert rows[1].problems == ()


def test_merged_cells_are_flagged() -> None:
    # Rows 2 and 3 share a merged Order ID (A2:A3) and row 3 a merged Details (C2:C3).
    rows = parse(
        (ID1, "Out of stock", DETAILS),
        (Cell(merged_into="A2"), "Out of stock", Cell(merged_into="C2")),
    )
    assert rows[0].problems == ()
    assert rows[1].order_id == ""
    assert rows[1].problems == (
        "Order ID is inside merged cells starting at A2; unmerge them so each row has its own value",
        "Details is inside merged cells starting at C2; unmerge them so each row has its own value",
    )


@pytest.mark.parametrize(
    ("text", "status"),
    [("READY", Status.READY), ("ready", Status.READY), (" Failed ", Status.FAILED),
     ("CANCELLED", Status.CANCELLED), ("SUBMITTED", Status.SUBMITTED), ("HELD", Status.HELD),
     ("DEFERRED", Status.DEFERRED), ("ESCALATE", Status.ESCALATE), ("REJECTED", Status.REJECTED),
     ("", Status.NEW), ("Done", Status.NEW), ("cancelled?", Status.NEW)],
)  # fmt: skip
def test_existing_status_is_read(text: str, status: Status) -> None:
    row = one(ID1, "Out of stock", DETAILS, "", "", "", text, "Amazon said no")
    assert row.status is status
    assert row.previous == {"Status": text, "Result": "Amazon said no"}


def test_previous_results_and_scheduled_day() -> None:
    g = grid(
        ("Order ID", "Reason", "Details", "Scheduled For", "Feed ID"),
        (ID1, "Out of stock", DETAILS, "2026-12-01", "5012345"),
        (ID2, "Out of stock", DETAILS, "next week", ""),
    )
    first, second = parse_rows(g, find_header(g), CONFIG)
    assert first.previous == {"Scheduled For": "2026-12-01", "Feed ID": "5012345"}
    assert first.scheduled_for == date(2026, 12, 1)
    assert second.scheduled_for is None


# ---------------------------------------------------------------------------------------------
# Every problem says what to fix


_FIX = re.compile(
    r"; (?:copy|type|pick|say|use|separate|delete|unmerge|add|it looks like)\b|; .* e\.g\. "
)


def test_every_problem_message_says_what_to_fix() -> None:
    rows = parse(
        ("", "", "", "", "", ""),
        ("112", "Nope", "short", "A B, C x0", "Voucher", "Maybe"),
        (Cell("5", CellKind.NUMBER), Cell("#REF!", CellKind.ERROR), Cell("1", CellKind.BOOL),
         Cell("2", CellKind.DATE), Cell("=1", CellKind.FORMULA), Cell("x", CellKind.DATE)),
        (ID1, "Out of stock", DETAILS),
        (ID1, "Out of stock", DETAILS),
        (Cell(merged_into="A5"), Cell(merged_into="B5"), Cell(merged_into="C5"),
         Cell(merged_into="D5"), Cell(merged_into="E5"), "No"),
        (ID2, "", ""),
    )  # fmt: skip
    found = [p for row in rows for p in row.problems]
    assert len(found) == 21, found
    for problem in found:
        assert _FIX.search(problem), problem


# ---------------------------------------------------------------------------------------------
# Reasons and remedies; Note to Buyer


@pytest.mark.parametrize(
    "reason",
    ["Undeliverable address", "Failed risk assessment", "No carrier coverage", "Buyer requested"],
)
def test_a_replacement_the_reason_refuses_is_rejected_with_a_hint(reason: str) -> None:
    found = problems(ID1, reason, DETAILS, "", "Replacement")
    assert len(found) == 1, found
    assert found[0].startswith(f"Remedy Replacement does not go with reason '{reason}': ")
    assert found[0].endswith("use Refund or None")
    for remedy in ("Refund", "None", ""):
        assert problems(ID1, reason, DETAILS, "", remedy) == ()


def test_every_pair_the_table_allows_makes_a_request() -> None:
    from bulk.config import REASON_LABELS
    from bulk.models import REFUSED_REMEDIES, allowed_remedies

    config = Config(reasons=REASON_LABELS)
    for reason in REASON_LABELS:
        for remedy in Remedy:
            found = problems(ID1, reason.label, DETAILS, "", remedy.value, config=config)
            refused = remedy in REFUSED_REMEDIES.get(reason.code, {})
            assert bool(found) is refused, (reason, remedy, found)
            assert (remedy in allowed_remedies(reason.code)) is not refused


def test_reasons_of_shipped_orders_are_not_offered_unless_configured() -> None:
    from bulk.config import REASON_LABELS

    for label in ("Customer return", "Merchandise not received", "Carrier credit decision"):
        assert problems(ID1, label, DETAILS)[0].startswith(f"Reason '{label}' is not in the list")
        config = Config(reasons=REASON_LABELS)
        assert problems(ID1, label, DETAILS, config=config) == ()


NOTE_HEAD = ("Order ID", "Reason", "Details", "Remedy", "Notify", "Note to Buyer")


@pytest.mark.parametrize(
    "title", ["Note to Buyer", "note to buyer", "Buyer note", "Note to customer"]
)
def test_note_to_buyer_is_read_under_its_names(title: str) -> None:
    g = grid(
        ("Order ID", "Reason", "Details", "Notes", title),
        (ID1, "Out of stock", DETAILS, "internal", "We expect new stock in May."),
    )
    header = find_header(g)
    assert header.columns["Note to Buyer"] == 4
    assert header.columns["Details"] == 2  # "Notes" stays an alias of Details, not of the note
    (row,) = parse_rows(g, header, CONFIG)
    assert row.request is not None
    assert row.request.note == "We expect new stock in May."
    assert row.request.details == DETAILS


def test_a_note_to_buyer_over_500_characters_is_rejected() -> None:
    g = grid(NOTE_HEAD, (ID1, "Out of stock", DETAILS, "", "", "x" * 501))
    (row,) = parse_rows(g, find_header(g), CONFIG)
    assert row.problems == (
        "Note to Buyer is 501 characters; the message quotes at most 500 (shorten it, or leave "
        "it blank)",
    )
    g = grid(NOTE_HEAD, (ID1, "Out of stock", DETAILS, "", "", "x" * 500))
    (row,) = parse_rows(g, find_header(g), CONFIG)
    assert row.problems == ()


@pytest.mark.parametrize(
    ("cell", "notify", "explicit"),
    [("Yes", True, True), ("No", False, True), ("", True, False), ("TRUE", True, True)],
)
def test_notify_remembers_whether_the_row_said_so(cell: str, notify: bool, explicit: bool) -> None:
    request = one(ID1, "Out of stock", DETAILS, "", "", cell).request
    assert request is not None
    assert (request.notify, request.notify_explicit) == (notify, explicit)


def test_each_input_column_has_its_check_and_remedy_is_checked_after_reason() -> None:
    # A column added to INPUT_COLUMNS without a check would be read by no one.
    order = list(row_checks._CHECKS)
    assert sorted(order) == sorted(INPUT_COLUMNS)
    # The Remedy's check reads the Reason the row gave.
    assert order.index("Reason") < order.index("Remedy")
