"""The sandbox's All Orders report (GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL), line
by line: Amazon's columns, what the sandbox cancelled, each marketplace's columns.

The report works out once what orders share (the times of a purchase time, the columns of a
marketplace and country, the amount of a price and quantity): these lines show that what one
order changed never leaks into another's.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from freezegun import freeze_time

from bulk.sandbox import clock
from bulk.sandbox.book import load_book
from bulk.sandbox.market import SandboxMarket
from bulk.sandbox.reports import ALL_ORDERS_COLUMNS, all_orders_report
from bulk.sandbox.state import Cancellation, State

US = "ATVPDKIKX0DER"
CA = "A2EUQ1WTGCTBG2"
NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
BOUGHT = "2026-12-06T09:00:00+00:00"  # three hours before NOW
LATER = "2026-12-06T11:58:00+00:00"  # two minutes before NOW: still being updated


def entry(order_id: str, *items: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "id": order_id,
        "status": "Unshipped",
        "channel": "MFN",
        "purchased": BOUGHT,
        "locale": "en_US",
        "items": list(items),
        **fields,
    }


def line(n: int, sku: str = "MUG", qty: int = 1, **fields: Any) -> dict[str, Any]:
    return {"id": f"{n:014d}", "sku": sku, "title": "Mug", "qty": qty, "asin": "B0MUG", **fields}


BOOK = [
    entry("113-0000001-0000001", line(1, qty=2, price="5.50"), line(2, "CUP\tBIG")),
    entry("113-0000001-0000002", line(3), line(4, "CUP")),  # a line cancelled later
    entry("113-0000001-0000003", line(5)),  # every line cancelled
    entry("113-0000001-0000004", line(6, qty=3), status="Shipped"),
    entry("702-0000001-0000005", line(7), marketplace_id=CA, locale="fr_CA"),
    entry("702-0000001-0000006", line(8), marketplace_id=CA, locale="en_US"),
    entry("113-0000001-0000007", line(9), purchased=LATER, channel="AFN"),
]


def market(tmp_path: Path) -> SandboxMarket:
    book = {"seller_id": "A1SANDBOXSELLER", "marketplace_id": US, "orders": BOOK}
    (tmp_path / "book.json").write_text(json.dumps(book), encoding="utf-8")
    with freeze_time(NOW):
        loaded = load_book(tmp_path / "book.json")
        state = State(tmp_path, loaded)
    the_market = SandboxMarket(loaded, state)
    for order_id, item_id, minutes_ago in (
        ("113-0000001-0000002", "00000000000004", 30),
        ("113-0000001-0000003", "00000000000005", 20),
    ):
        order = loaded.order(order_id)
        assert order is not None
        when = clock.iso(NOW - timedelta(minutes=minutes_ago))
        state.cancel(
            Cancellation(order_id, item_id, "NoInventory", "1", when, True, order.fingerprint)
        )
    return the_market


def row(**values: str) -> str:
    """A report line: `values` by column name (dashes as underscores), the rest blank."""
    cells = {name.replace("_", "-"): value for name, value in values.items()}
    assert set(cells) <= set(ALL_ORDERS_COLUMNS)
    return "\t".join(cells.get(name, "") for name in ALL_ORDERS_COLUMNS)


def us(order_id: str, updated: str, status: str = "Unshipped", **values: str) -> str:
    usual = {
        "amazon_order_id": order_id,
        "purchase_date": BOUGHT,
        "last_updated_date": updated,
        "order_status": status,
        "fulfillment_channel": "Merchant",
        "sales_channel": "Amazon.com",
        "ship_service_level": "Standard",
        "product_name": "Mug",
        "sku": "MUG",
        "asin": "B0MUG",
        "item_status": "Unshipped",
        "quantity": "1",
        "currency": "USD",
        "item_price": "19.99",
        "item_tax": "0.00",
        "shipping_price": "0.00",
        "shipping_tax": "0.00",
        "ship_city": "SEATTLE",
        "ship_state": "WA",
        "ship_postal_code": "98109",
        "ship_country": "US",
        "is_business_order": "false",
    }
    return row(**(usual | values))


SETTLED = "2026-12-06T09:05:00+00:00"  # five minutes after purchase


def test_each_order_line_with_what_the_sandbox_did_to_it(tmp_path: Path) -> None:
    text = all_orders_report(market(tmp_path), NOW, (US,), NOW - timedelta(days=1), NOW)
    assert text.endswith("\n")
    assert text.splitlines() == [
        "\t".join(ALL_ORDERS_COLUMNS),
        us("113-0000001-0000001", SETTLED, quantity="2", item_price="11.00"),
        us("113-0000001-0000001", SETTLED, sku="CUP BIG"),
        us("113-0000001-0000002", "2026-12-06T11:30:00+00:00"),
        us(
            "113-0000001-0000002",
            "2026-12-06T11:30:00+00:00",
            sku="CUP",
            item_status="Cancelled",
        ),
        us(
            "113-0000001-0000003",
            "2026-12-06T11:40:00+00:00",
            "Cancelled",
            item_status="Cancelled",
        ),
        us(
            "113-0000001-0000004",
            SETTLED,
            "Shipped",
            item_status="Shipped",
            quantity="3",
            item_price="59.97",
        ),
        us(
            "113-0000001-0000007",
            "2026-12-06T12:00:00+00:00",
            purchase_date=LATER,
            fulfillment_channel="Amazon",
        ),
    ]


def test_each_marketplace_and_buyers_country_has_its_own_columns(tmp_path: Path) -> None:
    text = all_orders_report(market(tmp_path), NOW, (CA,), NOW - timedelta(days=1), NOW)
    canada = {
        "sales_channel": "Amazon.ca",
        "currency": "CAD",
        "ship_city": "TORONTO",
        "ship_state": "ON",
        "ship_postal_code": "M5V 2T6",
        "ship_country": "CA",
    }
    assert text.splitlines()[1:] == [
        us("702-0000001-0000005", SETTLED, **canada),
        us("702-0000001-0000006", SETTLED, **canada | us_buyer()),
    ]


def us_buyer() -> dict[str, str]:
    """An en_US buyer's address, wherever the order was placed."""
    return {
        "ship_city": "SEATTLE",
        "ship_state": "WA",
        "ship_postal_code": "98109",
        "ship_country": "US",
    }


def test_the_report_holds_the_orders_updated_since_its_start_and_bought_by_its_end(
    tmp_path: Path,
) -> None:
    the_market = market(tmp_path)
    since_cancellations = all_orders_report(
        the_market, NOW, (US,), NOW - timedelta(minutes=45), NOW
    )
    assert [x.split("\t")[0] for x in since_cancellations.splitlines()[1:]] == [
        "113-0000001-0000002",
        "113-0000001-0000002",
        "113-0000001-0000003",
        "113-0000001-0000007",
    ]
    bought_earlier = all_orders_report(
        the_market, NOW, (US,), NOW - timedelta(minutes=45), NOW - timedelta(minutes=10)
    )
    assert [x.split("\t")[0] for x in bought_earlier.splitlines()[1:]] == [
        "113-0000001-0000002",
        "113-0000001-0000002",
        "113-0000001-0000003",
    ]
