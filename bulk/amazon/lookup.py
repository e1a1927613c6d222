"""The look-up planner: which way of reading a sheet's orders costs least at Amazon's rate limits.

A pure function of the numbers a run knows before it calls Amazon. The paths it prices:

- `getOrder` per order (Orders v2026-01-01: 0.5/s, burst 30; so 30 at once, then one per 2 s);
- one windowed `searchOrders` over the recent open orders (0.0056/s, burst 20; 100 orders a
  page), the window starting at the oldest purchase the rows can have under the policy, the
  pages estimated from the account's order volume (the performance report's 7-day count);
- the All Orders report by last update, one per marketplace (a handful of calls, but minutes
  of waiting while Amazon builds it; role Inventory and Order Tracking, not restricted). It has
  no order item ids and no buyer's cancellation request, so the rows that need those (`detail`:
  item-level rows, "buyer requested" rows, and every row a run is about to send) are read with
  `getOrder` after it;
- the unshipped-orders report, only with `[amazon] restricted_data = true`: a restricted report
  type, its document needs a Restricted Data Token (docs/amazon.md, "Roles and restricted
  data");

and, after a bulk path, `getOrder` for the rows it did not explain (shipped, cancelled or
older orders). With `orders_api = "v0"` the per-order path is getOrders (50 ids a call) plus
getOrderItems per order, and there is no windowed search.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from bulk.formats import counted
from bulk.marketplaces import USAGE_PLANS, rate_limited_seconds

# searchOrders answers at most 100 orders a page (orders_2026-01-01.json, maxResultsPerPage).
SEARCH_PAGE = 100
# getOrders takes at most 50 AmazonOrderIds (ordersV0.json, getOrders).
V0_IDS_PER_CALL = 50
# How long Amazon takes to build a report: a few minutes is usual. An estimate, used only to
# weigh the report against the other paths; it is waiting, not rate-limited time.
REPORT_LATENCY_SECONDS = 120.0
# getReport polls a report takes while Amazon builds it (one every 15 s over the latency).
REPORT_POLLS = 8
REPORT_POLL_SECONDS = 15
# How long bulk waits for a report before it gives up and says to run again later.
REPORT_GIVE_UP_SECONDS = 1800


class Path(StrEnum):
    GET_ORDER = "getOrder"  # per order
    SEARCH = "searchOrders"  # windowed search, then getOrder for the rest
    ALL_ORDERS = "allOrders"  # All Orders report, then getOrder for details and the rest
    REPORT = "report"  # unshipped-orders report (restricted), then getOrder for the rest
    V0 = "getOrders"  # Orders v0, per 50 orders with getOrderItems per order


@dataclass(frozen=True)
class Plan:
    path: Path
    calls: dict[str, int]  # the calls the path is expected to make
    seconds: float  # their Amazon rate-limited time, plus report latency for the report
    pages: int = 0  # searchOrders pages expected

    def describe(self, orders: int) -> str:
        if self.path is Path.SEARCH:
            return (
                f"searchOrders over the recent open orders ({counted(self.pages, 'page')} expected)"
            )
        if self.path is Path.ALL_ORDERS:
            return "All Orders report"
        if self.path is Path.REPORT:
            return "unshipped-orders report (restricted data)"
        return f"{self.path.value} for {counted(orders, 'order')}"


def per_order_plan(orders: int, v0: bool = False) -> Plan:
    """Reading each order by itself, priced."""
    if v0:
        calls = {"getOrders": math.ceil(orders / V0_IDS_PER_CALL), "getOrderItems": orders}
        return _priced(Plan(Path.V0, calls, 0.0))
    return _priced(Plan(Path.GET_ORDER, {"getOrder": orders}, 0.0))


def window_orders(orders_last_7_days: int, window_hours: float) -> int:
    """Orders the account takes in a window of `window_hours`, from its 7-day order count."""
    return math.ceil(max(orders_last_7_days, 0) * window_hours / (7 * 24))


def plan_lookup(
    orders: int,
    *,
    recent_orders: int | None,
    marketplaces: int = 1,
    v0: bool = False,
    detail: int | None = None,
    restricted_data: bool = False,
) -> Plan:
    """The cheapest path to read `orders` orders.

    `recent_orders` is the account's estimated order count in the policy's window (None when
    not known: then only per-order and the reports are priced). `detail` is how many of the
    orders need their order item ids or the buyer's cancellation request (None: all of them);
    the All Orders report has neither, so those are read with getOrder after it. The
    restricted unshipped-orders report is priced only with `restricted_data`. Ties go to the
    simpler path.
    """
    candidates = [per_order_plan(orders, v0)]
    burst = USAGE_PLANS["getOrder"][1]
    if orders <= burst and not v0:
        return candidates[0]  # the burst answers at once: nothing is cheaper
    if recent_orders is not None and not v0:
        pages = max(1, math.ceil(max(recent_orders, orders) / SEARCH_PAGE))
        candidates.append(_priced(Plan(Path.SEARCH, {"searchOrders": pages}, 0.0, pages)))
    report = {
        "createReport": marketplaces,
        "getReport": marketplaces * REPORT_POLLS,
        "getReportDocument": marketplaces,
    }
    after = orders if detail is None else min(detail, orders)
    if not v0:
        all_orders = {**report, "getOrder": after} if after else dict(report)
        candidates.append(_priced(Plan(Path.ALL_ORDERS, all_orders, REPORT_LATENCY_SECONDS)))
    if restricted_data:
        restricted = {**report, "createRestrictedDataToken": marketplaces}
        candidates.append(_priced(Plan(Path.REPORT, restricted, REPORT_LATENCY_SECONDS)))
    return min(candidates, key=lambda p: p.seconds)  # min keeps the first of equals


def _priced(plan: Plan) -> Plan:
    return Plan(plan.path, plan.calls, plan.seconds + rate_limited_seconds(plan.calls), plan.pages)
