"""Per-operation rate limiting from Amazon's published usage plans and the x-amzn-RateLimit-Limit header."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

# Published rate (requests per second) and burst per operation (docs/amazon.md, "Rate limits",
# from each operation's "Usage Plan" in Amazon's API reference).
USAGE_PLANS: dict[str, tuple[float, int]] = {
    # Orders v2026-01-01 (orders_2026-01-01.json, each operation's "Usage Plan"); getOrder has
    # the same plan in v0.
    "searchOrders": (0.0056, 20),
    "getOrder": (0.5, 30),
    # Orders v0 (ordersV0.json), used only with orders_api = "v0".
    "getOrders": (0.0167, 20),
    "getOrderItems": (0.5, 30),
    "createFeedDocument": (0.5, 15),
    "createFeed": (0.0083, 15),
    "getFeed": (2.0, 15),
    "getFeeds": (0.0222, 10),
    "cancelFeed": (2.0, 15),
    "getFeedDocument": (0.0222, 10),
    "createReport": (0.0167, 15),
    "getReport": (2.0, 15),
    "getReportDocument": (0.0167, 15),
    "getMessagingActionsForOrder": (1.0, 5),
    "createUnexpectedProblem": (1.0, 5),
    "getAttributes": (1.0, 5),
}


@dataclass
class _Bucket:
    rate: float
    burst: int
    tokens: float
    updated: float


class RateLimiter:
    """A token bucket per operation; `acquire` waits (through `sleep`) until a call may go.

    `scale` speeds the published rates up (the sandbox in fast time); 0 turns waiting off.
    """

    def __init__(
        self,
        scale: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.scale = scale
        self.clock = clock
        self.sleep = sleep
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()
        self.waited = 0.0

    def _bucket(self, operation: str) -> _Bucket:
        bucket = self._buckets.get(operation)
        if bucket is None:
            rate, burst = USAGE_PLANS.get(operation, (1.0, 5))
            bucket = _Bucket(rate, burst, float(burst), self.clock())
            self._buckets[operation] = bucket
        return bucket

    def acquire(self, operation: str) -> None:
        if self.scale == 0:
            return
        with self._lock:
            bucket = self._bucket(operation)
            now = self.clock()
            rate = bucket.rate * self.scale
            bucket.tokens = min(bucket.burst, bucket.tokens + (now - bucket.updated) * rate)
            bucket.updated = now
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return
            wait = (1 - bucket.tokens) / rate
            bucket.tokens = 0
            bucket.updated = now + wait
        self.waited += wait
        self.sleep(wait)

    def observe(self, operation: str, header: str | None) -> None:
        """Follow the account's real rate, which Amazon sends in x-amzn-RateLimit-Limit."""
        if not header:
            return
        try:
            rate = float(header)
        except ValueError:
            return
        # "inf" and "nan" parse as floats too; an infinite rate would turn waiting off.
        if rate > 0 and math.isfinite(rate):
            with self._lock:
                self._bucket(operation).rate = rate

    def drain(self, operation: str) -> None:
        """After a 429 the bucket is empty, whatever we thought."""
        with self._lock:
            bucket = self._bucket(operation)
            bucket.tokens = 0
            bucket.updated = self.clock()


def rate_limited_seconds(calls: dict[str, int]) -> float:
    """How long these calls need at Amazon's published limits: the burst goes at once, the rest at
    the sustained rate, one operation after another (as a run makes them)."""
    total = 0.0
    for operation, n in calls.items():
        rate, burst = USAGE_PLANS.get(operation, (1.0, 5))
        total += max(0, n - burst) / rate
    return total
