"""Amazon through python-amazon-sp-api: order look-ups, the cancellation feed, reports, messages.

Every call goes through `_call`, which waits for the operation's rate limit, retries what
Amazon asks to retry (429, 5xx, time-outs) a bounded number of times, counts calls, and
turns the library's exceptions into AmazonError messages a person can act on.
"""

from __future__ import annotations

import io
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, TypeVar

import httpx
from sp_api.auth.exceptions import AuthorizationError
from sp_api.base import ApiResponse, SellingApiException
from sp_api.base.exceptions import (
    SellingApiForbiddenException,
    SellingApiNotFoundException,
    SellingApiRequestThrottledException,
)
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)

from bulk.access import ALL_ORDERS_REPORT, NEEDED_ROLES, PERFORMANCE_REPORT, UNSHIPPED_REPORT
from bulk.amazon import probes
from bulk.amazon.clients import Clients
from bulk.amazon.feed import CONTENT_TYPE, FEED_TYPE, ProcessingReport, parse_report
from bulk.amazon.health import parse_performance
from bulk.amazon.lookup import (
    SEARCH_PAGE,
    V0_IDS_PER_CALL,
    Path,
    per_order_plan,
    plan_lookup,
    window_orders,
)
from bulk.amazon.orders import (
    INCLUDED_DATA,
    item_from_v0,
    order_from_v0,
    order_from_v2026,
    parse_all_orders_report,
    parse_time,
    parse_unshipped_report,
)
from bulk.amazon.protocol import AccessDeniedError, FeedState, LookUp, UncertainError
from bulk.amazon.reports import ReportReader
from bulk.amazon.throttle import RateLimiter
from bulk.config import ORDERS_V0, ORDERS_V2026
from bulk.errors import AmazonError
from bulk.formats import counted
from bulk.marketplaces import USAGE_PLANS, rate_limited_seconds
from bulk.models import OPEN_STATUSES, AccountFigures, Channel, FeedStatus, Order, OrderItem

T = TypeVar("T")

# getOrders returns no orders older than two years, and requires CreatedAfter even with
# AmazonOrderIds (ordersV0.json, getOrders).
_LOOKBACK = timedelta(days=729)
_TRANSIENT_STATUS = (429, 500, 502, 503, 504)
# The orders a windowed search reads: those bulk may still cancel or must hold
# (orders_2026-01-01.json, FulfillmentStatus).
SEARCHED_STATUSES = ("PENDING_AVAILABILITY", "PENDING", "UNSHIPPED", "PARTIALLY_SHIPPED")
# The orders whose buyer requests `bulk pull` reads: not shipped, or not all of it.
REQUEST_STATUSES = ("UNSHIPPED", "PARTIALLY_SHIPPED")


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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


def _describe(e: SellingApiException) -> str:
    errors = e.error if isinstance(e.error, list) else [e.error]
    parts = []
    for err in errors:
        if isinstance(err, dict):
            parts.append(f"{err.get('code', '')}: {err.get('message', '')}".strip(": "))
        elif err:
            parts.append(str(err))
    return "; ".join(parts) or type(e).__name__


class AmazonAccount:
    """One seller account in one region, in one or more of its marketplaces, reached through
    python-amazon-sp-api (the `SellerAccount` Protocol's concrete side)."""

    def __init__(
        self,
        clients: Clients,
        marketplace_ids: Sequence[str],
        *,
        orders_api: str = ORDERS_V2026,
        limiter: RateLimiter | None = None,
        max_attempts: int = 6,
        sleep: Callable[[float], None] = time.sleep,
        poll_interval: float = 20.0,
        backoff_base: float = 1.0,
        poll_sleep: Callable[[float], None] | None = None,
        restricted_data: bool = False,
    ):
        self.clients = clients
        # [amazon] restricted_data: the app has a restricted role, so the restricted
        # unshipped-orders report may be read (through a Restricted Data Token).
        self.restricted_data = restricted_data
        self._marketplace_ids = tuple(marketplace_ids)
        self.v0 = orders_api == ORDERS_V0
        self.limiter = limiter or RateLimiter(scale=0)
        self.max_attempts = max_attempts
        self.sleep = sleep
        self.poll_interval = poll_interval
        # Waiting between polls of a feed or report; the sandbox moves on per poll, not per
        # second, so it waits in virtual time.
        self.poll_sleep = poll_sleep or sleep
        self.backoff_base = backoff_base
        self._calls: Counter[str] = Counter()
        self._waited = 0.0
        self.retries: Counter[str] = Counter()
        self._figures: dict[str, AccountFigures] | None = None
        self._roles: dict[str, bool] = {}  # role -> the app has it (bulk.amazon.probes)
        for client in clients.all():
            _watch_status(client)
        self._reports = ReportReader(
            self._call, clients.reports, clients.tokens, self.poll_interval, self.poll_sleep
        )

    @property
    def marketplace_ids(self) -> tuple[str, ...]:
        return self._marketplace_ids

    @property
    def calls(self) -> Counter[str]:
        return self._calls

    @property
    def answer_seconds(self) -> float:
        return self._waited

    # The one door to Amazon ------------------------------------------------------

    def _call(self, operation: str, fn: Callable[[], T], idempotent: bool = True) -> T:
        """One operation: rate limit, bounded retries with backoff and jitter, error words.

        A throttled call (429) was refused before Amazon did anything, so it is always tried
        again. A 5xx answer or a time-out may come after Amazon acted: only calls that are
        safe to repeat are tried again; the others raise UncertainError for the caller to
        check what happened (never cancel or message twice; docs/amazon.md,
        "Messaging rules").
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
                    self._calls[operation] += 1
                    asked = time.monotonic()
                    try:
                        result = fn()
                    except BaseException as e:
                        if _throttled(e):
                            self.limiter.drain(operation)
                        raise
                    finally:
                        self._waited += time.monotonic() - asked
                    if isinstance(result, ApiResponse):
                        self.limiter.observe(operation, result.rate_limit)
                    return result
        except AuthorizationError as e:
            if _transient(e):
                raise AmazonError(
                    f"Login with Amazon answered {e.status_code} {self.max_attempts} times; "
                    "run the same command again in a few minutes (nothing is repeated)"
                ) from None
            # A revoked authorisation ends here too: nothing was done, access must come back.
            raise AccessDeniedError(
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
            return AccessDeniedError(
                f"{operation}: Amazon refused access ({detail}); the app needs the roles "
                f"{', '.join(NEEDED_ROLES)} and a refresh token that is still authorised: "
                "`bulk doctor` says which is missing"
            )
        return AmazonError(f"{operation}: Amazon answered {e.code}: {detail}")

    # Orders ----------------------------------------------------------------------

    def look_up(
        self,
        order_ids: Sequence[str],
        now: datetime,
        since: datetime,
        progress: Callable[[str], None],
        one_by_one: Callable[[int, Mapping[str, int]], None] | None = None,
        detail: Collection[str] | None = None,
    ) -> LookUp:
        """Orders by id, by the path `plan_lookup` prices cheapest; says which and its cost.

        `since` is the oldest purchase a row can have under the policy: the start of the
        windowed search. `detail` names the orders that need their order item ids and the
        buyer's cancellation request (None: all): the All Orders report has neither, so they
        are read one by one after it, as are the rows a bulk path did not explain.
        """
        ids = list(dict.fromkeys(order_ids))
        wanted = set(ids) if detail is None else set(detail)
        before = Counter(self._calls)
        recent: int | None = None
        burst = USAGE_PLANS["getOrder"][1]
        if not self.v0 and len(ids) > burst:
            # The account's volume prices the search; the same report serves the policy later.
            figures = self.account_figures(progress)
            hours = max((now - since).total_seconds() / 3600, 0.0)
            recent = window_orders(sum(f.order_count for f in figures.values()), hours)
        plan = plan_lookup(
            len(ids),
            recent_orders=recent,
            marketplaces=len(self.marketplace_ids),
            v0=self.v0,
            detail=len(wanted.intersection(ids)),
            restricted_data=self.restricted_data,
        )
        # What reading one order takes: getOrder (v2026), or getOrderItems after a batched
        # getOrders (v0).
        each = {"getOrderItems": 1} if self.v0 else {"getOrder": 1}
        read = {plan.path.value: len(ids)}
        if plan.path in (Path.GET_ORDER, Path.V0):
            if one_by_one is not None:
                one_by_one(len(ids), each)
            found = self.get_orders(ids, now)
            words = plan.describe(len(ids))
        else:
            if plan.path is Path.SEARCH:
                bulk = self.search_orders(since, progress)
            elif plan.path is Path.ALL_ORDERS:
                # The report has no order item ids nor buyer requests: those rows ask getOrder.
                bulk = self.all_orders(since, progress, {i: i for i in ids if i not in wanted})
            else:
                bulk = self.unshipped_orders(progress)
            found = {i: bulk[i] for i in ids if i in bulk}
            rest = [i for i in ids if i not in bulk]
            if rest:
                if one_by_one is not None:
                    one_by_one(len(rest), each)
                found.update(self.get_orders(rest, now))
            other = "getOrders" if self.v0 else "getOrder"
            words = f"{plan.describe(len(ids))} for {counted(len(ids) - len(rest), 'order')}"
            read = {plan.path.value: len(ids) - len(rest)}
            if rest:
                words += f", {other} for the other {len(rest)}"
                read[other] = len(rest)
        made = Counter(self._calls)
        made.subtract(before)
        seconds = rate_limited_seconds({op: n for op, n in made.items() if n > 0})
        words += f"; {seconds:.0f}s of Amazon rate-limited time"
        alone_seconds = None
        if plan.path not in (Path.GET_ORDER, Path.V0):
            alone_seconds = per_order_plan(len(ids), self.v0).seconds
            words += f" (order by order: {alone_seconds:.0f}s)"
        partial = read.get(Path.ALL_ORDERS.value, 0) if plan.path is Path.ALL_ORDERS else 0
        return LookUp(found, words, seconds, plan.path.value, read, alone_seconds, partial)

    def get_orders(self, order_ids: Iterable[str], now: datetime) -> dict[str, Order]:
        """Orders by id with their items: getOrder each (v2026), or getOrders + getOrderItems."""
        ids = list(dict.fromkeys(order_ids))
        if self.v0:
            return self._v0_orders(ids, now)
        found: dict[str, Order] = {}
        for order_id in ids:
            order = self._get_order(order_id)
            if order is not None:
                found[order.order_id] = order
        return found

    def _get_order(self, order_id: str) -> Order | None:
        def get() -> ApiResponse | None:
            try:
                return self.clients.orders_2026.get_order(
                    order_id, includedData=list(INCLUDED_DATA)
                )
            except SellingApiNotFoundException:
                return None  # orders_2026-01-01.json: 404 when the seller has no such order

        res = self._call("getOrder", get)
        if res is None:
            return None
        return order_from_v2026(res.payload.get("order") or res.payload)

    def search_orders(self, since: datetime, progress: Callable[[str], None]) -> dict[str, Order]:
        """The open orders created since `since` in every marketplace of the run (searchOrders)."""
        params: dict[str, Any] = {
            "createdAfter": _iso(since),
            "fulfillmentStatuses": list(SEARCHED_STATUSES),
            "marketplaceIds": list(self.marketplace_ids),
            "maxResultsPerPage": SEARCH_PAGE,
            "includedData": list(INCLUDED_DATA),
        }
        found: dict[str, Order] = {}
        while True:
            current = dict(params)
            res = self._call(
                "searchOrders", partial(self.clients.orders_2026.search_orders, **current)
            )
            for raw in res.payload.get("orders", []):
                order = order_from_v2026(raw)
                found[order.order_id] = order
            # The library lifts `pagination` out of the payload into `next_token`.
            token = res.next_token
            progress(f"searchOrders: {len(found)} open orders so far")
            if not token:
                return found
            # The same parameters with the token (orders_2026-01-01.json, Pagination).
            params["paginationToken"] = token

    def buyer_requests(self, since: datetime, progress: Callable[[str], None]) -> list[Order]:
        """Open merchant-fulfilled orders created since `since` with a buyer's cancellation
        request on a line still open: searchOrders (Orders v2026-01-01, whatever
        `orders_api` says: v0 has no such filter) with includedData FULFILLMENT and
        CANCELLATION, neither of them restricted."""
        params: dict[str, Any] = {
            "createdAfter": _iso(since),
            "fulfillmentStatuses": list(REQUEST_STATUSES),
            "fulfilledBy": ["MERCHANT"],
            "marketplaceIds": list(self.marketplace_ids),
            "maxResultsPerPage": SEARCH_PAGE,
            "includedData": list(INCLUDED_DATA),
        }
        found: list[Order] = []
        seen = 0
        while True:
            current = dict(params)
            res = self._call(
                "searchOrders", partial(self.clients.orders_2026.search_orders, **current)
            )
            for raw in res.payload.get("orders", []):
                seen += 1
                order = order_from_v2026(raw)
                if any(
                    item.buyer_requested_cancel and item.quantity_ordered > item.quantity_shipped
                    for item in order.items
                ):
                    found.append(order)
            progress(f"searchOrders: {seen} open orders read, {len(found)} with buyer requests")
            token = res.next_token
            if not token:
                return found
            params["paginationToken"] = token

    def _v0_orders(self, ids: list[str], now: datetime) -> dict[str, Order]:
        """Orders v0: ceil(N/50) getOrders calls, then getOrderItems for each open order."""
        found: dict[str, Order] = {}
        created_after = _iso(now - _LOOKBACK)
        for start in range(0, len(ids), V0_IDS_PER_CALL):
            chunk = ids[start : start + V0_IDS_PER_CALL]
            params: dict[str, Any] = {
                "AmazonOrderIds": chunk,
                "MarketplaceIds": list(self.marketplace_ids),
                "CreatedAfter": created_after,
                "MaxResultsPerPage": 100,
            }
            while True:
                current = dict(params)
                res = self._call("getOrders", partial(self.clients.orders.get_orders, **current))
                for raw in res.payload.get("Orders", []):
                    order = order_from_v0(raw)
                    found[order.order_id] = order
                token = res.payload.get("NextToken")
                if not token:
                    break
                params = {"NextToken": token, "MarketplaceIds": list(self.marketplace_ids)}
        for order_id, order in list(found.items()):
            # Items cost one call per order: only for orders bulk may send.
            if order.status in OPEN_STATUSES and order.channel == Channel.MFN:
                found[order_id] = replace(order, items=self._v0_items(order_id))
        return found

    def _v0_items(self, order_id: str) -> tuple[OrderItem, ...]:
        items: list[OrderItem] = []
        token: str | None = None
        while True:
            kwargs = {"NextToken": token} if token else {}
            res = self._call(
                "getOrderItems",
                partial(self.clients.orders.get_order_items, order_id, **kwargs),
            )
            items.extend(item_from_v0(raw) for raw in res.payload.get("OrderItems", []))
            token = res.payload.get("NextToken")
            if not token:
                return tuple(items)

    # Feeds -----------------------------------------------------------------------

    def upload_document(self, document: bytes) -> str:
        """createFeedDocument and the upload to its signed URL; returns the document id."""

        def create_and_upload() -> ApiResponse:
            try:
                # Bytes, not str: the library encodes a str as Latin-1
                # (docs/amazon.md, "The client library").
                return self.clients.feeds.create_feed_document(io.BytesIO(document), CONTENT_TYPE)
            except ValueError as e:
                # The library reads a failed upload's answer as JSON; storage and gateways
                # answer XML or HTML. A new document and upload are safe to try again.
                raise TransientError("upload", "an error", "(not JSON)") from e

        res = self._call("createFeedDocument", create_and_upload)
        return str(res.payload["feedDocumentId"])

    def create_feed(self, document_id: str, marketplace_id: str) -> str:
        res = self._call(
            "createFeed",
            lambda: self.clients.feeds.create_feed(
                FEED_TYPE, document_id, marketplaceIds=[marketplace_id]
            ),
            idempotent=False,
        )
        return str(res.payload["feedId"])

    def feed(self, feed_id: str) -> FeedState:
        res = self._call("getFeed", lambda: self.clients.feeds.get_feed(feed_id))
        p = res.payload
        return FeedState(
            feed_id=str(p.get("feedId", feed_id)),
            processing_status=FeedStatus.of(str(p.get("processingStatus", ""))),
            created=parse_time(p.get("createdTime")),
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
                        FeedStatus.of(str(p.get("processingStatus", ""))),
                        parse_time(p.get("createdTime")),
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

    def account_figures(self, progress: Callable[[str], None]) -> dict[str, AccountFigures]:
        """Each marketplace's 7-day cancellation figures, from one seller performance report
        (read once per run: the look-up planner and the policy both use it)."""
        if self._figures is None:
            text = self._reports.document(
                PERFORMANCE_REPORT,
                self.marketplace_ids,
                lambda status: progress(f"reading the account's cancellation rate: {status}"),
            )
            self._figures = parse_performance(text, self.marketplace_ids)
        return self._figures

    def unshipped_orders(self, progress: Callable[[str], None]) -> dict[str, Order]:
        """Every unshipped merchant-fulfilled order with its items, one report per marketplace.

        GET_FLAT_FILE_ACTIONABLE_ORDER_DATA_SHIPPING: tab-separated, one line per order item,
        with `is-buyer-requested-cancellation` since 2022 (Amazon's changelog, "Changes to
        Orders API and Reports API for buyer cancellation requests"). A restricted report
        type: only with [amazon] restricted_data = true, through a Restricted Data Token.
        """
        if not self.restricted_data:
            raise AmazonError(
                "the unshipped-orders report is restricted (role Direct to Consumer Shipping); "
                "set [amazon] restricted_data = true only if the app has that role"
            )
        found: dict[str, Order] = {}
        for marketplace_id in self.marketplace_ids:
            text = self._reports.document(
                UNSHIPPED_REPORT,
                [marketplace_id],
                lambda status: progress(f"unshipped-orders report: {status}"),
            )
            found.update(parse_unshipped_report(text, marketplace_id))
        return found

    def all_orders(
        self,
        since: datetime,
        progress: Callable[[str], None],
        only: Mapping[str, str] | None = None,
    ) -> dict[str, Order]:
        """Every order updated since `since` (of them, those `only` maps), one All Orders report per
        marketplace (GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL; role Inventory and
        Order Tracking, not restricted). Its orders have no order item ids and no buyer's
        cancellation request."""
        found: dict[str, Order] = {}
        for marketplace_id in self.marketplace_ids:
            text = self._reports.document(
                ALL_ORDERS_REPORT,
                [marketplace_id],
                lambda status: progress(f"All Orders report: {status}"),
                dataStartTime=_iso(since),
            )
            found.update(parse_all_orders_report(text, marketplace_id, only))
        return found

    # Access ----------------------------------------------------------------------

    def missing_roles(self, roles: Iterable[str]) -> list[str]:
        """Which of these roles the app lacks, each found by one harmless read (remembered)."""
        missing = []
        for role in roles:
            if role not in self._roles:
                self._roles[role] = probes.has_role(self._call, self.clients, role)
            if not self._roles[role]:
                missing.append(role)
        return missing

    def participations(self) -> tuple[str, ...]:
        """The marketplace ids the seller takes part in (Sellers API)."""
        return probes.participations(self._call, self.clients)

    def login(self) -> None:
        """The login-token exchange; AmazonError when Login with Amazon refuses it."""
        probes.login(self.clients)

    # Messaging -------------------------------------------------------------------

    def message_actions(self, order_id: str, marketplace_id: str) -> set[str]:
        client = self.clients.messaging_for(marketplace_id)
        res = self._call(
            "getMessagingActionsForOrder",
            lambda: client.get_messaging_actions_for_order(
                order_id, marketplaceIds=[marketplace_id]
            ),
        )
        actions = (res.payload.get("_links") or {}).get("actions") or []
        return {str(a.get("name", "")) for a in actions if isinstance(a, dict)}

    def buyer_locale(self, order_id: str, marketplace_id: str) -> str:
        client = self.clients.messaging_for(marketplace_id)
        try:
            res = self._call(
                "getAttributes",
                lambda: client.get_attributes(order_id, marketplaceIds=[marketplace_id]),
            )
        except AmazonError:
            return ""
        # messaging.json gives the locale as "de-DE"; templates are in folders like de_DE.
        return str((res.payload.get("buyer") or {}).get("locale", "")).replace("-", "_")

    def send_unexpected_problem(self, order_id: str, marketplace_id: str, text: str) -> None:
        # The library sends its client's own marketplace id: one messaging client per
        # marketplace (Clients.messaging_for).
        client = self.clients.messaging_for(marketplace_id)
        self._call(
            "createUnexpectedProblem",
            lambda: client.create_unexpected_problem(order_id, body={"text": text}),
            idempotent=False,
        )


def _watch_status(client: Any) -> None:
    """Raise on 429/5xx answers whose body has no `errors` list.

    python-amazon-sp-api raises only when an error body is JSON with `errors`; a 429 with
    an empty body would come back as an empty success (docs/amazon.md, "Rate limits").
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
