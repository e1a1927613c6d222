"""Reports API 2021-06-30 in the sandbox: seller performance, All Orders and unshipped-orders
reports."""

from __future__ import annotations

# Shapes follow Amazon's reports_2021-06-30.json (amzn/selling-partner-api-models); a report
# finishes after the book's `report_polls` getReport calls and is built at that moment.
import json
from collections.abc import Collection, Mapping
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from bulk import access, marketplaces
from bulk.sandbox import clock
from bulk.sandbox.market import FINAL_STATUSES, SandboxMarket, progress
from bulk.sandbox.orders import buyer_alias, market_of, ship_to, updated_at
from bulk.sandbox.state import Cancellation, Report
from bulk.sandbox.wire import Reply, Request, invalid_input, json_reply, not_found

PERFORMANCE = access.PERFORMANCE_REPORT
UNSHIPPED = access.UNSHIPPED_REPORT
ALL_ORDERS = access.ALL_ORDERS_REPORT
REPORT_TYPES = (PERFORMANCE, UNSHIPPED, ALL_ORDERS)

# Columns of the All Orders report by last update, in Amazon's order ("Order Tracking reports
# attributes", GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL): one line per order line,
# no order item id, no buyer's cancellation request, no buyer's name or street.
ALL_ORDERS_COLUMNS = (
    "amazon-order-id",
    "merchant-order-id",
    "purchase-date",
    "last-updated-date",
    "order-status",
    "fulfillment-channel",
    "sales-channel",
    "order-channel",
    "ship-service-level",
    "product-name",
    "sku",
    "asin",
    "item-status",
    "quantity",
    "currency",
    "item-price",
    "item-tax",
    "shipping-price",
    "shipping-tax",
    "gift-wrap-price",
    "gift-wrap-tax",
    "item-promotion-discount",
    "ship-promotion-discount",
    "ship-city",
    "ship-state",
    "ship-postal-code",
    "ship-country",
    "promotion-ids",
    "is-business-order",
    "purchase-order-number",
    "price-designation",
)
# How the report writes the order's status and channel (Seller Central's words).
_REPORT_STATUS = {"Canceled": "Cancelled"}
_REPORT_CHANNEL = {"MFN": "Merchant", "AFN": "Amazon"}

# Columns of the unshipped orders report, in Amazon's order (Seller Central help "Unshipped
# Orders Report"; the buyer-requested-cancellation columns were added in 2022).
UNSHIPPED_COLUMNS = (
    "order-id",
    "order-item-id",
    "purchase-date",
    "payments-date",
    "reporting-date",
    "promise-date",
    "days-past-promise",
    "buyer-email",
    "buyer-name",
    "buyer-phone-number",
    "sku",
    "product-name",
    "quantity-purchased",
    "quantity-shipped",
    "quantity-to-ship",
    "ship-service-level",
    "recipient-name",
    "ship-address-1",
    "ship-address-2",
    "ship-address-3",
    "ship-city",
    "ship-state",
    "ship-postal-code",
    "ship-country",
    "is-business-order",
    "purchase-order-number",
    "price-designation",
    "is-prime",
    "is-buyer-requested-cancellation",
    "buyer-requested-cancel-reason",
    "verge-of-cancellation",
    "verge-of-lateShipment",
)


def create_report(market: SandboxMarket, request: Request) -> Reply:
    """POST /reports/2021-06-30/reports → 202 {reportId}."""
    body = request.json_body()
    report_type = body.get("reportType")
    if not isinstance(report_type, str) or not report_type:
        raise invalid_input("reportType is required.")
    if report_type not in REPORT_TYPES:
        raise invalid_input(
            f"Report type {report_type} is not available in the sandbox; "
            f"it makes {' and '.join(REPORT_TYPES)}."
        )
    marketplaces = body.get("marketplaceIds")
    if (
        not isinstance(marketplaces, list)
        or not marketplaces
        or not all(isinstance(m, str) for m in marketplaces)
    ):
        raise invalid_input("marketplaceIds is required.")
    for marketplace_id in marketplaces:
        if not market.sells_in(marketplace_id):
            raise invalid_input(
                f"Invalid marketplaceId {marketplace_id}: the seller's marketplaces are in "
                f"region {market.region}."
            )
    now = clock.now()
    bounds: dict[str, str] = {}
    for name in ("dataStartTime", "dataEndTime"):
        raw = body.get(name)
        moment = clock.parse_iso(raw) if isinstance(raw, str) else now if raw is None else None
        if moment is None:
            raise invalid_input(
                f"{name} is not a valid ISO 8601 date time with an offset: {raw!r}."
            )
        bounds[name] = clock.iso(moment)
    report = Report(
        id=str(60_000_000_000 + market.state.take_id()),
        report_type=report_type,
        marketplace_ids=tuple(marketplaces),
        created=clock.iso(now),
        data_start=bounds["dataStartTime"],
        data_end=bounds["dataEndTime"],
    )
    market.state.reports[report.id] = report
    return json_reply({"reportId": report.id}, 202)


def get_reports(market: SandboxMarket, request: Request) -> Reply:
    """GET /reports/2021-06-30/reports: the reports of the types asked for, newest first."""
    types = request.values("reportTypes")
    if not types:
        raise invalid_input("reportTypes or nextToken is required.")
    size = request.value("pageSize") or "10"
    if not size.isdigit() or not 1 <= int(size) <= 100:
        raise invalid_input(f"pageSize must be between 1 and 100, not {size}.")
    found = [r for r in market.state.reports.values() if r.report_type in types]
    found.sort(key=lambda r: int(r.id), reverse=True)
    return json_reply({"reports": [report_json(r) for r in found[: int(size)]]})


def report_json(report: Report) -> dict[str, Any]:
    """A Report object (reports_2021-06-30.json, definitions/Report)."""
    data: dict[str, Any] = {
        "reportId": report.id,
        "reportType": report.report_type,
        "marketplaceIds": list(report.marketplace_ids),
        "dataStartTime": report.data_start,
        "dataEndTime": report.data_end,
        "createdTime": report.created,
        "processingStatus": report.status,
    }
    if report.started:
        data["processingStartTime"] = report.started
    if report.ended:
        data["processingEndTime"] = report.ended
    if report.document_id:
        data["reportDocumentId"] = report.document_id
    return data


def get_report(market: SandboxMarket, request: Request) -> Reply:
    """GET /reports/2021-06-30/reports/{reportId}."""
    report = market.state.reports.get(request.params["reportId"])
    if report is None:
        raise not_found(f"Report {request.params['reportId']} was not found.")
    if report.status not in FINAL_STATUSES:
        seen = report.observations + 1
        status = progress(seen, market.book.report_polls)
        now = clock.iso(clock.now())
        report = replace(report, observations=seen, status=status)
        if status != "IN_QUEUE" and not report.started:
            report = replace(report, started=now)
        if status == "DONE":
            content, content_type = _content(market, report)
            doc = market.new_document("report", content_type, content, market.book.compress_reports)
            report = replace(report, ended=now, document_id=doc.id)
        market.state.reports[report.id] = report
    return json_reply(report_json(report))


def get_report_document(market: SandboxMarket, request: Request) -> Reply:
    """GET /reports/2021-06-30/documents/{reportDocumentId}: the download URL."""
    doc = market.state.documents.get(request.params["reportDocumentId"])
    if doc is None or doc.kind != "report":
        raise not_found(f"Report document {request.params['reportDocumentId']} was not found.")
    data = {"reportDocumentId": doc.id, "url": market.signed_url("download", doc)}
    if doc.compressed:
        data["compressionAlgorithm"] = "GZIP"
    return json_reply(data)


def _content(market: SandboxMarket, report: Report) -> tuple[bytes, str]:
    now = clock.now()
    if report.report_type == PERFORMANCE:
        text = json.dumps(performance_report(market, now, report.marketplace_ids), indent=2)
        return text.encode("utf-8"), "application/json; charset=UTF-8"
    if report.report_type == ALL_ORDERS:
        start = clock.parse_iso(report.data_start) or now
        end = clock.parse_iso(report.data_end) or now
        text = all_orders_report(market, now, report.marketplace_ids, start, end)
    else:
        text = unshipped_report(market, now, report.marketplace_ids)
    return text.encode("utf-8"), "text/plain; charset=UTF-8"


# Seller performance -----------------------------------------------------------------


def _range(first: datetime, last: datetime) -> dict[str, str]:
    return {
        "reportingDateFrom": first.strftime("%Y-%m-%dT00:00Z"),
        "reportingDateTo": last.strftime("%Y-%m-%dT23:59Z"),
    }


def _count(count: int) -> dict[str, Any]:
    return {"count": count, "status": "GOOD" if count == 0 else "NONE"}


def _violations(window: dict[str, str]) -> dict[str, Any]:
    return {
        "reportingDateRange": window,
        "defectsCount": 0,
        "status": "GOOD",
        "targetValue": 0,
        "targetCondition": "EQUALS",
    }


def _defect_rate(window: dict[str, str], orders: int, channel: str) -> dict[str, Any]:
    return {
        "reportingDateRange": window,
        "orderCount": orders,
        "orderWithDefects": _count(0),
        "claims": _count(0),
        "chargebacks": _count(0),
        "negativeFeedback": _count(0),
        "fulfillmentType": channel,
        "status": "GOOD",
        "rate": 0.0,
        "targetValue": 0.01,
        "targetCondition": "LESS_THAN",
    }


def cancellation_figures(
    market: SandboxMarket, now: datetime, marketplace_id: str | None = None
) -> tuple[int, int]:
    """(orders, seller-cancelled orders) over the last 7 days: the book's plus the sandbox's.

    An order counts once however many of its lines were cancelled; a line the buyer asked to
    cancel and the seller cancelled with BuyerCanceled does not count (docs/amazon.md, "Cancellation rate"). The book's
    orders are a steady flow (the same count every week); its past cancellations age out.
    """
    # The report covers the 7 whole days that end the day before it is made: a cancellation
    # made today shows up in tomorrow's report, as on Amazon (and bulk adds it from its
    # ledger meanwhile).
    last = (now - timedelta(days=1)).date()
    first = last - timedelta(days=6)
    cancelled_orders = {
        c.order_id
        for c in market.state.all_cancellations()
        if c.counts
        and first <= (clock.parse_iso(c.time) or now).date() <= last
        and (marketplace_id is None or _marketplace_of(market, c.order_id) == marketplace_id)
    }
    performance = market.book.performance
    started = date.fromisoformat(market.state.started)
    past = past_cancellations(performance.seller_cancels_last_7_days, started, first, last)
    return performance.orders_last_7_days, past + len(cancelled_orders)


def _marketplace_of(market: SandboxMarket, order_id: str) -> str:
    order = market.book.order(order_id)
    return order.marketplace_id if order is not None else market.book.marketplace_id


def past_cancellations(count: int, started: date, first: date, last: date) -> int:
    """How many of the book's `count` past cancellations fall in the days first..last.

    They are spread over the 7 days before the sandbox's state began, oldest first, day i
    (0..6) holding floor(count*(i+1)/7) - floor(count*i/7); so the newest m days hold exactly
    ceil(count*m/7), and each day that passes takes the oldest day's share out of the window.
    """
    total = 0
    for i in range(7):
        day = started - timedelta(days=7 - i)
        if first <= day <= last:
            total += count * (i + 1) // 7 - count * i // 7
    return total


def performance_report(
    market: SandboxMarket, now: datetime, marketplace_ids: Collection[str] = ()
) -> dict[str, Any]:
    """GET_V2_SELLER_PERFORMANCE_REPORT, as accountHealthReport-2020-11-18.json describes it:
    one performanceMetrics entry per marketplace asked for (the book's own when none is).

    Amazon measures the cancellation rate per marketplace. The book's performance figures
    stand for each marketplace's own; the sandbox's cancellations count where the order lives.
    """
    wanted = list(marketplace_ids) or [market.book.marketplace_id]
    entries = [_performance(market, now, m, len(wanted) > 1) for m in wanted]
    return {
        "accountStatuses": [
            {"marketplaceId": m, "status": status}
            for m, (_, status) in zip(wanted, entries, strict=True)
        ],
        "performanceMetrics": [metrics for metrics, _ in entries],
    }


def _target(marketplace_id: str) -> float:
    """The marketplace's cancellation-rate target (bulk.marketplaces): 2.5%, India 2%."""
    known = marketplaces.by_id(marketplace_id)
    return known.target_rate if known else marketplaces.TARGET_RATE


def _performance(
    market: SandboxMarket, now: datetime, marketplace_id: str, per_marketplace: bool
) -> tuple[dict[str, Any], str]:
    """One marketplace's metrics entry, and its account status."""
    # Amazon's figures end a day before the report is made.
    last = now - timedelta(days=1)
    week = _range(last - timedelta(days=6), last)
    month = _range(last - timedelta(days=29), last)
    half_year = _range(last - timedelta(days=179), last)
    orders, cancels = cancellation_figures(market, now, marketplace_id if per_marketplace else None)
    rate = round(cancels / orders, 4) if orders else 0.0
    target = _target(marketplace_id)
    good = rate < target
    metrics: dict[str, Any] = {
        "marketplaceId": marketplace_id,
        "invoiceDefectRate": {
            "reportingDateRange": week,
            "orderCount": orders,
            "invoiceDefect": _count(0),
            "missingInvoice": _count(0),
            "lateInvoice": _count(0),
            "status": "GOOD",
            "rate": 0.0,
            "targetValue": 0.05,
            "targetCondition": "LESS_THAN",
        },
        "lateShipmentRate": {
            "reportingDateRange": month,
            "orderCount": orders,
            "lateShipmentCount": 0,
            "status": "GOOD",
            "rate": 0.0,
            "targetValue": 0.04,
            "targetCondition": "LESS_THAN",
        },
        "orderDefectRate": {
            "mfn": _defect_rate(month, orders, "mfn"),
            "afn": _defect_rate(month, 0, "afn"),
        },
        "onTimeDeliveryRate": {
            "reportingDateRange": month,
            "shipmentCountWithValidTracking": orders,
            "onTimeDeliveryCount": orders,
            "status": "GOOD",
            "rate": 1.0,
            "targetValue": 0.9,
            "targetCondition": "GREATER_THAN",
        },
        "unitOnTimeDeliveryRate": {
            "reportingDateRange": month,
            "status": "GOOD",
            "targetValue": 0.9,
            "targetCondition": "GREATER_THAN",
            "unitOnTimeDeliveryCount": orders,
            "totalUnitCount": orders,
            "rate": 1.0,
        },
        "validTrackingRate": {
            "reportingDateRange": month,
            "shipmentCount": orders,
            "validTrackingCount": orders,
            "status": "GOOD",
            "rate": 1.0,
            "targetValue": 0.95,
            "targetCondition": "GREATER_THAN",
        },
        "preFulfillmentCancellationRate": {
            "reportingDateRange": week,
            "orderCount": orders,
            "cancellationCount": cancels,
            "status": "GOOD" if good else "BAD",
            "rate": rate,
            "targetValue": target,
            "targetCondition": "LESS_THAN",
        },
        "warningStates": [],
        "accountHealthRating": {
            "ahrStatus": "GREAT" if good else "WARNED",
            "reportingDateRange": half_year,
        },
    }
    for name in (
        "listingPolicyViolations",
        "productAuthenticityCustomerComplaints",
        "productConditionCustomerComplaints",
        "productSafetyCustomerComplaints",
        "receivedIntellectualPropertyComplaints",
        "restrictedProductPolicyViolations",
        "suspectedIntellectualPropertyViolations",
        "foodAndProductSafetyIssues",
        "otherPolicyViolations",
        "documentRequests",
    ):
        metrics[name] = _violations(half_year)
    return metrics, "NORMAL" if good else "AT_RISK"


# Unshipped orders -------------------------------------------------------------------


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S+00:00")


TAB = "\t"
_NONE: Mapping[str, Cancellation] = MappingProxyType(
    {}
)  # an order the sandbox cancelled nothing of


def _cell(text: str) -> str:
    """A report field: a tab inside it would start another column."""
    return text.replace("\t", " ")


def unshipped_report(
    market: SandboxMarket, now: datetime, marketplace_ids: Collection[str] | None = None
) -> str:
    """GET_FLAT_FILE_ACTIONABLE_ORDER_DATA_SHIPPING: tab-separated, one line per line left to ship.

    Merchant-fulfilled Unshipped and PartiallyShipped orders of the report's marketplaces (None:
    every one) only; buyer details are placeholders. Built for 100,000-order books: the dates of
    each purchase time and the address of each locale are worked out once.
    """
    lines = ["\t".join(UNSHIPPED_COLUMNS)]
    # (purchase time, ship-by) -> purchase-date to days-past-promise
    dates: dict[tuple[datetime, datetime], str] = {}
    places: dict[tuple[str, str], str] = {}  # (locale, marketplace) -> the ship-to columns
    for order in market.book.orders:
        if marketplace_ids is not None and order.marketplace_id not in marketplace_ids:
            continue
        cancelled = market.cancelled(order.id)
        if order.channel != "MFN" or order.status_with(cancelled) not in (
            "Unshipped",
            "PartiallyShipped",
        ):
            continue
        # promise-date is the latest ship date (v0 LatestShipDate).
        promise = order.latest_ship
        when = dates.get((order.purchased, promise))
        if when is None:
            purchased = _stamp(order.purchased)
            reported = _stamp(min(order.purchased + timedelta(minutes=5), now))
            when = dates[(order.purchased, promise)] = "\t".join(
                (purchased, purchased, reported, _stamp(promise), str((now - promise).days))
            )
        place = places.get((order.locale, order.marketplace_id))
        if place is None:
            place = places[(order.locale, order.marketplace_id)] = "\t".join(
                ship_to(order, order.marketplace_id)
            )
        buyer = buyer_alias(order)
        head = f"{order.id}\t"
        contact = f"{buyer}@marketplace.amazon.com\tSandbox Buyer\t"
        for item in order.items:
            if item.id in cancelled or item.qty - item.shipped <= 0:
                continue
            requested = "true" if item.buyer_requested_cancel else "false"
            fields = (
                head + item.id,
                when,
                contact,  # buyer-email, buyer-name, buyer-phone-number (empty)
                _cell(item.sku),
                _cell(item.title),
                str(item.qty),
                str(item.shipped),
                str(item.qty - item.shipped),
                "Standard\tSandbox Buyer\t1 Sandbox Way\t\t",  # service, recipient, address 1-3
                place,  # city, state, postal code, country
                "false\t\t\tfalse",  # business order, PO number, price designation, prime
                requested,
                _cell(item.buyer_cancel_reason),
                "false\tfalse",  # verge-of-cancellation, verge-of-lateShipment
            )
            lines.append("\t".join(fields))
    return "\n".join(lines) + "\n"


# All Orders by last update ------------------------------------------------------------


def all_orders_report(
    market: SandboxMarket,
    now: datetime,
    marketplace_ids: Collection[str],
    start: datetime,
    end: datetime,
) -> str:
    """GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL: every order of the marketplaces
    updated since `start` and placed by `end`, one tab-separated line per order line. (The
    sandbox's last update of a new order moves with the clock for its first minutes, so the
    end bounds the purchase: an order asked for at the report's creation stays in it.)

    Built for 100,000-order books: what orders share is worked out once (the two times of each
    purchase time, the columns of each marketplace and buyer's country, each line's amount)."""
    lines = ["\t".join(ALL_ORDERS_COLUMNS)]
    # purchase time -> (purchase-date, its last update when nothing was cancelled, last-updated-date)
    times: dict[datetime, tuple[str, datetime, str]] = {}
    # (marketplace, locale) -> the sales channel, the currency, and the columns after the amount
    places: dict[tuple[str, str], tuple[str, str, str]] = {}
    amounts: dict[tuple[Decimal, int], str] = {}
    # The store's cancellations by order (SandboxMarket.cancelled), read without two calls a row.
    cancellations = market.state.cancellations
    for order in market.book.orders:
        if order.marketplace_id not in marketplace_ids:
            continue
        cancelled = cancellations.get(order.id, _NONE)
        known = times.get(order.purchased)
        if known is None:
            settled = updated_at(order, _NONE, now)
            known = times[order.purchased] = (
                _stamp(order.purchased),
                settled,
                _stamp(settled),
            )
        bought, updated, updated_text = known
        if cancelled:
            updated = updated_at(order, cancelled, now)
            updated_text = _stamp(updated)
        if updated < start or order.purchased > end:
            continue
        status = order.status_with(cancelled) if cancelled else order.status
        place = places.get((order.marketplace_id, order.locale))
        if place is None:
            currency, channel, _country = market_of(order.marketplace_id)
            rest = "\t".join(
                (
                    "0.00",
                    "0.00",
                    "0.00",
                    "",
                    "",
                    "",
                    "",
                    *ship_to(order, order.marketplace_id),
                    "",
                    "false",
                    "",
                    "",
                )
            )
            place = places[(order.marketplace_id, order.locale)] = (channel, currency, rest)
        channel, currency, rest = place
        head = (
            f"{order.id}\t\t{bought}\t{updated_text}\t{_REPORT_STATUS.get(status, status)}\t"
            f"{_REPORT_CHANNEL.get(order.channel, order.channel)}\t{channel}\t\tStandard"
        )
        gone = status == "Canceled"
        for item in order.items:
            if gone or item.id in cancelled:
                item_status = "Cancelled"
            elif item.shipped > 0:
                item_status = "Shipped"
            else:
                item_status = "Unshipped"
            amount = amounts.get((item.price, item.qty))
            if amount is None:
                amount = amounts[(item.price, item.qty)] = str(item.price * item.qty)
            # A tab inside a field would start another column (_cell).
            lines.append(
                f"{head}\t{item.title.replace(TAB, ' ')}\t{item.sku.replace(TAB, ' ')}\t"
                f"{item.asin}\t{item_status}\t{item.qty}\t{currency}\t{amount}\t{rest}"
            )
    return "\n".join(lines) + "\n"
