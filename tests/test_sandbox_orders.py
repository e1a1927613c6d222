"""Login with Amazon and Orders API v0 through real HTTP, with the real python-amazon-sp-api client."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from sp_api.base.exceptions import SellingApiBadRequestException, SellingApiNotFoundException

from bulk.amazon.clients import Clients
from bulk.sandbox import Sandbox
from bulk.targets import SANDBOX_CREDENTIALS

LONG_AGO = "2025-01-01T00:00:00Z"


def _token_form(**changes: str) -> dict[str, str]:
    form = {
        "grant_type": "refresh_token",
        "refresh_token": SANDBOX_CREDENTIALS["refresh_token"],
        "client_id": SANDBOX_CREDENTIALS["lwa_app_id"],
        "client_secret": SANDBOX_CREDENTIALS["lwa_client_secret"],
    }
    form.update(changes)
    return {k: v for k, v in form.items() if v}


def test_token_endpoint_issues_a_bearer_token(sandbox: Sandbox) -> None:
    res = requests.post(f"{sandbox.url}/auth/o2/token", data=_token_form(), timeout=10)
    assert res.status_code == 200
    body = res.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert body["refresh_token"] == SANDBOX_CREDENTIALS["refresh_token"]
    assert body["access_token"].startswith("Atza|")
    assert res.headers["x-amzn-RequestId"]


@pytest.mark.parametrize(
    ("changes", "status", "error"),
    [
        ({"client_secret": "wrong"}, 401, "invalid_client"),
        ({"client_id": "someone-else"}, 401, "invalid_client"),
        ({"refresh_token": "Atzr|stolen"}, 400, "invalid_grant"),
        ({"refresh_token": ""}, 400, "invalid_request"),
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
    ],
)
def test_token_endpoint_refuses_unknown_credentials(
    sandbox: Sandbox, changes: dict[str, str], status: int, error: str
) -> None:
    res = requests.post(f"{sandbox.url}/auth/o2/token", data=_token_form(**changes), timeout=10)
    assert res.status_code == status
    assert res.json()["error"] == error
    assert res.json()["error_description"]


def test_api_calls_need_the_access_token(sandbox: Sandbox) -> None:
    url = f"{sandbox.url}/orders/v0/orders/112-0000001-0000001"
    res = requests.get(url, headers={"x-amz-access-token": "Atza|forged"}, timeout=10)
    assert res.status_code == 403
    assert res.json()["errors"][0]["code"] == "Unauthorized"
    token = requests.post(f"{sandbox.url}/auth/o2/token", data=_token_form(), timeout=10)
    res = requests.get(
        url, headers={"x-amz-access-token": token.json()["access_token"]}, timeout=10
    )
    assert res.status_code == 200


def test_get_orders_by_id_leaves_unknown_ids_out(sandbox_clients: Clients) -> None:
    res = sandbox_clients.orders.get_orders(
        AmazonOrderIds=["112-0000001-0000001", "112-0000001-0000002", "999-0000000-0000000"],
        CreatedAfter=LONG_AGO,
    )
    orders = res.payload["Orders"]
    assert [o["AmazonOrderId"] for o in orders] == ["112-0000001-0000002", "112-0000001-0000001"]
    first = orders[1]
    assert first["OrderStatus"] == "Unshipped"
    assert first["FulfillmentChannel"] == "MFN"
    assert first["MarketplaceId"] == "ATVPDKIKX0DER"
    assert first["PurchaseDate"] == "2026-03-02T12:00:00Z"  # "-3h" from the frozen clock
    assert first["NumberOfItemsUnshipped"] == 2
    assert first["OrderTotal"] == {"CurrencyCode": "USD", "Amount": "29.98"}
    assert first["SalesChannel"] == "Amazon.com"
    assert res.payload["CreatedBefore"] == "2026-03-02T14:58:00Z"
    assert res.rate_limit == "0.0167"


def test_get_orders_takes_at_most_50_ids(sandbox_clients: Clients) -> None:
    ids = [f"112-0000001-{n:07d}" for n in range(1, 52)]
    res = sandbox_clients.orders.get_orders(AmazonOrderIds=ids[:50], CreatedAfter=LONG_AGO)
    assert len(res.payload["Orders"]) == 12
    with pytest.raises(SellingApiBadRequestException) as caught:
        sandbox_clients.orders.get_orders(AmazonOrderIds=ids, CreatedAfter=LONG_AGO)
    assert caught.value.amzn_code == "InvalidInput"
    assert "at most 50" in caught.value.message


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "Either CreatedAfter or LastUpdatedAfter must be specified."),
        ({"CreatedAfter": LONG_AGO, "LastUpdatedAfter": LONG_AGO}, "cannot both be specified"),
        ({"CreatedAfter": "2026-03-02T14:59:00Z"}, "no later than two minutes before"),
        ({"CreatedAfter": "last week"}, "not a valid ISO 8601"),
        (
            {"CreatedAfter": LONG_AGO, "OrderStatuses": ["Open"]},
            "Invalid OrderStatuses value: Open.",
        ),
        ({"CreatedAfter": LONG_AGO, "AmazonOrderIds": ["112-1"]}, "Invalid AmazonOrderIds: 112-1."),
    ],
)
def test_get_orders_rules(sandbox_clients: Clients, params: dict[str, Any], message: str) -> None:
    with pytest.raises(SellingApiBadRequestException) as caught:
        sandbox_clients.orders.get_orders(**{"AmazonOrderIds": ["112-0000001-0000001"], **params})
    assert caught.value.amzn_code == "InvalidInput"
    assert message in caught.value.message


def test_get_orders_returns_nothing_older_than_created_after(sandbox_clients: Clients) -> None:
    res = sandbox_clients.orders.get_orders(CreatedAfter="2026-03-01T15:00:00Z")
    ids = {o["AmazonOrderId"] for o in res.payload["Orders"]}
    assert "112-0000001-0000010" not in ids  # purchased 30 hours ago
    assert "112-0000001-0000005" not in ids  # two days ago
    assert "112-0000001-0000001" in ids


def test_get_orders_filters_and_pages(sandbox_clients: Clients) -> None:
    seen: list[str] = []
    params: dict[str, Any] = {"LastUpdatedAfter": LONG_AGO, "MaxResultsPerPage": 5}
    pages = 0
    while True:
        res = sandbox_clients.orders.get_orders(**params)
        seen.extend(o["AmazonOrderId"] for o in res.payload["Orders"])
        pages += 1
        if not res.next_token:
            break
        params = {"NextToken": res.next_token}
    assert pages == 3
    assert len(seen) == len(set(seen)) == 12
    unshipped = sandbox_clients.orders.get_orders(
        CreatedAfter=LONG_AGO, OrderStatuses=["Unshipped"], FulfillmentChannels=["MFN"]
    )
    assert len(unshipped.payload["Orders"]) == 7
    with pytest.raises(SellingApiBadRequestException):
        sandbox_clients.orders.get_orders(NextToken="bm90IGEgdG9rZW4.0000")


def test_get_order_and_its_items(sandbox_clients: Clients) -> None:
    order = sandbox_clients.orders.get_order("112-0000001-0000006").payload
    assert order["OrderStatus"] == "PartiallyShipped"
    assert (order["NumberOfItemsShipped"], order["NumberOfItemsUnshipped"]) == (1, 1)
    items = sandbox_clients.orders.get_order_items("112-0000001-0000006").payload
    assert items["AmazonOrderId"] == "112-0000001-0000006"
    shipped, waiting = items["OrderItems"]
    assert (shipped["OrderItemId"], shipped["QuantityOrdered"], shipped["QuantityShipped"]) == (
        "00000000000601",
        1,
        1,
    )
    assert waiting["SellerSKU"] == "PILLOW-STD-2"
    assert waiting["BuyerRequestedCancel"] == {"IsBuyerRequestedCancel": "false"}


def test_buyer_requested_cancel_is_a_string_on_the_item(sandbox_clients: Clients) -> None:
    item = sandbox_clients.orders.get_order_items("112-0000001-0000004").payload["OrderItems"][0]
    assert item["BuyerRequestedCancel"] == {
        "IsBuyerRequestedCancel": "true",
        "BuyerCancelReason": "Ordered by mistake",
    }


def test_pending_and_cancelled_orders_look_like_amazons(sandbox_clients: Clients) -> None:
    pending = sandbox_clients.orders.get_order("112-0000001-0000008").payload
    assert "OrderTotal" not in pending and "ShippingAddress" not in pending
    cancelled = sandbox_clients.orders.get_order("112-0000001-0000007").payload
    assert cancelled["OrderStatus"] == "Canceled"
    assert cancelled["NumberOfItemsUnshipped"] == 0
    items = sandbox_clients.orders.get_order_items("112-0000001-0000007").payload["OrderItems"]
    assert items[0]["QuantityOrdered"] == 0


def test_unknown_orders_are_404_and_bad_ids_400(sandbox_clients: Clients) -> None:
    with pytest.raises(SellingApiNotFoundException) as caught:
        sandbox_clients.orders.get_order("999-0000000-0000000")
    assert caught.value.amzn_code == "NotFound"
    with pytest.raises(SellingApiNotFoundException):
        sandbox_clients.orders.get_order_items("999-0000000-0000000")
    with pytest.raises(SellingApiBadRequestException):
        sandbox_clients.orders.get_order("not-an-order")
