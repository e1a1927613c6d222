"""Amazon's published rate limits per operation, their token buckets, and seeded fault injection."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime

from bulk.sandbox.book import Faults


@dataclass(frozen=True)
class Rate:
    """A usage plan: requests per second restored, and the bucket's size."""

    rate: float
    burst: int

    @property
    def header(self) -> str:
        """The `x-amzn-RateLimit-Limit` value, e.g. "0.0167"."""
        return str(self.rate)


_MESSAGING = Rate(1.0, 5)

# Orders v2026-01-01 operation names. v0 has a getOrder too, with a usage plan of its own, so
# this one carries its version (in rate limits and /_sandbox/calls).
SEARCH_ORDERS = "searchOrders"
GET_ORDER_V2026 = "getOrder@2026-01-01"

# Default usage plans, from each operation's "Usage Plan" table in Amazon's models
# (docs/amazon.md, "Rate limits").
RATES: dict[str, Rate] = {
    "getOrders": Rate(0.0167, 20),
    "getOrderAddress": Rate(0.5, 30),
    "getOrderBuyerInfo": Rate(0.5, 30),
    "getOrderItemsBuyerInfo": Rate(0.5, 30),
    "createRestrictedDataToken": Rate(1.0, 10),  # tokens_2021-03-01.json
    "getMarketplaceParticipations": Rate(0.016, 15),  # sellers.json
    "getOrder": Rate(0.5, 30),
    "getOrderItems": Rate(0.5, 30),
    SEARCH_ORDERS: Rate(0.0056, 20),  # orders_2026-01-01.json
    GET_ORDER_V2026: Rate(0.5, 30),
    "createFeedDocument": Rate(0.5, 15),
    "createFeed": Rate(0.0083, 15),
    "getFeed": Rate(2.0, 15),
    "getFeeds": Rate(0.0222, 10),
    "cancelFeed": Rate(2.0, 15),
    "getFeedDocument": Rate(0.0222, 10),
    "createReport": Rate(0.0167, 15),
    "getReports": Rate(0.0222, 10),
    "getReport": Rate(2.0, 15),
    "getReportDocument": Rate(0.0167, 15),
    "getMessagingActionsForOrder": _MESSAGING,
    "GetAttributes": _MESSAGING,
    "confirmCustomizationDetails": _MESSAGING,
    "createConfirmDeliveryDetails": _MESSAGING,
    "createLegalDisclosure": _MESSAGING,
    "createConfirmOrderDetails": _MESSAGING,
    "createConfirmServiceDetails": _MESSAGING,
    "CreateWarranty": _MESSAGING,
    "createDigitalAccessKey": _MESSAGING,
    "createUnexpectedProblem": _MESSAGING,
    "sendInvoice": _MESSAGING,
}

# How long a "slow" fault holds the answer, in real seconds before time_scale.
SLOW_SECONDS = 3.0


class Buckets:
    """One token bucket per operation, refilled `time_scale` times faster than Amazon's."""

    def __init__(self, time_scale: float) -> None:
        self.time_scale = time_scale
        self._levels: dict[str, tuple[float, datetime]] = {}

    def take(self, operation: str, now: datetime) -> bool:
        """Spend one token; False when the bucket is empty (Amazon answers 429)."""
        plan = RATES.get(operation)
        if plan is None:
            return True
        level, since = self._levels.get(operation, (float(plan.burst), now))
        elapsed = max((now - since).total_seconds(), 0.0)
        level = min(float(plan.burst), level + elapsed * plan.rate * self.time_scale)
        if level < 1.0:
            self._levels[operation] = (level, now)
            return False
        self._levels[operation] = (level - 1.0, now)
        return True


class FaultInjector:
    """Draws faults at the book's rate from a seeded generator, so a run can be repeated."""

    def __init__(self, faults: Faults, calls_before: int = 0) -> None:
        self.faults = faults
        # Seeded by the book and by how many calls the state has seen: the same run repeats
        # the same faults, and the next run (a retry after a fault) meets different ones, as
        # on a real network, instead of the same fault at the same call for ever.
        self._random = random.Random(f"{faults.seed}:{calls_before}")
        self.drawn = 0

    def draw(self, target: str, operation: str = "") -> str | None:
        """The fault to answer with ("429", "500", "503", "slow", "lost-..."), or None."""
        f = self.faults
        answers = f.answers
        if f.rate <= 0 or not answers or (f.limit and self.drawn >= f.limit):
            return None
        if f.operations:
            if operation not in f.operations and target not in f.operations:
                return None
        elif target not in f.targets:
            return None
        if self._random.random() >= f.rate:
            return None
        self.drawn += 1
        return self._random.choice(answers)
