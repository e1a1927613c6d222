"""Per-operation rate limiting from Amazon's published usage plans and the x-amzn-RateLimit-Limit header."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from bulk.marketplaces import USAGE_PLANS


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
