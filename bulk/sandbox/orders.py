"""Orders API v0 in the sandbox: getOrders, getOrder, getOrderItems, shaped as ordersV0.json."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from bulk import marketplaces
from bulk.models import ORDER_ID_RE
from bulk.sandbox import clock
from bulk.sandbox.book import CHANNELS, ORDER_STATUSES, BookItem, BookOrder
from bulk.sandbox.market import SandboxMarket
from bulk.sandbox.state import Cancellation
from bulk.sandbox.wire import Reply, Request, invalid_input, json_reply, not_found

# Placeholder shipping addresses (no real person): city, state or region, postal code.
ADDRESSES: dict[str, tuple[str, str, str]] = {
    "US": ("SEATTLE", "WA", "98109"),
    "CA": ("TORONTO", "ON", "M5V 2T6"),
    "GB": ("LONDON", "London", "SW1A 1AA"),
    "DE": ("BERLIN", "Berlin", "10115"),
    "FR": ("PARIS", "Île-de-France", "75001"),
    "IT": ("MILANO", "MI", "20121"),
    "ES": ("MADRID", "Madrid", "28001"),
    "JP": ("TOKYO", "Tokyo", "100-0001"),
}

# Amazon refuses CreatedAfter/CreatedBefore later than two minutes before the request
# (ordersV0.json, getOrders CreatedAfter and CreatedBefore).
_LAG = timedelta(minutes=2)
MAX_ORDER_IDS = 50


def market_of(marketplace_id: str) -> tuple[str, str, str]:
    """Currency, sales channel and country of a marketplace (bulk.marketplaces), the US's for
    an id the table does not know."""
    m = marketplaces.by_id(marketplace_id) or marketplaces.BY_CODE["US"]
    return m.currency, m.sales_channel, m.country


def ship_to(order: BookOrder, marketplace_id: str) -> tuple[str, str, str, str]:
    """A placeholder address in the buyer's country: city, state or region, postal code, country."""
    region = order.locale.replace("-", "_").split("_")[-1]
    country = region if region in ADDRESSES else market_of(marketplace_id)[2]
    city, state, postal = ADDRESSES.get(country, ("", "", ""))
    return city, state, postal, country


def buyer_alias(order: BookOrder) -> str:
    """The local part of the buyer's anonymised relay email address, stable per order."""
    return hashlib.sha256(order.id.encode()).hexdigest()[:16]


def ship_window(order: BookOrder) -> tuple[datetime, datetime]:
    """The order's earliest and latest ship dates: from a day after purchase (never after the
    latest) to the book's `ship_by`."""
    latest = order.latest_ship
    return min(order.purchased + timedelta(days=1), latest), latest


def delivery_window(order: BookOrder) -> tuple[datetime, datetime]:
    """The earliest and latest delivery dates: one to five days after the latest ship date."""
    latest = order.latest_ship
    return latest + timedelta(days=1), latest + timedelta(days=5)


def _money(currency: str, amount: Decimal) -> dict[str, str]:
    return {"CurrencyCode": currency, "Amount": str(amount.quantize(Decimal("0.01")))}


def updated_at(order: BookOrder, cancelled: Mapping[str, Cancellation], now: datetime) -> datetime:
    """When the order last changed: shortly after purchase, or when the sandbox cancelled lines
    (`cancelled`, the order's cancellations)."""
    moment = max(order.purchased, min(order.purchased + timedelta(minutes=5), now))
    for cancellation in cancelled.values():
        moment = max(moment, clock.parse_iso(cancellation.time) or moment)
    return moment


def last_update(market: SandboxMarket, order: BookOrder, now: datetime) -> datetime:
    """When the order last changed (`updated_at` with what the sandbox cancelled)."""
    return updated_at(order, market.cancelled(order.id), now)


def order_json(market: SandboxMarket, order: BookOrder, now: datetime) -> dict[str, Any]:
    """An Order object (ordersV0.json, definitions/Order)."""
    cancelled = market.cancelled(order.id)
    status = order.status_with(cancelled)
    live = [item for item in order.items if item.id not in cancelled]
    currency, sales_channel, _ = market_of(order.marketplace_id)
    gone = status == "Canceled"
    earliest, latest = ship_window(order)
    data: dict[str, Any] = {
        "AmazonOrderId": order.id,
        "SellerOrderId": order.id,
        "PurchaseDate": clock.iso(order.purchased),
        "LastUpdateDate": clock.iso(last_update(market, order, now)),
        "OrderStatus": status,
        "FulfillmentChannel": order.channel,
        "SalesChannel": sales_channel,
        "ShipServiceLevel": "Std Dom",
        "NumberOfItemsShipped": 0 if gone else sum(item.shipped for item in live),
        "NumberOfItemsUnshipped": 0 if gone else sum(item.qty - item.shipped for item in live),
        "MarketplaceId": order.marketplace_id,
        "ShipmentServiceLevelCategory": "Standard",
        "OrderType": "StandardOrder",
        "EarliestShipDate": clock.iso(earliest),
        "LatestShipDate": clock.iso(latest),
        "IsBusinessOrder": False,
        "IsPrime": False,
        "IsPremiumOrder": False,
        "IsGlobalExpressEnabled": False,
        "IsReplacementOrder": False,
        "IsSoldByAB": False,
        "IsISPU": False,
        "IsAccessPointOrder": False,
        "HasRegulatedItems": False,
    }
    if order.channel == "MFN":
        first, last = delivery_window(order)
        data["EarliestDeliveryDate"] = clock.iso(first)
        data["LatestDeliveryDate"] = clock.iso(last)
    # Amazon leaves out the money and the address while an order is Pending, and the total
    # once it is Canceled.
    if status != "Pending":
        city, state, postal, ship_country = ship_to(order, order.marketplace_id)
        data["ShippingAddress"] = {
            "City": city,
            "StateOrRegion": state,
            "PostalCode": postal,
            "CountryCode": ship_country,
        }
        data["PaymentMethod"] = "Other"
        data["PaymentMethodDetails"] = ["Standard"]
        if not gone:
            total = sum((item.price * item.qty for item in live), Decimal(0))
            data["OrderTotal"] = _money(currency, total)
    return data


def item_json(
    market: SandboxMarket, order: BookOrder, item: BookItem, cancelled: Collection[str]
) -> dict[str, Any]:
    """An OrderItem object (ordersV0.json, definitions/OrderItem)."""
    currency = market_of(order.marketplace_id)[0]
    # A cancelled line stays on the order with QuantityOrdered 0, as Amazon reports it.
    gone = item.id in cancelled or order.status == "Canceled"
    data: dict[str, Any] = {
        "ASIN": item.asin,
        "SellerSKU": item.sku,
        "OrderItemId": item.id,
        "Title": item.title,
        "QuantityOrdered": 0 if gone else item.qty,
        "QuantityShipped": item.shipped,
        "ProductInfo": {"NumberOfItems": "1"},
        "IsGift": "false",
        "ConditionId": "New",
        "ConditionSubtypeId": "New",
        "IsTransparency": False,
        "SerialNumberRequired": False,
        "BuyerRequestedCancel": {
            "IsBuyerRequestedCancel": "true" if item.buyer_requested_cancel else "false",
        },
    }
    if item.buyer_requested_cancel:
        data["BuyerRequestedCancel"]["BuyerCancelReason"] = item.buyer_cancel_reason
    if order.status != "Pending" and not gone:
        data["ItemPrice"] = _money(currency, item.price * item.qty)
        data["ItemTax"] = _money(currency, Decimal(0))
        data["PromotionDiscount"] = _money(currency, Decimal(0))
    return data


def _time(request: Request, name: str) -> datetime | None:
    raw = request.value(name)
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise invalid_input(f"{name} is not a valid ISO 8601 date time: {raw!r}.") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _filters(request: Request, now: datetime) -> dict[str, Any]:
    marketplaces = request.values("MarketplaceIds")
    if not marketplaces:
        raise invalid_input("MarketplaceIds is required.")
    created_after = _time(request, "CreatedAfter")
    created_before = _time(request, "CreatedBefore")
    updated_after = _time(request, "LastUpdatedAfter")
    updated_before = _time(request, "LastUpdatedBefore")
    if created_after is None and updated_after is None:
        raise invalid_input("Either CreatedAfter or LastUpdatedAfter must be specified.")
    if created_after is not None and updated_after is not None:
        raise invalid_input("CreatedAfter and LastUpdatedAfter cannot both be specified.")
    if created_before is not None and created_after is None:
        raise invalid_input("CreatedBefore can only be used with CreatedAfter.")
    if updated_before is not None and updated_after is None:
        raise invalid_input("LastUpdatedBefore can only be used with LastUpdatedAfter.")
    for name, moment in (("CreatedAfter", created_after), ("CreatedBefore", created_before)):
        if moment is not None and moment > now - _LAG:
            raise invalid_input(
                f"{name} must be no later than two minutes before the request time."
            )
    ids = request.values("AmazonOrderIds")
    if len(ids) > MAX_ORDER_IDS:
        raise invalid_input(
            f"AmazonOrderIds can hold at most {MAX_ORDER_IDS} order ids, not {len(ids)}."
        )
    bad = [order_id for order_id in ids if not ORDER_ID_RE.match(order_id)]
    if bad:
        raise invalid_input(f"Invalid AmazonOrderIds: {', '.join(bad)}.")
    statuses = request.values("OrderStatuses")
    for status in statuses:
        if status not in ORDER_STATUSES:
            raise invalid_input(f"Invalid OrderStatuses value: {status}.")
    channels = request.values("FulfillmentChannels")
    for channel in channels:
        if channel not in CHANNELS:
            raise invalid_input(f"Invalid FulfillmentChannels value: {channel}.")
    size_raw = request.value("MaxResultsPerPage") or "100"
    if not size_raw.isdigit() or not 1 <= int(size_raw) <= 100:
        raise invalid_input("MaxResultsPerPage must be between 1 and 100.")
    by_update = updated_after is not None
    after = updated_after if by_update else created_after
    before = (updated_before if by_update else created_before) or now - _LAG
    assert after is not None  # one of the two is set, checked above
    return {
        "marketplaces": marketplaces,
        "by_update": by_update,
        "after": clock.iso(after),
        "before": clock.iso(before),
        "ids": ids,
        "statuses": statuses,
        "channels": channels,
        "size": int(size_raw),
        "offset": 0,
    }


def get_orders(market: SandboxMarket, request: Request) -> Reply:
    """GET /orders/v0/orders: unknown ids are left out, as Amazon does."""
    now = clock.now()
    token = request.value("NextToken")
    filters = market.read_token(token, "NextToken") if token else _filters(request, now)
    after = clock.parse_iso(filters["after"])
    before = clock.parse_iso(filters["before"])
    matches: list[tuple[datetime, dict[str, Any]]] = []
    wanted = set(filters["marketplaces"])
    for order in market.book.orders:
        if order.marketplace_id not in wanted:
            continue
        data = order_json(market, order, now)
        moment = last_update(market, order, now) if filters["by_update"] else order.purchased
        if after is not None and moment < after:
            continue
        if before is not None and moment > before:
            continue
        if filters["ids"] and order.id not in filters["ids"]:
            continue
        if filters["statuses"] and data["OrderStatus"] not in filters["statuses"]:
            continue
        if filters["channels"] and order.channel not in filters["channels"]:
            continue
        matches.append((moment, data))
    matches.sort(key=lambda match: (match[0], match[1]["AmazonOrderId"]))
    start, size = int(filters["offset"]), int(filters["size"])
    payload: dict[str, Any] = {"Orders": [data for _, data in matches[start : start + size]]}
    payload["LastUpdatedBefore" if filters["by_update"] else "CreatedBefore"] = filters["before"]
    if start + size < len(matches):
        payload["NextToken"] = market.next_token({**filters, "offset": start + size})
    return json_reply({"payload": payload})


def _order(market: SandboxMarket, request: Request) -> BookOrder:
    order_id = request.params["orderId"]
    if not ORDER_ID_RE.match(order_id):
        raise invalid_input(f"Invalid AmazonOrderId: {order_id}.")
    order = market.book.order(order_id)
    if order is None:
        raise not_found(f"Order {order_id} was not found.")
    return order


def get_order(market: SandboxMarket, request: Request) -> Reply:
    """GET /orders/v0/orders/{orderId}."""
    order = _order(market, request)
    return json_reply({"payload": order_json(market, order, clock.now())})


def get_order_items(market: SandboxMarket, request: Request) -> Reply:
    """GET /orders/v0/orders/{orderId}/orderItems (all lines on one page)."""
    order = _order(market, request)
    cancelled = market.cancelled(order.id)
    items = [item_json(market, order, item, cancelled) for item in order.items]
    return json_reply({"payload": {"AmazonOrderId": order.id, "OrderItems": items}})
