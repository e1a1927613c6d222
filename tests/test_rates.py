"""bulk.rules.rates: each marketplace's target and rate windows, and the config's stricter cap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bulk import marketplaces
from bulk.config import PolicyConfig
from bulk.marketplaces import MarketplaceInfo
from bulk.models import AccountFigures
from bulk.rules.rates import Send, Window, allowed, target_rate, windows_for

US = marketplaces.BY_CODE["US"]
IN = marketplaces.BY_CODE["IN"]
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
TODAY = NOW.date()


@pytest.mark.parametrize(
    ("orders", "cap", "market", "expected"),
    [
        pytest.param(400, None, US, 9, id="us-under-2.5-percent"),  # 10/400 is 2.5%: not under
        pytest.param(400, None, IN, 7, id="india-under-2-percent"),  # 8/400 is 2%: not under
        pytest.param(400, 0.02, US, 8, id="config-cap-stricter-than-us"),  # the cap may be reached
        pytest.param(400, 0.02, IN, 7, id="india-stricter-than-config-cap"),
        pytest.param(400, 0.015, IN, 6, id="config-cap-stricter-than-india"),
        pytest.param(40, None, US, 0, id="one-of-40-is-2.5-percent"),
        pytest.param(41, None, US, 1, id="one-of-41-is-under"),
        pytest.param(0, None, US, 0, id="no-orders"),
        pytest.param(0, 0.02, IN, 0, id="no-orders-with-cap"),
        pytest.param(200, 0.015, US, 3, id="decimal-exact-1.5-percent-of-200"),
    ],
)
def test_allowed(orders: int, cap: float | None, market: MarketplaceInfo, expected: int) -> None:
    assert allowed(orders, PolicyConfig(target_rate=cap), market) == expected


@pytest.mark.parametrize(
    ("cap", "market", "expected"),
    [(None, US, 0.025), (None, IN, 0.02), (0.02, US, 0.02), (0.015, IN, 0.015), (0.024, IN, 0.02)],
)
def test_target_rate_is_the_marketplaces_or_the_stricter_cap(
    cap: float | None, market: MarketplaceInfo, expected: float
) -> None:
    assert target_rate(PolicyConfig(target_rate=cap), market) == expected


def _sends(days_ago: int, n: int, counts: bool = True) -> list[Send]:
    return [Send(f"s{days_ago}-{k}", NOW - timedelta(days=days_ago), counts) for k in range(n)]


def test_india_measures_7_and_30_days() -> None:
    figures = AccountFigures(700, 5, TODAY - timedelta(days=1))
    sends = [*_sends(20, 50), *_sends(3, 9)]  # 3 days ago: inside the report's count already
    assert windows_for(figures, sends, TODAY, PolicyConfig(), IN) == (
        Window(days=7, orders=700, budget=13, used=5),
        Window(days=30, orders=3000, budget=59, used=55),
    )
    assert windows_for(figures, sends, TODAY, PolicyConfig(), US) == (
        Window(days=7, orders=700, budget=17, used=5),
    )


def test_the_30_day_window_leaves_out_older_sends_and_those_that_do_not_count() -> None:
    figures = AccountFigures(700, 5, TODAY - timedelta(days=1))
    sends = [*_sends(31, 10), *_sends(29, 2), *_sends(15, 4, counts=False), *_sends(0, 1)]
    thirty = windows_for(figures, sends, TODAY, PolicyConfig(), IN)[1]
    assert thirty.used == 5 + 2 + 1
