"""bulk.amazon.orders.parse_all_orders_report: Amazon's All Orders report read into Orders.

The parser splits each line only as far as the columns it reads, reads a large report a piece
at a time, and shares what repeats (the lines of one listing in one state, statuses, purchase
times): every shortcut must read the report as a plain reading would.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from bulk.amazon.orders import parse_all_orders_report
from bulk.errors import AmazonError
from bulk.models import Order, OrderItem
from bulk.sandbox.reports import ALL_ORDERS_COLUMNS

US = "ATVPDKIKX0DER"
BOUGHT = "2026-12-06T10:15:00+00:00"


def report_line(
    order_id: str,
    sku: str = "MUG-RED",
    item_status: str = "Unshipped",
    quantity: str = "1",
    status: str = "Unshipped",
    channel: str = "Merchant",
    title: str = "Red mug",
    asin: str = "B0MUGRED01",
    bought: str = BOUGHT,
) -> str:
    """One line in Amazon's column order (ALL_ORDERS_COLUMNS), the other columns filled in."""
    values = {
        "amazon-order-id": order_id,
        "purchase-date": bought,
        "last-updated-date": bought,
        "order-status": status,
        "fulfillment-channel": channel,
        "sales-channel": "Amazon.com",
        "ship-service-level": "Standard",
        "product-name": title,
        "sku": sku,
        "asin": asin,
        "item-status": item_status,
        "quantity": quantity,
        "currency": "USD",
        "item-price": "19.99",
        "is-business-order": "false",
    }
    return "\t".join(values.get(name, "") for name in ALL_ORDERS_COLUMNS)


def report(*lines: str, newline: str = "\n") -> str:
    return newline.join(["\t".join(ALL_ORDERS_COLUMNS), *lines]) + newline


def item(sku: str, title: str, ordered: int, shipped: int = 0, asin: str = "") -> OrderItem:
    return OrderItem("", sku, title, ordered, shipped, False, asin)


def test_each_order_has_its_lines_status_channel_and_purchase_time() -> None:
    text = report(
        report_line("111-0000001-0000001", quantity="2"),
        report_line("111-0000001-0000001", sku="MUG-BLUE", title="Blue mug", asin="B0BLUE"),
        report_line("111-0000001-0000002", item_status="Cancelled", status="Cancelled"),
        report_line("111-0000001-0000003", item_status="Shipped", status="Shipped"),
        report_line("111-0000001-0000004", channel="Amazon", status="Pending", quantity="x"),
        report_line("111-0000001-0000005", status="Returned", channel="Other", bought="soon"),
    )
    found = parse_all_orders_report(text, US)
    bought = datetime(2026, 12, 6, 10, 15, tzinfo=UTC)
    red = item("MUG-RED", "Red mug", 2, asin="B0MUGRED01")
    blue = item("MUG-BLUE", "Blue mug", 1, asin="B0BLUE")
    assert found == {
        "111-0000001-0000001": Order(
            "111-0000001-0000001", "Unshipped", "MFN", bought, US, (red, blue), "en_US"
        ),
        "111-0000001-0000002": Order(
            "111-0000001-0000002",
            "Canceled",
            "MFN",
            bought,
            US,
            (item("MUG-RED", "Red mug", 0, asin="B0MUGRED01"),),
            "en_US",
        ),
        "111-0000001-0000003": Order(
            "111-0000001-0000003",
            "Shipped",
            "MFN",
            bought,
            US,
            (item("MUG-RED", "Red mug", 1, 1, asin="B0MUGRED01"),),
            "en_US",
        ),
        "111-0000001-0000004": Order(
            "111-0000001-0000004",
            "Pending",
            "AFN",
            bought,
            US,
            (item("MUG-RED", "Red mug", 0, asin="B0MUGRED01"),),
            "en_US",
        ),
        "111-0000001-0000005": Order(
            "111-0000001-0000005",
            "Returned",
            "Other",
            None,
            US,
            (item("MUG-RED", "Red mug", 1, asin="B0MUGRED01"),),
            "en_US",
        ),
    }


def test_lines_alike_are_shared_and_lines_that_differ_in_any_column_are_not() -> None:
    ids = [f"111-0000002-{n:07d}" for n in range(7)]
    text = report(
        report_line(ids[0]),
        report_line(ids[1]),
        report_line(ids[2], quantity="2"),
        report_line(ids[3], item_status="Cancelled"),
        report_line(ids[4], title="Red mug, large"),
        report_line(ids[5], asin="B0OTHER"),
        report_line(ids[6], sku="mug-red"),
    )
    found = parse_all_orders_report(text, US)
    assert found[ids[0]].items is found[ids[1]].items  # one tuple for both orders
    lines = [found[i].items[0] for i in ids]
    assert [(x.sku, x.title, x.asin, x.quantity_ordered) for x in lines] == [
        ("MUG-RED", "Red mug", "B0MUGRED01", 1),
        ("MUG-RED", "Red mug", "B0MUGRED01", 1),
        ("MUG-RED", "Red mug", "B0MUGRED01", 2),
        ("MUG-RED", "Red mug", "B0MUGRED01", 0),
        ("MUG-RED", "Red mug, large", "B0MUGRED01", 1),
        ("MUG-RED", "Red mug", "B0OTHER", 1),
        ("mug-red", "Red mug", "B0MUGRED01", 1),
    ]


def test_purchase_times_in_any_form_are_read_each_as_written() -> None:
    text = report(
        report_line("111-0000003-0000001", bought="2026-12-06T10:15:00Z"),
        report_line("111-0000003-0000002", bought="2026-12-06T02:15:00-08:00"),
        report_line("111-0000003-0000003", bought="2026-12-06T10:15:00"),
        report_line("111-0000003-0000004", bought="2026-12-06T10:15:00Z"),
    )
    found = parse_all_orders_report(text, US)
    times = [found[f"111-0000003-000000{n}"].purchased for n in range(1, 5)]
    assert times == [datetime(2026, 12, 6, 10, 15, tzinfo=UTC)] * 4
    assert times[1] is not None and times[1].utcoffset() == timedelta(hours=-8)
    assert times[1].tzinfo == timezone(timedelta(hours=-8))


def test_only_the_orders_asked_for_are_read_and_they_keep_the_callers_id() -> None:
    text = report(*(report_line(f"111-0000004-{n:07d}") for n in range(5)))
    wanted = "".join(["111-0000004-", "0000001"])  # a string of the caller's, not the report's
    absent = "111-0000004-0000009"
    found = parse_all_orders_report(text, US, only={wanted: wanted, absent: absent})
    assert list(found) == [wanted]
    assert found[wanted].order_id is wanted
    assert parse_all_orders_report(text, US, only={}) == {}


def test_columns_are_found_by_name_whatever_their_order_and_a_missing_one_reads_blank() -> None:
    head = "  Quantity \tSKU\tamazon-order-id\torder-status\tpurchase-date\textra\n"
    text = head + "3\tMUG \t 111-0000005-0000001\tUnshipped\t" + BOUGHT + "\tx\n"
    (order,) = parse_all_orders_report(text, US).values()
    assert order.order_id == "111-0000005-0000001"
    assert order.channel == ""  # no fulfillment-channel column
    assert order.items == (item("MUG", "", 3),)


def test_short_blank_and_crlf_lines_read_as_plain_lines() -> None:
    short = "\t".join(report_line("111-0000006-0000002").split("\t")[:13])  # up to item-status
    text = report(report_line("111-0000006-0000001"), "", "   ", "\t", short, newline="\r\n")
    found = parse_all_orders_report(text, US)
    assert list(found) == ["111-0000006-0000001", "111-0000006-0000002"]
    assert found["111-0000006-0000002"].items == (item("MUG-RED", "Red mug", 0, asin="B0MUGRED01"),)
    assert found["111-0000006-0000001"].items[0].asin == "B0MUGRED01"


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_a_report_of_several_megabytes_is_read_whole(newline: str) -> None:
    # Lines of every length, so the pieces it is read in end anywhere in a line.
    lines = [
        report_line(f"111-{n // 10_000_000:07d}-{n % 10_000_000:07d}", title="m" * (n % 97))
        for n in range(30_000)
    ]
    text = report(*lines, newline=newline)
    assert len(text) > 5_000_000
    found = parse_all_orders_report(text, US)
    assert len(found) == 30_000
    assert found["111-0000000-0029999"].items[0].title == "m" * (29_999 % 97)


def test_a_report_without_order_ids_is_refused_and_an_empty_one_has_no_orders() -> None:
    with pytest.raises(AmazonError, match="no amazon-order-id column"):
        parse_all_orders_report("sku\tquantity\nMUG\t1\n", US)
    assert parse_all_orders_report("", US) == {}


def test_an_orders_first_line_gives_its_status_channel_and_purchase_time() -> None:
    # The lines of one order repeat its columns; where they differ, the first line's stand.
    text = report(
        report_line("111-0000007-0000001", status="Pending", channel="Amazon", bought="bad"),
        report_line("111-0000007-0000002"),
        report_line("111-0000007-0000001", sku="CUP", status="Unshipped", bought=BOUGHT),
    )
    order = parse_all_orders_report(text, US)["111-0000007-0000001"]
    assert (order.status, order.channel, order.purchased) == ("Pending", "AFN", None)
    assert [i.sku for i in order.items] == ["MUG-RED", "CUP"]
