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
    ("orders", "recent", "markets", "v0", "detail", "restricted", "path", "calls", "seconds"),
    [
        # Within getOrder's burst of 30: all at once, nothing is cheaper.
        (1, None, 1, False, None, False, Path.GET_ORDER, {"getOrder": 1}, 0.0),
        (30, 10_000, 1, False, 0, False, Path.GET_ORDER, {"getOrder": 30}, 0.0),
        # 31 orders: one past the burst is 2 s; a search of one page is free (burst 20).
        (31, 50, 1, False, None, False, Path.SEARCH, {"searchOrders": 1}, 0.0),
        # 300 orders placed today, an account taking 1,400 orders a week (200 a day): the sheet
        # itself needs 3 pages, all inside the burst.
        (300, 200, 1, False, None, False, Path.SEARCH, {"searchOrders": 3}, 0.0),
        # 2,000 orders in the window: 20 pages, the whole burst.
        (300, 2_000, 1, False, None, False, Path.SEARCH, {"searchOrders": 20}, 0.0),
        # A busy account: 2,500 orders in the window = 25 pages, 5 past the burst at 180 s
        # each (893 s): the All Orders report's few minutes win when no row needs item ids...
        (300, 2_500, 1, False, 0, False, Path.ALL_ORDERS, None, REPORT_LATENCY_SECONDS),
        # ... but when every order needs them (a run about to send), getOrder after the report
        # would cost the report and 540 s: getOrder alone is cheaper.
        (300, 2_500, 1, False, None, False, Path.GET_ORDER, {"getOrder": 300}, 540.0),
        # 50 rows naming lines: 20 getOrder past the burst (40 s) after the report.
        (300, 2_500, 1, False, 50, False, Path.ALL_ORDERS, None, REPORT_LATENCY_SECONDS + 40),
        # Volume unknown: per order (540 s) against the report (its latency).
        (300, None, 1, False, 0, False, Path.ALL_ORDERS, None, REPORT_LATENCY_SECONDS),
        # 10,000 orders: 100 pages would be 80 past the burst (about 4 hours): the report.
        (10_000, 10_000, 1, False, 0, False, Path.ALL_ORDERS, None, REPORT_LATENCY_SECONDS),
        # With restricted data the unshipped report costs the same: the report that needs no
        # restricted role is kept (the first of equals)...
        (10_000, 10_000, 1, False, 0, True, Path.ALL_ORDERS, None, REPORT_LATENCY_SECONDS),
        # ... and when every order needs its item ids, the unshipped report has them.
        (10_000, 10_000, 1, False, None, True, Path.REPORT, None, REPORT_LATENCY_SECONDS),
        # Three marketplaces: three reports; 24 getReport polls are 9 past their burst of 15.
        (10_000, 10_000, 3, False, 0, False, Path.ALL_ORDERS, None, REPORT_LATENCY_SECONDS + 4.5),
        # 40 orders on a quiet account: 10 past the burst (20 s) against one free page.
        (40, 0, 1, False, None, False, Path.SEARCH, {"searchOrders": 1}, 0.0),
        # Orders v0: getOrders (50 ids a call) plus getOrderItems per order, or the restricted
        # report.
        (20, None, 1, True, None, False, Path.V0, {"getOrders": 1, "getOrderItems": 20}, 0.0),
        (80, 1_000, 1, True, None, False, Path.V0, {"getOrders": 2, "getOrderItems": 80}, 100.0),
        (200, 1_000, 1, True, None, False, Path.V0, {"getOrders": 4, "getOrderItems": 200}, 340.0),
        (200, 1_000, 1, True, None, True, Path.REPORT, None, REPORT_LATENCY_SECONDS),
    ],
)
def test_plan_lookup_picks_the_cheapest_path(
    orders: int,
    recent: int | None,
    markets: int,
    v0: bool,
    detail: int | None,
    restricted: bool,
    path: Path,
    calls: dict[str, int] | None,
    seconds: float,
) -> None:
    plan = plan_lookup(
        orders,
        recent_orders=recent,
        marketplaces=markets,
        v0=v0,
        detail=detail,
        restricted_data=restricted,
    )
    assert plan.path is path
    if calls is not None:
        assert plan.calls == calls
    assert plan.seconds == pytest.approx(seconds)


def test_the_report_is_asked_for_each_marketplace() -> None:
    plan = plan_lookup(10_000, recent_orders=None, marketplaces=3, detail=0)
    assert plan.path is Path.ALL_ORDERS
    assert plan.calls["createReport"] == 3
    assert plan.calls["getReportDocument"] == 3


def test_the_restricted_report_asks_a_token_per_marketplace() -> None:
    plan = plan_lookup(10_000, recent_orders=None, marketplaces=2, restricted_data=True)
    assert plan.path is Path.REPORT
    assert plan.calls["createRestrictedDataToken"] == 2


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
    big = plan_lookup(10_000, recent_orders=None, detail=0)
    assert big.describe(10_000) == "All Orders report"
    restricted = plan_lookup(10_000, recent_orders=None, restricted_data=True)
    assert restricted.describe(10_000) == "unshipped-orders report (restricted data)"
    assert plan_lookup(3, recent_orders=None).describe(3) == "getOrder for 3 orders"
