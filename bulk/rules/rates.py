"""Amazon's cancellation-rate arithmetic: the account's figures, the rate windows, the target.

The rate is seller-cancelled orders over all seller-fulfilled orders in a trailing window; each
marketplace's target and windows are in bulk.marketplaces (7 days under 2.5%; India 7 and 30
days under 2%). Pure functions of their arguments; bulk.rules.policy plans with them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from bulk.config import PolicyConfig
from bulk.marketplaces import MarketplaceInfo
from bulk.models import REPORT_DAYS, AccountFigures

# Amazon's Cancellation Rate is seller-cancelled orders / all orders over 7 days (India: 7 and
# 30 days), and each marketplace's target and windows are in bulk.marketplaces. The account's
# figures come from a 7-day report; its windows are whole UTC days
# (accountHealthReport-2020-11-18.json, ReportingDateRange "2020-11-12T00:00Z" to
# "2020-11-18T23:59Z"), so every day in this module is a UTC calendar day.


def reporting_day(moment: datetime) -> date:
    """The UTC calendar day of `moment`, as Amazon's reports count days (naive means UTC)."""
    if moment.tzinfo is None:
        return moment.date()
    return moment.astimezone(UTC).date()


@dataclass(frozen=True)
class Send:
    """A cancellation bulk already sent (from the ledger)."""

    order_id: str
    sent_at: datetime
    counts: bool  # whether it counts toward the cancellation rate


@dataclass(frozen=True)
class Window:
    """One of the marketplace's rate windows ending today: its budget and what it already holds."""

    days: int
    orders: int  # orderCount for 7 days; for a longer window, the same daily volume
    budget: int  # the most counted cancellations that keep its rate on target (`allowed`)
    used: int  # the report's cancellationCount plus bulk's counted sends in it outside the report

    @property
    def left(self) -> int:
        return self.budget - self.used


def target_rate(config: PolicyConfig, market: MarketplaceInfo) -> float:
    """The rate a run plans under: the marketplace's target, or the config's stricter cap."""
    if config.target_rate is None:
        return market.target_rate
    return min(config.target_rate, market.target_rate)


def allowed(orders: int, config: PolicyConfig, market: MarketplaceInfo) -> int:
    """The most counted cancellations among `orders` orders that keep the rate on target.

    Amazon's target is "under" the marketplace's rate (2.5%: 10 of 400 is not under it, 9 is);
    the config's `target_rate`, where set, is a cap the rate may reach (2% of 400 is 8).
    Decimal(repr(x)) is the number as written, so 1.5% of 200 is exactly 3, where binary
    floating point would make it 2.9999... and floor it to 2.
    """
    under = max(0, math.ceil(Decimal(repr(market.target_rate)) * orders) - 1)
    if config.target_rate is None:
        return under
    return min(under, math.floor(Decimal(repr(config.target_rate)) * orders))


def window_orders(figures: AccountFigures, days: int) -> int:
    # The report counts 7 days; a longer window is taken to have the same daily volume.
    return figures.order_count * days // REPORT_DAYS


def outside_report(
    figures: AccountFigures, sends: Sequence[Send], today: date, days: int
) -> list[date]:
    """Days of counted sends a window of `days` days holds beyond the report's cancellationCount.

    Sends after reportingDateTo (up to today); for a window longer than the report's 7 days,
    also sends before the report's first day that fall inside the window.
    """
    after = counted_days(figures, sends, today)
    if days <= REPORT_DAYS:
        return after
    start = today - timedelta(days=days - 1)
    sent = (reporting_day(s.sent_at) for s in sends if s.counts)
    return after + [d for d in sent if start <= d < figures.report_start]


def windows_for(
    figures: AccountFigures,
    sends: Sequence[Send],
    today: date,
    config: PolicyConfig,
    market: MarketplaceInfo,
) -> tuple[Window, ...]:
    found = []
    for days in sorted(market.windows_days):
        orders = window_orders(figures, days)
        held = len(outside_report(figures, sends, today, days))
        found.append(
            Window(days, orders, allowed(orders, config, market), figures.cancellation_count + held)
        )
    return tuple(found)


def counted_days(figures: AccountFigures, sends: Sequence[Send], today: date) -> list[date]:
    """UTC days of counted sends after the report's last day, up to today.

    Sends on or before reportingDateTo are taken to be in the report's cancellationCount already.
    """
    days = (reporting_day(s.sent_at) for s in sends if s.counts)
    return [d for d in days if figures.report_end < d <= today]
