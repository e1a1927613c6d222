"""What the pipeline needs from Amazon: the `SellerAccount` Protocol and the types it answers with.

The pipeline (bulk.pipeline.run, bulk.pipeline.submission, bulk.pipeline.messaging) is written
against this Protocol only, so it runs the same against Amazon, the sandbox (both through
`AmazonAccount`) or a fake in a unit test. This module is the adapter's only door for the
layers above it: besides the Protocol it names the feed document `upload_document` takes (built
by `feed_documents`), the processing report `report` answers with, and how long Amazon takes
to build the account's performance report.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bulk.amazon.feed import (
    FeedMessage,
    ProcessingReport,
    ReportResult,
    build_document,
    feed_documents,
)
from bulk.amazon.lookup import (
    REPORT_GIVE_UP_SECONDS,
    REPORT_LATENCY_SECONDS,
    REPORT_POLL_SECONDS,
)
from bulk.errors import AmazonError
from bulk.models import AccountFigures, FeedStatus, Order

__all__ = [
    "REPORT_GIVE_UP_SECONDS",
    "REPORT_LATENCY_SECONDS",
    "REPORT_POLL_SECONDS",
    "FeedMessage",
    "FeedState",
    "LookUp",
    "ProcessingReport",
    "ReportResult",
    "SellerAccount",
    "UncertainError",
    "build_document",
    "feed_documents",
]


class UncertainError(AmazonError):
    """A call that must not be repeated failed in a way that leaves its outcome unknown."""


class AccessDeniedError(AmazonError):
    """Amazon answered 403: the app lacks a role for the call, or its authorisation (the
    refresh token) was revoked. Nothing was done; the same call works once access is back."""


@dataclass(frozen=True)
class FeedState:
    feed_id: str
    processing_status: FeedStatus
    created: datetime | None
    result_document_id: str | None

    @property
    def finished(self) -> bool:
        return self.processing_status.finished


@dataclass(frozen=True)
class LookUp:
    """Orders found by a look-up, and what it cost: which path, and its rate-limited time."""

    orders: dict[str, Order]
    path: str  # in words, for the summary and -v
    seconds: float = 0.0  # Amazon rate-limited time of the calls the path made
    method: str = ""  # the path: getOrder, getOrders, searchOrders or report
    read: dict[str, int] | None = None  # orders read by each method (the path, then getOrder)
    order_by_order_seconds: float | None = None  # what per-order calls would have taken
    # Orders read from the All Orders report: without order item ids, ship-by date or the
    # buyer's cancellation request (only for rows that did not need them).
    without_detail: int = 0


class SellerAccount(Protocol):
    """One seller account in one region, in one or more of its marketplaces."""

    @property
    def marketplace_ids(self) -> tuple[str, ...]:
        """The marketplaces this run works in, the first being the main one."""
        ...

    @property
    def calls(self) -> Mapping[str, int]:
        """API calls made so far, by operation."""
        ...

    @property
    def answer_seconds(self) -> float:
        """Seconds spent so far waiting for Amazon's answers: the network and Amazon's own
        work (building a report, processing a feed's upload), not bulk's."""
        ...

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
        """Orders by id (with items and marketplace), by the cheapest path; `since` is the
        oldest purchase a row can have under the policy. `one_by_one(n, calls_each)` is told
        before n orders are read one by one, with the calls each takes. `detail` names the
        orders whose order item ids and buyer's cancellation request are needed (None: all);
        the others may come without them (blank item ids)."""
        ...

    def get_orders(self, order_ids: Iterable[str], now: datetime) -> dict[str, Order]:
        """Orders by id, with their items, one by one (for reading orders again after a feed)."""
        ...

    @property
    def restricted_data(self) -> bool:
        """Whether the restricted unshipped-orders report may be read ([amazon] restricted_data)."""
        ...

    def unshipped_orders(self, progress: Callable[[str], None]) -> dict[str, Order]:
        """Every unshipped order with its items (restricted: only with `restricted_data`)."""
        ...

    def all_orders(self, since: datetime, progress: Callable[[str], None]) -> dict[str, Order]:
        """Every order updated since `since` (the All Orders report: no item ids, no buyer
        requests)."""
        ...

    def buyer_requests(self, since: datetime, progress: Callable[[str], None]) -> list[Order]:
        """Unshipped seller-fulfilled orders created since `since` in the run's marketplaces
        whose buyer asked Amazon to cancel some line still open (searchOrders with
        CANCELLATION; no restricted data), oldest first."""
        ...

    # Account
    def login(self) -> None:
        """The login-token exchange; AmazonError when Login with Amazon refuses it."""
        ...

    def participations(self) -> tuple[str, ...]:
        """The marketplace ids the seller takes part in (Sellers API)."""
        ...

    def missing_roles(self, roles: Iterable[str]) -> list[str]:
        """Which of these roles (Amazon's names, bulk.access) the app lacks, each found by one
        harmless read."""
        ...

    def account_figures(self, progress: Callable[[str], None]) -> Mapping[str, AccountFigures]:
        """Each marketplace's 7-day cancellation figures, by marketplace id (every one of
        `marketplace_ids` is present)."""
        ...

    # Feeds
    def upload_document(self, document: bytes) -> str: ...

    def create_feed(self, document_id: str, marketplace_id: str) -> str: ...

    def wait_for_feed(
        self, feed_id: str, limit_seconds: float, progress: Callable[[FeedState, float], None]
    ) -> FeedState: ...

    def feeds_since(self, since: datetime) -> list[FeedState]: ...

    def report(self, result_document_id: str) -> ProcessingReport: ...

    # Messaging
    def message_actions(self, order_id: str, marketplace_id: str) -> set[str]: ...

    def buyer_locale(self, order_id: str, marketplace_id: str) -> str: ...

    def send_unexpected_problem(self, order_id: str, marketplace_id: str, text: str) -> None: ...
