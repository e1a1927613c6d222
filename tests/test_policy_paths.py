"""bulk.rules.policy.decide takes shortcuts for the usual row (an Unshipped seller-fulfilled
order, the whole order asked for, the moments in UTC, one text shared by rows that read the same):
each shortcut must give the answer the long way gives."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from bulk import marketplaces
from bulk.config import PolicyConfig
from bulk.models import (
    AccountFigures,
    CancelRequest,
    Decision,
    ItemRef,
    Order,
    OrderItem,
    Reason,
    Status,
)
from bulk.rules.policy import decide, plan

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
CONFIG = PolicyConfig(target_rate=0.02)
OUT_OF_STOCK = Reason("Out of stock", "NoInventory")
DAMAGED = Reason("Damaged in the warehouse", "NoInventory")
BUYER = Reason("Buyer requested", "BuyerCanceled")
PACIFIC = timezone(timedelta(hours=-8))
US = marketplaces.BY_CODE["US"]


def line(n: int, qty: int = 1, shipped: int = 0, requested: bool = False) -> OrderItem:
    return OrderItem(f"{n:014d}", f"SKU-{n}", "Mug", qty, shipped, requested)


def order(
    *items: OrderItem,
    status: str = "Unshipped",
    channel: str = "MFN",
    purchased: datetime | None = None,
) -> Order:
    return Order(
        "112-0000001-0000001",
        status,
        channel,
        NOW - timedelta(hours=3) if purchased is None else purchased,
        "ATVPDKIKX0DER",
        items or (line(1),),
    )


def request(*refs: ItemRef, reason: Reason = OUT_OF_STOCK) -> CancelRequest:
    return CancelRequest(2, "112-0000001-0000001", reason, "supplier ran out", refs)


def test_the_whole_order_is_its_open_lines_in_its_own_order() -> None:
    # Every line open: all of them. One line at 0 (cancelled) anywhere: the others, in order.
    first, second, third = line(1), line(2, qty=0), line(3, qty=2)
    assert decide(request(), order(first, third), NOW, CONFIG).items == (first, third)
    assert decide(request(), order(first, second, third), NOW, CONFIG).items == (first, third)
    assert decide(request(), order(second, first), NOW, CONFIG).items == (first,)
    every = decide(request(), order(second), NOW, CONFIG)
    assert every.status is Status.REJECTED
    assert "every line of the order has quantity 0" in every.result


def test_a_shipped_line_of_an_unshipped_order_escalates_naming_the_first_shipped() -> None:
    decision = decide(request(), order(line(1), line(2, 2, 1), line(3, 1, 1)), NOW, CONFIG)
    assert decision.status is Status.ESCALATE
    assert decision.result.startswith("SKU-2 has shipped (1 of 2)")


@pytest.mark.parametrize(
    ("lines", "reason", "counts", "warned"),
    [
        ((line(1), line(2)), OUT_OF_STOCK, True, ""),
        ((line(1, requested=True), line(2)), OUT_OF_STOCK, True, ""),
        ((line(1), line(2, requested=True)), OUT_OF_STOCK, True, ""),
        ((line(1, requested=True), line(2, requested=True)), OUT_OF_STOCK, True, "BuyerCanceled"),
        ((line(1, requested=True), line(2, requested=True)), BUYER, False, ""),
        ((line(1, requested=True), line(2)), BUYER, True, "no buyer request for SKU-2"),
        ((line(1), line(2)), BUYER, True, "no buyer request for this order"),
    ],
)
def test_whether_a_cancellation_counts_looks_at_every_line(
    lines: tuple[OrderItem, ...], reason: Reason, counts: bool, warned: str
) -> None:
    decision = decide(request(reason=reason), order(*lines), NOW, CONFIG)
    assert decision.status is Status.READY
    assert decision.counts_toward_rate is counts
    if warned:
        assert len(decision.warnings) == 1 and warned in decision.warnings[0]
    else:
        assert decision.warnings == ()


def test_rows_alike_but_for_their_reason_or_count_read_differently() -> None:
    # The READY text is shared by rows that read the same, and only by them.
    texts = [
        decide(request(), order(line(1)), NOW, CONFIG).result,
        decide(request(reason=DAMAGED), order(line(1)), NOW, CONFIG).result,
        decide(request(), order(line(1), line(2)), NOW, CONFIG).result,
        decide(request(reason=BUYER), order(line(1, requested=True)), NOW, CONFIG).result,
        decide(request(), order(line(1)), NOW, CONFIG).result,
    ]
    assert texts == [
        "ready: 1 item, Out of stock",
        "ready: 1 item, Damaged in the warehouse",
        "ready: 2 items, Out of stock",
        "ready: 1 item, Buyer requested; the buyer asked Amazon to cancel, so it does not count "
        "toward the rate",
        "ready: 1 item, Out of stock",
    ]


@pytest.mark.parametrize("zone", [UTC, PACIFIC, None])
@pytest.mark.parametrize(
    ("minutes", "status"), [(24 * 60 - 1, Status.READY), (24 * 60 + 1, Status.HELD)]
)
def test_the_window_measures_the_same_moment_in_any_zone(
    zone: timezone | None, minutes: int, status: Status
) -> None:
    # A purchase written in another zone, or naive (read as UTC), is the same moment.
    moment = NOW - timedelta(minutes=minutes)
    purchased = moment.replace(tzinfo=None) if zone is None else moment.astimezone(zone)
    for now in (NOW, NOW.astimezone(PACIFIC), NOW.replace(tzinfo=None)):
        assert decide(request(), order(purchased=purchased), now, CONFIG).status is status


def test_each_call_measures_by_its_own_config_window() -> None:
    the_order = order(purchased=NOW - timedelta(hours=13))
    wide, narrow = PolicyConfig(window_hours=24.0), PolicyConfig(window_hours=12.0)
    assert decide(request(), the_order, NOW, wide).status is Status.READY
    assert decide(request(), the_order, NOW, narrow).status is Status.HELD
    assert decide(request(), the_order, NOW, wide).status is Status.READY


def test_a_late_row_sent_anyway_keeps_its_warning_beside_the_counting_one() -> None:
    late = order(line(1, requested=True), purchased=NOW - timedelta(hours=30))
    decision = decide(request(), late, NOW, CONFIG, promised=date(2026, 11, 25))
    assert decision.status is Status.READY
    assert "BuyerCanceled" in decision.warnings[0]
    assert decision.warnings[1] == (
        "purchased 30 hours ago, outside the 24-hour window; sent because bulk deferred it to "
        "2026-11-25"
    )


@pytest.mark.parametrize(
    ("status", "channel", "decided", "text"),
    [
        ("Unshipped", "AFN", Status.ESCALATE, "fulfilled by Amazon (FBA)"),
        ("Unshipped", "", Status.HELD, "fulfilment channel ''"),
        ("Pending", "MFN", Status.HELD, "payment not yet authorised"),
        ("PartiallyShipped", "AFN", Status.ESCALATE, "part of the order has shipped"),
        ("Canceled", "AFN", Status.CANCELLED, "already cancelled"),
        ("Shipped", "", Status.REJECTED, "the order has shipped"),
        ("Returned", "MFN", Status.HELD, "order status 'Returned'"),
    ],
)
def test_an_order_other_than_unshipped_and_seller_fulfilled_is_never_ready(
    status: str, channel: str, decided: Status, text: str
) -> None:
    decision = decide(request(), order(status=status, channel=channel), NOW, CONFIG)
    assert decision.status is decided
    assert text in decision.result


def test_named_lines_still_have_their_quantities_checked() -> None:
    the_order = order(line(1, qty=2))
    assert decide(request(ItemRef("SKU-1", 3)), the_order, NOW, CONFIG).status is Status.REJECTED
    assert decide(request(ItemRef("SKU-1", 1)), the_order, NOW, CONFIG).status is Status.ESCALATE
    assert decide(request(ItemRef("SKU-1", 2)), the_order, NOW, CONFIG).status is Status.READY


# --- plan: when every counted row fits today, nothing is sorted ---------------------------------

FIGURES = AccountFigures(400, 3, date(2026, 11, 25))  # today's allowance: 4 counted rows


def ready_rows(count: int) -> list[tuple[CancelRequest, Order, Decision]]:
    """READY rows, the last two promised for today; row k was bought before row k+1."""
    rows = []
    for k in range(count):
        the_order = order(purchased=NOW - timedelta(hours=10 - k))
        the_request = CancelRequest(2 + k, the_order.order_id, OUT_OF_STOCK, "supplier ran out")
        decision = decide(the_request, the_order, NOW, CONFIG)
        if k >= count - 2:
            decision = replace(decision, scheduled_for=NOW.date())
        rows.append((the_request, the_order, decision))
    return rows


@pytest.mark.parametrize(
    ("count", "statuses"),
    [
        (3, ["READY"] * 3),
        (4, ["READY"] * 4),  # exactly today's allowance
        (5, ["READY", "READY", "DEFERRED", "READY", "READY"]),  # promised rows first
    ],
)
def test_rows_that_fit_today_are_all_served_and_lose_the_day_they_were_promised(
    count: int, statuses: list[str]
) -> None:
    decisions = plan(ready_rows(count), FIGURES, [], NOW, CONFIG, US)
    assert [str(d.status) for d in decisions] == statuses
    assert [d.scheduled_for for d in decisions if d.status is Status.READY] == [None] * min(
        count, 4
    )
    held_back = [d for d in decisions if d.status is Status.DEFERRED]
    assert all(d.scheduled_for is not None and d.scheduled_for > NOW.date() for d in held_back)


def test_rows_that_do_not_count_or_are_not_ready_come_back_unchanged_when_all_fit() -> None:
    rows = ready_rows(2)
    not_counted = replace(rows[0][2], counts_toward_rate=False, scheduled_for=NOW.date())
    held = Decision(Status.HELD, "run again later", scheduled_for=NOW.date())
    rows = [(rows[0][0], rows[0][1], not_counted), (rows[1][0], rows[1][1], held), *rows[1:]]
    decisions = plan(rows, FIGURES, [], NOW, CONFIG, US)
    assert decisions[:2] == [not_counted, held]
    assert decisions[2].scheduled_for is None
