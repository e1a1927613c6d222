"""Amazon as bulk sees it: order look-ups, the cancellation feed, reports and buyer messages.

Every call goes through `_call`, which waits for the operation's rate limit, retries what
Amazon asks to retry (429, 5xx, time-outs) a bounded number of times, counts calls, and
turns the library's exceptions into AmazonError messages a person can act on.
"""

from __future__ import annotations

import io
import json
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, TypeVar

import httpx
from sp_api.auth.exceptions import AuthorizationError
from sp_api.base import ApiResponse, SellingApiException
from sp_api.base.exceptions import (
    SellingApiForbiddenException,
    SellingApiRequestThrottledException,
)
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)

from bulk.amazon.clients import Clients
from bulk.amazon.feed import CONTENT_TYPE, FEED_TYPE, ProcessingReport, parse_report
from bulk.amazon.throttle import RateLimiter, rate_limited_seconds
from bulk.errors import AmazonError
from bulk.models import Order, OrderItem
from bulk.policy import AccountFigures

T = TypeVar("T")

# getOrders returns no orders older than two years, and requires CreatedAfter even with
# AmazonOrderIds (FIELD-NOTES, Orders v0).
_LOOKBACK = timedelta(days=729)
_ORDER_IDS_PER_CALL = 50
_TRANSIENT_STATUS = (429, 500, 502, 503, 504)


class UncertainError(AmazonError):
    """A call that must not be repeated failed in a way that leaves its outcome unknown."""


def _throttled(e: BaseException) -> bool:
    return isinstance(e, SellingApiRequestThrottledException) or (
        isinstance(e, TransientError) and e.status == 429
    )


def _transient(e: BaseException) -> bool:
    if isinstance(e, TransientError | httpx.TransportError):
        return True
    if isinstance(e, AuthorizationError):
        return e.status_code in _TRANSIENT_STATUS
    return isinstance(e, SellingApiException) and e.code in _TRANSIENT_STATUS


def _reason(e: BaseException) -> str:
    if isinstance(e, httpx.TimeoutException):
        return "the request timed out"
    if isinstance(e, httpx.TransportError):
        return f"the connection failed ({type(e).__name__})"
    if isinstance(e, TransientError):
        return f"Amazon answered {e.status}"
    if isinstance(e, SellingApiException):
        return f"Amazon answered {e.code}"
    return type(e).__name__


class TransientError(Exception):
    """Amazon asked us to slow down or had a passing fault; the call may be tried again."""

    def __init__(self, operation: str, status: int | str, detail: str = ""):
        super().__init__(f"{operation}: {status} {detail}".strip())
        self.operation = operation
        self.status = status


@dataclass(frozen=True)
class FeedState:
    feed_id: str
    processing_status: str  # IN_QUEUE, IN_PROGRESS, DONE, CANCELLED, FATAL
    created: datetime | None
    result_document_id: str | None

    @property
    def finished(self) -> bool:
        return self.processing_status in ("DONE", "CANCELLED", "FATAL")


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _order(raw: dict[str, Any], items: Sequence[OrderItem] = ()) -> Order:
    return Order(
        order_id=str(raw["AmazonOrderId"]),
        status=str(raw.get("OrderStatus", "")),
        channel=str(raw.get("FulfillmentChannel", "MFN")),
        purchased=_parse_time(raw.get("PurchaseDate")) or datetime.now(UTC),
        marketplace_id=str(raw.get("MarketplaceId", "")),
        items=tuple(items),
    )


def _item(raw: dict[str, Any]) -> OrderItem:
    # IsBuyerRequestedCancel is a string "true"/"false" on the order item (ordersV0.json,
    # BuyerRequestedCancel).
    request = raw.get("BuyerRequestedCancel") or {}
    return OrderItem(
        order_item_id=str(raw["OrderItemId"]),
        sku=str(raw.get("SellerSKU", "")),
        title=str(raw.get("Title", "")),
        asin=str(raw.get("ASIN", "") or ""),
        quantity_ordered=int(raw.get("QuantityOrdered", 0)),
        quantity_shipped=int(raw.get("QuantityShipped", 0) or 0),
        buyer_requested_cancel=str(request.get("IsBuyerRequestedCancel", "false")).lower()
        == "true",
        buyer_cancel_reason=str(request.get("BuyerCancelReason", "")),
    )


REPORT_UNSHIPPED = "GET_FLAT_FILE_ACTIONABLE_ORDER_DATA_SHIPPING"
# How long Amazon takes to produce a report: a few minutes is usual (an estimate, used only to
# choose between the report and per-order look-ups).
REPORT_LATENCY_SECONDS = 120.0


def lookup_seconds(orders: int, with_items: int, report: bool = False) -> float:
    """Rate-limited time of a look-up at Amazon's published limits."""
    if report:
        return rate_limited_seconds({"createReport": 1, "getReport": 5, "getReportDocument": 1})
    return rate_limited_seconds(
        {"getOrders": -(-orders // _ORDER_IDS_PER_CALL), "getOrderItems": with_items}
    )


def parse_unshipped_report(text: str) -> dict[str, Order]:
    """Orders from the tab-separated unshipped-orders report, columns found by name."""
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

    def get(cells: list[str], name: str) -> str:
        i = col.get(name)
        return cells[i].strip() if i is not None and i < len(cells) else ""

    def number(cells: list[str], name: str) -> int:
        text = get(cells, name)
        return int(text) if text.isdigit() else 0

    orders: dict[str, tuple[datetime, list[OrderItem]]] = {}
    for line in lines[1:]:
        if not line.strip():
            continue
        cells = line.split("\t")
        order_id = get(cells, "order-id")
        item = OrderItem(
            order_item_id=get(cells, "order-item-id"),
            sku=get(cells, "sku"),
            title=get(cells, "product-name"),
            quantity_ordered=number(cells, "quantity-purchased"),
            quantity_shipped=number(cells, "quantity-shipped"),
            buyer_requested_cancel=get(cells, "is-buyer-requested-cancellation").lower() == "true",
            buyer_cancel_reason=get(cells, "buyer-requested-cancel-reason"),
        )
        purchased = _parse_time(get(cells, "purchase-date")) or datetime.now(UTC)
        orders.setdefault(order_id, (purchased, []))[1].append(item)
    return {
        order_id: Order(
            order_id=order_id,
            status="PartiallyShipped" if any(i.quantity_shipped for i in items) else "Unshipped",
            channel="MFN",
            purchased=purchased,
            items=tuple(items),
        )
        for order_id, (purchased, items) in orders.items()
    }


def _describe(e: SellingApiException) -> str:
    errors = e.error if isinstance(e.error, list) else [e.error]
    parts = []
    for err in errors:
        if isinstance(err, dict):
            parts.append(f"{err.get('code', '')}: {err.get('message', '')}".strip(": "))
        elif err:
            parts.append(str(err))
    return "; ".join(parts) or type(e).__name__


class Marketplace:
    """One seller account in one marketplace, reached through python-amazon-sp-api."""

    def __init__(
        self,
        clients: Clients,
        marketplace_id: str,
        *,
        limiter: RateLimiter | None = None,
        max_attempts: int = 6,
        sleep: Callable[[float], None] = time.sleep,
        poll_interval: float = 20.0,
        backoff_base: float = 1.0,
        poll_sleep: Callable[[float], None] | None = None,
    ):
        self.clients = clients
        self.marketplace_id = marketplace_id
        self.limiter = limiter or RateLimiter(scale=0)
        self.max_attempts = max_attempts
        self.sleep = sleep
        self.poll_interval = poll_interval
        # Waiting between polls of a feed or report; the sandbox moves on per poll, not per
        # second, so it waits in virtual time.
        self.poll_sleep = poll_sleep or sleep
        self.backoff_base = backoff_base
        self.calls: Counter[str] = Counter()
        self.retries: Counter[str] = Counter()
        for client in (clients.orders, clients.feeds, clients.reports, clients.messaging):
            _watch_status(client)

    # The one door to Amazon ------------------------------------------------------

    def _call(self, operation: str, fn: Callable[[], T], idempotent: bool = True) -> T:
        """One operation: rate limit, bounded retries with backoff and jitter, error words.

        A throttled call (429) was refused before Amazon did anything, so it is always tried
        again. A 5xx answer or a time-out may come after Amazon acted: only calls that are
        safe to repeat are tried again; the others raise UncertainError for the caller to
        check what happened (FIELD-NOTES: never cancel or message twice).
        """

        def retryable(e: BaseException) -> bool:
            if _throttled(e):
                return True
            return idempotent and _transient(e)

        def count_retry(state: RetryCallState) -> None:
            self.retries[operation] += 1

        retrying = Retrying(
            stop=stop_after_attempt(self.max_attempts),
            # Exponential backoff with full jitter (AWS Architecture Blog, "Exponential
            # Backoff And Jitter"): spreads the retries of several clients apart.
            wait=wait_random_exponential(multiplier=self.backoff_base, max=120),
            retry=retry_if_exception(retryable),
            sleep=self.sleep,
            before_sleep=count_retry,
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    self.limiter.acquire(operation)
                    self.calls[operation] += 1
                    try:
                        result = fn()
                    except BaseException as e:
                        if _throttled(e):
                            self.limiter.drain(operation)
                        raise
                    if isinstance(result, ApiResponse):
                        self.limiter.observe(operation, result.rate_limit)
                    return result
        except AuthorizationError as e:
            if _transient(e):
                raise AmazonError(
                    f"Login with Amazon answered {e.status_code} {self.max_attempts} times; "
                    "run the same command again in a few minutes (nothing is repeated)"
                ) from None
            raise AmazonError(
                f"Login with Amazon refused the credentials ({e.error_code}: {e.message}); "
                "check LWA_APP_ID, LWA_CLIENT_SECRET and SP_API_REFRESH_TOKEN"
            ) from None
        except SellingApiException as e:
            if not (_throttled(e) or _transient(e)):
                raise self._error(operation, e) from e
            failure: BaseException = e
        except (TransientError, httpx.TransportError) as e:
            failure = e
        reason = _reason(failure)
        if not _throttled(failure) and not idempotent:
            raise UncertainError(
                f"{operation}: {reason}, so it is not known whether Amazon acted on it"
            ) from failure
        raise AmazonError(
            f"{operation}: {reason} {self.max_attempts} times; Amazon is throttling or "
            "unavailable, run the same command again in a few minutes (nothing is repeated)"
        ) from failure

    def _error(self, operation: str, e: SellingApiException) -> AmazonError:
        detail = _describe(e)
        if isinstance(e, SellingApiForbiddenException):
            return AmazonError(
                f"{operation}: Amazon refused access ({detail}); check the app's roles and the "
                "refresh token in your credentials"
            )
        return AmazonError(f"{operation}: Amazon answered {e.code}: {detail}")

    # Orders ----------------------------------------------------------------------

    def get_orders(
        self, order_ids: Iterable[str], now: datetime, items_for: Callable[[Order], bool]
    ) -> dict[str, Order]:
        """Orders by id, ceil(N/50) getOrders calls; items (getOrderItems) where `items_for` says."""
        ids = list(dict.fromkeys(order_ids))
        found: dict[str, Order] = {}
        created_after = (now - _LOOKBACK).strftime("%Y-%m-%dT%H:%M:%SZ")
        for start in range(0, len(ids), _ORDER_IDS_PER_CALL):
            chunk = ids[start : start + _ORDER_IDS_PER_CALL]
            params: dict[str, Any] = {
                "AmazonOrderIds": chunk,
                "MarketplaceIds": [self.marketplace_id],
                "CreatedAfter": created_after,
                "MaxResultsPerPage": 100,
            }
            while True:
                current = dict(params)
                res = self._call("getOrders", partial(self.clients.orders.get_orders, **current))
                for raw in res.payload.get("Orders", []):
                    order = _order(raw)
                    found[order.order_id] = order
                token = res.payload.get("NextToken")
                if not token:
                    break
                params = {"NextToken": token, "MarketplaceIds": [self.marketplace_id]}
        for order_id, order in list(found.items()):
            if items_for(order):
                found[order_id] = self.with_items(order)
        return found

    def with_items(self, order: Order) -> Order:
        items: list[OrderItem] = []
        token: str | None = None
        while True:
            kwargs = {"NextToken": token} if token else {}
            res = self._call(
                "getOrderItems",
                partial(self.clients.orders.get_order_items, order.order_id, **kwargs),
            )
            items.extend(_item(raw) for raw in res.payload.get("OrderItems", []))
            token = res.payload.get("NextToken")
            if not token:
                break
        return Order(
            order.order_id,
            order.status,
            order.channel,
            order.purchased,
            order.marketplace_id,
            tuple(items),
            order.locale,
        )

    # Feeds -----------------------------------------------------------------------

    def upload_document(self, document: bytes) -> str:
        """createFeedDocument and the upload to its signed URL; returns the document id."""
        res = self._call(
            "createFeedDocument",
            # Bytes, not str: the library encodes a str as Latin-1 (FIELD-NOTES).
            lambda: self.clients.feeds.create_feed_document(io.BytesIO(document), CONTENT_TYPE),
        )
        return str(res.payload["feedDocumentId"])

    def create_feed(self, document_id: str) -> str:
        res = self._call(
            "createFeed",
            lambda: self.clients.feeds.create_feed(
                FEED_TYPE, document_id, marketplaceIds=[self.marketplace_id]
            ),
            idempotent=False,
        )
        return str(res.payload["feedId"])

    def feed(self, feed_id: str) -> FeedState:
        res = self._call("getFeed", lambda: self.clients.feeds.get_feed(feed_id))
        p = res.payload
        return FeedState(
            feed_id=str(p.get("feedId", feed_id)),
            processing_status=str(p.get("processingStatus", "")),
            created=_parse_time(p.get("createdTime")),
            result_document_id=p.get("resultFeedDocumentId"),
        )

    def wait_for_feed(
        self, feed_id: str, limit_seconds: float, progress: Callable[[FeedState, float], None]
    ) -> FeedState:
        """Poll getFeed until it ends or `limit_seconds` of waiting have passed."""
        waited = 0.0
        interval = self.poll_interval
        state = self.feed(feed_id)
        progress(state, waited)
        while not state.finished and waited < limit_seconds:
            pause = min(interval, max(limit_seconds - waited, 0.0))
            self.poll_sleep(pause)
            waited += pause
            interval = min(interval * 1.5, 120.0)
            state = self.feed(feed_id)
            progress(state, waited)
        return state

    def feeds_since(self, since: datetime) -> list[FeedState]:
        """Acknowledgement feeds created since `since` (getFeeds; ≤ 90 days back)."""
        found: list[FeedState] = []
        params: dict[str, Any] = {
            "feedTypes": [FEED_TYPE],
            "createdSince": since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "pageSize": 100,
        }
        while True:
            current = dict(params)
            res = self._call("getFeeds", partial(self.clients.feeds.get_feeds, **current))
            for p in res.payload.get("feeds", []):
                found.append(
                    FeedState(
                        str(p["feedId"]),
                        str(p.get("processingStatus", "")),
                        _parse_time(p.get("createdTime")),
                        p.get("resultFeedDocumentId"),
                    )
                )
            token = res.payload.get("nextToken")
            if not token:
                return found
            params = {"nextToken": token}

    def report(self, result_document_id: str) -> ProcessingReport:
        text = self._call(
            "getFeedDocument",
            lambda: self.clients.feeds.get_feed_result_document(result_document_id),
        )
        return parse_report(text.encode("utf-8"))

    # Reports ---------------------------------------------------------------------

    def _report_document(
        self, report_type: str, progress: Callable[[str], None], **extra: Any
    ) -> str:
        res = self._call(
            "createReport",
            lambda: self.clients.reports.create_report(
                reportType=report_type, marketplaceIds=[self.marketplace_id], **extra
            ),
        )
        report_id = str(res.payload["reportId"])
        interval = min(self.poll_interval, 15.0)
        waited = 0.0
        while True:
            res = self._call("getReport", lambda: self.clients.reports.get_report(report_id))
            status = str(res.payload.get("processingStatus", ""))
            progress(status)
            if status == "DONE":
                break
            if status in ("CANCELLED", "FATAL"):
                raise AmazonError(
                    f"Amazon could not produce report {report_type} ({status}); "
                    "try again later or check Seller Central's Account Health page"
                )
            if waited > 1800:
                raise AmazonError(
                    f"report {report_type} was not ready after 30 minutes; run again later"
                )
            self.poll_sleep(interval)
            waited += interval
        document_id = str(res.payload["reportDocumentId"])
        doc = self._call(
            "getReportDocument",
            lambda: self.clients.reports.get_report_document(document_id, download=True),
        )
        return str(doc.payload.get("document", ""))

    def account_figures(self, progress: Callable[[str], None]) -> AccountFigures:
        """Amazon's 7-day cancellation figures from the seller performance report."""
        text = self._report_document("GET_V2_SELLER_PERFORMANCE_REPORT", progress)
        try:
            data = json.loads(text)
            metrics = data["performanceMetrics"]
            mine = next(
                (m for m in metrics if m.get("marketplaceId") in (None, self.marketplace_id)),
                metrics[0],
            )
            rate = mine["preFulfillmentCancellationRate"]
            end = rate["reportingDateRange"]["reportingDateTo"]
            return AccountFigures(
                order_count=int(rate["orderCount"]),
                cancellation_count=int(rate["cancellationCount"]),
                report_end=(_parse_time(end) or datetime.now(UTC)).date(),
            )
        except (ValueError, KeyError, IndexError, TypeError) as e:
            raise AmazonError(
                f"the seller performance report has no cancellation figures ({e!r}); "
                "bulk cannot check the cancellation rate without them"
            ) from e

    def unshipped_orders(self, progress: Callable[[str], None]) -> dict[str, Order]:
        """Every unshipped merchant-fulfilled order with its items, from one report.

        GET_FLAT_FILE_ACTIONABLE_ORDER_DATA_SHIPPING: tab-separated, one line per order item,
        with `is-buyer-requested-cancellation` since 2022 (Amazon's changelog, "Changes to
        Orders API and Reports API for buyer cancellation requests"). A handful of calls for
        any number of orders, against one getOrderItems call per order.
        """
        text = self._report_document(REPORT_UNSHIPPED, progress)
        return parse_unshipped_report(text)

    def look_up(
        self,
        order_ids: Sequence[str],
        now: datetime,
        items_for: Callable[[Order], bool],
        threshold: int,
        progress: Callable[[str], None],
    ) -> tuple[dict[str, Order], str]:
        """Orders by id, by the cheaper path at Amazon's published rate limits; says which."""
        ids = list(dict.fromkeys(order_ids))
        per_order = lookup_seconds(len(ids), len(ids))
        by_report = REPORT_LATENCY_SECONDS + lookup_seconds(0, 0, report=True)
        if len(ids) < threshold or per_order <= by_report:
            found = self.get_orders(ids, now, items_for)
            return found, (
                f"getOrders for {len(ids)} orders (about {per_order:.0f}s at Amazon's rates)"
            )
        unshipped = self.unshipped_orders(progress)
        found = {i: unshipped[i] for i in ids if i in unshipped}
        missing = [i for i in ids if i not in unshipped]
        if missing:
            found.update(self.get_orders(missing, now, items_for))
        return found, (
            f"unshipped-orders report for {len(found) - len(missing) if missing else len(found)} "
            f"orders, getOrders for the other {len(missing)} (about {by_report:.0f}s at Amazon's "
            f"rates, against {per_order:.0f}s order by order)"
        )

    # Messaging -------------------------------------------------------------------

    def message_actions(self, order_id: str) -> set[str]:
        res = self._call(
            "getMessagingActionsForOrder",
            lambda: self.clients.messaging.get_messaging_actions_for_order(
                order_id, marketplaceIds=[self.marketplace_id]
            ),
        )
        actions = (res.payload.get("_links") or {}).get("actions") or []
        return {str(a.get("name", "")) for a in actions if isinstance(a, dict)}

    def buyer_locale(self, order_id: str) -> str:
        try:
            res = self._call(
                "getAttributes",
                lambda: self.clients.messaging.get_attributes(
                    order_id, marketplaceIds=[self.marketplace_id]
                ),
            )
        except AmazonError:
            return ""
        # messaging.json gives the locale as "de-DE"; templates are in folders like de_DE.
        return str((res.payload.get("buyer") or {}).get("locale", "")).replace("-", "_")

    def send_unexpected_problem(self, order_id: str, text: str) -> None:
        self._call(
            "createUnexpectedProblem",
            lambda: self.clients.messaging.create_unexpected_problem(order_id, body={"text": text}),
            idempotent=False,
        )


def _watch_status(client: Any) -> None:
    """Raise on 429/5xx answers whose body has no `errors` list.

    python-amazon-sp-api raises only when an error body is JSON with `errors`; a 429 with
    an empty body would come back as an empty success (FIELD-NOTES).
    """
    transport = client._transport
    if getattr(transport, "_bulk_watched", False):
        return
    inner = transport.request

    def request(method: str, url: str, **kwargs: Any) -> Any:
        res = inner(method, url, **kwargs)
        if res.status_code in _TRANSIENT_STATUS:
            try:
                body = res.json()
            except ValueError:
                body = None
            if not (isinstance(body, dict) and body.get("errors")):
                raise TransientError(url.rsplit("/", 1)[-1], res.status_code, "(empty body)")
        return res

    transport.request = request
    transport._bulk_watched = True
