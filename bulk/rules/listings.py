"""Listing risk: seller cancellations per listing (SKU in a marketplace) for orders of the last 30 days.

Amazon's Cancellation Rate help page (docs/amazon.md, "Listing risk"): "We closely monitor
your listings with seller-canceled orders and may remove the offer if there is a history of
seller-canceled orders or two consecutive seller-cancelations for orders placed in the last
30 days." A removed offer shows as "Inactive (Ineligible for seller-fulfillment)" in Manage
Inventory and is reactivated by editing its price.

Pure: the caller passes the ledger's earlier cancellations, this run's plan and the clock.
The risk is a warning, never a block: out of stock is out of stock, and holding the row would
not bring the stock back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bulk.formats import utc
from bulk.models import OrderItem, Reason, buyers_cancellation

# "for orders placed in the last 30 days": the order's purchase date decides, not the day
# of the cancellation.
SKU_WINDOW_DAYS = 30
# "two consecutive seller-cancelations": the second one puts the offer at risk.
RISK_FROM = 2

ADVICE = (
    "set the listing's quantity to 0 until it is restocked, so that no new orders arrive to "
    'be cancelled; if Amazon deactivates the offer (Inactive, "Ineligible for '
    'seller-fulfillment"), reactivate it in Manage Inventory by editing its price'
)


@dataclass(frozen=True)
class PastCancellation:
    """One order line bulk has sent as a seller cancellation (from the ledger)."""

    order_id: str
    marketplace_id: str
    sku: str
    asin: str
    purchased: datetime


@dataclass(frozen=True)
class PlannedCancellation:
    """One row of this run that bulk will send (READY today, or DEFERRED to `day`)."""

    row: int
    order_id: str
    marketplace_id: str
    reason: Reason
    lines: tuple[OrderItem, ...]  # the order lines the feed cancels
    purchased: datetime
    day: date  # the day it is sent: today, or the DEFERRED row's day


@dataclass(frozen=True)
class ListingRisk:
    """A listing this run cancels for the second time or more within 30 days."""

    marketplace_id: str
    sku: str
    asin: str  # "" where Amazon gave none
    count: int  # seller cancellations of orders placed in the last 30 days, this run included
    earlier: int  # of which bulk sent before this run (the ledger)
    rows: tuple[int, ...]  # the rows of this run that cancel it, in sending order
    warned_rows: tuple[int, ...]  # the rows that are its 2nd or later cancellation


@dataclass(frozen=True)
class ListingReport:
    """The warnings for each row (by sheet row) and the listings at risk."""

    warnings: dict[int, tuple[str, ...]]
    at_risk: tuple[ListingRisk, ...]


def seller_lines(reason: Reason, lines: Sequence[OrderItem]) -> tuple[OrderItem, ...]:
    """The lines whose cancellation is the seller's.

    As for the rate (docs/amazon.md, "Cancellation rate"): a line the buyer asked Amazon to
    cancel (IsBuyerRequestedCancel) cancelled with BuyerCanceled is the buyer's; every other
    cancelled line is the seller's.
    """
    return tuple(
        line for line in lines if not buyers_cancellation(reason.code, line.buyer_requested_cancel)
    )


def ordinal(n: int) -> str:
    """1 -> "1st", 2 -> "2nd", 11 -> "11th", 23 -> "23rd"."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def warning(sku: str, count: int) -> str:
    """The words on a row that is the `count`-th seller cancellation of `sku` in 30 days."""
    return f"{ordinal(count)} seller cancellation of {sku} in {SKU_WINDOW_DAYS} days: the offer may be removed"


def assess(
    past: Sequence[PastCancellation],
    planned: Sequence[PlannedCancellation],
    now: datetime,
) -> ListingReport:
    """Count each listing's seller cancellations and warn the rows that make it 2 or more.

    A listing is a SKU in one marketplace (the same SKU on another marketplace is another
    offer). Orders count once per listing, however many of its lines carry the SKU. Rows are
    taken in the order they are sent (day, then sheet row), after the ledger's cancellations.
    """
    since = utc(now) - timedelta(days=SKU_WINDOW_DAYS)
    orders: dict[tuple[str, str], set[str]] = {}
    asins: dict[tuple[str, str], str] = {}
    for p in past:
        if utc(p.purchased) < since:
            continue
        key = (p.marketplace_id, p.sku.casefold())
        orders.setdefault(key, set()).add(p.order_id)
        asins.setdefault(key, p.asin)
    earlier = {key: len(ids) for key, ids in orders.items()}

    names: dict[tuple[str, str], str] = {}
    rows: dict[tuple[str, str], list[int]] = {}
    warned: dict[tuple[str, str], list[int]] = {}
    warnings: dict[int, list[str]] = {}
    for plan in sorted(planned, key=lambda p: (p.day, p.row)):
        if utc(plan.purchased) < since:
            continue  # an order placed over 30 days ago is outside the listing rule
        for line in seller_lines(plan.reason, plan.lines):
            if not line.sku:
                continue
            key = (plan.marketplace_id, line.sku.casefold())
            names.setdefault(key, line.sku)
            if line.asin and not asins.get(key):
                asins[key] = line.asin
            ids = orders.setdefault(key, set())
            if plan.order_id in ids:
                continue  # another line of the same order: one cancellation of the listing
            ids.add(plan.order_id)
            rows.setdefault(key, []).append(plan.row)
            if len(ids) >= RISK_FROM:
                warned.setdefault(key, []).append(plan.row)
                warnings.setdefault(plan.row, []).append(warning(line.sku, len(ids)))

    at_risk = tuple(
        ListingRisk(
            marketplace_id=key[0],
            sku=names[key],
            asin=asins.get(key, ""),
            count=len(orders[key]),
            earlier=earlier.get(key, 0),
            rows=tuple(rows[key]),
            warned_rows=tuple(warned[key]),
        )
        for key in sorted(warned, key=lambda k: (-len(orders[k]), names[k]))
    )
    return ListingReport({row: tuple(w) for row, w in warnings.items()}, at_risk)
