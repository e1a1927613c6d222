"""The per-operation token buckets, in fake time."""

from __future__ import annotations

import pytest

from bulk.amazon.throttle import RateLimiter
from bulk.marketplaces import USAGE_PLANS, rate_limited_seconds


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_burst_goes_at_once_then_the_published_rate() -> None:
    t = FakeTime()
    limiter = RateLimiter(clock=t.clock, sleep=t.sleep)
    rate, burst = USAGE_PLANS["getOrders"]
    for _ in range(burst):
        limiter.acquire("getOrders")
    assert t.slept == []
    limiter.acquire("getOrders")
    assert t.slept == [pytest.approx(1 / rate)]


def test_operations_have_their_own_buckets_and_follow_the_header() -> None:
    t = FakeTime()
    limiter = RateLimiter(clock=t.clock, sleep=t.sleep)
    limiter.observe("getFeed", "10.0")
    for _ in range(15):
        limiter.acquire("getFeed")
    limiter.acquire("getFeed")
    assert t.slept == [pytest.approx(0.1)]
    limiter.acquire("createFeedDocument")
    assert len(t.slept) == 1


def test_a_429_empties_the_bucket() -> None:
    t = FakeTime()
    limiter = RateLimiter(clock=t.clock, sleep=t.sleep)
    limiter.acquire("getOrderItems")
    limiter.drain("getOrderItems")
    limiter.acquire("getOrderItems")
    assert t.slept == [pytest.approx(2.0)]


def test_scale_zero_never_waits() -> None:
    t = FakeTime()
    limiter = RateLimiter(scale=0, clock=t.clock, sleep=t.sleep)
    for _ in range(100):
        limiter.acquire("createFeed")
    assert t.slept == []


@pytest.mark.parametrize("header", ["not a number", "", "0", "-1", "nan", "inf"])
def test_bad_headers_are_ignored(header: str) -> None:
    # At the real scale: a bad header would change the wait the published rate gives.
    t = FakeTime()
    limiter = RateLimiter(clock=t.clock, sleep=t.sleep)
    limiter.observe("createFeed", header)
    rate, burst = USAGE_PLANS["createFeed"]
    for _ in range(burst + 1):
        limiter.acquire("createFeed")
    assert t.slept == [pytest.approx(1 / rate)]


def test_rate_limited_seconds() -> None:
    # 10,000 order look-ups, one by one: 200 getOrders and 10,000 getOrderItems.
    seconds = rate_limited_seconds({"getOrders": 200, "getOrderItems": 10_000})
    assert seconds > 5 * 3600
    assert rate_limited_seconds({"getOrders": 20}) == 0
