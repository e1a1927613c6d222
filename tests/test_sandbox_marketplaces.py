"""Orders placed in several marketplaces of one region: the book, both Orders APIs, feeds,
reports and messaging each honour the order's own marketplace."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from conftest import WITH_RESTRICTED, orders_v2026_client, restricted_document
from sp_api.api import OrdersV20260101
from sp_api.base.exceptions import SellingApiBadRequestException

from bulk.amazon.clients import Clients, connect
from bulk.errors import ConfigError
from bulk.sandbox import Sandbox
from bulk.sandbox.book import parse_book
from bulk.targets import SANDBOX_CREDENTIALS

DATA = Path(__file__).parent / "data"
DE = "A1PA6795UKMFR9"
FR = "A13V1IB3VIYZZH"
IT = "APJ6JRA9NG5V4"
UK = "A1F83G8C2ARO7P"
ES = "A1RKKUPIHCS9HS"
US = "ATVPDKIKX0DER"
LONG_AGO = "2025-01-01T00:00:00Z"
FEED_CONTENT_TYPE = "text/xml; charset=UTF-8"
DE_ORDER, FR_ORDER, IT_ORDER = "302-0000001-0000001", "402-0000001-0000002", "403-0000001-0000003"
AckFeed = Callable[..., bytes]


@pytest.fixture
def sandbox_orders() -> Path:
    return DATA / "marketplace_eu.json"


@pytest.fixture
def eu(sandbox: Sandbox) -> Iterator[Clients]:
    """The library's clients for a seller whose account is in Germany."""
    clients = connect(sandbox.url, sandbox.url, SANDBOX_CREDENTIALS, DE)
    yield clients
    clients.close()


@pytest.fixture
def eu_v2026(sandbox: Sandbox) -> Iterator[OrdersV20260101]:
    client = orders_v2026_client(sandbox.url, DE)
    yield client
    client.close()


def _book(**order_changes: Any) -> dict[str, Any]:
    book: dict[str, Any] = json.loads((DATA / "marketplace_eu.json").read_text(encoding="utf-8"))
    book["orders"][0].update(order_changes)
    return book


def _parse(book: dict[str, Any]) -> Any:
    return parse_book(book, Path("book.json"), "0" * 64, datetime(2026, 3, 2, 15, tzinfo=UTC))


# The book ---------------------------------------------------------------------------------


def test_each_order_is_in_its_marketplace_or_the_books() -> None:
    book = _parse(_book())
    assert {order.id: order.marketplace_id for order in book.orders} == {
        DE_ORDER: DE,
        FR_ORDER: FR,
        IT_ORDER: IT,
        "026-0000001-0000004": UK,
        "302-0000001-0000005": DE,
        "404-0000001-0000006": ES,
    }


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "XX",
            "orders[0] (302-0000001-0000001): 'marketplace_id' 'XX' is not an Amazon marketplace "
            "id (e.g. ATVPDKIKX0DER for US, A1PA6795UKMFR9 for DE)",
        ),
        ("FR", "'marketplace_id' 'FR' is not an Amazon marketplace id (FR is A13V1IB3VIYZZH)"),
        (
            US,
            "'marketplace_id' 'ATVPDKIKX0DER' is US, in region NA; the book's marketplace DE is "
            "in EU, and one seller account serves one region",
        ),
        (7, "'marketplace_id' must be a string, not 7"),
        (["FR"], "'marketplace_id' must be a string, not ['FR']"),
    ],
)
def test_the_book_refuses_unknown_and_foreign_marketplaces(value: Any, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _parse(_book(marketplace_id=value))
    assert message in str(caught.value)


def test_the_fast_reading_of_large_books_keeps_each_orders_marketplace() -> None:
    from bulk.sandbox.book import _order as read_order
    from bulk.sandbox.book import _QuickOrders

    now = datetime(2026, 3, 2, 15, tzinfo=UTC)
    quick = _QuickOrders(now, DE)
    for entry in _book()["orders"]:
        fast = quick.order(entry)
        assert fast is not None
        assert fast == read_order(entry, "book", now, DE)
    # Another region's or an unknown id is left to the full reader, which names the field.
    assert quick.order(_book(marketplace_id=US)["orders"][0]) is None
    assert quick.order(_book(marketplace_id="XX")["orders"][0]) is None


# Orders v0 and v2026 ------------------------------------------------------------------------


def test_orders_v0_show_and_filter_each_orders_marketplace(eu: Clients) -> None:
    fr = eu.orders.get_order(FR_ORDER).payload
    assert (fr["MarketplaceId"], fr["SalesChannel"]) == (FR, "Amazon.fr")
    assert fr["OrderTotal"] == {"CurrencyCode": "EUR", "Amount": "21.50"}
    uk = eu.orders.get_order("026-0000001-0000004").payload
    assert (uk["MarketplaceId"], uk["OrderTotal"]["CurrencyCode"]) == (UK, "GBP")
    de_only = eu.orders.get_orders(CreatedAfter=LONG_AGO).payload["Orders"]
    assert {o["AmazonOrderId"] for o in de_only} == {DE_ORDER, "302-0000001-0000005"}
    fr_it = eu.orders.get_orders(CreatedAfter=LONG_AGO, MarketplaceIds=[FR, IT]).payload["Orders"]
    assert [o["AmazonOrderId"] for o in fr_it] == [IT_ORDER, FR_ORDER]


def test_orders_v2026_show_and_filter_each_orders_marketplace(
    eu_v2026: OrdersV20260101,
) -> None:
    order = eu_v2026.get_order(IT_ORDER, includedData=["PROCEEDS"]).payload["order"]
    assert order["salesChannel"] == {
        "channelName": "AMAZON",
        "marketplaceId": IT,
        "marketplaceName": "Amazon.it",
    }
    assert order["proceeds"]["grandTotal"] == {"amount": "34.90", "currencyCode": "EUR"}
    found = eu_v2026.search_orders(createdAfter=LONG_AGO, marketplaceIds=[FR, IT, ES])
    assert [o["orderId"] for o in found.payload["orders"]] == [
        IT_ORDER,
        FR_ORDER,
        "404-0000001-0000006",
    ]
    uk = eu_v2026.search_orders(createdAfter=LONG_AGO, marketplaceIds=[UK])
    assert [o["orderId"] for o in uk.payload["orders"]] == ["026-0000001-0000004"]


def test_a_search_without_marketplace_ids_covers_the_whole_account(
    sandbox: Sandbox, eu: Clients
) -> None:
    # The library always adds its own marketplace, so this asks over plain HTTP.
    token = requests.post(
        f"{sandbox.url}/auth/o2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": SANDBOX_CREDENTIALS["refresh_token"],
            "client_id": SANDBOX_CREDENTIALS["lwa_app_id"],
            "client_secret": SANDBOX_CREDENTIALS["lwa_client_secret"],
        },
        timeout=10,
    ).json()["access_token"]
    res = requests.get(
        f"{sandbox.url}/orders/2026-01-01/orders",
        params={"createdAfter": LONG_AGO},
        headers={"x-amz-access-token": token},
        timeout=10,
    )
    assert res.status_code == 200
    assert len(res.json()["orders"]) == 6


# Feeds ---------------------------------------------------------------------------------------


def _run_feed(clients: Clients, document: bytes, marketplace_id: str) -> tuple[dict[str, Any], str]:
    doc = clients.feeds.create_feed_document(io.BytesIO(document), FEED_CONTENT_TYPE)
    feed_id = clients.feeds.create_feed(
        "POST_ORDER_ACKNOWLEDGEMENT_DATA",
        doc.payload["feedDocumentId"],
        marketplaceIds=[marketplace_id],
    ).payload["feedId"]
    for _ in range(5):
        feed: dict[str, Any] = clients.feeds.get_feed(feed_id).payload
        if feed["processingStatus"] in ("DONE", "FATAL"):
            break
    return feed, str(clients.feeds.get_feed_result_document(feed["resultFeedDocumentId"]))


def _status(client: OrdersV20260101, order_id: str) -> str:
    order = client.get_order(order_id, includedData=["FULFILLMENT"]).payload["order"]
    return str(order["fulfillment"]["fulfillmentStatus"])


def test_a_feed_cancels_only_orders_of_its_marketplace(
    sandbox: Sandbox, eu: Clients, eu_v2026: OrdersV20260101, ack_feed: AckFeed
) -> None:
    both = ack_feed(
        [
            (DE_ORDER, "Failure", [("30200000000101", "NoInventory")]),
            (FR_ORDER, "Failure", [("40200000000201", "NoInventory")]),
        ]
    )
    feed, report = _run_feed(eu, both, DE)
    assert feed["processingStatus"] == "DONE"
    assert "<MessagesWithError>1</MessagesWithError>" in report
    assert "<ResultMessageCode>18028</ResultMessageCode>" in report
    assert f"<AmazonOrderID>{FR_ORDER}</AmazonOrderID>" in report
    assert f"<AmazonOrderID>{DE_ORDER}</AmazonOrderID>" not in report
    assert _status(eu_v2026, FR_ORDER) == "UNSHIPPED"
    assert eu.orders.get_order(FR_ORDER).payload["OrderStatus"] == "Unshipped"
    de = eu_v2026.get_order(DE_ORDER, includedData=["CANCELLATION"]).payload["order"]
    assert de["orderItems"][0]["cancellation"]["cancellationExecution"]["cancelledBy"] == (
        "MERCHANT"
    )
    outcomes = requests.get(f"{sandbox.url}/_sandbox/feeds", timeout=10).json()[0]["messages"]
    assert outcomes[1]["outcome"] == "error"
    assert outcomes[1]["note"] == f"order {FR_ORDER} is in marketplace {FR}; this feed was for {DE}"
    feed, report = _run_feed(eu, both, FR)
    assert f"<AmazonOrderID>{DE_ORDER}</AmazonOrderID>" in report  # not in FR either
    assert _status(eu_v2026, FR_ORDER) == "CANCELLED"
    assert eu.orders.get_order(FR_ORDER).payload["OrderStatus"] == "Canceled"


@pytest.mark.parametrize("sandbox_roles", [WITH_RESTRICTED])
def test_feeds_and_reports_refuse_marketplaces_of_another_region(eu: Clients) -> None:
    doc = eu.feeds.create_feed_document(io.BytesIO(b"<x/>"), FEED_CONTENT_TYPE)
    with pytest.raises(SellingApiBadRequestException) as caught:
        eu.feeds.create_feed(
            "POST_ORDER_ACKNOWLEDGEMENT_DATA", doc.payload["feedDocumentId"], marketplaceIds=[US]
        )
    assert "the seller's marketplaces are in region EU" in caught.value.message
    with pytest.raises(SellingApiBadRequestException) as caught:
        eu.reports.create_report(
            reportType="GET_FLAT_FILE_ACTIONABLE_ORDER_DATA_SHIPPING", marketplaceIds=[US]
        )
    assert "the seller's marketplaces are in region EU" in caught.value.message


def _unshipped(clients: Clients, marketplace_ids: list[str]) -> set[str]:
    report_id = clients.reports.create_report(
        reportType="GET_FLAT_FILE_ACTIONABLE_ORDER_DATA_SHIPPING", marketplaceIds=marketplace_ids
    ).payload["reportId"]
    clients.reports.get_report(report_id)
    doc_id = clients.reports.get_report(report_id).payload["reportDocumentId"]
    text = restricted_document(clients, doc_id)
    header, *lines = text.splitlines()
    rows = [dict(zip(header.split("\t"), line.split("\t"), strict=True)) for line in lines]
    return {f"{row['order-id']} {row['ship-country']}" for row in rows}


@pytest.mark.parametrize("sandbox_roles", [WITH_RESTRICTED])
def test_the_unshipped_orders_report_holds_the_asked_marketplaces(eu: Clients) -> None:
    assert _unshipped(eu, [DE]) == {f"{DE_ORDER} DE"}
    assert _unshipped(eu, [FR, IT]) == {f"{FR_ORDER} FR", f"{IT_ORDER} IT"}


# Messaging -----------------------------------------------------------------------------------


def test_messages_go_through_the_orders_marketplace_in_the_buyers_language(
    sandbox: Sandbox, eu: Clients
) -> None:
    attributes = eu.messaging.get_attributes(FR_ORDER, marketplaceIds=[FR]).payload
    assert attributes["buyer"]["locale"] == "fr-FR"
    actions = eu.messaging.get_messaging_actions_for_order(IT_ORDER, marketplaceIds=[IT]).payload
    assert all(f"marketplaceIds={IT}" in a["href"] for a in actions["_links"]["actions"])
    with pytest.raises(SellingApiBadRequestException) as caught:
        eu.messaging.get_attributes(FR_ORDER)  # the client's own marketplace: DE
    assert caught.value.message == f"Invalid marketplaceId {DE} for order {FR_ORDER}."
    # The library sends a message to its own marketplace: one client per marketplace.
    france = connect(sandbox.url, sandbox.url, SANDBOX_CREDENTIALS, FR)
    france.messaging.create_unexpected_problem(FR_ORDER, body={"text": "Nous sommes désolés."})
    france.close()
    with pytest.raises(SellingApiBadRequestException):
        eu.messaging.create_unexpected_problem(FR_ORDER, body={"text": "Entschuldigung."})
    sent = requests.get(f"{sandbox.url}/_sandbox/messages", timeout=10).json()
    assert [(m["orderId"], m["text"]) for m in sent] == [(FR_ORDER, "Nous sommes désolés.")]
