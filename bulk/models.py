"""The data that flows through a run: statuses, reasons, parsed requests, Amazon orders, decisions."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

ORDER_ID_RE = re.compile(r"^[0-9]{3}-[0-9]{7}-[0-9]{7}$")
ORDER_ITEM_ID_RE = re.compile(r"^[0-9]{14}$")


class TargetName(StrEnum):
    """Where a run sends: the local sandbox or Amazon ([amazon] target)."""

    SANDBOX = "sandbox"
    PRODUCTION = "production"


class Channel(StrEnum):
    """Who fulfils an order (ordersV0.json FulfillmentChannel; v2026 fulfilledBy maps to it)."""

    MFN = "MFN"  # the seller: bulk may cancel it
    AFN = "AFN"  # Amazon: only Amazon cancels it


class FeedStatus(StrEnum):
    """A feed's processingStatus (feeds_2021-06-30.json), and UNKNOWN for a feed bulk could not
    find again (the ledger's mark for a recovered submission)."""

    IN_QUEUE = "IN_QUEUE"
    IN_PROGRESS = "IN_PROGRESS"
    DONE = "DONE"
    CANCELLED = "CANCELLED"
    FATAL = "FATAL"
    UNKNOWN = "UNKNOWN"

    @property
    def finished(self) -> bool:
        return self in (FeedStatus.DONE, FeedStatus.CANCELLED, FeedStatus.FATAL)

    @classmethod
    def of(cls, text: str) -> FeedStatus:
        """Amazon's words as a status; a status Amazon adds later reads as IN_PROGRESS (not
        finished: the feed is polled again)."""
        try:
            return cls(text)
        except ValueError:
            return cls.IN_PROGRESS


class SubmissionState(StrEnum):
    """A submission's step in the ledger: each is recorded before the next call is made."""

    PLANNED = "planned"  # in the ledger, not uploaded
    UPLOADED = "uploaded"  # the document is at Amazon, no feed yet
    CREATED = "created"  # the feed exists: Amazon processes it
    DONE = "done"  # its processing report is read and every row has its outcome
    CANCELLED = "cancelled"  # Amazon ended the feed CANCELLED
    FATAL = "fatal"  # Amazon ended the feed FATAL
    RECOVERED = "recovered"  # the feed was never confirmed; each order was read again
    ABANDONED = "abandoned"  # never uploaded, and given up

    @property
    def open(self) -> bool:
        return self in (SubmissionState.PLANNED, SubmissionState.UPLOADED, SubmissionState.CREATED)


class LedgerOutcome(StrEnum):
    """What became of one order of a submission, as the ledger knows it."""

    PENDING = "pending"  # sent (or about to be); Amazon's answer not read yet
    CANCELLED = "cancelled"
    FAILED = "failed"
    ABANDONED = "abandoned"  # its submission never reached Amazon


class MessageState(StrEnum):
    """A customer message's state in the ledger: claimed before it is sent, then finished."""

    SENDING = "sending"  # claimed; an interrupted run leaves it so, and it is never sent again
    SENT = "sent"
    NOT_ALLOWED = "not_allowed"  # Amazon offers no unexpectedProblem message for the order
    FAILED = "failed"  # Amazon refused it
    UNCERTAIN = "uncertain"  # the answer was lost: it may have reached the buyer


class MessageOutcome(StrEnum):
    """What became of the customer message of a row this run cancelled (the summary's counts)."""

    SENT = "sent"
    NOT_ALLOWED = "not_allowed"
    NOT_REQUESTED = "not_requested"
    NOT_SENT = "not_sent"


class Status(StrEnum):
    """A row's status, as written in the sheet's Status column (README.md, "Statuses")."""

    NEW = ""
    READY = "READY"
    REJECTED = "REJECTED"
    HELD = "HELD"
    DEFERRED = "DEFERRED"
    ESCALATE = "ESCALATE"
    SUBMITTED = "SUBMITTED"
    CANCELLED = "CANCELLED"
    FAILED = "FAILED"

    @property
    def in_good_standing(self) -> bool:
        """Rows in these statuses need no fix from staff (exit code 0)."""
        return self not in (Status.REJECTED, Status.FAILED)


class Remedy(StrEnum):
    """What the buyer is offered; picks the message template variant."""

    REFUND = "Refund"
    REPLACEMENT = "Replacement"
    NONE = "None"


# The Notify column: the two words its dropdown offers, and every word read as each.
NOTIFY_CHOICES = ("Yes", "No")
NOTIFY_YES_WORDS = frozenset({"yes", "y", "true", "1", "ja"})
NOTIFY_NO_WORDS = frozenset({"no", "n", "false", "0", "nein"})


# The reason code that says the buyer asked for the cancellation.
BUYER_CANCELED = "BuyerCanceled"

# Amazon's CancelReason values for the Order Acknowledgement feed
# (docs/amazon.md, "Reason codes").
CANCEL_REASON_CODES: tuple[str, ...] = (
    "NoInventory",
    "ShippingAddressUndeliverable",
    "CustomerExchange",
    BUYER_CANCELED,
    "GeneralAdjustment",
    "CarrierCreditDecision",
    "RiskAssessmentInformationNotValid",
    "CarrierCoverageFailure",
    "CustomerReturn",
    "MerchandiseNotReceived",
)

# Reasons that speak of something after shipment (a return, goods the buyer did not receive,
# a carrier's decision on a shipment). bulk cancels orders before they ship, so these are not in
# the default Reason dropdown; a team that needs one adds it back in [reasons]
# (docs/amazon.md, "Reasons and remedies").
AFTER_SHIPMENT_REASONS: frozenset[str] = frozenset(
    {"CustomerReturn", "MerchandiseNotReceived", "CarrierCreditDecision"}
)

# The one reason x remedy table (docs/amazon.md, "Reasons and remedies"): the remedies a reason
# refuses, each with the words that tell staff why. Every pair not listed here is allowed.
# A replacement means the buyer may place a new order; that cannot help a buyer whose address
# cannot be served, whose order failed Amazon's checks, or who asked to cancel.
REFUSED_REMEDIES: dict[str, dict[Remedy, str]] = {
    "ShippingAddressUndeliverable": {
        Remedy.REPLACEMENT: "a new order to the same address could not be delivered either",
    },
    "RiskAssessmentInformationNotValid": {
        Remedy.REPLACEMENT: "the order did not pass the risk check, so nothing may be offered "
        "in its place",
    },
    "CarrierCoverageFailure": {
        Remedy.REPLACEMENT: "no carrier covers the address, so a new order could not be "
        "delivered either",
    },
    "BuyerCanceled": {
        Remedy.REPLACEMENT: "the buyer asked to cancel; offering them something in its place "
        "contradicts their request",
    },
}


def remedy_refused(code: str, remedy: Remedy) -> str:
    """Why `remedy` cannot go with reason `code` (REFUSED_REMEDIES); "" when it can."""
    return REFUSED_REMEDIES.get(code, {}).get(remedy, "")


def allowed_remedies(code: str) -> tuple[Remedy, ...]:
    """The remedies reason `code` allows, in the order the dropdown lists them."""
    return tuple(r for r in Remedy if not remedy_refused(code, r))


@dataclass(frozen=True)
class Reason:
    """A reason staff pick from the dropdown, and the Amazon CancelReason it sends."""

    label: str
    code: str

    @property
    def buyer_requested(self) -> bool:
        return self.code == BUYER_CANCELED


def buyers_cancellation(reason_code: str, buyer_requested: bool) -> bool:
    """Amazon's rule (docs/amazon.md, "Cancellation rate"): a line the buyer asked Amazon to
    cancel (IsBuyerRequestedCancel), cancelled with BuyerCanceled, is the buyer's cancellation
    and does not count toward the seller's rate; every other cancellation is the seller's."""
    return buyer_requested and reason_code == BUYER_CANCELED


@dataclass(frozen=True, slots=True)
class ItemRef:
    """One entry of the Items column: a SKU or a 14-digit order item id, with an optional quantity."""

    ref: str
    quantity: int | None = None  # None: the whole order line

    @property
    def is_order_item_id(self) -> bool:
        return ORDER_ITEM_ID_RE.match(self.ref) is not None


@dataclass(frozen=True, slots=True)
class CancelRequest:
    """One valid sheet row: what staff asked to cancel."""

    row: int  # 1-based row number in the sheet
    order_id: str
    reason: Reason
    details: str
    items: tuple[ItemRef, ...] = ()  # empty means the whole order
    remedy: Remedy = Remedy.REFUND
    notify: bool = True
    # The Notify cell said Yes or No (blank: `notify` is the team's default): a buyer-requested
    # cancellation is messaged only on an explicit Yes.
    notify_explicit: bool = False
    note: str = ""  # the Note to Buyer column: the only staff text a customer message quotes


@dataclass(frozen=True, slots=True)
class OrderItem:
    """An order line as Amazon reports it (Orders v0 OrderItem)."""

    order_item_id: str
    sku: str
    title: str
    quantity_ordered: int
    quantity_shipped: int = 0
    buyer_requested_cancel: bool = False
    asin: str = ""  # Amazon's product id, where the look-up gives it
    buyer_cancel_reason: str = ""


class OrderStatus(StrEnum):
    """An order's state, whichever API reported it.

    The values are Orders v0 `OrderStatus` names (ordersV0.json, Order.OrderStatus); Orders
    v2026-01-01 `fulfillment.fulfillmentStatus` maps one to one (orders_2026-01-01.json,
    FulfillmentStatus), and the unshipped-orders report lists only the two open ones.
    """

    PENDING_AVAILABILITY = "PendingAvailability"
    PENDING = "Pending"
    UNSHIPPED = "Unshipped"
    PARTIALLY_SHIPPED = "PartiallyShipped"
    SHIPPED = "Shipped"
    INVOICE_UNCONFIRMED = "InvoiceUnconfirmed"
    CANCELED = "Canceled"
    UNFULFILLABLE = "Unfulfillable"


# Open: something is still to ship, and the seller may cancel it.
OPEN_STATUSES = frozenset({OrderStatus.UNSHIPPED, OrderStatus.PARTIALLY_SHIPPED})
# Every item has shipped: nothing is left to cancel.
SHIPPED_STATUSES = frozenset({OrderStatus.SHIPPED, OrderStatus.INVOICE_UNCONFIRMED})


@dataclass(frozen=True, slots=True)
class Order:
    """An order as Amazon reports it, with its items: one model whatever API answered."""

    order_id: str
    status: str  # an OrderStatus value (a str, so an unknown status Amazon adds still reads)
    channel: str  # FulfillmentChannel: MFN (seller-fulfilled) or AFN (Amazon-fulfilled)
    # Timezone-aware; None when Amazon gave no purchase date, so the order's age is unknown.
    purchased: datetime | None
    marketplace_id: str = ""
    items: tuple[OrderItem, ...] = ()
    locale: str = ""  # buyer's locale where known (Messaging getAttributes), e.g. en_US
    # The latest ship date (v2026 fulfillment.shipByWindow.latestDateTime, v0 LatestShipDate,
    # the unshipped-orders report's promise-date); None where the answer gave none.
    ship_by: datetime | None = None

    @property
    def buyer_requested_cancel(self) -> bool:
        return any(item.buyer_requested_cancel for item in self.items)


@dataclass(frozen=True, slots=True)
class Decision:
    """What to do with one request, and the words that explain it on its row."""

    status: Status
    result: str
    items: tuple[OrderItem, ...] = ()  # the order lines a feed would cancel
    counts_toward_rate: bool = True
    scheduled_for: date | None = None
    warnings: tuple[str, ...] = field(default=())

    def warned(self, warnings: Sequence[str]) -> Decision:
        """The same decision with more warnings (dataclasses.replace, without its cost per row)."""
        return Decision(
            self.status,
            self.result,
            self.items,
            self.counts_toward_rate,
            self.scheduled_for,
            (*self.warnings, *warnings),
        )


# The days Amazon's account health report covers (whole UTC days ending with its reportingDateTo).
REPORT_DAYS = 7


@dataclass(frozen=True)
class AccountFigures:
    """The account's 7-day pre-fulfillment cancellation figures.

    From GET_V2_SELLER_PERFORMANCE_REPORT, performanceMetrics[].preFulfillmentCancellationRate
    (accountHealthReport-2020-11-18.json): orderCount, cancellationCount and the end of
    reportingDateRange (reportingDateTo, UTC).
    """

    order_count: int
    cancellation_count: int
    report_end: date

    def __post_init__(self) -> None:
        if self.order_count < 0 or self.cancellation_count < 0:
            raise ValueError(
                f"order and cancellation counts cannot be negative: {self.order_count}, "
                f"{self.cancellation_count}"
            )

    @property
    def rate(self) -> float:
        """cancellationCount / orderCount; 0 when the report has no orders."""
        if self.order_count == 0:
            return 0.0
        return self.cancellation_count / self.order_count

    @property
    def report_start(self) -> date:
        return self.report_end - timedelta(days=REPORT_DAYS - 1)
