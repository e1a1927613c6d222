"""Cancellation policy: what to do with each request, and how many counted cancellations fit today.

Everything here is a pure function of its arguments: the caller passes the clock (`now`), the
order as Amazon reports it, the account's figures and the ledger's sends. Amazon's rules are
quoted from docs/amazon.md ("Feed rules", "Cancellation rate", "Orders API").
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache

from bulk import marketplaces
from bulk.config import PolicyConfig
from bulk.formats import counted, percent, utc
from bulk.marketplaces import MarketplaceInfo
from bulk.models import (
    REPORT_DAYS,
    SHIPPED_STATUSES,
    AccountFigures,
    CancelRequest,
    Channel,
    Decision,
    Order,
    OrderStatus,
    Status,
)
from bulk.rules.order_lines import counting, partial_quantity, quantity_problem, resolve_items
from bulk.rules.rates import (
    Send,
    Window,
    allowed,
    counted_days,
    reporting_day,
    target_rate,
    windows_for,
)
from bulk.rules.ship_by import deadline, held_by_ship_by

# How far ahead `plan` looks for room before it holds a row for a person to decide.
HORIZON_DAYS = 30


_SUPPORT_CASE = "the Support Case column holds a case to paste into Seller Support"


def for_seller_support(result: str) -> str:
    """An ESCALATE row's reason as Seller Support reads it: without the team's sheet words."""
    return result.replace(f"; {_SUPPORT_CASE}", "").replace(", so nothing was sent", "")


def market_of(order: Order | None, home: MarketplaceInfo) -> MarketplaceInfo:
    """The marketplace whose rules apply to `order`: its own where Amazon names one bulk knows,
    else `home` (the configured marketplace)."""
    if order is not None:
        found = marketplaces.by_id(order.marketplace_id)
        if found is not None:
            return found
    return home


# --- A. One request against one order ---------------------------------------------------------

# The usual row's enum members, read once: a look-up on an Enum class costs more than the
# comparison, and `decide` runs once per row.
_UNSHIPPED, _MFN, _READY = OrderStatus.UNSHIPPED, Channel.MFN, Status.READY


def decide(
    request: CancelRequest,
    order: Order | None,
    now: datetime,
    config: PolicyConfig,
    allow_late: bool = False,
    promised: date | None = None,
) -> Decision:
    """Check one request against Amazon's live order; the result says what happened and why.

    `promised` is the day bulk deferred the row to, when the ledger holds that promise: the
    delay was the budget's doing, so the time window does not hold the row back.
    """
    if order is None:
        return Decision(
            Status.REJECTED,
            f"Amazon has no order {request.order_id} in this marketplace; check the id",
        )
    if order.status != _UNSHIPPED or order.channel != _MFN:
        return _not_unshipped_mfn(request, order)
    lines, problem = resolve_items(request, order)
    counts, warnings = counting(request, lines)
    if problem is not None:
        return problem
    for first in order.items:
        if first.quantity_shipped <= 0:
            continue
        # An Unshipped order should have none, but the rule is absolute (docs/amazon.md, "Feed rules"):
        # a Failure acknowledgement on an order with a shipped item refunds the whole order.
        return Decision(
            Status.ESCALATE,
            f"{first.sku} has shipped ({first.quantity_shipped} of {first.quantity_ordered}); "
            "a cancellation feed would refund the whole order, so nothing was sent; "
            f"{_SUPPORT_CASE}",
            items=lines,
            counts_toward_rate=counts,
        )
    # A request that names no lines asks for no quantities.
    problem = quantity_problem(request, order) if request.items else None
    if problem is not None:
        return problem
    partial = partial_quantity(request, order) if request.items else None
    if partial is not None:
        # docs/amazon.md, "Feed rules": an Item in the acknowledgement feed has no quantity; partial quantity
        # goes through the order adjustment feed (POST_PAYMENT_ADJUSTMENT_DATA).
        return Decision(
            Status.ESCALATE,
            f"{partial} needs the adjustment feed / Seller Support; the order feed cancels "
            f"whole lines only; {_SUPPORT_CASE}",
            items=lines,
            counts_toward_rate=counts,
        )

    if order.purchased is None:
        # Unknown age must not pass the time window as if the order were new.
        return Decision(
            Status.HELD,
            "Amazon gave no purchase date for this order, so its age is unknown; check it in "
            "Seller Central and decide by hand",
            items=lines,
            counts_toward_rate=counts,
            warnings=warnings,
        )
    purchased = order.purchased
    # utc() of a moment already in UTC is itself: the common case skips the call.
    age = (now if now.tzinfo is UTC else utc(now)) - (
        purchased if purchased.tzinfo is UTC else utc(purchased)
    )
    if age > _window(config.window_hours):
        late = f"purchased {_age_text(age)} ago, outside the {config.window_hours:g}-hour window"
        if not allow_late and promised is None:
            return Decision(
                Status.HELD,
                f"{late}; run `bulk submit --allow-late` to send it anyway",
                items=lines,
                counts_toward_rate=counts,
                warnings=warnings,
            )
        because = (
            "of --allow-late"
            if allow_late or promised is None
            else f"bulk deferred it to {promised}"
        )
        warnings = (*warnings, f"{late}; sent because {because}")

    return Decision(
        _READY,
        _ready_text(len(lines), request.reason.label, counts),
        lines,
        counts,
        None,
        warnings,
    )


def _not_unshipped_mfn(request: CancelRequest, order: Order) -> Decision:
    """The decision for an order that is not an Unshipped seller-fulfilled one: none is READY."""
    if order.status == OrderStatus.CANCELED:
        return Decision(
            Status.CANCELLED,
            "already cancelled on Amazon; nothing was sent",
            items=order.items,
            counts_toward_rate=False,
        )
    if order.status in SHIPPED_STATUSES:
        return Decision(
            Status.REJECTED,
            f"the order has shipped (Amazon status {order.status}) and can no longer be "
            "cancelled; refund the buyer or accept a return in Seller Central instead",
        )
    if order.status == OrderStatus.UNFULFILLABLE:
        # ordersV0.json: "applies only to Amazon-fulfilled orders that were not placed on
        # Amazon's retail web site" (Multi-Channel Fulfillment); the order feed cannot touch it.
        return Decision(
            Status.REJECTED,
            "Amazon marks this Multi-Channel Fulfillment order Unfulfillable; it cannot be "
            "cancelled from a sheet; manage it in Seller Central's Multi-Channel Fulfillment pages",
        )

    lines, problem = resolve_items(request, order)
    shown = lines if problem is None else order.items
    counts, _ = counting(request, lines)

    if order.status == OrderStatus.PARTIALLY_SHIPPED:
        # docs/amazon.md, "Feed rules": never send Failure for an order with any item shipped; Amazon's guide
        # says it refunds the whole order.
        return Decision(
            Status.ESCALATE,
            "part of the order has shipped (Amazon status PartiallyShipped); a cancellation "
            f"feed would refund the whole order, so nothing was sent; {_SUPPORT_CASE}",
            items=shown,
            counts_toward_rate=counts,
        )
    if order.channel == Channel.AFN:
        # docs/amazon.md, "Feed rules": FBA orders are fulfilled by Amazon; the seller cannot cancel them
        # with the Order Acknowledgement feed. That is a case for Seller Support.
        return Decision(
            Status.ESCALATE,
            "fulfilled by Amazon (FBA): a seller cannot cancel it with the order feed; "
            f"{_SUPPORT_CASE}",
            items=shown,
            counts_toward_rate=counts,
        )
    if order.status == OrderStatus.PENDING:
        # ordersV0.json: Pending = "placed but payment has not been authorized".
        return Decision(
            Status.HELD,
            "payment not yet authorised (Amazon status Pending); Amazon allows the "
            "cancellation once the order is Unshipped; run again later",
            items=shown,
            counts_toward_rate=counts,
        )
    if order.status == OrderStatus.PENDING_AVAILABILITY:
        # ordersV0.json: a pre-order whose release date is in the future, payment not authorised.
        return Decision(
            Status.HELD,
            "pre-order not yet released and payment not yet authorised (Amazon status "
            "PendingAvailability); run again once the order is Unshipped",
            items=shown,
            counts_toward_rate=counts,
        )
    if order.status != OrderStatus.UNSHIPPED:
        return Decision(
            Status.HELD,
            f"Amazon reports order status {order.status!r}, which bulk cannot cancel; "
            "check the order in Seller Central",
        )
    return Decision(
        Status.HELD,
        f"Amazon reports fulfilment channel {order.channel!r}, neither seller (MFN) nor "
        "Amazon (AFN); check the order in Seller Central",
    )


@lru_cache(maxsize=64)
def _window(hours: float) -> timedelta:
    return timedelta(hours=hours)


@lru_cache(maxsize=1024)
def _ready_text(lines: int, label: str, counts: bool) -> str:
    """A READY row's result; one string shared by every row that reads the same."""
    result = f"ready: {counted(lines, 'item')}, {label}"
    if not counts:
        result += "; the buyer asked Amazon to cancel, so it does not count toward the rate"
    return result


def _age_text(age: timedelta) -> str:
    hours = int(age.total_seconds() // 3600)
    if hours >= 1:
        return counted(hours, "hour")
    return counted(int(age.total_seconds() // 60), "minute")


# --- B. The account's figures and the day's budget ---------------------------------------------


@dataclass(frozen=True)
class Budget:
    """How many counted cancellations the account can take on `day` and stay on target."""

    day: date  # the UTC day of `now`
    week_budget: int  # allowed(orderCount): the 7-day window's budget
    daily_cap: int  # ceil(max_daily_share x week_budget)
    remaining: int  # the least any window has left (budget - used); may be < 0
    today_allowance: int  # max(0, min(remaining, daily_cap - counted_today))
    counted_since_report: int
    counted_today: int
    windows: tuple[Window, ...] = ()  # one per rate window of the marketplace, shortest first


def _week_budget(figures: AccountFigures, config: PolicyConfig, market: MarketplaceInfo) -> int:
    return allowed(figures.order_count, config, market)


def _daily_cap(week_budget: int, config: PolicyConfig) -> int:
    return math.ceil(Decimal(repr(config.max_daily_share)) * week_budget)


def budget(
    figures: AccountFigures,
    sends: Sequence[Send],
    now: datetime,
    config: PolicyConfig,
    market: MarketplaceInfo,
) -> Budget:
    """Today's room for counted cancellations in `market`, in every one of its rate windows,
    under its target (or the config's stricter cap) and max_daily_share."""
    today = reporting_day(now)
    week = _week_budget(figures, config, market)
    cap = _daily_cap(week, config)
    since = counted_days(figures, sends, today)
    counted_today = sum(1 for s in sends if s.counts and reporting_day(s.sent_at) == today)
    windows = windows_for(figures, sends, today, config, market)
    remaining = min(
        (w.left for w in windows), default=week - figures.cancellation_count - len(since)
    )
    return Budget(
        day=today,
        week_budget=week,
        daily_cap=cap,
        remaining=remaining,
        today_allowance=max(0, min(remaining, cap - counted_today)),
        counted_since_report=len(since),
        counted_today=counted_today,
        windows=windows,
    )


def _room_on(
    day: date,
    figures: AccountFigures,
    known: Sequence[date],
    planned: Counter[date],
    windows: Sequence[Window],
    cap: int,
    lag: int,
) -> int:
    """Projected room for counted cancellations on a future `day`: what `budget` will say then.

    On `day` the account's figures will be a report ending `lag` days before it (as today's
    does), plus the counted sends after that report: for each rate window of the marketplace,
    the lag + its days up to `day`. Each window is assumed to hold as many orders as today's
    (the same daily volume), so its budget is the same. It holds the report's cancellations
    that bulk did not send, spread evenly over the report's days (rounded up), for the report
    days it still covers; every counted send bulk knows of on a day in the window (a send
    leaves the window on its own day, not on an average one); and every row planned for a day
    in the window. The daily share cap applies to the day itself.
    """
    report_days = [figures.report_start + timedelta(days=k) for k in range(REPORT_DAYS)]
    own = sum(1 for d in known if figures.report_start <= d <= figures.report_end)
    others = max(0, figures.cancellation_count - own)
    rooms = []
    for w in windows:
        start = day - timedelta(days=lag + w.days - 1)
        overlap = sum(1 for d in report_days if start <= d <= day)
        from_report = -(-others * overlap // REPORT_DAYS)  # ceiling
        in_window = sum(1 for d in known if start <= d <= day)
        in_window += sum(n for d, n in planned.items() if start <= d <= day)
        rooms.append(w.budget - from_report - in_window)
    on_day = sum(1 for d in known if d == day) + planned[day]
    return max(0, min(*rooms, cap - on_day))


def plan(
    items: Sequence[tuple[CancelRequest, Order | None, Decision]],
    figures: AccountFigures,
    sends: Sequence[Send],
    now: datetime,
    config: PolicyConfig,
    market: MarketplaceInfo,
) -> list[Decision]:
    """Fit counted READY rows into today's budget; defer or hold the rest. One decision per item.

    Counted READY rows are served up to today's allowance: first those promised for today or
    earlier (a READY decision that carries the day it was DEFERRED to), then the others, the
    earliest ship-by date first, then the oldest purchase. The rest become DEFERRED to the first
    day with projected room in every rate window of `market` (see `_room_on`), filled day by day
    in the same order, but never to a day after the order's ship-by date (`deadline`): a row the
    budget cannot fit by then is HELD with both choices and their cost (cancel today over the
    target, or ship it). A row with no room within HORIZON_DAYS is HELD too. A DEFERRED row
    already scheduled for a later day keeps its day and takes its place in that day's room. When
    a promised day came and the budget is still full (the account's figures changed), the row is
    re-planned to the next day with room and its result says why. READY rows that do not count
    toward the rate (the buyer asked Amazon to cancel) are never deferred: they come back
    unchanged, as do rows in any other status.
    """
    today = reporting_day(now)
    result = [decision for _, _, decision in items]
    ready = Status.READY
    counted_ready = [i for i, d in enumerate(result) if d.status is ready and d.counts_toward_rate]
    account = budget(figures, sends, now, config, market)
    if account.today_allowance >= len(counted_ready):
        # Every counted row fits today: their order and their ship-by dates do not matter.
        for i in counted_ready:
            if result[i].scheduled_for is not None:
                result[i] = replace(result[i], scheduled_for=None)
        return result
    deadlines = [deadline(order) for _, order, _ in items]

    def by_urgency(i: int) -> tuple[date, datetime, int, int]:
        return (deadlines[i] or date.max, _purchased(items[i][1], now), items[i][0].row, i)

    promised = sorted((i for i in counted_ready if result[i].scheduled_for), key=by_urgency)
    fresh = sorted((i for i in counted_ready if not result[i].scheduled_for), key=by_urgency)
    waiting = promised + fresh
    served = min(account.today_allowance, len(waiting))
    for i in waiting[:served]:
        if result[i].scheduled_for is not None:
            result[i] = replace(result[i], scheduled_for=None)
    # The earliest ship-by date first: the order that fits the most rows before their dates.
    first = set(promised)
    pending = sorted(waiting[served:], key=lambda i: (by_urgency(i)[0], i not in first))
    if not pending:
        return result

    planned: Counter[date] = Counter(
        d.scheduled_for
        for d in result
        if d.status is Status.DEFERRED
        and d.counts_toward_rate
        and d.scheduled_for is not None
        and d.scheduled_for > today
    )
    planned[today] += served
    why = _why_deferred(account, config, market, served)
    known = [reporting_day(s.sent_at) for s in sends if s.counts]
    lag = max(0, (today - figures.report_end).days)
    out_of_time: list[int] = []
    # With a week budget of 0 no day can ever have room: hold at once.
    horizon = HORIZON_DAYS if account.week_budget > 0 else 0
    for ahead in range(1, horizon + 1):
        day = today + timedelta(days=ahead)
        # A row whose ship-by date comes before `day` can wait no longer.
        while pending and (deadlines[pending[0]] or date.max) < day:
            out_of_time.append(pending.pop(0))
        if not pending:
            break
        room = _room_on(day, figures, known, planned, account.windows, account.daily_cap, lag)
        room = min(len(pending), room)
        for i in pending[:room]:
            before = result[i].scheduled_for
            text = (
                _why_replanned(before, figures, config, market, day)
                if before is not None
                else f"{why}; scheduled for {day.isoformat()}"
            )
            result[i] = replace(result[i], status=Status.DEFERRED, result=text, scheduled_for=day)
        del pending[:room]
        planned[day] += room
    # Cancelling one more today: the rate it would bring, beside this run's counted rows.
    rate_today = projected_rate(figures, sends, served + 1, now)
    held = _why_held(figures, config, market)
    for i in out_of_time + pending:
        last = deadlines[i]
        text = (
            held_by_ship_by(last, today, rate_today, config, market)
            if last is not None
            and last <= today + timedelta(days=horizon)
            and figures.order_count > 0
            else held
        )
        result[i] = replace(result[i], status=Status.HELD, result=text, scheduled_for=None)
    return result


def _why_replanned(
    promised: date,
    figures: AccountFigures,
    config: PolicyConfig,
    market: MarketplaceInfo,
    day: date,
) -> str:
    """Why a row was not sent on the day it was scheduled for, and its new day."""
    return (
        f"re-planned: the cancellation budget was still full on {promised.isoformat()} "
        f"(Amazon now reports {counted(figures.cancellation_count, 'cancellation')} of "
        f"{counted(figures.order_count, 'order')} in the 7 days to {figures.report_end}; "
        f"target {percent(target_rate(config, market))}); scheduled for {day.isoformat()}"
    )


def _purchased(order: Order | None, now: datetime) -> datetime:
    return utc(order.purchased if order is not None and order.purchased else now)


def _why_deferred(
    account: Budget, config: PolicyConfig, market: MarketplaceInfo, served: int
) -> str:
    if account.daily_cap - account.counted_today < account.remaining:
        used = account.counted_today + served
        return f"over today's cancellation budget ({used} of {account.daily_cap} used)"
    w = min(account.windows, key=lambda w: w.left)  # the window that leaves least room
    about = "" if w.days == REPORT_DAYS else "about "
    return (
        f"over the {w.days}-day cancellation budget ({w.used + served} of {w.budget} used; "
        f"target {percent(target_rate(config, market))} of {about}{counted(w.orders, 'order')})"
    )


def _why_held(figures: AccountFigures, config: PolicyConfig, market: MarketplaceInfo) -> str:
    target = percent(target_rate(config, market))
    if figures.order_count == 0:
        return (
            "Amazon's report shows no orders in the last 7 days, so any counted cancellation "
            f"would break the {target} target; cancel it by hand in Seller Central if it must go"
        )
    if _week_budget(figures, config, market) == 0:
        return (
            f"the 7-day cancellation budget is 0 ({target} of {counted(figures.order_count, 'order')}"
            " is less than one), so any counted cancellation would break the target; cancel it by "
            "hand in Seller Central if it must go"
        )
    return (
        f"no room in the cancellation budget within {HORIZON_DAYS} days (7-day rate "
        f"{percent(figures.rate)}, target {target}); cancel fewer orders, or cancel this one by "
        "hand knowing it counts toward the rate"
    )


# --- Reporting -----------------------------------------------------------------------------------


def projected_rate(
    figures: AccountFigures, sends: Sequence[Send], planned_counted: int, now: datetime
) -> float:
    """The 7-day rate once this run's counted cancellations are sent.

    (cancellationCount + counted sends since the report + planned_counted) / orderCount;
    0 when the report has no orders (Amazon shows no rate without orders).
    """
    if figures.order_count == 0:
        return 0.0
    since = len(counted_days(figures, sends, reporting_day(now)))
    return (figures.cancellation_count + since + planned_counted) / figures.order_count


@dataclass(frozen=True)
class Summary:
    """What a run did to the cancellation rate, and how its rows ended."""

    day: date
    rate_now: float  # report plus counted sends since it, before this run
    projected_rate: float  # after this run's counted READY rows are sent
    target_rate: float  # the rate planned under: the marketplace's target or the config's cap
    week_budget: int
    budget_used: int  # cancellationCount + counted sends since the report + planned today
    budget_left: int  # never below 0
    today_allowance: int
    planned_today: int  # READY rows that count toward the rate
    next_scheduled: date | None  # the earliest day a DEFERRED row is scheduled for
    counts: tuple[tuple[Status, int], ...]  # statuses present, in Status order
    marketplace: str = ""  # the marketplace's code: "US", "IN", ...
    amazon_target: float = marketplaces.TARGET_RATE  # the marketplace's own target
    windows: tuple[Window, ...] = ()  # each rate window's budget, before this run
    fee: bool = False  # the marketplace charges a fee for each seller cancellation
    charged_today: int = 0  # counted cancellations sent today that the fee applies to
    charged_later: int = 0  # counted DEFERRED rows the fee will apply to when they are sent

    def count(self, status: Status) -> int:
        return dict(self.counts).get(status, 0)


def summarize(
    decisions: Sequence[Decision],
    figures: AccountFigures,
    sends: Sequence[Send],
    now: datetime,
    config: PolicyConfig,
    market: MarketplaceInfo,
) -> Summary:
    """The figures a run reports after `plan`."""
    account = budget(figures, sends, now, config, market)
    tally = Counter(d.status for d in decisions)
    ready, deferred = Status.READY, Status.DEFERRED
    planned = sum(1 for d in decisions if d.status is ready and d.counts_toward_rate)
    used = figures.cancellation_count + account.counted_since_report + planned
    scheduled = (
        [d.scheduled_for for d in decisions if d.status is deferred and d.scheduled_for is not None]
        if tally[deferred]
        else []
    )
    return Summary(
        day=account.day,
        rate_now=projected_rate(figures, sends, 0, now),
        projected_rate=projected_rate(figures, sends, planned, now),
        target_rate=target_rate(config, market),
        week_budget=account.week_budget,
        budget_used=used,
        budget_left=max(0, account.week_budget - used),
        today_allowance=account.today_allowance,
        planned_today=planned,
        next_scheduled=min(scheduled, default=None),
        counts=tuple((s, tally[s]) for s in Status if tally[s]),
        marketplace=market.code,
        amazon_target=market.target_rate,
        windows=account.windows,
        fee=market.cancellation_fee,
        # The fee is charged per seller cancellation: rows that count toward the rate.
        charged_today=planned if market.cancellation_fee else 0,
        charged_later=sum(1 for d in decisions if d.status is deferred and d.counts_toward_rate)
        if market.cancellation_fee
        else 0,
    )
