"""An in-memory `SellerAccount` for unit tests of the pipeline: orders by id, feeds that finish with
a chosen processing report, message actions, buyer locales, account figures. Every call is
recorded. No HTTP, no sleeps: a feed is done or still processing as the test says."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from bulk.amazon.protocol import FeedState, LookUp, ProcessingReport, ReportResult, UncertainError
from bulk.models import AccountFigures, FeedStatus, Order, OrderStatus

_MESSAGE_RE = re.compile(
    rb"<MessageID>(\d+)</MessageID>.*?<AmazonOrderID>([^<]+)</AmazonOrderID>", re.DOTALL
)


@dataclass
class _Feed:
    document: bytes
    marketplace_id: str
    order_ids: dict[int, str]  # MessageID -> AmazonOrderID, as the document says
    done: bool = False


@dataclass
class FakeMarket:
    """Answers from what the test set up; `log` holds every call in order, with its arguments."""

    orders: dict[str, Order]
    marketplace_ids: tuple[str, ...]
    errors: dict[str, tuple[str, str]] = field(default_factory=dict)  # order -> (code, words)
    # order -> (code, words) of a Warning result: Amazon still processes (cancels) the order
    warnings: dict[str, tuple[str, str]] = field(default_factory=dict)
    not_allowed: set[str] = field(default_factory=set)  # no unexpectedProblem action
    uncertain: set[str] = field(default_factory=set)  # the send's answer is lost
    locales: dict[str, str] = field(default_factory=dict)
    hold_feeds: bool = False  # feeds stay IN_PROGRESS while set
    log: list[tuple[object, ...]] = field(default_factory=list)
    restricted_data: bool = False  # [amazon] restricted_data: the unshipped-orders report
    lacking: set[str] = field(default_factory=set)  # roles the app does not have
    documents: dict[str, bytes] = field(default_factory=dict)
    feeds: dict[str, _Feed] = field(default_factory=dict)
    sent: list[tuple[str, str, str]] = field(default_factory=list)  # order, marketplace, text
    _calls: Counter[str] = field(default_factory=Counter)

    @property
    def calls(self) -> Counter[str]:
        return self._calls

    @property
    def answer_seconds(self) -> float:
        return 0.0  # answers come from memory

    def _record(self, operation: str, *args: object, count: int = 1) -> None:
        self._calls[operation] += count
        self.log.append((operation, *args))

    # Orders
    def look_up(
        self,
        order_ids: Sequence[str],
        now: datetime,
        since: datetime,
        progress: Callable[[str], None],
        one_by_one: Callable[[int, Mapping[str, int]], None] | None = None,
        detail: Collection[str] | None = None,
    ) -> LookUp:
        if one_by_one is not None:
            one_by_one(len(order_ids), {"getOrder": 1})
        self._record("getOrder", tuple(order_ids), count=len(order_ids))
        return LookUp({i: self.orders[i] for i in order_ids if i in self.orders}, "fake look-up")

    def get_orders(self, order_ids: Iterable[str], now: datetime) -> dict[str, Order]:
        ids = tuple(order_ids)
        self._record("getOrders", ids)
        return {i: self.orders[i] for i in ids if i in self.orders}

    def all_orders(self, since: datetime, progress: Callable[[str], None]) -> dict[str, Order]:
        """As the All Orders report: no order item ids, no buyer requests."""
        self._record("allOrdersReport")
        return {
            i: replace(
                o,
                items=tuple(
                    replace(x, order_item_id="", buyer_requested_cancel=False) for x in o.items
                ),
            )
            for i, o in self.orders.items()
        }

    def unshipped_orders(self, progress: Callable[[str], None]) -> dict[str, Order]:
        self._record("unshippedReport")
        open_ = (OrderStatus.UNSHIPPED, OrderStatus.PARTIALLY_SHIPPED)
        return {i: o for i, o in self.orders.items() if o.status in open_}

    def buyer_requests(self, since: datetime, progress: Callable[[str], None]) -> list[Order]:
        self._record("searchOrders", since)
        open_ = (OrderStatus.UNSHIPPED, OrderStatus.PARTIALLY_SHIPPED)
        return [
            o
            for o in self.orders.values()
            if o.status in open_
            and o.channel == "MFN"
            and o.purchased is not None
            and o.purchased >= since
            and any(i.buyer_requested_cancel for i in o.items)
        ]

    def login(self) -> None:
        self._record("token")

    def participations(self) -> tuple[str, ...]:
        self._record("getMarketplaceParticipations")
        return self.marketplace_ids

    def missing_roles(self, roles: Iterable[str]) -> list[str]:
        return [r for r in roles if r in self.lacking]

    # Account
    def account_figures(self, progress: Callable[[str], None]) -> dict[str, AccountFigures]:
        self._record("createReport")
        return {m: AccountFigures(1_000, 0, date(2026, 11, 29)) for m in self.marketplace_ids}

    # Feeds
    def upload_document(self, document: bytes) -> str:
        document_id = f"doc-{len(self.documents) + 1}"
        self._record("createFeedDocument", document_id)
        self.documents[document_id] = document
        return document_id

    def create_feed(self, document_id: str, marketplace_id: str) -> str:
        feed_id = f"feed-{len(self.feeds) + 1}"
        self._record("createFeed", document_id, marketplace_id)
        document = self.documents[document_id]
        ids = {int(m): o.decode() for m, o in _MESSAGE_RE.findall(document)}
        self.feeds[feed_id] = _Feed(document, marketplace_id, ids)
        return feed_id

    def wait_for_feed(
        self, feed_id: str, limit_seconds: float, progress: Callable[[FeedState, float], None]
    ) -> FeedState:
        self._record("getFeed", feed_id, limit_seconds)
        feed = self.feeds[feed_id]
        if self.hold_feeds:
            return FeedState(feed_id, FeedStatus.IN_PROGRESS, None, None)
        if not feed.done:
            feed.done = True
            for order_id in feed.order_ids.values():
                if order_id not in self.errors:
                    order = self.orders[order_id]
                    self.orders[order_id] = replace(order, status=OrderStatus.CANCELED)
        return FeedState(feed_id, FeedStatus.DONE, None, f"report-{feed_id}")

    def feeds_since(self, since: datetime) -> list[FeedState]:
        self._record("getFeeds", since)
        return [
            FeedState(i, FeedStatus.DONE if f.done else FeedStatus.IN_PROGRESS, None, None)
            for i, f in self.feeds.items()
        ]

    def report(self, result_document_id: str) -> ProcessingReport:
        self._record("getFeedDocument", result_document_id)
        feed = self.feeds[result_document_id.removeprefix("report-")]
        results = tuple(
            ReportResult(message_id, code, *words[order_id], order_id=order_id)
            for message_id, order_id in feed.order_ids.items()
            for code, words in (("Error", self.errors), ("Warning", self.warnings))
            if order_id in words
        )
        n = len(feed.order_ids)
        errors = sum(1 for r in results if r.code == "Error")
        warned = sum(1 for r in results if r.code == "Warning")
        return ProcessingReport(n, n - errors, errors, warned, results)

    # Messaging
    def message_actions(self, order_id: str, marketplace_id: str) -> set[str]:
        self._record("getMessagingActionsForOrder", order_id, marketplace_id)
        return set() if order_id in self.not_allowed else {"unexpectedProblem"}

    def buyer_locale(self, order_id: str, marketplace_id: str) -> str:
        self._record("getAttributes", order_id, marketplace_id)
        order = self.orders.get(order_id)
        if order is not None and order.marketplace_id != marketplace_id:
            # Amazon refuses an order asked of another marketplace; the adapter answers "".
            return ""
        return self.locales.get(order_id, "")

    def send_unexpected_problem(self, order_id: str, marketplace_id: str, text: str) -> None:
        self._record("createUnexpectedProblem", order_id, marketplace_id)
        if order_id in self.uncertain:
            raise UncertainError("the connection dropped before Amazon answered")
        self.sent.append((order_id, marketplace_id, text))
