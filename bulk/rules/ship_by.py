"""The ship-by date bounds deferral: the last day a cancellation may wait for, and what a row
says when the budget cannot fit it by then (bulk.rules.policy.plan)."""

from __future__ import annotations

from datetime import date

from bulk.config import PolicyConfig
from bulk.formats import percent
from bulk.marketplaces import MarketplaceInfo
from bulk.models import Order
from bulk.rules.rates import reporting_day, target_rate


def deadline(order: Order | None) -> date | None:
    """The last day a cancellation of `order` may wait for: the UTC day of its latest ship date
    (None when Amazon gave none). Past it the buyer waits on an order that should have shipped."""
    if order is None or order.ship_by is None:
        return None
    return reporting_day(order.ship_by)


def held_by_ship_by(
    last: date, today: date, rate: float, config: PolicyConfig, market: MarketplaceInfo
) -> str:
    """Both choices for a row the budget cannot fit by its ship-by date, and what each costs."""
    target = target_rate(config, market)
    where = "over" if rate > target else "within"
    cancel = f"cancel today: rate {percent(rate)}, {where} the {percent(target)} target"
    if rate <= target:
        cancel += ", over today's share of the budget"
    if last < today:
        return (
            f"the order's ship-by date {last.isoformat()} has passed and the cancellation "
            f"budget has no room today; a person decides: {cancel} (by hand in Seller "
            "Central); or ship it now"
        )
    return (
        "the cancellation budget has no room by the order's ship-by date "
        f"{last.isoformat()}, and a buyer must not wait past it; a person decides: {cancel} "
        f"(by hand in Seller Central); or ship by {last.isoformat()}"
    )
