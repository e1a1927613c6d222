"""bulk.amazon.orders: v2026, v0 and report answers read into the one Order model."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bulk.amazon.orders import (
    order_from_v0,
    order_from_v2026,
    parse_unshipped_report,
)
from bulk.models import OrderStatus

DE = "A1PA6795UKMFR9"
FR = "A13V1IB3VIYZZH"


def v2026(**overrides: Any) -> dict[str, Any]:
    order: dict[str, Any] = {
        "orderId": "302-0000001-0000001",
        "createdTime": "2026-11-30T08:15:00Z",
        "lastUpdatedTime": "2026-11-30T08:20:00Z",
        "salesChannel": {"channelName": "AMAZON", "marketplaceId": FR},
        "fulfillment": {"fulfillmentStatus": "UNSHIPPED", "fulfilledBy": "MERCHANT"},
        "orderItems": [
            {
                "orderItemId": "00000000000101",
                "quantityOrdered": 2,
                "product": {"sellerSku": "MUG-RED", "title": "Red mug"},
                "fulfillment": {"quantityFulfilled": 0, "quantityUnfulfilled": 2},
            },
            {
                "orderItemId": "00000000000102",
                "quantityOrdered": 1,
                "product": {"sellerSku": "MUG-BLUE", "title": "Blue mug"},
                "cancellation": {
                    "cancellationRequest": {"requester": "BUYER", "cancelReason": "Mistake"}
                },
            },
        ],
    }
    order.update(overrides)
    return order


def test_a_v2026_order_reads_into_the_one_model() -> None:
    order = order_from_v2026(v2026())
    assert order.order_id == "302-0000001-0000001"
    assert order.status == OrderStatus.UNSHIPPED == "Unshipped"
    assert order.channel == "MFN"
    assert order.purchased == datetime(2026, 11, 30, 8, 15, tzinfo=UTC)
    assert order.marketplace_id == FR
    assert order.locale == "fr_FR"  # the marketplace's language until Messaging names one
    red, blue = order.items
    assert (red.sku, red.title, red.quantity_ordered, red.quantity_shipped) == (
        "MUG-RED",
        "Red mug",
        2,
        0,
    )
    assert not red.buyer_requested_cancel
    assert blue.buyer_requested_cancel and blue.buyer_cancel_reason == "Mistake"
    assert order.buyer_requested_cancel


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("PENDING_AVAILABILITY", "PendingAvailability"),
        ("PENDING", "Pending"),
        ("UNSHIPPED", "Unshipped"),
        ("PARTIALLY_SHIPPED", "PartiallyShipped"),
        ("SHIPPED", "Shipped"),
        ("CANCELLED", "Canceled"),
        ("UNFULFILLABLE", "Unfulfillable"),
        ("SOMETHING_NEW", "SOMETHING_NEW"),  # kept as Amazon said it: the policy holds it
    ],
)
def test_fulfillment_statuses_map_to_the_order_statuses_the_rules_use(
    status: str, expected: str
) -> None:
    raw = v2026(fulfillment={"fulfillmentStatus": status, "fulfilledBy": "MERCHANT"})
    assert order_from_v2026(raw).status == expected


@pytest.mark.parametrize(("by", "channel"), [("MERCHANT", "MFN"), ("AMAZON", "AFN")])
def test_fulfilled_by_gives_the_channel(by: str, channel: str) -> None:
    raw = v2026(fulfillment={"fulfillmentStatus": "UNSHIPPED", "fulfilledBy": by})
    assert order_from_v2026(raw).channel == channel


def test_a_cancellation_not_requested_by_the_buyer_is_not_a_buyer_request() -> None:
    raw = v2026()
    raw["orderItems"][1]["cancellation"] = {
        "cancellationExecution": {"cancelledBy": "MERCHANT", "cancelReason": "NoInventory"}
    }
    assert not order_from_v2026(raw).buyer_requested_cancel


def test_shipped_units_come_from_the_item_fulfillment() -> None:
    raw = v2026()
    raw["orderItems"][0]["fulfillment"] = {"quantityFulfilled": 1, "quantityUnfulfilled": 1}
    assert order_from_v2026(raw).items[0].quantity_shipped == 1


@pytest.mark.parametrize("created", [None, "", "yesterday"])
def test_a_missing_purchase_date_stays_unknown_in_v2026(created: str | None) -> None:
    raw = v2026()
    if created is None:
        del raw["createdTime"]
    else:
        raw["createdTime"] = created
    assert order_from_v2026(raw).purchased is None


def test_a_missing_purchase_date_stays_unknown_in_v0() -> None:
    raw = {"AmazonOrderId": "302-0000001-0000001", "OrderStatus": "Unshipped", "MarketplaceId": DE}
    order = order_from_v0(raw)
    assert order.purchased is None
    assert (order.marketplace_id, order.locale) == (DE, "de_DE")


REPORT_HEAD = "order-id\torder-item-id\tpurchase-date\tsku\tproduct-name\tquantity-purchased"


def test_a_missing_purchase_date_stays_unknown_in_the_report() -> None:
    text = (
        REPORT_HEAD + "\n"
        "302-0000001-0000001\t00000000000101\t\tMUG\tMug\t1\n"
        "302-0000001-0000002\t00000000000201\t2026-11-30T08:15:00+00:00\tMUG\tMug\t1\n"
    )
    orders = parse_unshipped_report(text, DE)
    assert orders["302-0000001-0000001"].purchased is None
    assert orders["302-0000001-0000002"].purchased == datetime(2026, 11, 30, 8, 15, tzinfo=UTC)
    assert {o.marketplace_id for o in orders.values()} == {DE}


def test_unshipped_report_columns_are_found_by_name_in_any_order_and_may_be_missing() -> None:
    text = (
        "sku\tis-buyer-requested-cancellation\torder-item-id\tquantity-purchased\torder-id"
        "\tpurchase-date\tquantity-shipped\n"
        "MUG\ttrue\t00000000000101\t3\t302-0000001-0000001\t2026-11-30T08:15:00Z\t1\n"
        # A short line: its missing cells (purchase date, shipped) read as blank.
        "CUP\tfalse\t00000000000201\t2\t302-0000001-0000002\n"
        "\n"
        "LID\tfalse\t00000000000102\t1\t302-0000001-0000001\t2026-11-30T08:15:00Z\t0\n"
    )
    orders = parse_unshipped_report(text, DE)
    first, second = orders["302-0000001-0000001"], orders["302-0000001-0000002"]
    assert [
        (i.sku, i.order_item_id, i.quantity_ordered, i.quantity_shipped) for i in first.items
    ] == [
        ("MUG", "00000000000101", 3, 1),
        ("LID", "00000000000102", 1, 0),
    ]
    assert first.items[0].buyer_requested_cancel and not first.items[1].buyer_requested_cancel
    assert first.status == OrderStatus.PARTIALLY_SHIPPED
    assert first.purchased == datetime(2026, 11, 30, 8, 15, tzinfo=UTC)
    # No title, ASIN or reason column: blank, never another column's value.
    assert (first.items[0].title, first.items[0].asin, first.items[0].buyer_cancel_reason) == (
        "",
        "",
        "",
    )
    assert second.purchased is None and second.status == OrderStatus.UNSHIPPED
    assert second.items[0].quantity_shipped == 0
