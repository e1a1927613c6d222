"""Amazon's order answers read into bulk's one `Order` model: Orders v2026-01-01, v0, the report.

Pure functions of the JSON or text Amazon sent. A missing or unreadable purchase date stays
None (the order's age is unknown), never "now": the time window must not pass an order whose
age nobody knows.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

from bulk import marketplaces
from bulk.errors import AmazonError
from bulk.models import Order, OrderItem, OrderStatus

# What a look-up asks getOrder/searchOrders to include (orders_2026-01-01.json, includedData):
# FULFILLMENT gives fulfillmentStatus, fulfilledBy and each item's shipped quantity;
# CANCELLATION gives each item's cancellationRequest (a buyer's request). Items, createdTime
# and salesChannel.marketplaceId are always present.
INCLUDED_DATA = ("FULFILLMENT", "CANCELLATION")

# orders_2026-01-01.json, FulfillmentStatus -> the v0 OrderStatus names bulk's rules use.
FULFILLMENT_STATUS: dict[str, OrderStatus] = {
    "PENDING_AVAILABILITY": OrderStatus.PENDING_AVAILABILITY,
    "PENDING": OrderStatus.PENDING,
    "UNSHIPPED": OrderStatus.UNSHIPPED,
    "PARTIALLY_SHIPPED": OrderStatus.PARTIALLY_SHIPPED,
    "SHIPPED": OrderStatus.SHIPPED,
    "CANCELLED": OrderStatus.CANCELED,
    "UNFULFILLABLE": OrderStatus.UNFULFILLABLE,
}
# OrderFulfillment.fulfilledBy -> FulfillmentChannel.
FULFILLED_BY = {"MERCHANT": "MFN", "AMAZON": "AFN"}


def parse_time(text: object) -> datetime | None:
    """An ISO-8601 time as Amazon writes it ("...Z" or an offset); None when absent or bad."""
    if not isinstance(text, str) or not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def market_locale(marketplace_id: str) -> str:
    """The language a buyer in this marketplace reads, until Messaging names the buyer's own."""
    found = marketplaces.by_id(marketplace_id)
    return found.locale if found else ""


def _int(value: object) -> int:
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return 0


# Orders v2026-01-01 -------------------------------------------------------------------


def order_from_v2026(raw: dict[str, Any]) -> Order:
    """An Order object (orders_2026-01-01.json, definitions/Order) with FULFILLMENT and
    CANCELLATION included."""
    fulfillment = raw.get("fulfillment") or {}
    status = str(fulfillment.get("fulfillmentStatus", ""))
    channel = str(fulfillment.get("fulfilledBy", ""))
    marketplace_id = str((raw.get("salesChannel") or {}).get("marketplaceId", ""))
    return Order(
        order_id=str(raw["orderId"]),
        status=FULFILLMENT_STATUS.get(status, status),
        channel=FULFILLED_BY.get(channel, channel),
        purchased=parse_time(raw.get("createdTime")),
        marketplace_id=marketplace_id,
        items=tuple(_item_from_v2026(item) for item in raw.get("orderItems") or ()),
        locale=market_locale(marketplace_id),
        ship_by=parse_time((fulfillment.get("shipByWindow") or {}).get("latestDateTime")),
    )


def _item_from_v2026(raw: dict[str, Any]) -> OrderItem:
    product = raw.get("product") or {}
    request = (raw.get("cancellation") or {}).get("cancellationRequest") or {}
    # A buyer's request is a cancellationRequest with requester BUYER (ItemCancellationRequest).
    by_buyer = str(request.get("requester", "")).upper() == "BUYER"
    return OrderItem(
        order_item_id=str(raw["orderItemId"]),
        sku=str(product.get("sellerSku", "")),
        title=str(product.get("title", "")),
        asin=str(product.get("asin", "") or ""),
        quantity_ordered=_int(raw.get("quantityOrdered")),
        quantity_shipped=_int((raw.get("fulfillment") or {}).get("quantityFulfilled")),
        buyer_requested_cancel=by_buyer,
        buyer_cancel_reason=str(request.get("cancelReason", "")) if by_buyer else "",
    )


# Orders v0 ---------------------------------------------------------------------------


def order_from_v0(raw: dict[str, Any], items: tuple[OrderItem, ...] = ()) -> Order:
    """An Order object (ordersV0.json, definitions/Order), with items from getOrderItems."""
    marketplace_id = str(raw.get("MarketplaceId", ""))
    return Order(
        order_id=str(raw["AmazonOrderId"]),
        status=str(raw.get("OrderStatus", "")),
        channel=str(raw.get("FulfillmentChannel", "MFN")),
        purchased=parse_time(raw.get("PurchaseDate")),
        marketplace_id=marketplace_id,
        items=items,
        locale=market_locale(marketplace_id),
        ship_by=parse_time(raw.get("LatestShipDate")),
    )


def item_from_v0(raw: dict[str, Any]) -> OrderItem:
    # IsBuyerRequestedCancel is a string "true"/"false" on the order item (ordersV0.json,
    # BuyerRequestedCancel).
    request = raw.get("BuyerRequestedCancel") or {}
    return OrderItem(
        order_item_id=str(raw["OrderItemId"]),
        sku=str(raw.get("SellerSKU", "")),
        title=str(raw.get("Title", "")),
        asin=str(raw.get("ASIN", "") or ""),
        quantity_ordered=_int(raw.get("QuantityOrdered")),
        quantity_shipped=_int(raw.get("QuantityShipped")),
        buyer_requested_cancel=str(request.get("IsBuyerRequestedCancel", "false")).lower()
        == "true",
        buyer_cancel_reason=str(request.get("BuyerCancelReason", "")),
    )


# The unshipped-orders report ---------------------------------------------------------


def parse_unshipped_report(text: str, marketplace_id: str = "") -> dict[str, Order]:
    """Orders from the tab-separated unshipped-orders report, columns found by name.

    The report is asked for one marketplace at a time, so each order is in `marketplace_id`.
    """
    lines = text.splitlines()
    if not lines:
        return {}
    head = [h.strip().lower() for h in lines[0].split("\t")]
    col = {name: i for i, name in enumerate(head)}
    needed = ("order-id", "order-item-id")
    if any(n not in col for n in needed):
        raise AmazonError(
            "the unshipped-orders report has no order-id/order-item-id columns; "
            "Amazon may have changed its format"
        )

    # Each field's column, found once; a missing column reads as the blank cell put at the end
    # of every line (index -1), so a line is split and read without a look-up per field.
    names = (
        "order-id",
        "order-item-id",
        "sku",
        "product-name",
        "asin",
        "quantity-purchased",
        "quantity-shipped",
        "is-buyer-requested-cancellation",
        "buyer-requested-cancel-reason",
        "purchase-date",
        "promise-date",
    )
    at = [col.get(name, -1) for name in names]
    width = len(head)
    times: dict[str, datetime | None] = {}
    seen: dict[str, str] = {}
    # order id -> (purchase-date, promise-date: the latest ship date, its items)
    orders: dict[str, tuple[datetime | None, datetime | None, list[OrderItem]]] = {}
    for line in lines[1:]:
        if not line.strip():
            continue
        cells = line.split("\t")
        if len(cells) < width:
            cells += [""] * (width - len(cells))  # a short line: its missing cells are blank
        cells.append("")
        order_id, item_id, sku, title, asin, bought, shipped, requested, why, when, due = (
            cells[i].strip() for i in at
        )
        # Positional (a report has a line per order line); a listing's SKU, title and ASIN
        # repeat on each of its orders: kept once.
        item = OrderItem(
            item_id,
            seen.setdefault(sku, sku),
            seen.setdefault(title, title),
            _int(bought),
            _int(shipped),
            requested.lower() == "true",
            seen.setdefault(asin, asin),
            why,
        )
        for moment in (when, due):
            if moment not in times:
                times[moment] = parse_time(moment)
        orders.setdefault(order_id, (times[when], times[due], []))[2].append(item)
    locale = market_locale(marketplace_id)
    return {
        order_id: Order(
            order_id,
            OrderStatus.PARTIALLY_SHIPPED
            if any(i.quantity_shipped for i in items)
            else OrderStatus.UNSHIPPED,
            "MFN",
            purchased,
            marketplace_id,
            tuple(items),
            locale,
            ship_by,
        )
        for order_id, (purchased, ship_by, items) in orders.items()
    }


# The All Orders report ---------------------------------------------------------------

# How the report spells order statuses that differ from Orders v0's (Seller Central's
# "Cancelled"); the rest are v0's names.
_ALL_ORDERS_STATUS = {"cancelled": OrderStatus.CANCELED, "canceled": OrderStatus.CANCELED}
_ALL_ORDERS_CHANNEL = {"merchant": "MFN", "amazon": "AFN", "mfn": "MFN", "afn": "AFN"}


def parse_all_orders_report(
    text: str, marketplace_id: str = "", only: Mapping[str, str] | None = None
) -> dict[str, Order]:
    """Orders from the tab-separated All Orders report (GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_
    UPDATE_GENERAL), columns found by name; with `only`, just the orders it names (each id
    mapped to itself: an Order takes the caller's string for its id rather than a copy).

    The report has no order item ids and no buyer's cancellation request (docs/amazon.md,
    "Roles and restricted data"): its lines carry blank ids, and rows that need either are
    read with getOrder. A line whose item-status is Cancelled has nothing left to cancel
    (quantity 0); a Shipped line has shipped all its units.

    A report can hold 100,000 orders and more: each line is split only as far as the last
    column read, and what repeats from order to order is made once and shared (statuses, the
    purchase times, and the lines themselves: with no order item id, two lines of one listing
    in the same state are the same immutable OrderItem).
    """
    lines = _lines(text)
    first = next(lines, None)
    if first is None:
        return {}
    head = [h.strip().lower() for h in first.split("\t")]
    col = {name: i for i, name in enumerate(head)}
    if "amazon-order-id" not in col:
        raise AmazonError(
            "the All Orders report has no amazon-order-id column; Amazon may have changed its format"
        )
    names = (
        "amazon-order-id",
        "purchase-date",
        "order-status",
        "fulfillment-channel",
        "sku",
        "product-name",
        "asin",
        "quantity",
        "item-status",
    )
    # A missing column reads as the blank cell put at the end of every line (index -1).
    at = [col.get(name, -1) for name in names]
    last = max(at)
    order_at = at[0]
    heads = itemgetter(*at[1:4])  # the order's purchase-date, status and channel, as written
    lines_of = itemgetter(*at[4:])  # the line's sku, name, asin, quantity and status
    locale = market_locale(marketplace_id)
    orders: dict[str, Order] = {}
    # Cells as written -> what they read as: the same cells are read once.
    read_heads: dict[tuple[str, ...], tuple[str, str, datetime | None]] = {}
    read_lines: dict[tuple[str, ...], tuple[OrderItem]] = {}
    for line in lines:
        if not line or line.isspace():
            continue
        cells = line.split("\t", last + 1)
        if len(cells) <= last:
            cells += [""] * (last + 1 - len(cells))  # a short line: its missing cells are blank
        cells.append("")
        order_id = cells[order_at].strip()
        if only is not None:
            order_id = only.get(order_id, "")
            if not order_id:
                continue
        key = lines_of(cells)
        item = read_lines.get(key)
        if item is None:
            item = read_lines[key] = (_all_orders_item(*(cell.strip() for cell in key)),)
        found = orders.get(order_id)
        if found is None:
            head = heads(cells)
            read = read_heads.get(head)
            if read is None:
                when, status, channel = (cell.strip() for cell in head)
                read = read_heads[head] = (
                    _ALL_ORDERS_STATUS.get(status.lower(), status),
                    _ALL_ORDERS_CHANNEL.get(channel.lower(), channel),
                    parse_time(when),
                )
            orders[order_id] = Order(
                order_id, read[0], read[1], read[2], marketplace_id, item, locale
            )
        else:  # another line of the order: its first line gave the rest
            orders[order_id] = Order(
                order_id,
                found.status,
                found.channel,
                found.purchased,
                marketplace_id,
                found.items + item,
                locale,
            )
    return orders


def _lines(text: str, size: int = 1 << 20) -> Iterator[str]:
    """text.splitlines(), about a megabyte at a time: a list of a large report's lines would
    take as much memory again as the report. Each piece ends after a line feed, so no line
    break (not even a CR LF) is cut in two."""
    start = 0
    while start < len(text):
        end = text.find("\n", start + size)
        end = len(text) if end < 0 else end + 1
        yield from text[start:end].splitlines()
        start = end


def _all_orders_item(sku: str, title: str, asin: str, quantity: str, item_status: str) -> OrderItem:
    """One line of the All Orders report: no order item id, and its state in its quantities."""
    bought = _int(quantity)
    state = item_status.lower()
    return OrderItem(
        "",
        sku,
        title,
        0 if state in _ALL_ORDERS_STATUS else bought,
        bought if state == "shipped" else 0,
        False,
        asin,
    )
