"""bulk.amazon.lookup: the look-up planner, priced at Amazon's published rate limits."""

from __future__ import annotations

import pytest

from bulk.amazon.lookup import (
    REPORT_LATENCY_SECONDS,
    Path,
    per_order_plan,
    plan_lookup,
    window_orders,
)


@pytest.mark.parametrize(
    ("orders", "recent", "markets", "v0", "path", "calls", "seconds"),
    [
        # Within getOrder's burst of 30: all at once, nothing is cheaper.
        (1, None, 1, False, Path.GET_ORDER, {"getOrder": 1}, 0.0),
        (30, 10_000, 1, False, Path.GET_ORDER, {"getOrder": 30}, 0.0),
        # 31 orders: one past the burst is 2 s; a search of one page is free (burst 20).
        (31, 50, 1, False, Path.SEARCH, {"searchOrders": 1}, 0.0),
        # 300 orders placed today, an account taking 1,400 orders a week (200 a day): the sheet
        # itself needs 3 pages, all inside the burst.
        (300, 200, 1, False, Path.SEARCH, {"searchOrders": 3}, 0.0),
        # 2,000 orders in the window: 20 pages, the whole burst.
        (300, 2_000, 1, False, Path.SEARCH, {"searchOrders": 20}, 0.0),
        # A busy account: 2,500 orders in the window = 25 pages, 5 past the burst at 180 s
        # each (893 s): the report's few minutes win.
        (300, 2_500, 1, False, Path.REPORT, None, REPORT_LATENCY_SECONDS),
        # Volume unknown: per order (540 s) against the report (its latency).
        (300, None, 1, False, Path.REPORT, None, REPORT_LATENCY_SECONDS),
        # 10,000 orders: 100 pages would be 80 past the burst (about 4 hours): the report.
        (10_000, 10_000, 1, False, Path.REPORT, None, REPORT_LATENCY_SECONDS),
        # Three marketplaces: three reports; 24 getReport polls are 9 past their burst of 15.
        (10_000, 10_000, 3, False, Path.REPORT, None, REPORT_LATENCY_SECONDS + 9 / 2),
        # 40 orders on a quiet account: 10 past the burst (20 s) against one free page.
        (40, 0, 1, False, Path.SEARCH, {"searchOrders": 1}, 0.0),
        # Orders v0: getOrders (50 ids a call) plus getOrderItems per order, or the report.
        (20, None, 1, True, Path.V0, {"getOrders": 1, "getOrderItems": 20}, 0.0),
        (80, 1_000, 1, True, Path.V0, {"getOrders": 2, "getOrderItems": 80}, 50 / 0.5),
        (200, 1_000, 1, True, Path.REPORT, None, REPORT_LATENCY_SECONDS),
    ],
)
def test_plan_lookup_picks_the_cheapest_path(
    orders: int,
    recent: int | None,
    markets: int,
    v0: bool,
    path: Path,
    calls: dict[str, int] | None,
    seconds: float,
) -> None:
    plan = plan_lookup(orders, recent_orders=recent, marketplaces=markets, v0=v0)
    assert plan.path is path
    if calls is not None:
        assert plan.calls == calls
    assert plan.seconds == pytest.approx(seconds)


def test_the_report_is_asked_for_each_marketplace() -> None:
    plan = plan_lookup(10_000, recent_orders=None, marketplaces=3)
    assert plan.calls["createReport"] == 3
    assert plan.calls["getReportDocument"] == 3


def test_per_order_costs_one_call_every_two_seconds_after_the_burst() -> None:
    assert per_order_plan(30).seconds == 0
    assert per_order_plan(300).seconds == pytest.approx(540)


@pytest.mark.parametrize(
    ("week", "hours", "expected"),
    [(1_400, 24, 200), (1_400, 12, 100), (7, 1, 1), (0, 24, 0), (100, 0.0, 0)],
)
def test_window_orders_scales_the_weekly_volume(week: int, hours: float, expected: int) -> None:
    assert window_orders(week, hours) == expected


def test_descriptions_name_the_path() -> None:
    assert "searchOrders" in plan_lookup(300, recent_orders=200).describe(300)
    assert plan_lookup(10_000, recent_orders=None).describe(10_000) == "unshipped-orders report"
    assert plan_lookup(3, recent_orders=None).describe(3) == "getOrder for 3 orders"
