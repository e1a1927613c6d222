"""Messaging API v1 in the sandbox: actions per order, buyer attributes, and sending messages."""

from __future__ import annotations

# Shapes follow Amazon's Messaging model (HAL: `_links`, `_embedded`; docs/amazon.md, "Messaging rules"). A message
# kind the book's order does not allow ("messaging": [...]) is refused with 403.
import re
from typing import Any

from bulk.models import ORDER_ID_RE
from bulk.sandbox import clock
from bulk.sandbox.book import BookOrder
from bulk.sandbox.market import SandboxMarket
from bulk.sandbox.state import Message
from bulk.sandbox.wire import (
    HAL_JSON,
    ApiError,
    Reply,
    Request,
    invalid_input,
    json_reply,
    not_found,
)

# Each message kind's operationId (messaging.json), and the longest `text` it takes (maxLength);
# kinds without text carry attachments.
OPERATIONS: dict[str, str] = {
    "confirmCustomizationDetails": "confirmCustomizationDetails",
    "confirmDeliveryDetails": "createConfirmDeliveryDetails",
    "legalDisclosure": "createLegalDisclosure",
    "confirmOrderDetails": "createConfirmOrderDetails",
    "confirmServiceDetails": "createConfirmServiceDetails",
    "warranty": "CreateWarranty",
    "digitalAccessKey": "createDigitalAccessKey",
    "unexpectedProblem": "createUnexpectedProblem",
    "invoice": "sendInvoice",
}
TEXT_LIMITS: dict[str, int] = {
    "confirmCustomizationDetails": 800,
    "confirmDeliveryDetails": 2000,
    "confirmOrderDetails": 2000,
    "confirmServiceDetails": 2000,
    "digitalAccessKey": 400,
    "unexpectedProblem": 2000,
}

# "Do not include HTML or email addresses" (messaging.json, every `text` property).
_HTML = re.compile(r"<\s*/?\s*[a-zA-Z][^>]*>")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")


def _order(market: SandboxMarket, request: Request) -> BookOrder:
    order_id = request.params["amazonOrderId"]
    marketplaces = request.values("marketplaceIds")
    if not marketplaces:
        raise invalid_input("marketplaceIds is required.")
    if len(marketplaces) > 1:
        raise invalid_input("marketplaceIds can hold only one marketplace.")
    if not market.sells_in(marketplaces[0]):
        raise invalid_input(f"Invalid marketplaceId {marketplaces[0]}.")
    if not ORDER_ID_RE.match(order_id):
        raise invalid_input(f"Invalid amazonOrderId: {order_id}.")
    order = market.book.order(order_id)
    if order is None:
        raise not_found(f"Order {order_id} was not found.")
    if order.marketplace_id != marketplaces[0]:
        # Messages go through the marketplace the order was placed in.
        raise invalid_input(f"Invalid marketplaceId {marketplaces[0]} for order {order_id}.")
    return order


def get_actions(market: SandboxMarket, request: Request) -> Reply:
    """GET /messaging/v1/orders/{amazonOrderId}: the kinds the book allows for this order."""
    order = _order(market, request)
    query = f"?marketplaceIds={order.marketplace_id}"
    base = f"/messaging/v1/orders/{order.id}"
    actions = [{"href": f"{base}/messages/{kind}{query}", "name": kind} for kind in order.messaging]
    embedded = [
        {
            "_links": {
                "self": {"href": f"{base}/messages/{kind}{query}", "name": kind},
                "schema": {"href": f"{base}/messages/{kind}/schema", "name": kind},
            }
        }
        for kind in order.messaging
    ]
    data = {
        "_links": {"self": {"href": f"{base}{query}"}, "actions": actions},
        "_embedded": {"actions": embedded},
    }
    return json_reply(data, content_type=HAL_JSON)


def get_attributes(market: SandboxMarket, request: Request) -> Reply:
    """GET /messaging/v1/orders/{amazonOrderId}/attributes: the buyer's locale, as `en-US`."""
    order = _order(market, request)
    # messaging.json gives the locale as a language tag ("en-US"), the book as en_US.
    return json_reply({"buyer": {"locale": order.locale.replace("_", "-")}}, content_type=HAL_JSON)


def _check_text(kind: str, body: dict[str, Any]) -> str:
    limit = TEXT_LIMITS.get(kind)
    text = body.get("text")
    if limit is None:
        attachments = body.get("attachments")
        if text is not None or (attachments is not None and not isinstance(attachments, list)):
            raise invalid_input(f"A {kind} message takes attachments, not text.")
        return ""
    if not isinstance(text, str) or not 1 <= len(text) <= limit:
        length = len(text) if isinstance(text, str) else 0
        raise invalid_input(
            "Invalid Input", f"text must be 1 to {limit} characters long, not {length}."
        )
    if _HTML.search(text):
        raise invalid_input("Invalid Input", "text must not contain HTML.")
    if _EMAIL.search(text):
        raise invalid_input("Invalid Input", "text must not contain email addresses.")
    return text


def create_message(market: SandboxMarket, request: Request) -> Reply:
    """POST /messaging/v1/orders/{amazonOrderId}/messages/{kind} → 201 {}."""
    kind = request.params["kind"]
    order = _order(market, request)
    if kind not in order.messaging:
        raise ApiError(
            403,
            "Unauthorized",
            "Access to requested resource is denied.",
            f"The {kind} message is not available for order {order.id}.",
        )
    body = request.json_body()
    text = _check_text(kind, body)
    market.state.messages.append(Message(order.id, kind, text, clock.iso(clock.now()), body))
    return json_reply({}, 201, content_type=HAL_JSON)
