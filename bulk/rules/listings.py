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
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from operator import attrgetter
from typing import NamedTuple

from bulk.formats import utc
from bulk.models import BUYER_CANCELED, OrderItem, Reason, buyers_cancellation

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


class PlannedCancellation(NamedTuple):
    """One row of this run that bulk will send (READY today, or DEFERRED to `day`).

    A named tuple: a run makes one per row it sends, 100,000 at a time, at a third of a frozen
    dataclass's cost."""

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
    if reason.code != BUYER_CANCELED:
        return tuple(lines)  # only BuyerCanceled makes a line the buyer's
    return tuple(
        line for line in lines if not buyers_cancellation(reason.code, line.buyer_requested_cancel)
    )


_SUFFIXES = {1: "st", 2: "nd", 3: "rd"}


def ordinal(n: int) -> str:
    """1 -> "1st", 2 -> "2nd", 11 -> "11th", 23 -> "23rd"."""
    suffix = "th" if 10 <= n % 100 <= 20 else _SUFFIXES.get(n % 10, "th")
    return f"{n}{suffix}"


def warning(sku: str, count: int) -> str:
    """The words on a row that is the `count`-th seller cancellation of `sku` in 30 days."""
    return ordinal(count) + _after_count(sku)


def _after_count(sku: str) -> str:
    """A warning's words after the count: the same for every row of one SKU."""
    return f" seller cancellation of {sku} in {SKU_WINDOW_DAYS} days: the offer may be removed"


@dataclass(slots=True)
class _Tally:
    """What `assess` knows of one listing: its name and ASIN, the orders that cancel it (the
    ledger's first, `earlier` of them), this run's rows that do and those it warns."""

    key: tuple[str, str]  # the marketplace and the case-folded SKU
    name: str  # as this run's first row writes the SKU ("" while only the ledger names it)
    asin: str
    ids: set[str]
    earlier: int = 0
    rows: list[int] = field(default_factory=list)
    warned: list[int] = field(default_factory=list)


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
    tallies: dict[tuple[str, str], _Tally] = {}
    for p in past:
        if utc(p.purchased) < since:
            continue
        key = (p.marketplace_id, p.sku.casefold())
        tally = tallies.get(key)
        if tally is None:
            tallies[key] = _Tally(key, "", p.asin, {p.order_id})
        else:
            tally.ids.add(p.order_id)
    for tally in tallies.values():
        tally.earlier = len(tally.ids)

    warnings: dict[int, tuple[str, ...]] = {}
    at_risk: list[_Tally] = []
    # (marketplace, SKU as a line writes it) -> its listing's tally and the words of its
    # warnings after the count, so that each spelling is case-folded and worded once.
    spelled: dict[tuple[str, str], tuple[_Tally, str]] = {}
    ordinals: dict[int, str] = {}
    for row, order_id, market, reason, lines, bought, _ in sorted(
        planned, key=attrgetter("day", "row")
    ):
        # utc() of a moment already in UTC is itself: the usual case skips the call.
        if (bought if bought.tzinfo is UTC else utc(bought)) < since:
            continue  # an order placed over 30 days ago is outside the listing rule
        for line in lines if reason.code != BUYER_CANCELED else seller_lines(reason, lines):
            sku = line.sku
            if not sku:
                continue
            known = spelled.get((market, sku))
            if known is None:
                key = (market, sku.casefold())
                tally = tallies.get(key)
                if tally is None:
                    tally = tallies[key] = _Tally(key, sku, line.asin, set())
                elif not tally.name:
                    tally.name = sku  # the listing is named as this run's rows write it
                known = spelled[(market, sku)] = (tally, _after_count(sku))
            tally, words = known
            if line.asin and not tally.asin:
                tally.asin = line.asin
            ids = tally.ids
            if order_id in ids:
                continue  # another line of the same order: one cancellation of the listing
            ids.add(order_id)
            tally.rows.append(row)
            count = len(ids)
            if count >= RISK_FROM:
                if not tally.warned:
                    at_risk.append(tally)  # in the order of their first warning
                tally.warned.append(row)
                nth = ordinals.get(count)
                if nth is None:
                    nth = ordinals[count] = ordinal(count)
                text = nth + words  # warning(sku, count)
                said = warnings.get(row)
                warnings[row] = (text,) if said is None else (*said, text)

    at_risk.sort(key=lambda t: (-len(t.ids), t.name))
    risks = tuple(
        ListingRisk(
            marketplace_id=t.key[0],
            sku=t.name,
            asin=t.asin,
            count=len(t.ids),
            earlier=t.earlier,
            rows=tuple(t.rows),
            warned_rows=tuple(t.warned),
        )
        for t in at_risk
    )
    return ListingReport(warnings, risks)
