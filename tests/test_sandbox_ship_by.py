"""The sandbox's ship-by dates and buyer requests, as both Orders APIs and the unshipped-orders
report serve them, checked against Amazon's models."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import SANDBOX_NOW, US, WITH_RESTRICTED, orders_v2026_client, restricted_document
from freezegun.api import FrozenDateTimeFactory
from test_sandbox_orders_v2026 import MODEL, _recorded
from test_sandbox_schema import MODELS, Model, _record

from bulk.amazon.account import AmazonAccount
from bulk.amazon.clients import Clients, connect
from bulk.sandbox import Sandbox, start_sandbox
from bulk.targets import SANDBOX_CREDENTIALS

NOW = datetime.fromisoformat(SANDBOX_NOW)
V0_MODEL = MODELS / "ordersV0.json"


def _item(n: int, **extra: Any) -> dict[str, Any]:
    return {"id": f"{n:014d}", "sku": f"SKU-{n}", "title": f"Thing {n}", "qty": 1, **extra}


BOOK: dict[str, Any] = {
    "seller_id": "A1SANDBOXSELLER",
    "marketplace_id": US,
    "performance": {"orders_last_7_days": 400, "seller_cancels_last_7_days": 3},
    "orders": [
        # Ship-by in a day and a half from now: the window closes on it.
        {
            "id": "112-0000024-0000001",
            "status": "Unshipped",
            "purchased": "-6h",
            "ship_by": "+36h",
            "items": [_item(2401)],
        },
        # No ship_by: purchase + 2 days.
        {
            "id": "112-0000024-0000002",
            "status": "Unshipped",
            "purchased": "-6h",
            "items": [_item(2402)],
        },
        # A ship-by given as a timestamp, sooner than a day after purchase.
        {
            "id": "112-0000024-0000003",
            "status": "Unshipped",
            "purchased": "-2h",
            "ship_by": "2026-03-02T20:00:00Z",
            "items": [
                _item(2403, buyer_requested_cancel=True, buyer_cancel_reason="Ordered by mistake"),
                _item(2404),
            ],
        },
    ],
}

LATEST = {
    "112-0000024-0000001": NOW + timedelta(hours=30),
    "112-0000024-0000002": NOW - timedelta(hours=6) + timedelta(days=2),
    "112-0000024-0000003": datetime(2026, 3, 2, 20, 0, tzinfo=UTC),
}
EARLIEST = {
    "112-0000024-0000001": NOW + timedelta(hours=18),
    "112-0000024-0000002": NOW + timedelta(hours=18),
    "112-0000024-0000003": datetime(2026, 3, 2, 20, 0, tzinfo=UTC),
}


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture
def ship_by_sandbox(
    tmp_path: Path, sandbox_clock: FrozenDateTimeFactory, sandbox_state: Path
) -> Iterator[Sandbox]:
    path = tmp_path / "book.json"
    book = json.loads(json.dumps(BOOK))
    book["orders"][0]["ship_by"] = "+30h"
    path.write_text(json.dumps(book), encoding="utf-8")
    # An app holding the restricted role the unshipped-orders report needs.
    with start_sandbox(path, sandbox_state, roles=WITH_RESTRICTED) as running:
        yield running


@pytest.fixture
def ship_by_clients(ship_by_sandbox: Sandbox) -> Iterator[tuple[Clients, Any]]:
    clients = connect(ship_by_sandbox.url, ship_by_sandbox.url, SANDBOX_CREDENTIALS, US)
    v2026 = orders_v2026_client(ship_by_sandbox.url)
    yield clients, v2026
    v2026.close()
    clients.close()


@pytest.mark.parametrize("orders_api", ["2026-01-01", "v0"])
def test_each_look_up_reads_the_latest_ship_date_into_the_order(
    ship_by_sandbox: Sandbox, orders_api: str
) -> None:
    clients = connect(ship_by_sandbox.url, ship_by_sandbox.url, SANDBOX_CREDENTIALS, US)
    market = AmazonAccount(
        clients, [US], orders_api=orders_api, poll_sleep=lambda _s: None, restricted_data=True
    )
    try:
        found = market.get_orders(list(LATEST), NOW)
        assert {order_id: order.ship_by for order_id, order in found.items()} == LATEST
        if orders_api == "v0":
            report = market.unshipped_orders(lambda _line: None)
            assert {order_id: order.ship_by for order_id, order in report.items()} == LATEST
        else:
            searched = market.search_orders(NOW - timedelta(days=1), lambda _line: None)
            assert {order_id: order.ship_by for order_id, order in searched.items()} == LATEST
    finally:
        clients.close()


def test_both_orders_apis_and_the_report_give_the_books_ship_by(
    ship_by_clients: tuple[Clients, Any],
) -> None:
    clients, v2026 = ship_by_clients
    seen_v0 = _record(clients)
    seen_v2026 = _recorded(v2026)
    for order_id, latest in LATEST.items():
        v0 = clients.orders.get_order(order_id).payload
        assert (_at(v0["EarliestShipDate"]), _at(v0["LatestShipDate"])) == (
            EARLIEST[order_id],
            latest,
        )
        # Delivery follows the ship-by date: one to five days after it.
        assert _at(v0["LatestDeliveryDate"]) == latest + timedelta(days=5)
        order = v2026.get_order(order_id, includedData=["FULFILLMENT"]).payload["order"]
        window = order["fulfillment"]["shipByWindow"]
        assert (_at(window["earliestDateTime"]), _at(window["latestDateTime"])) == (
            EARLIEST[order_id],
            latest,
        )
    searched = v2026.search_orders(
        createdAfter="2026-03-01T00:00:00Z", includedData=["FULFILLMENT", "CANCELLATION"]
    ).payload["orders"]
    assert {
        o["orderId"]: _at(o["fulfillment"]["shipByWindow"]["latestDateTime"]) for o in searched
    } == LATEST
    # The unshipped-orders report's promise-date is the same latest ship date.
    report_id = clients.reports.create_report(
        reportType="GET_FLAT_FILE_ACTIONABLE_ORDER_DATA_SHIPPING"
    ).payload["reportId"]
    for _ in range(3):
        report = clients.reports.get_report(report_id).payload
    text = restricted_document(clients, report["reportDocumentId"])
    lines = [line.split("\t") for line in text.splitlines()]
    head = lines[0]
    promised = {
        cells[head.index("order-id")]: _at(cells[head.index("promise-date")]) for cells in lines[1:]
    }
    assert promised == LATEST
    v0_model = Model(json.loads(V0_MODEL.read_text(encoding="utf-8")))
    v2026_model = Model(json.loads(MODEL.read_text(encoding="utf-8")))
    for method, path, status, body in seen_v0:
        operation = v0_model.operation(method, path)
        if operation is not None:  # the report calls belong to another model
            v0_model.check(operation, status, body)
    for method, path, status, body in seen_v2026:
        operation = v2026_model.operation(method, path)
        assert operation is not None
        v2026_model.check(operation, status, body)


def test_search_orders_with_cancellation_shows_buyer_requests_as_orders_v0_does(
    ship_by_clients: tuple[Clients, Any],
) -> None:
    clients, v2026 = ship_by_clients
    searched = v2026.search_orders(
        createdAfter="2026-03-01T00:00:00Z",
        fulfillmentStatuses=["UNSHIPPED"],
        includedData=["CANCELLATION"],
    ).payload["orders"]
    requests = {
        (order["orderId"], item["orderItemId"]): item["cancellation"]["cancellationRequest"]
        for order in searched
        for item in order["orderItems"]
        if "cancellation" in item
    }
    assert requests == {
        ("112-0000024-0000003", "00000000002403"): {
            "requester": "BUYER",
            "cancelReason": "Ordered by mistake",
        }
    }
    v0 = clients.orders.get_order_items("112-0000024-0000003").payload["OrderItems"]
    assert [
        (i["OrderItemId"], i["BuyerRequestedCancel"]["IsBuyerRequestedCancel"]) for i in v0
    ] == [("00000000002403", "true"), ("00000000002404", "false")]
    assert v0[0]["BuyerRequestedCancel"]["BuyerCancelReason"] == "Ordered by mistake"
