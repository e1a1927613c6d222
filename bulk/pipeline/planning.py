"""Deciding and planning the rows a run looks up: the marketplace each order belongs to, the
budget of each marketplace, the listings a run puts at risk, and the buyers' languages.

Steps of `bulk.pipeline.run.evaluate`, after the orders were looked up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bulk import marketplaces
from bulk.amazon.protocol import REPORT_GIVE_UP_SECONDS
from bulk.formats import counted
from bulk.models import CancelRequest, Decision, Order, Status
from bulk.pipeline.context import Context
from bulk.rules import listings, policy, rates
from bulk.rules.messages import why_no_message

# Each looked-up row: its request, its order (None when Amazon has none), the decision.
Decided = list[tuple[CancelRequest, Order | None, Decision]]


def order_market(ctx: Context, order: Order | None) -> marketplaces.MarketplaceInfo:
    """The marketplace an order belongs to: its own where Amazon says, else the config's."""
    home = marketplaces.by_id(ctx.account.marketplace_ids[0])
    assert home is not None  # config validation accepts only the table's marketplaces
    return policy.market_of(order, home)


def listing_risk(
    ctx: Context, decided: Decided, now: datetime
) -> tuple[Decided, tuple[listings.ListingRisk, ...]]:
    """Warn the rows that are a listing's 2nd or later seller cancellation in 30 days."""
    today = now.astimezone(UTC).date()
    home = order_market(ctx, None)
    markets: dict[str, str] = {}  # an order's marketplace id -> the listing's marketplace
    sent = (Status.READY, Status.DEFERRED)
    planned: list[listings.PlannedCancellation] = []
    plan, add = listings.PlannedCancellation, planned.append  # 100,000 rows: looked up once
    skus: dict[str, None] = {}
    for request, order, decision in decided:
        # READY and DEFERRED orders have a purchase date (unknown age is HELD).
        if order is None or order.purchased is None or decision.status not in sent:
            continue
        market = markets.get(order.marketplace_id)
        if market is None:
            market = markets[order.marketplace_id] = policy.market_of(order, home).marketplace_id
        lines = decision.items
        for line in lines:
            skus[line.sku] = None
        add(
            plan(
                request.row,
                request.order_id,
                market,
                request.reason,
                lines,
                order.purchased,
                decision.scheduled_for or today,
            )
        )
    if not planned:
        return decided, ()
    past = [
        listings.PastCancellation(
            line.order_id, line.marketplace_id, line.sku, line.asin, line.purchased
        )
        for line in ctx.ledger.seller_cancelled_lines(
            list(skus), now - timedelta(days=listings.SKU_WINDOW_DAYS)
        )
    ]
    found = listings.assess(past, planned, now)
    if not found.warnings:
        return decided, found.at_risk
    said = found.warnings.get
    warned = [
        (r, o, d) if (words := said(r.row)) is None else (r, o, d.warned(words))
        for r, o, d in decided
    ]
    return warned, found.at_risk


def elsewhere(order: Order | None, marketplace_ids: Sequence[str]) -> Decision | None:
    """A rejection for an order placed in a marketplace the run does not work in."""
    if order is None or not order.marketplace_id or order.marketplace_id in marketplace_ids:
        return None
    found = marketplaces.by_id(order.marketplace_id)
    where = f"{found.code} ({order.marketplace_id})" if found else order.marketplace_id
    hint = f'add "{found.code}" to' if found else "check"
    return Decision(
        Status.REJECTED,
        f"the order was placed in marketplace {where}, which bulk.toml does not list; "
        f"{hint} [amazon] marketplaces, or remove the row",
    )


def plan_budgets(
    ctx: Context, decided: Decided, now: datetime
) -> tuple[Decided, list[policy.Summary]]:
    """Fit the rows into each marketplace's budget: Amazon measures the rate per marketplace.

    One summary per marketplace with rows here, in bulk.toml's order: the first is the main one.
    """
    # Amazon gives no estimate for a report either: the wait shows the real time so far.
    usual = f"usually a few minutes, gives up after {REPORT_GIVE_UP_SECONDS // 60} min"
    with ctx.steps.wait("seller performance report", usual) as waiting:
        # The status comes worded ("reading the account's cancellation rate: IN_PROGRESS").
        figures = ctx.account.account_figures(
            lambda status: waiting.update(status.rpartition(": ")[2])
        )
    main = ctx.account.marketplace_ids[0]
    home = order_market(ctx, None)
    rules = {m: marketplaces.by_id(m) or home for m in figures}
    # The longest rate window (India's 30 days) decides how far back the ledger is read.
    days = max(d for r in (home, *rules.values()) for d in r.windows_days)
    sends = [
        rates.Send(order_id, sent_at, counts)
        for order_id, sent_at, counts in ctx.ledger.counted_sends(now - timedelta(days=days + 1))
    ]
    groups: dict[str, list[int]] = {}
    if len(figures) == 1 and main in figures:
        groups[main] = list(range(len(decided)))  # one marketplace's figures: every row's
    else:
        for index, (_, order, _) in enumerate(decided):
            market = order.marketplace_id if order is not None and order.marketplace_id else main
            groups.setdefault(market if market in figures else main, []).append(index)
    planned = list(decided)
    summaries: list[policy.Summary] = []
    for market in (m for m in ctx.account.marketplace_ids if m in groups):
        indices = groups[market]
        items = decided if len(indices) == len(decided) else [decided[i] for i in indices]
        # Each marketplace's own target, windows and fee (bulk.marketplaces).
        rule = rules.get(market, home)
        plans = policy.plan(items, figures[market], sends, now, ctx.config.policy, rule)
        for i, decision in zip(indices, plans, strict=True):
            request, order, before = decided[i]
            if decision is not before:  # most rows keep their decision, and their tuple
                planned[i] = (request, order, decision)
        summaries.append(
            policy.summarize(plans, figures[market], sends, now, ctx.config.policy, rule)
        )
    assert summaries  # `decided` is not empty, so one group was planned
    return planned, summaries


def with_buyer_locales(ctx: Context, decided: Decided) -> Decided:
    """The buyer's language on each order whose message may be sent (getAttributes).

    The preview is the message that will be sent, word for word: it is rendered here, in the
    buyer's language, and recorded with the submission.
    """
    wanted = [
        (o.order_id, o.marketplace_id)
        for r, o, d in decided
        # The order's locale is its marketplace's language; the buyer may read another.
        if o is not None
        and not why_no_message(r, o)
        and d.status in (Status.READY, Status.DEFERRED)
    ]
    if not wanted:
        return decided
    ctx.progress(f"reading the language of {counted(len(wanted), 'buyer')}")
    main = ctx.account.marketplace_ids[0]
    locales = {
        order_id: ctx.account.buyer_locale(order_id, market or main) for order_id, market in wanted
    }
    return [
        (r, replace(o, locale=locales[o.order_id]) if o and locales.get(o.order_id) else o, d)
        for r, o, d in decided
    ]
