"""Orders API v2026-01-01 in the sandbox: getOrder and searchOrders, shaped as its model file."""

from __future__ import annotations

# Amazon's model is orders_2026-01-01.json (amzn/selling-partner-api-models,
# models/orders-api-model). The order book speaks v0 (`status` is an OrderStatus); this module
# maps it, and reads the same cancellations as Orders v0 and the feeds, so both APIs always tell
# the same story about an order.
#
# What the model leaves to `includedData`: with none, an order has its ids, times, sales channel
# and items (ids, quantities, product); BUYER, RECIPIENT, PROCEEDS, CANCELLATION and FULFILLMENT
# add the parts of the same names. EXPENSE, PROMOTION, PACKAGES, TAX, PAYMENT and
# FULFILLMENT_ORDERS are accepted and add nothing: the book holds no such data.
import heapq
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from bulk.models import ORDER_ID_RE
from bulk.sandbox import clock
from bulk.sandbox.book import BookItem, BookOrder
from bulk.sandbox.limits import GET_ORDER_V2026, SEARCH_ORDERS
from bulk.sandbox.market import SandboxMarket
from bulk.sandbox.orders import (
    buyer_alias,
    delivery_window,
    last_update,
    market_of,
    ship_to,
    ship_window,
    updated_at,
)
from bulk.sandbox.state import Cancellation
from bulk.sandbox.wire import Reply, Request, invalid_input, json_reply, not_found

GET_ORDER = GET_ORDER_V2026  # the operation names routes, limits and /_sandbox/calls use
__all__ = ["GET_ORDER", "SEARCH_ORDERS", "get_order", "search_orders"]

# FulfillmentStatus for each v0 OrderStatus. InvoiceUnconfirmed orders have shipped (ordersV0.json:
# "All items in the order have been shipped"); v2026 has no separate value for them.
FULFILLMENT_STATUS: dict[str, str] = {
    "PendingAvailability": "PENDING_AVAILABILITY",
    "Pending": "PENDING",
    "Unshipped": "UNSHIPPED",
    "PartiallyShipped": "PARTIALLY_SHIPPED",
    "Shipped": "SHIPPED",
    "InvoiceUnconfirmed": "SHIPPED",
    "Canceled": "CANCELLED",
    "Unfulfillable": "UNFULFILLABLE",
}
FULFILLMENT_STATUSES: tuple[str, ...] = (
    "PENDING_AVAILABILITY",
    "PENDING",
    "UNSHIPPED",
    "PARTIALLY_SHIPPED",
    "SHIPPED",
    "CANCELLED",
    "UNFULFILLABLE",
)
FULFILLED_BY: dict[str, str] = {"MFN": "MERCHANT", "AFN": "AMAZON"}
INCLUDED_DATA: tuple[str, ...] = (
    "BUYER",
    "RECIPIENT",
    "PROCEEDS",
    "EXPENSE",
    "PROMOTION",
    "CANCELLATION",
    "FULFILLMENT",
    "PACKAGES",
    "TAX",
    "PAYMENT",
    "FULFILLMENT_ORDERS",
)

MAX_MARKETPLACES = 50  # searchOrders marketplaceIds maxItems
MAX_PAGE = 100  # maxResultsPerPage: 1 to 100, default 100
TOKEN_LIFETIME = timedelta(hours=24)  # "The token will expire after 24 hours."
# createdBefore / lastUpdatedBefore must be at least two minutes before the request.
_LAG = timedelta(minutes=2)
# Filters a paginationToken fixes: every later page must repeat them unchanged
# (maxResultsPerPage and includedData may change between pages).
_FIXED = ("by_update", "after", "before", "statuses", "marketplaces", "fulfilled_by")


# Orders ------------------------------------------------------------------------------


def fulfillment_status(order: BookOrder, cancelled: Collection[str]) -> str:
    """The order's FulfillmentStatus once the sandbox cancelled the lines in `cancelled`."""
    return FULFILLMENT_STATUS[order.status_with(cancelled)]


def _money(currency: str, amount: Decimal) -> dict[str, str]:
    return {"amount": str(amount.quantize(Decimal("0.01"))), "currencyCode": currency}


def _cancellation(
    order: BookOrder, item: BookItem, done: Cancellation | None
) -> dict[str, Any] | None:
    data: dict[str, Any] = {}
    if item.buyer_requested_cancel:
        request = {"requester": "BUYER"}
        if item.buyer_cancel_reason:
            request["cancelReason"] = item.buyer_cancel_reason
        data["cancellationRequest"] = request
    if done is not None:
        # The sandbox cancels only through the seller's acknowledgement feed.
        data["cancellationExecution"] = {"cancelledBy": "MERCHANT", "cancelReason": done.reason}
    elif order.status == "Canceled":
        # Cancelled before the sandbox saw it: by the buyer when they asked for it, otherwise by
        # the seller (the book does not say more).
        data["cancellationExecution"] = {
            "cancelledBy": "BUYER" if item.buyer_requested_cancel else "MERCHANT"
        }
    return data or None


def item_json(
    order: BookOrder,
    item: BookItem,
    cancelled: Mapping[str, Cancellation],
    included: Collection[str],
) -> dict[str, Any]:
    """An OrderItem object (orders_2026-01-01.json, definitions/OrderItem)."""
    currency = market_of(order.marketplace_id)[0]
    # A cancelled line stays on the order with quantityOrdered 0, as Orders v0 shows it.
    gone = item.id in cancelled or order.status == "Canceled"
    product: dict[str, Any] = {
        "asin": item.asin,
        "title": item.title,
        "sellerSku": item.sku,
        "condition": {"conditionType": "NEW", "conditionSubtype": "NEW"},
    }
    # Amazon leaves prices out while an order is Pending (as in Orders v0).
    priced = order.status != "Pending"
    if priced:
        product["price"] = {"unitPrice": _money(currency, item.price)}
    data: dict[str, Any] = {
        "orderItemId": item.id,
        "quantityOrdered": 0 if gone else item.qty,
        "product": product,
    }
    if "PROCEEDS" in included and priced and not gone:
        total = _money(currency, item.price * item.qty)
        data["proceeds"] = {
            "proceedsTotal": total,
            "breakdowns": [{"type": "ITEM", "subtotal": total}],
        }
    if "CANCELLATION" in included:
        cancellation = _cancellation(order, item, cancelled.get(item.id))
        if cancellation is not None:
            data["cancellation"] = cancellation
    if "FULFILLMENT" in included:
        data["fulfillment"] = {
            "quantityFulfilled": item.shipped,
            "quantityUnfulfilled": 0 if gone else item.qty - item.shipped,
        }
    return data


def _window(start: datetime, end: datetime) -> dict[str, str]:
    return {"earliestDateTime": clock.iso(start), "latestDateTime": clock.iso(end)}


def order_json(
    market: SandboxMarket, order: BookOrder, now: datetime, included: Collection[str]
) -> dict[str, Any]:
    """An Order object (orders_2026-01-01.json, definitions/Order); items are always there."""
    cancelled = market.cancelled(order.id)
    status = fulfillment_status(order, cancelled)
    currency, sales_channel, _ = market_of(order.marketplace_id)
    data: dict[str, Any] = {
        "orderId": order.id,
        "orderAliases": [{"aliasId": order.id, "aliasType": "SELLER_ORDER_ID"}],
        "createdTime": clock.iso(order.purchased),
        "lastUpdatedTime": clock.iso(last_update(market, order, now)),
        "salesChannel": {
            "channelName": "AMAZON",
            "marketplaceId": order.marketplace_id,
            "marketplaceName": sales_channel,
        },
    }
    pending = status in ("PENDING", "PENDING_AVAILABILITY")
    if "BUYER" in included and not pending:
        data["buyer"] = {"buyerName": "Sandbox Buyer"}
        if order.channel == "MFN":
            # An anonymised relay address, the same one the unshipped-orders report gives.
            data["buyer"]["buyerEmail"] = f"{buyer_alias(order)}@marketplace.amazon.com"
    if "RECIPIENT" in included and not pending:
        city, state, postal, country = ship_to(order, order.marketplace_id)
        data["recipient"] = {
            "deliveryAddress": {
                "name": "Sandbox Buyer",
                "addressLine1": "1 Sandbox Way",
                "city": city,
                "stateOrRegion": state,
                "postalCode": postal,
                "countryCode": country,
                "addressType": "RESIDENTIAL",
            }
        }
    if "PROCEEDS" in included and not pending and status != "CANCELLED":
        live = [item for item in order.items if item.id not in cancelled]
        total = sum((item.price * item.qty for item in live), Decimal(0))
        data["proceeds"] = {"grandTotal": _money(currency, total)}
    if "FULFILLMENT" in included:
        fulfillment: dict[str, Any] = {
            "fulfillmentStatus": status,
            "fulfilledBy": FULFILLED_BY[order.channel],
            "fulfillmentServiceLevel": "STANDARD",
            "shipByWindow": _window(*ship_window(order)),
        }
        if order.channel == "MFN":
            fulfillment["deliverByWindow"] = _window(*delivery_window(order))
        data["fulfillment"] = fulfillment
    data["orderItems"] = [item_json(order, item, cancelled, included) for item in order.items]
    return data


def _included(request: Request) -> frozenset[str]:
    values = request.values("includedData")
    for value in values:
        if value not in INCLUDED_DATA:
            raise invalid_input(
                f"Invalid includedData value: {value}.",
                f"includedData takes {', '.join(INCLUDED_DATA)}.",
            )
    return frozenset(values)


def get_order(market: SandboxMarket, request: Request) -> Reply:
    """GET /orders/2026-01-01/orders/{orderId}."""
    order_id = request.params["orderId"]
    included = _included(request)
    if not ORDER_ID_RE.match(order_id):
        raise invalid_input(f"Invalid orderId: {order_id}.")
    order = market.book.order(order_id)
    if order is None:
        raise not_found(f"Order {order_id} was not found.")
    return json_reply({"order": order_json(market, order, clock.now(), included)})


# Search ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Search:
    """searchOrders' filters, as a paginationToken carries them."""

    by_update: bool
    after: str
    before: str  # as given; "" when left out
    statuses: tuple[str, ...]
    marketplaces: tuple[str, ...]
    fulfilled_by: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        # Lists, as the token's JSON gives them back.
        return {
            name: list(value) if isinstance(value, tuple) else value
            for name in _FIXED
            if (value := getattr(self, name)) is not None
        }


def _time(request: Request, name: str) -> datetime | None:
    raw = request.value(name)
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise invalid_input(f"{name} is not a valid ISO 8601 date time: {raw!r}.") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _choices(request: Request, name: str, allowed: Collection[str]) -> tuple[str, ...]:
    values = request.values(name)
    for value in values:
        if value not in allowed:
            raise invalid_input(
                f"Invalid {name} value: {value}.", f"{name} takes {', '.join(allowed)}."
            )
    return tuple(dict.fromkeys(values))


def _marketplaces(market: SandboxMarket, request: Request) -> tuple[str, ...]:
    given = request.values("marketplaceIds")
    if len(given) > MAX_MARKETPLACES:
        raise invalid_input(
            f"marketplaceIds can hold at most {MAX_MARKETPLACES} marketplace ids, not {len(given)}."
        )
    ids = tuple(dict.fromkeys(given))
    for marketplace_id in ids:
        if not market.sells_in(marketplace_id):
            raise invalid_input(
                f"Invalid marketplaceId {marketplace_id}.",
                f"This seller's marketplaces are in region {market.region}.",
            )
    return ids


def _search(market: SandboxMarket, request: Request, now: datetime) -> _Search:
    created_after = _time(request, "createdAfter")
    created_before = _time(request, "createdBefore")
    updated_after = _time(request, "lastUpdatedAfter")
    updated_before = _time(request, "lastUpdatedBefore")
    if created_after is None and updated_after is None:
        raise invalid_input("Exactly one of createdAfter and lastUpdatedAfter must be provided.")
    if created_after is not None and updated_after is not None:
        raise invalid_input("createdAfter and lastUpdatedAfter cannot both be provided.")
    if created_after is not None and updated_before is not None:
        raise invalid_input("lastUpdatedBefore cannot be provided with createdAfter.")
    if updated_after is not None and created_before is not None:
        raise invalid_input("createdBefore cannot be provided with lastUpdatedAfter.")
    by_update = updated_after is not None
    after = updated_after if by_update else created_after
    assert after is not None  # one of the two is set, checked above
    before_name = "lastUpdatedBefore" if by_update else "createdBefore"
    before = updated_before if by_update else created_before
    if before is not None:
        if before > now - _LAG:
            raise invalid_input(
                f"{before_name} must be at least two minutes before the time of the request."
            )
        if before < after:
            after_name = "lastUpdatedAfter" if by_update else "createdAfter"
            raise invalid_input(f"{before_name} must be equal to or after {after_name}.")
    return _Search(
        by_update=by_update,
        after=clock.iso(after),
        before=clock.iso(before) if before is not None else "",
        statuses=_choices(request, "fulfillmentStatuses", FULFILLMENT_STATUSES),
        marketplaces=_marketplaces(market, request),
        fulfilled_by=_choices(request, "fulfilledBy", ("MERCHANT", "AMAZON")),
    )


def _page_size(request: Request) -> int:
    raw = request.value("maxResultsPerPage")
    if raw is None:
        return MAX_PAGE
    if not raw.strip().isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        raise invalid_input(f"maxResultsPerPage must be between 1 and {MAX_PAGE}, not {raw!r}.")
    return int(raw)


def _resume(
    market: SandboxMarket, token: str, search: _Search, now: datetime
) -> tuple[datetime, tuple[datetime, str]]:
    """From a paginationToken: the end of the search's window, and the (moment, order id) the
    last page ended on."""
    data = market.read_token(token, "paginationToken")
    issued = clock.parse_iso(str(data.get("issued", "")))
    end = clock.parse_iso(str(data.get("end", "")))
    key = data.get("key")
    last = clock.parse_iso(str(key[0])) if isinstance(key, list) and len(key) == 2 else None
    if issued is None or end is None or last is None or not isinstance(key, list):
        raise invalid_input("Invalid paginationToken.")
    if now - issued > TOKEN_LIFETIME:
        raise invalid_input(
            "The paginationToken has expired.",
            "A paginationToken is valid for 24 hours; search again without it.",
        )
    if data.get("search") != search.to_json():
        raise invalid_input(
            "The request's parameters do not match the paginationToken.",
            "Repeat the parameters of the search that gave the token; only maxResultsPerPage "
            "and includedData may change.",
        )
    return end, (last, str(key[1]))


def search_orders(market: SandboxMarket, request: Request) -> Reply:
    """GET /orders/2026-01-01/orders: oldest first (by creation or last update), keyset pages."""
    now = clock.now()
    included = _included(request)
    size = _page_size(request)
    search = _search(market, request, now)
    token = request.value("paginationToken")
    start: tuple[datetime, str] | None = None
    if token:
        # Later pages keep the first page's window, so no order slips in between pages.
        before, start = _resume(market, token, search, now)
    else:
        before = (clock.parse_iso(search.before) if search.before else None) or now - _LAG
    after = clock.parse_iso(search.after)
    assert after is not None  # written by clock.iso
    channels = {channel for channel, party in FULFILLED_BY.items() if party in search.fulfilled_by}
    wanted_markets = set(search.marketplaces)
    statuses = set(search.statuses)
    # One pass over the book with cheap tests first; JSON is built for the page only.
    matches: list[tuple[datetime, str, BookOrder]] = []
    for order in market.book.orders:
        if wanted_markets and order.marketplace_id not in wanted_markets:
            continue
        if channels and order.channel not in channels:
            continue
        cancelled = market.cancelled(order.id)
        moment = updated_at(order, cancelled, now) if search.by_update else order.purchased
        if not after <= moment <= before:
            continue
        if statuses and fulfillment_status(order, cancelled) not in statuses:
            continue
        if start is not None and (moment, order.id) <= start:
            continue
        matches.append((moment, order.id, order))
    # Pages follow (moment, order id); the token holds where the last page ended.
    page = heapq.nsmallest(size + 1, matches, key=lambda match: (match[0], match[1]))
    data: dict[str, Any] = {
        "orders": [order_json(market, o, now, included) for _, _, o in page[:size]]
    }
    if len(page) > size:
        last = page[size - 1]
        data["pagination"] = {
            "nextToken": market.next_token(
                {
                    "search": search.to_json(),
                    "end": before.isoformat(),
                    "key": [last[0].isoformat(), last[1]],
                    "issued": clock.iso(now),
                }
            )
        }
    data["lastUpdatedBefore" if search.by_update else "createdBefore"] = clock.iso(before)
    return json_reply(data)
