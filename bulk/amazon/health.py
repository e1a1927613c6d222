"""The seller performance report read for what bulk needs: each marketplace's cancellation figures."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Any

from bulk.amazon.orders import parse_time
from bulk.errors import AmazonError
from bulk.models import AccountFigures

PERFORMANCE_REPORT = "GET_V2_SELLER_PERFORMANCE_REPORT"

# accountHealthReport-2020-11-18.json names the metric preFulfillmentCancellationRate in its
# properties and prefulfillmentCancelRate in its own example: accept both.
_RATE_NAMES = ("preFulfillmentCancellationRate", "prefulfillmentCancelRate")


def _rate(metrics: dict[str, Any]) -> dict[str, Any] | None:
    for name in _RATE_NAMES:
        found = metrics.get(name)
        if isinstance(found, dict):
            return found
    return None


def parse_performance(text: str, marketplace_ids: Sequence[str]) -> dict[str, AccountFigures]:
    """Each marketplace's 7-day pre-fulfillment cancellation figures, by marketplace id.

    A metrics entry without a marketplace id is the first marketplace's. A marketplace the
    report leaves out had no seller-fulfilled orders in the window: zero orders, zero
    cancellations (so no counted cancellation fits its budget).
    """
    try:
        data = json.loads(text)
        entries = data["performanceMetrics"]
        found: dict[str, AccountFigures] = {}
        for metrics in entries:
            rate = _rate(metrics)
            if rate is None:
                continue
            marketplace_id = metrics.get("marketplaceId") or marketplace_ids[0]
            end = parse_time(rate["reportingDateRange"]["reportingDateTo"])
            if end is None:
                raise ValueError("reportingDateTo is not a time")
            found[str(marketplace_id)] = AccountFigures(
                order_count=int(rate["orderCount"]),
                cancellation_count=int(rate["cancellationCount"]),
                report_end=end.date(),
            )
    except (ValueError, KeyError, IndexError, TypeError) as e:
        raise AmazonError(
            f"the seller performance report has no cancellation figures ({e!r}); "
            "bulk cannot check the cancellation rate without them"
        ) from e
    mine = {m: found[m] for m in marketplace_ids if m in found}
    if not mine:
        raise AmazonError(
            "the seller performance report has no cancellation figures for "
            + ", ".join(marketplace_ids)
            + "; bulk cannot check the cancellation rate without them"
        )
    last: date = min(f.report_end for f in mine.values())
    for m in marketplace_ids:
        mine.setdefault(m, AccountFigures(0, 0, last))
    return mine
