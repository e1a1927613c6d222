"""Orders API v2026-01-01 in the sandbox (getOrder, searchOrders) through the real client."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
from conftest import WITH_RESTRICTED, orders_v2026_client
from freezegun.api import FrozenDateTimeFactory
from sp_api.api import OrdersV20260101
from sp_api.base.exceptions import (
    SellingApiBadRequestException,
    SellingApiException,
    SellingApiNotFoundException,
    SellingApiRequestThrottledException,
)
from test_sandbox_schema import MODELS, Model

from bulk.amazon.clients import Clients
from bulk.sandbox import Sandbox, start_sandbox
from bulk.sandbox.orders_v2026 import (
    FULFILLED_BY,
    FULFILLMENT_STATUS,
    FULFILLMENT_STATUSES,
    GET_ORDER,
    INCLUDED_DATA,
    MAX_MARKETPLACES,
    SEARCH_ORDERS,
)

DATA = Path(__file__).parent / "data"
LONG_AGO = "2025-01-01T00:00:00Z"
ALL_BOOK_IDS = [f"112-0000001-{n:07d}" for n in range(1, 13)]
AckFeed = Callable[..., bytes]
RunFeed = Callable[..., tuple[dict[str, Any], str]]


def _ids(res: Any) -> list[str]:
    return [order["orderId"] for order in res.payload["orders"]]


def _bad_request(call: Callable[[], object]) -> str:
    """The message of the 400 InvalidInput `call` must raise."""
    with pytest.raises(SellingApiBadRequestException) as caught:
        call()
    assert caught.value.amzn_code == "InvalidInput"
    return str(caught.value.message)


# getOrder -------------------------------------------------------------------------------


def test_get_order_always_has_items_and_nothing_else_unless_asked(
    sandbox_orders_v2026: OrdersV20260101,
) -> None:
    res = sandbox_orders_v2026.get_order("112-0000001-0000003")
    order = res.payload["order"]
    assert set(order) == {
        "orderId",
        "orderAliases",
        "createdTime",
        "lastUpdatedTime",
        "salesChannel",
        "orderItems",
    }
    assert order["createdTime"] == "2026-03-02T13:00:00Z"  # "-2h" from the frozen clock
    assert order["salesChannel"] == {
        "channelName": "AMAZON",
        "marketplaceId": "ATVPDKIKX0DER",
        "marketplaceName": "Amazon.com",
    }
    items = order["orderItems"]
    assert [(i["orderItemId"], i["quantityOrdered"]) for i in items] == [
        ("00000000000301", 1),
        ("00000000000302", 1),
        ("00000000000303", 3),
    ]
    assert items[2]["product"] == {
        "asin": items[2]["product"]["asin"],
        "title": "Linen Kitchen Towels, Set of 2",
        "sellerSku": "TOWEL-LINEN-2",
        "condition": {"conditionType": "NEW", "conditionSubtype": "NEW"},
        "price": {"unitPrice": {"amount": "12.00", "currencyCode": "USD"}},
    }
    assert all(set(item) == {"orderItemId", "quantityOrdered", "product"} for item in items)
    assert res.rate_limit == "0.5"


# Buyer and recipient data are personal: the app needs a restricted role for them.
@pytest.mark.parametrize("sandbox_roles", [WITH_RESTRICTED])
def test_included_data_adds_its_parts(sandbox_orders_v2026: OrdersV20260101) -> None:
    order = sandbox_orders_v2026.get_order(
        "112-0000001-0000003",
        includedData=["BUYER", "RECIPIENT", "PROCEEDS", "CANCELLATION", "FULFILLMENT"],
    ).payload["order"]
    assert order["buyer"]["buyerName"]
    assert order["buyer"]["buyerEmail"].endswith("@marketplace.amazon.com")
    assert order["recipient"]["deliveryAddress"]["countryCode"] == "US"
    assert order["proceeds"] == {"grandTotal": {"amount": "115.45", "currencyCode": "USD"}}
    assert order["fulfillment"]["fulfillmentStatus"] == "UNSHIPPED"
    assert order["fulfillment"]["fulfilledBy"] == "MERCHANT"
    towels = order["orderItems"][2]
    assert towels["fulfillment"] == {"quantityFulfilled": 0, "quantityUnfulfilled": 3}
    assert towels["proceeds"]["proceedsTotal"] == {"amount": "36.00", "currencyCode": "USD"}
    assert "cancellation" not in towels  # nothing to say: no request, not cancelled
    only_fulfillment = sandbox_orders_v2026.get_order(
        "112-0000001-0000003", includedData=["FULFILLMENT"]
    ).payload["order"]
    assert "buyer" not in only_fulfillment and "proceeds" not in only_fulfillment
    assert "proceeds" not in only_fulfillment["orderItems"][0]


@pytest.mark.parametrize(
    ("order_id", "status", "fulfilled_by"),
    [
        ("112-0000001-0000001", "UNSHIPPED", "MERCHANT"),
        ("112-0000001-0000005", "SHIPPED", "MERCHANT"),
        ("112-0000001-0000006", "PARTIALLY_SHIPPED", "MERCHANT"),
        ("112-0000001-0000007", "CANCELLED", "MERCHANT"),
        ("112-0000001-0000008", "PENDING", "MERCHANT"),
        ("112-0000001-0000009", "UNSHIPPED", "AMAZON"),
    ],
)
def test_order_status_maps_to_fulfillment_status(
    sandbox_orders_v2026: OrdersV20260101, order_id: str, status: str, fulfilled_by: str
) -> None:
    order = sandbox_orders_v2026.get_order(order_id, includedData=["FULFILLMENT"]).payload["order"]
    assert order["fulfillment"]["fulfillmentStatus"] == status
    assert order["fulfillment"]["fulfilledBy"] == fulfilled_by


@pytest.mark.parametrize("sandbox_roles", [WITH_RESTRICTED])
def test_pending_orders_have_no_money_or_address(sandbox_orders_v2026: OrdersV20260101) -> None:
    order = sandbox_orders_v2026.get_order(
        "112-0000001-0000008", includedData=["BUYER", "RECIPIENT", "PROCEEDS"]
    ).payload["order"]
    assert not {"buyer", "recipient", "proceeds"} & set(order)
    assert "price" not in order["orderItems"][0]["product"]


def test_items_agree_with_orders_v0(
    sandbox_orders_v2026: OrdersV20260101, sandbox_clients: Clients
) -> None:
    for order_id in ALL_BOOK_IDS:
        v0 = sandbox_clients.orders.get_order_items(order_id).payload["OrderItems"]
        v2026 = sandbox_orders_v2026.get_order(order_id, includedData=["FULFILLMENT"]).payload
        assert [
            (i["orderItemId"], i["quantityOrdered"], i["fulfillment"]["quantityFulfilled"])
            for i in v2026["order"]["orderItems"]
        ] == [(i["OrderItemId"], i["QuantityOrdered"], i["QuantityShipped"]) for i in v0], order_id


def test_buyer_cancellation_request_shows_in_both_apis(
    sandbox_orders_v2026: OrdersV20260101, sandbox_clients: Clients
) -> None:
    v0 = sandbox_clients.orders.get_order_items("112-0000001-0000004").payload["OrderItems"][0]
    assert v0["BuyerRequestedCancel"]["IsBuyerRequestedCancel"] == "true"
    item = sandbox_orders_v2026.get_order(
        "112-0000001-0000004", includedData=["CANCELLATION"]
    ).payload["order"]["orderItems"][0]
    assert item["cancellation"] == {
        "cancellationRequest": {
            "requester": "BUYER",
            "cancelReason": v0["BuyerRequestedCancel"]["BuyerCancelReason"],
        }
    }
    without = sandbox_orders_v2026.get_order("112-0000001-0000004").payload["order"]
    assert "cancellation" not in without["orderItems"][0]


def test_an_order_cancelled_before_the_sandbox_names_who_cancelled(
    sandbox_orders_v2026: OrdersV20260101,
) -> None:
    item = sandbox_orders_v2026.get_order(
        "112-0000001-0000007", includedData=["CANCELLATION", "FULFILLMENT"]
    ).payload["order"]["orderItems"][0]
    assert item["cancellation"] == {"cancellationExecution": {"cancelledBy": "MERCHANT"}}
    assert (item["quantityOrdered"], item["fulfillment"]["quantityUnfulfilled"]) == (0, 0)


def test_a_buyer_who_asked_and_got_cancelled_before_is_named(
    tmp_path: Path, sandbox_clock: FrozenDateTimeFactory, sandbox_state: Path
) -> None:
    book = json.loads((DATA / "marketplace_basic.json").read_text(encoding="utf-8"))
    book["orders"] = [
        {
            "id": "112-0000009-0000001",
            "status": "Canceled",
            "purchased": "-1d",
            "items": [
                {
                    "id": "00000000900101",
                    "sku": "MUG",
                    "title": "Mug",
                    "buyer_requested_cancel": True,
                    "buyer_cancel_reason": "Found it cheaper",
                },
                {"id": "00000000900102", "sku": "CUP", "title": "Cup"},
            ],
        }
    ]
    path = tmp_path / "cancelled.json"
    path.write_text(json.dumps(book), encoding="utf-8")
    with start_sandbox(path, sandbox_state) as running:
        client = orders_v2026_client(running.url)
        items = client.get_order("112-0000009-0000001", includedData=["CANCELLATION"]).payload[
            "order"
        ]["orderItems"]
        client.close()
    assert [item["cancellation"] for item in items] == [
        {
            "cancellationRequest": {"requester": "BUYER", "cancelReason": "Found it cheaper"},
            "cancellationExecution": {"cancelledBy": "BUYER"},
        },
        {"cancellationExecution": {"cancelledBy": "MERCHANT"}},
    ]


def test_unknown_order_is_404_and_bad_input_400(sandbox_orders_v2026: OrdersV20260101) -> None:
    with pytest.raises(SellingApiNotFoundException) as caught:
        sandbox_orders_v2026.get_order("999-0000000-0000000")
    assert caught.value.amzn_code == "NotFound"
    assert "999-0000000-0000000" in caught.value.message
    assert "orderId" in _bad_request(lambda: sandbox_orders_v2026.get_order("not-an-order"))
    message = _bad_request(
        lambda: sandbox_orders_v2026.get_order("112-0000001-0000001", includedData=["ITEMS"])
    )
    assert message == "Invalid includedData value: ITEMS."


# Cancellations by feed -----------------------------------------------------------------


def test_an_order_cancelled_by_a_feed_reads_cancelled_in_both_apis(
    sandbox_orders_v2026: OrdersV20260101,
    sandbox_clients: Clients,
    sandbox_clock: FrozenDateTimeFactory,
    ack_feed: AckFeed,
    run_feed: RunFeed,
) -> None:
    sandbox_clock.tick(60)
    feed, _ = run_feed(
        ack_feed(
            [
                ("112-0000001-0000001", "Failure", [("00000000000101", "NoInventory")]),
                ("112-0000001-0000004", "Failure", [("00000000000401", "BuyerCanceled")]),
                ("112-0000001-0000002", "Failure", [("00000000000201", "CustomerExchange")]),
            ]
        )
    )
    assert feed["processingStatus"] == "DONE"
    whole = sandbox_orders_v2026.get_order(
        "112-0000001-0000001", includedData=["CANCELLATION", "FULFILLMENT"]
    ).payload["order"]
    assert whole["fulfillment"]["fulfillmentStatus"] == "CANCELLED"
    assert whole["lastUpdatedTime"] == "2026-03-02T15:01:00Z"
    assert whole["orderItems"][0]["cancellation"] == {
        "cancellationExecution": {"cancelledBy": "MERCHANT", "cancelReason": "NoInventory"}
    }
    assert sandbox_clients.orders.get_order("112-0000001-0000001").payload["OrderStatus"] == (
        "Canceled"
    )
    requested = sandbox_orders_v2026.get_order(
        "112-0000001-0000004", includedData=["CANCELLATION"]
    ).payload["order"]["orderItems"][0]["cancellation"]
    assert requested["cancellationRequest"]["requester"] == "BUYER"
    assert requested["cancellationExecution"]["cancelReason"] == "BuyerCanceled"
    # One line of two: the order stays UNSHIPPED (Unshipped in v0), the line has no units left.
    partly = sandbox_orders_v2026.get_order(
        "112-0000001-0000002", includedData=["CANCELLATION", "FULFILLMENT"]
    ).payload["order"]
    assert partly["fulfillment"]["fulfillmentStatus"] == "UNSHIPPED"
    assert sandbox_clients.orders.get_order("112-0000001-0000002").payload["OrderStatus"] == (
        "Unshipped"
    )
    gone, kept = partly["orderItems"]
    assert (gone["quantityOrdered"], gone["fulfillment"]["quantityUnfulfilled"]) == (0, 0)
    assert gone["cancellation"]["cancellationExecution"]["cancelledBy"] == "MERCHANT"
    assert kept["quantityOrdered"] == 1 and "cancellation" not in kept
    cancelled = sandbox_orders_v2026.search_orders(
        createdAfter=LONG_AGO, fulfillmentStatuses=["CANCELLED"]
    )
    assert _ids(cancelled) == ["112-0000001-0000007", "112-0000001-0000004", "112-0000001-0000001"]
    updated = sandbox_orders_v2026.search_orders(lastUpdatedAfter="2026-03-02T15:00:30Z")
    assert _ids(updated) == []  # the cancellations are not two minutes old yet
    sandbox_clock.tick(180)  # the window ends two minutes before the request
    updated = sandbox_orders_v2026.search_orders(lastUpdatedAfter="2026-03-02T15:00:30Z")
    assert sorted(_ids(updated)) == [
        "112-0000001-0000001",
        "112-0000001-0000002",
        "112-0000001-0000004",
    ]
    assert updated.payload["lastUpdatedBefore"] == "2026-03-02T15:02:00Z"


# searchOrders ---------------------------------------------------------------------------


def test_search_pages_through_every_order_oldest_first(
    sandbox_orders_v2026: OrdersV20260101,
) -> None:
    seen: list[dict[str, Any]] = []
    params: dict[str, Any] = {"createdAfter": LONG_AGO, "maxResultsPerPage": 5}
    sizes = []
    res = sandbox_orders_v2026.search_orders(**params)
    for _ in range(10):  # bounded: a paginator that never ends fails instead of hanging
        sizes.append(len(res.payload["orders"]))
        seen.extend(res.payload["orders"])
        if not res.next_token:
            break
        res = sandbox_orders_v2026.search_orders(**params, paginationToken=res.next_token)
    assert sizes == [5, 5, 2]
    assert sorted(o["orderId"] for o in seen) == ALL_BOOK_IDS
    created = [o["orderId"] for o in sorted(seen, key=lambda o: (o["createdTime"], o["orderId"]))]
    assert [o["orderId"] for o in seen] == created
    assert res.payload["createdBefore"] == "2026-03-02T14:58:00Z"
    assert res.rate_limit == "0.0056"


def test_a_token_allows_another_page_size_and_included_data(
    sandbox_orders_v2026: OrdersV20260101,
) -> None:
    first = sandbox_orders_v2026.search_orders(createdAfter=LONG_AGO, maxResultsPerPage=2)
    rest = sandbox_orders_v2026.search_orders(
        createdAfter=LONG_AGO,
        maxResultsPerPage=100,
        includedData=["FULFILLMENT"],
        paginationToken=first.next_token,
    )
    assert len(_ids(first)) + len(_ids(rest)) == 12
    assert not set(_ids(first)) & set(_ids(rest))
    assert all("fulfillment" in order for order in rest.payload["orders"])
    assert rest.next_token is None


def test_a_token_must_come_with_the_same_search(sandbox_orders_v2026: OrdersV20260101) -> None:
    first = sandbox_orders_v2026.search_orders(createdAfter=LONG_AGO, maxResultsPerPage=2)
    token = first.next_token
    assert "do not match" in _bad_request(
        lambda: sandbox_orders_v2026.search_orders(
            createdAfter="2025-06-01T00:00:00Z", paginationToken=token
        )
    )
    assert "do not match" in _bad_request(
        lambda: sandbox_orders_v2026.search_orders(
            createdAfter=LONG_AGO, fulfillmentStatuses=["UNSHIPPED"], paginationToken=token
        )
    )
    assert "Exactly one of" in _bad_request(
        lambda: sandbox_orders_v2026.search_orders(paginationToken=token)
    )
    assert _bad_request(
        lambda: sandbox_orders_v2026.search_orders(
            createdAfter=LONG_AGO, paginationToken=token[:-1] + ("0" if token[-1] != "0" else "1")
        )
    ) == ("Invalid paginationToken.")


def test_a_token_expires_after_24_hours(
    sandbox_orders_v2026: OrdersV20260101, sandbox_clock: FrozenDateTimeFactory
) -> None:
    first = sandbox_orders_v2026.search_orders(createdAfter=LONG_AGO, maxResultsPerPage=2)
    sandbox_clock.tick(24 * 3600)
    second = sandbox_orders_v2026.search_orders(
        createdAfter=LONG_AGO, maxResultsPerPage=2, paginationToken=first.next_token
    )
    assert len(_ids(second)) == 2
    sandbox_clock.tick(1)
    message = _bad_request(
        lambda: sandbox_orders_v2026.search_orders(
            createdAfter=LONG_AGO, maxResultsPerPage=2, paginationToken=first.next_token
        )
    )
    assert message == "The paginationToken has expired."


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "Exactly one of createdAfter and lastUpdatedAfter must be provided."),
        (
            {"createdBefore": "2026-03-01T00:00:00Z"},
            "Exactly one of createdAfter and lastUpdatedAfter must be provided.",
        ),
        (
            {"createdAfter": LONG_AGO, "lastUpdatedAfter": LONG_AGO},
            "createdAfter and lastUpdatedAfter cannot both be provided.",
        ),
        (
            {"createdAfter": LONG_AGO, "lastUpdatedBefore": "2026-03-01T00:00:00Z"},
            "lastUpdatedBefore cannot be provided with createdAfter.",
        ),
        (
            {"lastUpdatedAfter": LONG_AGO, "createdBefore": "2026-03-01T00:00:00Z"},
            "createdBefore cannot be provided with lastUpdatedAfter.",
        ),
        (
            {"createdAfter": LONG_AGO, "createdBefore": "2026-03-02T14:59:00Z"},
            "createdBefore must be at least two minutes before the time of the request.",
        ),
        (
            {"lastUpdatedAfter": "2026-03-02T00:00:00Z", "lastUpdatedBefore": LONG_AGO},
            "lastUpdatedBefore must be equal to or after lastUpdatedAfter.",
        ),
        ({"createdAfter": "last week"}, "createdAfter is not a valid ISO 8601 date time"),
        (
            {"createdAfter": LONG_AGO, "fulfillmentStatuses": ["Unshipped"]},
            "Invalid fulfillmentStatuses value: Unshipped.",
        ),
        (
            {"createdAfter": LONG_AGO, "fulfilledBy": ["MFN"]},
            "Invalid fulfilledBy value: MFN.",
        ),
        (
            {"createdAfter": LONG_AGO, "maxResultsPerPage": 0},
            "maxResultsPerPage must be between 1 and 100",
        ),
        (
            {"createdAfter": LONG_AGO, "maxResultsPerPage": 101},
            "maxResultsPerPage must be between 1 and 100",
        ),
        (
            {"createdAfter": LONG_AGO, "includedData": ["EVERYTHING"]},
            "Invalid includedData value: EVERYTHING.",
        ),
        (
            {"createdAfter": LONG_AGO, "marketplaceIds": ["A1PA6795UKMFR9"]},
            "Invalid marketplaceId A1PA6795UKMFR9.",
        ),
        (
            {"createdAfter": LONG_AGO, "marketplaceIds": ["ATVPDKIKX0DER"] * 51},
            "marketplaceIds can hold at most 50 marketplace ids, not 51.",
        ),
    ],
)
def test_search_rules(
    sandbox_orders_v2026: OrdersV20260101, params: dict[str, Any], message: str
) -> None:
    assert message in _bad_request(lambda: sandbox_orders_v2026.search_orders(**params))


def test_fifty_marketplaces_are_allowed(sandbox_orders_v2026: OrdersV20260101) -> None:
    ids = ["ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"] * 25  # repeated ids count once each time given
    res = sandbox_orders_v2026.search_orders(createdAfter=LONG_AGO, marketplaceIds=ids)
    assert len(_ids(res)) == 12


def test_created_window_and_filters(sandbox_orders_v2026: OrdersV20260101) -> None:
    window = sandbox_orders_v2026.search_orders(
        createdAfter="2026-03-02T08:00:00Z", createdBefore="2026-03-02T12:00:00Z"
    )
    # -7h, -6h, -5h, -4h and -3h from 15:00
    assert _ids(window) == [
        "112-0000001-0000011",
        "112-0000001-0000004",
        "112-0000001-0000002",
        "112-0000001-0000009",
        "112-0000001-0000001",
    ]
    assert window.payload["createdBefore"] == "2026-03-02T12:00:00Z"
    shipped = sandbox_orders_v2026.search_orders(
        createdAfter=LONG_AGO, fulfillmentStatuses=["SHIPPED", "PARTIALLY_SHIPPED"]
    )
    assert _ids(shipped) == ["112-0000001-0000005", "112-0000001-0000006"]
    by_amazon = sandbox_orders_v2026.search_orders(createdAfter=LONG_AGO, fulfilledBy=["AMAZON"])
    assert _ids(by_amazon) == ["112-0000001-0000009"]
    by_both = sandbox_orders_v2026.search_orders(
        createdAfter=LONG_AGO, fulfilledBy=["AMAZON", "MERCHANT"]
    )
    assert len(_ids(by_both)) == 12
    pending_mfn = sandbox_orders_v2026.search_orders(
        createdAfter=LONG_AGO,
        fulfillmentStatuses=["PENDING", "UNSHIPPED"],
        fulfilledBy=["MERCHANT"],
        includedData=["FULFILLMENT"],
    )
    assert len(_ids(pending_mfn)) == 8
    assert {o["fulfillment"]["fulfillmentStatus"] for o in pending_mfn.payload["orders"]} == {
        "PENDING",
        "UNSHIPPED",
    }
    canada = sandbox_orders_v2026.search_orders(
        createdAfter=LONG_AGO, marketplaceIds=["A2EUQ1WTGCTBG2"]
    )
    assert _ids(canada) == []


# Rate limits and call counts -------------------------------------------------------------


@pytest.fixture
def limited(sandbox_clock: FrozenDateTimeFactory, sandbox_state: Path) -> Iterator[Sandbox]:
    with start_sandbox(DATA / "marketplace_limits.json", sandbox_state) as running:
        yield running


def test_search_orders_has_its_published_burst_and_rate(
    limited: Sandbox, sandbox_clock: FrozenDateTimeFactory
) -> None:
    client = orders_v2026_client(limited.url)
    for _ in range(20):  # searchOrders: burst 20
        client.search_orders(createdAfter=LONG_AGO)
    with pytest.raises(SellingApiRequestThrottledException) as caught:
        client.search_orders(createdAfter=LONG_AGO)
    assert caught.value.headers["x-amzn-RateLimit-Limit"] == "0.0056"
    # 0.0056 a second, ten times faster here (time_scale 10): one more after 1 / 0.056 s.
    sandbox_clock.tick(17.0)
    with pytest.raises(SellingApiRequestThrottledException):
        client.search_orders(createdAfter=LONG_AGO)
    sandbox_clock.tick(1.0)
    client.search_orders(createdAfter=LONG_AGO)
    client.close()


def test_get_order_v2026_has_a_bucket_of_its_own(
    limited: Sandbox, sandbox_clock: FrozenDateTimeFactory
) -> None:
    client = orders_v2026_client(limited.url)
    for _ in range(30):  # getOrder: burst 30
        client.get_order("113-0000001-0000001")
    with pytest.raises(SellingApiRequestThrottledException) as caught:
        client.get_order("113-0000001-0000001")
    assert caught.value.headers["x-amzn-RateLimit-Limit"] == "0.5"
    sandbox_clock.tick(0.2)  # 0.5 a second, ten times faster: one more every 0.2 s
    client.get_order("113-0000001-0000001")
    client.close()
    calls = requests.get(f"{limited.url}/_sandbox/calls", timeout=10).json()
    assert calls[GET_ORDER] == 32
    assert "getOrder" not in calls  # Orders v0's getOrder is another operation


def test_calls_are_counted_apart_from_orders_v0(
    sandbox: Sandbox, sandbox_orders_v2026: OrdersV20260101, sandbox_clients: Clients
) -> None:
    sandbox_orders_v2026.get_order("112-0000001-0000001")
    sandbox_orders_v2026.search_orders(createdAfter=LONG_AGO)
    sandbox_clients.orders.get_order("112-0000001-0000001")
    calls = requests.get(f"{sandbox.url}/_sandbox/calls", timeout=10).json()
    assert (calls[GET_ORDER], calls[SEARCH_ORDERS], calls["getOrder"]) == (1, 1, 1)


def test_a_large_book_is_searched_in_one_pass(
    tmp_path: Path, sandbox_clock: FrozenDateTimeFactory, sandbox_state: Path
) -> None:
    orders = [
        {
            "id": f"113-0000000-{n:07d}",
            "status": "Unshipped" if n % 3 else "Shipped",
            "purchased": f"-{n}m",
            "items": [{"id": f"{n:014d}", "sku": "SKU", "title": "Item", "qty": 1}],
        }
        for n in range(1, 1001)
    ]
    path = tmp_path / "large.json"
    path.write_text(json.dumps({"orders": orders}), encoding="utf-8")
    with start_sandbox(path, sandbox_state) as running:
        client = orders_v2026_client(running.url)
        seen: list[str] = []
        res = client.search_orders(lastUpdatedAfter=LONG_AGO, fulfillmentStatuses=["UNSHIPPED"])
        for _ in range(20):
            seen.extend(_ids(res))
            if not res.next_token:
                break
            res = client.search_orders(
                lastUpdatedAfter=LONG_AGO,
                fulfillmentStatuses=["UNSHIPPED"],
                paginationToken=res.next_token,
            )
        client.close()
    # 667 unshipped; those bought 1, 2, 4 and 5 minutes ago were updated less than two
    # minutes ago (five minutes after purchase, or now), after the window's end.
    assert len(seen) == len(set(seen)) == 663
    assert len(seen) > 100  # several pages


# Amazon's model ------------------------------------------------------------------------

MODEL = MODELS / "orders_2026-01-01.json"


def _recorded(client: OrdersV20260101) -> list[tuple[str, str, int, bytes]]:
    """Every answer the client's own HTTP transport receives, as it receives it."""
    seen: list[tuple[str, str, int, bytes]] = []

    def hook(response: httpx.Response) -> None:
        response.read()
        seen.append(
            (
                response.request.method,
                response.request.url.path,
                response.status_code,
                response.content,
            )
        )

    client._transport._client.event_hooks = {"request": [], "response": [hook]}
    return seen


@pytest.mark.parametrize("sandbox_roles", [WITH_RESTRICTED])  # every includedData value
def test_every_answer_matches_the_orders_2026_model(
    sandbox_orders_v2026: OrdersV20260101,
    sandbox_clock: FrozenDateTimeFactory,
    ack_feed: AckFeed,
    run_feed: RunFeed,
) -> None:
    model = Model(json.loads(MODEL.read_text(encoding="utf-8")))
    c = sandbox_orders_v2026
    seen = _recorded(c)
    every = list(INCLUDED_DATA)
    for order_id in ALL_BOOK_IDS:
        c.get_order(order_id)
        c.get_order(order_id, includedData=every)
    params: dict[str, Any] = {"createdAfter": LONG_AGO, "maxResultsPerPage": 4}
    res = c.search_orders(**params, includedData=every)
    for _ in range(10):
        if not res.next_token:
            break
        res = c.search_orders(**params, paginationToken=res.next_token)
    c.search_orders(lastUpdatedAfter=LONG_AGO, fulfillmentStatuses=["UNSHIPPED"])
    run_feed(
        ack_feed(
            [
                ("112-0000001-0000001", "Failure", [("00000000000101", "NoInventory")]),
                ("112-0000001-0000004", "Failure", [("00000000000401", "BuyerCanceled")]),
                ("112-0000001-0000002", "Failure", [("00000000000201", "NoInventory")]),
            ]
        )
    )
    sandbox_clock.tick(180)
    c.search_orders(lastUpdatedAfter="2026-03-02T14:00:00Z", includedData=every)
    for order_id in ("112-0000001-0000001", "112-0000001-0000002", "112-0000001-0000004"):
        c.get_order(order_id, includedData=every)
    for call in (
        lambda: c.get_order("999-0000000-0000000"),
        lambda: c.get_order("not-an-order"),
        lambda: c.get_order("112-0000001-0000001", includedData=["ITEMS"]),
        lambda: c.search_orders(),
        lambda: c.search_orders(createdAfter=LONG_AGO, maxResultsPerPage=500),
        lambda: c.search_orders(createdAfter=LONG_AGO, paginationToken="bm90.0000"),
    ):
        with pytest.raises(SellingApiException):
            call()
    covered = set()
    for method, path, status, body in seen:
        operation = model.operation(method, path)
        assert operation is not None, f"{method} {path} is not in the model"
        model.check(operation, status, body)
        covered.add(f"{operation['operationId']} {status}")
    assert covered == {
        "getOrder 200",
        "getOrder 400",
        "getOrder 404",
        "searchOrders 200",
        "searchOrders 400",
    }


def test_the_sandbox_knows_the_models_enums() -> None:
    definitions = json.loads(MODEL.read_text(encoding="utf-8"))["definitions"]
    assert list(FULFILLMENT_STATUSES) == definitions["FulfillmentStatus"]["enum"]
    assert set(FULFILLMENT_STATUS.values()) == set(FULFILLMENT_STATUSES)
    parameters = {
        p["name"]: p
        for p in json.loads(MODEL.read_text(encoding="utf-8"))["paths"][
            "/orders/2026-01-01/orders"
        ]["get"]["parameters"]
    }
    assert list(INCLUDED_DATA) == parameters["includedData"]["items"]["enum"]
    assert sorted(FULFILLED_BY.values()) == sorted(parameters["fulfilledBy"]["items"]["enum"])
    assert parameters["marketplaceIds"]["maxItems"] == MAX_MARKETPLACES
