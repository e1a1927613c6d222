"""The ship-by date bounds deferral: no row waits past it; buyer-requested rows never wait."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_policy import CONFIG, NOW, REPORT_END, TODAY, US, ready_rows, scenarios, sent

from bulk.config import PolicyConfig
from bulk.models import AccountFigures, CancelRequest, Decision, Order, Status
from bulk.rules.policy import budget, plan
from bulk.rules.rates import Send
from bulk.rules.ship_by import deadline

# Room today for 4 (the daily share), then one a day or so (test_policy, test_plan_schedule).
ROOMY = AccountFigures(400, 3, REPORT_END)
# 9 of 8 used with today's send: no room today nor tomorrow, then one a day from 11-28.
FULL = AccountFigures(400, 8, REPORT_END)


Item = tuple[CancelRequest, Order | None, Decision]


def _ship_by(day: date | None) -> datetime | None:
    return None if day is None else datetime(day.year, day.month, day.day, 23, 0, tzinfo=UTC)


def _rows(ship_by: list[date | None], buyer: list[bool] | None = None) -> list[Item]:
    """READY rows, oldest purchase first, each with its order's ship-by date."""
    rows = []
    for k, day in enumerate(ship_by):
        asked = bool(buyer and buyer[k])
        (req, order, decision) = ready_rows(1, buyer_requested=asked, first_row=2 + k)[0]
        assert order is not None
        order = dataclasses.replace(
            order,
            order_id=f"112-0000002-{k + 1:07d}",
            purchased=NOW - timedelta(hours=20 - k * 0.1),
            ship_by=_ship_by(day),
        )
        rows.append((dataclasses.replace(req, order_id=order.order_id), order, decision))
    return rows


def _outcome(decisions: list[Decision]) -> list[str]:
    return [
        f"DEFERRED {d.scheduled_for}" if d.status is Status.DEFERRED else str(d.status)
        for d in decisions
    ]


D = "DEFERRED 2026-"
D27, D28, D29, D30 = (date(2026, 11, n) for n in (27, 28, 29, 30))


@pytest.mark.parametrize(
    ("figures", "sends", "ship_by", "expected"),
    [
        pytest.param(
            ROOMY,
            [],
            [None] * 6,
            ["READY"] * 4 + [f"{D}11-27", f"{D}11-29"],
            id="no-ship-by-as-before",
        ),
        pytest.param(
            ROOMY,
            [],
            [D30] * 6,
            ["READY"] * 4 + [f"{D}11-27", f"{D}11-29"],
            id="ship-by-far-enough",
        ),
        pytest.param(
            ROOMY,
            [],
            [D30] * 5 + [D28],
            # The row due first goes today, though it was bought last; the others keep
            # purchase order.
            ["READY"] * 3 + [f"{D}11-27", f"{D}11-29", "READY"],
            id="earliest-ship-by-goes-first",
        ),
        pytest.param(
            ROOMY,
            [],
            [D30] * 4 + [D28, D28],
            # Today's 4 go to the rows due 11-28 first; the two due 11-30 fit 11-27 and 11-29.
            ["READY", "READY", f"{D}11-27", f"{D}11-29", "READY", "READY"],
            id="today-serves-the-earliest-ship-by-first",
        ),
        pytest.param(
            ROOMY,
            [],
            [D28] * 7,
            # 4 today, one on 11-27, none on 11-28: the last two would wait past 11-28.
            ["READY"] * 4 + [f"{D}11-27", "HELD", "HELD"],
            id="no-room-before-ship-by-is-held",
        ),
        pytest.param(
            FULL,
            [sent(TODAY)],
            [TODAY, D27, D29, None],
            # No room today nor on 11-27; 11-28 has room for one: the row due 11-29.
            ["HELD", "HELD", f"{D}11-28", f"{D}11-29"],
            id="full-budget-holds-rows-due-before-the-first-room",
        ),
        pytest.param(
            FULL,
            [sent(TODAY)],
            [TODAY - timedelta(days=2)],
            ["HELD"],
            id="ship-by-already-passed",
        ),
    ],
)
def test_no_row_is_deferred_past_its_ship_by_date(
    figures: AccountFigures,
    sends: list[Send],
    ship_by: list[date | None],
    expected: list[str],
) -> None:
    rows = _rows(ship_by)
    decisions = plan(rows, figures, sends, NOW, CONFIG, US)
    assert _outcome(decisions) == expected
    for (_, order, _), d in zip(rows, decisions, strict=True):
        last = deadline(order)
        if d.status is Status.DEFERRED and last is not None:
            assert d.scheduled_for is not None and d.scheduled_for <= last


@pytest.mark.parametrize(
    ("figures", "sends", "ship_by", "text"),
    [
        pytest.param(
            FULL,
            [sent(TODAY)],
            D27,
            "the cancellation budget has no room by the order's ship-by date 2026-11-27, and a "
            "buyer must not wait past it; a person decides: cancel today: rate 2.5%, over the "
            "2% target (by hand in Seller Central); or ship by 2026-11-27",
            id="over-target",
        ),
        pytest.param(
            AccountFigures(400, 0, REPORT_END),
            [sent(TODAY, order_id=f"s{i}") for i in range(4)],
            TODAY,
            "a person decides: cancel today: rate 1.25%, within the 2% target, over today's "
            "share of the budget (by hand in Seller Central); or ship by 2026-11-26",
            id="within-target-over-the-daily-share",
        ),
        pytest.param(
            FULL,
            [sent(TODAY)],
            TODAY - timedelta(days=1),
            "the order's ship-by date 2026-11-25 has passed and the cancellation budget has no "
            "room today; a person decides: cancel today: rate 2.5%, over the 2% target (by "
            "hand in Seller Central); or ship it now",
            id="passed",
        ),
    ],
)
def test_a_held_row_gives_both_choices_and_their_cost(
    figures: AccountFigures,
    sends: list[Send],
    ship_by: date,
    text: str,
) -> None:
    (decision,) = plan(_rows([ship_by]), figures, sends, NOW, CONFIG, US)
    assert decision.status is Status.HELD
    assert text in decision.result
    assert decision.scheduled_for is None


def test_buyer_requested_rows_are_never_deferred_even_with_no_room() -> None:
    rows = _rows([D27, None, D30, D27], buyer=[True, True, False, True])
    decisions = plan(rows, FULL, [sent(TODAY)], NOW, CONFIG, US)
    assert _outcome(decisions) == ["READY", "READY", f"{D}11-28", "READY"]
    assert [d.counts_toward_rate for d in decisions] == [False, False, True, False]


def test_deadline_is_the_utc_day_of_the_latest_ship_date() -> None:
    (_, order, _) = _rows([D28])[0]
    assert deadline(order) == D28
    assert deadline(dataclasses.replace(order, ship_by=None)) is None
    assert deadline(None) is None
    late = datetime(2026, 11, 28, 23, 30, tzinfo=UTC).astimezone()
    assert deadline(dataclasses.replace(order, ship_by=late)) == D28


@settings(max_examples=300, deadline=None)
@given(scenarios(), st.data())
def test_plan_never_defers_past_a_ship_by_date_nor_holds_back_a_buyers_request(
    scenario: tuple[AccountFigures, list[Send], list[Item], datetime, PolicyConfig],
    data: st.DataObject,
) -> None:
    figures, sends, items, now, config = scenario
    # Each order due to ship from two days before purchase (late already) to 20 days after,
    # or with no ship-by date at all.
    hours = data.draw(
        st.lists(
            st.one_of(st.none(), st.integers(-48, 20 * 24)),
            min_size=len(items),
            max_size=len(items),
        )
    )
    items = [
        (r, dataclasses.replace(o, ship_by=o.purchased + timedelta(hours=h)), d)
        if o is not None and o.purchased is not None and h is not None
        else (r, o, d)
        for (r, o, d), h in zip(items, hours, strict=True)
    ]
    decisions = plan(items, figures, sends, now, config, US)
    today = now.date()
    week = budget(figures, sends, now, config, US).week_budget
    for (_, order, before), after in zip(items, decisions, strict=True):
        last = deadline(order)
        if before.status is Status.READY and not before.counts_toward_rate:
            assert after == before  # the buyer's request waits for nothing
        if after.status is Status.DEFERRED and before.status is Status.READY:
            assert after.scheduled_for is not None and after.scheduled_for > today
            assert last is None or after.scheduled_for <= last, (after, last)
        if before.status is Status.READY and after.status is Status.HELD:
            assert after.scheduled_for is None
            # With a week budget above 0, a row held before the horizon is held by its date.
            if last is not None and last <= today + timedelta(days=30) and week > 0:
                assert "ship-by date" in after.result and "cancel today: rate" in after.result
