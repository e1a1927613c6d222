"""Buyer messaging through the sandbox: available actions, the buyer's locale, sending messages."""

from __future__ import annotations

import pytest
import requests
from sp_api.base.exceptions import (
    SellingApiBadRequestException,
    SellingApiForbiddenException,
    SellingApiNotFoundException,
)

from bulk.amazon.clients import Clients
from bulk.sandbox import Sandbox
from bulk.sandbox.book import MESSAGE_KINDS
from bulk.targets import SANDBOX_CREDENTIALS


def test_actions_list_what_the_book_allows(sandbox_clients: Clients) -> None:
    res = sandbox_clients.messaging.get_messaging_actions_for_order("112-0000001-0000001")
    links = res.payload["_links"]
    assert [a["name"] for a in links["actions"]] == list(MESSAGE_KINDS)
    assert (
        links["self"]["href"]
        == "/messaging/v1/orders/112-0000001-0000001?marketplaceIds=ATVPDKIKX0DER"
    )
    assert (
        "/messaging/v1/orders/112-0000001-0000001/messages/unexpectedProblem?marketplaceIds=ATVPDKIKX0DER"
        in {a["href"] for a in links["actions"]}
    )
    assert res.rate_limit == "1.0"
    none = sandbox_clients.messaging.get_messaging_actions_for_order("112-0000001-0000012")
    assert none.payload["_links"]["actions"] == []


def test_attributes_give_the_buyers_locale(sandbox_clients: Clients) -> None:
    german = sandbox_clients.messaging.get_attributes("112-0000001-0000011")
    assert german.payload == {"buyer": {"locale": "de-DE"}}
    english = sandbox_clients.messaging.get_attributes("112-0000001-0000001")
    assert english.payload["buyer"]["locale"] == "en-US"


def test_unexpected_problem_is_delivered(sandbox_clients: Clients, sandbox: Sandbox) -> None:
    text = "Leider ist der Wasserkocher nicht mehr lieferbar. Wir haben die Bestellung storniert."
    sandbox_clients.messaging.create_unexpected_problem("112-0000001-0000011", body={"text": text})
    sent = requests.get(f"{sandbox.url}/_sandbox/messages", timeout=10).json()
    assert len(sent) == 1
    assert sent[0]["orderId"] == "112-0000001-0000011"
    assert sent[0]["kind"] == "unexpectedProblem"
    assert sent[0]["text"] == text
    assert sent[0]["time"] == "2026-03-02T15:00:00Z"


@pytest.mark.parametrize(
    ("text", "details"),
    [
        ("", "text must be 1 to 2000 characters long, not 0"),
        ("x" * 2001, "text must be 1 to 2000 characters long, not 2001"),
        ("Sorry! <b>Cancelled</b>", "must not contain HTML"),
        ("Write to help@shop.example.com", "must not contain email addresses"),
    ],
)
def test_bad_message_text_is_refused(
    sandbox_clients: Clients, sandbox: Sandbox, text: str, details: str
) -> None:
    with pytest.raises(SellingApiBadRequestException) as caught:
        sandbox_clients.messaging.create_unexpected_problem(
            "112-0000001-0000001", body={"text": text}
        )
    assert caught.value.amzn_code == "InvalidInput"
    assert details in caught.value.error[0]["details"]
    assert requests.get(f"{sandbox.url}/_sandbox/messages", timeout=10).json() == []


def test_the_longest_message_is_accepted(sandbox_clients: Clients, sandbox: Sandbox) -> None:
    sandbox_clients.messaging.create_unexpected_problem(
        "112-0000001-0000001", body={"text": "x" * 2000}
    )
    stored = requests.get(f"{sandbox.url}/_sandbox/messages", timeout=10).json()
    assert [(m["orderId"], m["kind"], m["text"]) for m in stored] == [
        ("112-0000001-0000001", "unexpectedProblem", "x" * 2000)
    ]


def test_a_message_the_order_does_not_allow_is_forbidden(sandbox_clients: Clients) -> None:
    with pytest.raises(SellingApiForbiddenException) as caught:
        sandbox_clients.messaging.create_unexpected_problem(
            "112-0000001-0000012", body={"text": "Sorry"}
        )
    assert "not available for order 112-0000001-0000012" in caught.value.error[0]["details"]


def test_unknown_orders_and_marketplaces(sandbox_clients: Clients, sandbox: Sandbox) -> None:
    with pytest.raises(SellingApiNotFoundException):
        sandbox_clients.messaging.get_messaging_actions_for_order("999-0000000-0000000")
    with pytest.raises(SellingApiNotFoundException):
        sandbox_clients.messaging.create_unexpected_problem(
            "999-0000000-0000000", body={"text": "Hi"}
        )
    with pytest.raises(SellingApiBadRequestException):
        sandbox_clients.messaging.get_attributes(
            "112-0000001-0000001", marketplaceIds=["A1PA6795UKMFR9"]
        )
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
        f"{sandbox.url}/messaging/v1/orders/112-0000001-0000001",
        headers={"x-amz-access-token": token},
        timeout=10,
    )
    assert res.status_code == 400
    assert res.json()["errors"][0]["message"] == "marketplaceIds is required."
