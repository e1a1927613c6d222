"""The sandbox order book: loading, offsets, and an error naming the file and field for each mistake."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from freezegun import freeze_time

from bulk.errors import ConfigError
from bulk.sandbox.book import MESSAGE_KINDS, load_book, resolve_purchased

ROOT = Path(__file__).parent.parent
NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def _order(**changes: Any) -> dict[str, Any]:
    order: dict[str, Any] = {
        "id": "112-0000001-0000001",
        "status": "Unshipped",
        "channel": "MFN",
        "purchased": "-3h",
        "items": [{"id": "00000000000101", "sku": "MUG", "title": "Mug", "qty": 2}],
    }
    order.update(changes)
    return order


def _write(tmp_path: Path, book: dict[str, Any]) -> Path:
    path = tmp_path / "book.json"
    path.write_text(json.dumps(book), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("-3h", NOW - timedelta(hours=3)),
        ("-2d", NOW - timedelta(days=2)),
        ("-90m", NOW - timedelta(minutes=90)),
        ("-1.5h", NOW - timedelta(minutes=90)),
        ("2026-03-01T09:30:00Z", datetime(2026, 3, 1, 9, 30, tzinfo=UTC)),
        ("2026-03-01T10:30:00+01:00", datetime(2026, 3, 1, 9, 30, tzinfo=UTC)),
        ("2026-03-01T09:30:00", None),  # no offset: ambiguous
        ("3h", None),
        ("yesterday", None),
    ],
)
def test_purchased_offsets_and_timestamps(value: str, expected: datetime | None) -> None:
    assert resolve_purchased(value, NOW) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("+2d", NOW + timedelta(days=2)),
        ("+90m", NOW + timedelta(minutes=90)),
        ("-1h", NOW - timedelta(hours=1)),
        ("2026-03-04T09:30:00Z", datetime(2026, 3, 4, 9, 30, tzinfo=UTC)),
    ],
)
def test_ship_by_takes_the_forms_of_purchased_and_offsets_ahead(
    tmp_path: Path, value: str, expected: datetime
) -> None:
    path = _write(tmp_path, {"orders": [_order(ship_by=value)]})
    with freeze_time(NOW):
        order = load_book(path).orders[0]
    assert order.ship_by == expected
    assert order.latest_ship == expected
    # A purchase time is never ahead of now.
    assert resolve_purchased("+2d", NOW) is None


def test_ship_by_defaults_to_two_days_after_purchase(tmp_path: Path) -> None:
    path = _write(tmp_path, {"orders": [_order()]})
    with freeze_time(NOW):
        order = load_book(path).orders[0]
    assert order.ship_by is None
    assert order.latest_ship == NOW - timedelta(hours=3) + timedelta(days=2)


def test_sample_book_loads_with_every_state() -> None:
    with freeze_time(NOW):
        book = load_book(ROOT / "samples" / "marketplace.json")
    statuses = {order.status for order in book.orders}
    assert {"Unshipped", "Shipped", "PartiallyShipped", "Canceled", "Pending"} <= statuses
    assert {order.channel for order in book.orders} == {"MFN", "AFN"}
    assert any(item.buyer_requested_cancel for order in book.orders for item in order.items)
    assert any(order.locale == "de_DE" for order in book.orders)
    assert any(order.messaging == () for order in book.orders)
    assert any(
        NOW - order.purchased > timedelta(hours=24)
        for order in book.orders
        if order.status == "Unshipped"
    )
    assert any(len(order.items) > 1 for order in book.orders if order.status == "Unshipped")
    assert book.performance.orders_last_7_days == 360


def test_defaults_and_derived_values(tmp_path: Path) -> None:
    path = _write(tmp_path, {"orders": [_order(status="Shipped")]})
    with freeze_time(NOW):
        book = load_book(path)
    order = book.orders[0]
    assert book.seller_id == "A1SANDBOXSELLER"
    assert book.marketplace_id == "ATVPDKIKX0DER"
    assert (book.feed_polls, book.report_polls, book.enforce_rate_limits) == (2, 1, False)
    assert order.purchased == NOW - timedelta(hours=3)
    assert order.locale == "en_US"
    assert order.messaging == MESSAGE_KINDS
    assert order.items[0].shipped == 2  # a Shipped order shipped everything
    assert order.items[0].asin.startswith("B0") and len(order.items[0].asin) == 10


def test_fingerprint_changes_only_with_the_order_entry(tmp_path: Path) -> None:
    first = load_book(
        _write(
            tmp_path,
            {
                "orders": [
                    _order(),
                    _order(
                        id="112-0000001-0000002",
                        items=[{"id": "00000000000201", "sku": "TEE", "title": "Tee", "qty": 1}],
                    ),
                ]
            },
        )
    )
    second = load_book(
        _write(
            tmp_path,
            {
                "orders": [
                    _order(locale="de_DE"),
                    _order(
                        id="112-0000001-0000002",
                        items=[{"id": "00000000000201", "sku": "TEE", "title": "Tee", "qty": 1}],
                    ),
                ]
            },
        )
    )
    assert first.sha256 != second.sha256
    assert first.orders[0].fingerprint != second.orders[0].fingerprint
    assert first.orders[1].fingerprint == second.orders[1].fingerprint


@pytest.mark.parametrize(
    ("book", "message"),
    [
        (
            {"orders": [_order(status="Shipd")]},
            "orders[0] (112-0000001-0000001): 'status' 'Shipd' is not an Orders API OrderStatus; did you mean 'Shipped'?",
        ),
        ({"orders": [_order(id="112-1-1")]}, "orders[0]: 'id' must be an Amazon order id"),
        ({"orders": [_order(channel="FBA")]}, "'channel' must be MFN or AFN"),
        (
            {"orders": [_order(purchased="yesterday")]},
            "'purchased' 'yesterday' is neither an offset",
        ),
        ({"orders": [_order(locale="german")]}, "'locale' must look like en_US"),
        (
            {"orders": [_order(ship_by="soon")]},
            "'ship_by' 'soon' is not a time after the purchase: an offset like +2d",
        ),
        (
            {"orders": [_order(ship_by="-4h")]},
            "'ship_by' '-4h' is not a time after the purchase",
        ),
        ({"orders": [_order(ship_by=2)]}, "'ship_by' must be a string"),
        ({"orders": [_order(items=[])]}, "'items' must be a non-empty list"),
        (
            {"orders": [_order(items=[{"id": "101", "sku": "A", "title": "A", "qty": 1}])]},
            "items[0]: 'id' must be a 14-digit order item id",
        ),
        (
            {
                "orders": [
                    _order(items=[{"id": "00000000000101", "sku": "A", "title": "A", "qty": 0}])
                ]
            },
            "'qty' must be at least 1",
        ),
        (
            {
                "orders": [
                    _order(
                        items=[
                            {
                                "id": "00000000000101",
                                "sku": "A",
                                "title": "A",
                                "qty": 1,
                                "shipped": 2,
                            }
                        ]
                    )
                ]
            },
            "'shipped' is 2, more than qty 1",
        ),
        (
            {
                "orders": [
                    _order(
                        items=[
                            {
                                "id": "00000000000101",
                                "sku": "A",
                                "title": "A",
                                "qty": 1,
                                "shipped": 1,
                            }
                        ]
                    )
                ]
            },
            "is Unshipped but item 00000000000101 has shipped units",
        ),
        (
            {"orders": [_order(status="PartiallyShipped")]},
            "is PartiallyShipped but no item has 'shipped' units",
        ),
        (
            {
                "orders": [
                    _order(
                        items=[
                            {
                                "id": "00000000000101",
                                "sku": "A",
                                "title": "A",
                                "qty": 1,
                                "price": "free",
                            }
                        ]
                    )
                ]
            },
            "'price' must be a number",
        ),
        (
            {
                "orders": [
                    _order(
                        items=[
                            {
                                "id": "00000000000101",
                                "sku": "A",
                                "title": "A",
                                "qty": 1,
                                "colour": "red",
                            }
                        ]
                    )
                ]
            },
            "unknown key 'colour'",
        ),
        (
            {"orders": [_order(messaging=["unexpectedProblems"])]},
            "'messaging' has unknown value 'unexpectedProblems'; did you mean 'unexpectedProblem'?",
        ),
        ({"orders": [_order(), _order()]}, "order 112-0000001-0000001 appears twice"),
        (
            {"orders": [_order(), _order(id="112-0000001-0000002")]},
            "item id 00000000000101 is used by 112-0000001-0000001 and 112-0000001-0000002",
        ),
        (
            {"orders": [], "marketplace_id": "XX"},
            "'marketplace_id' 'XX' is not an Amazon marketplace id",
        ),
        ({"orders": [], "feed_polls": -1}, "'feed_polls' must be at least 0"),
        ({"orders": [], "time_scale": 0}, "'time_scale' must be above 0"),
        ({"orders": [], "faults": {"rate": 2}}, "faults: 'rate' must be between 0 and 1"),
        ({"orders": [], "faults": {"kinds": ["404"]}}, "faults: 'kinds' has unknown value '404'"),
        (
            {"orders": [], "performance": {"orders_last_7_day": 1}},
            "unknown key 'orders_last_7_day'; did you mean 'orders_last_7_days'?",
        ),
        ({"order": []}, "unknown key 'order'; did you mean 'orders'?"),
        ({}, "'orders' must be a list of orders"),
        ([], "must be a JSON object"),
    ],
)
def test_bad_books_name_the_file_and_field(tmp_path: Path, book: Any, message: str) -> None:
    path = _write(tmp_path, book)
    with pytest.raises(ConfigError) as caught:
        load_book(path)
    assert str(path) in str(caught.value)
    assert message in str(caught.value)


def test_missing_and_broken_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist; set \\[sandbox\\] orders"):
        load_book(tmp_path / "nope.json")
    broken = tmp_path / "broken.json"
    broken.write_text('{"orders": [', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"is not valid JSON: .* at line 1 column 13"):
        load_book(broken)


def test_quick_reading_builds_the_same_orders_as_the_field_reader() -> None:
    """Large books take a fast path for plain entries; it must agree with the full reader."""
    from bulk.sandbox.book import _order as read_order
    from bulk.sandbox.book import _QuickOrders

    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    home = "ATVPDKIKX0DER"
    entries = [
        *json.loads((ROOT / "samples" / "marketplace.json").read_text(encoding="utf-8"))["orders"],
        *json.loads((ROOT / "tests" / "data" / "marketplace_basic.json").read_text("utf-8"))[
            "orders"
        ],
        _order(status="Shipped"),
        _order(channel="AFN", locale="de_DE", purchased="2026-11-30T08:00:00Z"),
        _order(ship_by="+1d"),
        _order(ship_by="2026-12-03T10:00:00Z"),
    ]
    quick = _QuickOrders(now, home)
    taken = 0
    for entry in entries:
        fast = quick.order(entry)
        full = read_order(entry, "book", now, home)
        if fast is not None:
            taken += 1
            assert fast == full
            assert fast.fingerprint == full.fingerprint
    # Most plain entries take the fast path (the rest are read field by field).
    assert taken >= len(entries) // 2
    # An entry the fast path cannot vouch for is left to the full reader, which names the field.
    no_units = _order(items=[{"id": "00000000000101", "sku": "MUG", "title": "Mug", "qty": 0}])
    assert quick.order(no_units) is None
    assert quick.order({**_order(), "status": "Lost"}) is None
    assert quick.order(_order(ship_by="-4h")) is None  # before the purchase
    assert quick.order(_order(ship_by=None)) is None
