"""bulk.amazon.health: the seller performance report's cancellation figures, per marketplace."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from bulk.amazon.health import parse_performance
from bulk.errors import AmazonError
from bulk.models import AccountFigures

DE = "A1PA6795UKMFR9"
FR = "A13V1IB3VIYZZH"
IT = "APJ6JRA9NG5V4"


def metrics(marketplace_id: str | None, orders: int, cancels: int, name: str) -> dict[str, Any]:
    entry: dict[str, Any] = {
        name: {
            "reportingDateRange": {
                "reportingDateFrom": "2026-11-23T00:00:00Z",
                "reportingDateTo": "2026-11-29T23:59:59Z",
            },
            "orderCount": orders,
            "cancellationCount": cancels,
            "rate": cancels / orders if orders else 0,
            "targetValue": 0.025,
        }
    }
    if marketplace_id is not None:
        entry["marketplaceId"] = marketplace_id
    return entry


def report(*entries: dict[str, Any]) -> str:
    return json.dumps({"performanceMetrics": list(entries)})


@pytest.mark.parametrize("name", ["preFulfillmentCancellationRate", "prefulfillmentCancelRate"])
def test_either_spelling_of_the_rate_is_read(name: str) -> None:
    figures = parse_performance(report(metrics(DE, 400, 3, name)), [DE])
    assert figures == {DE: AccountFigures(400, 3, date(2026, 11, 29))}


def test_each_marketplace_has_its_own_figures() -> None:
    text = report(
        metrics(DE, 400, 3, "preFulfillmentCancellationRate"),
        metrics(FR, 120, 1, "prefulfillmentCancelRate"),
        metrics("ATVPDKIKX0DER", 999, 99, "preFulfillmentCancellationRate"),
    )
    figures = parse_performance(text, [DE, FR, IT])
    assert figures[DE].order_count == 400
    assert figures[FR].cancellation_count == 1
    # A marketplace the report leaves out had no seller-fulfilled orders: nothing fits.
    assert figures[IT] == AccountFigures(0, 0, date(2026, 11, 29))
    assert set(figures) == {DE, FR, IT}


def test_an_entry_without_a_marketplace_is_the_main_one() -> None:
    figures = parse_performance(report(metrics(None, 50, 0, "prefulfillmentCancelRate")), [FR])
    assert figures[FR].order_count == 50


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        json.dumps({"performanceMetrics": [{"marketplaceId": DE, "orderDefectRate": {}}]}),
        json.dumps({"accountStatuses": []}),
        report(metrics("ATVPDKIKX0DER", 1, 0, "preFulfillmentCancellationRate")),
    ],
)
def test_a_report_without_figures_is_one_clear_error(text: str) -> None:
    with pytest.raises(AmazonError, match="no cancellation figures"):
        parse_performance(text, [DE])
