"""What `bulk submit` shows before it asks (bulk.output.confirm), from a run's report: where it
goes, the orders per marketplace, the rate, the messages and their time at Amazon's rates."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from test_messages import make_order, make_request

from bulk import marketplaces, models
from bulk.config import PolicyConfig
from bulk.models import Decision, Status
from bulk.output.confirm import confirmation_lines, planned_messages, question
from bulk.pipeline.context import RowOutcome, RunReport
from bulk.rules import policy

GERMANY = marketplaces.BY_CODE["DE"].marketplace_id
FRANCE = marketplaces.BY_CODE["FR"].marketplace_id
PRODUCTION = "PRODUCTION Amazon, seller A1SELLER, marketplaces DE, FR"


def _ready(row: int, market: str, message_status: str = "", notify: bool = True) -> RowOutcome:
    order = replace(make_order(id_=f"302-{row:07d}-0000001"), marketplace_id=market)
    request = replace(make_request(order_id=order.order_id), row=row, notify=notify)
    return RowOutcome(
        row,
        order.order_id,
        Status.READY,
        "ready",
        {"Message Status": message_status},
        request=request,
        order=order,
        decision=Decision(Status.READY, "ready", items=order.items[:1]),
    )


def _report(outcomes: list[RowOutcome]) -> RunReport:
    figures = models.AccountFigures(
        order_count=4000, cancellation_count=20, report_end=date(2026, 3, 1)
    )
    now = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    decisions = [o.decision for o in outcomes if o.decision is not None]
    summary = policy.summarize(
        decisions, figures, [], now, PolicyConfig(), marketplaces.BY_CODE["DE"]
    )
    france = policy.summarize([], figures, [], now, PolicyConfig(), marketplaces.BY_CODE["FR"])
    return RunReport(
        outcomes,
        summary=summary,
        budgets=(summary, france),
        sent_orders=len(outcomes),
        sent_items=len(outcomes),
    )


def test_production_names_the_seller_the_marketplaces_and_the_messages_time() -> None:
    outcomes = [_ready(2 + i, GERMANY if i % 4 else FRANCE) for i in range(2000)]
    outcomes[0].values["Message Status"] = "will not be sent: the message is too long"
    outcomes[1] = _ready(3, GERMANY, "not requested (Notify is No)", notify=False)
    report = _report(outcomes)
    lines = confirmation_lines(report, PRODUCTION, GERMANY, sandbox=False)
    assert lines[0] == f"about to send to {PRODUCTION}:"
    assert lines[1] == (
        "  cancellations: 500 orders (500 items) in FR, 1500 orders (1500 items) in DE"
    )
    assert lines[2].startswith("  cancellation rate (DE): 0.5% now, ")
    assert lines[3] == "  cancellation rate (FR): 0.5% now, 0.5% after (target under 2.5%)"
    # 1998 messages, three calls each at about one a second after a burst of five.
    assert lines[4] == (
        "  customer messages: 1998 will be sent after the cancellations, where Amazon allows "
        "one for the order (about 1 hour 40 minutes at Amazon's rates)"
    )
    assert "  customer messages: 1 will not be sent: the message is too long" in lines
    assert "  customer messages: 1 will not be sent: not requested (Notify is No)" in lines
    rows = [line for line in lines if line.startswith("    ")]
    assert len(rows) == 6 and rows[-1] == "    ... and 1995 more (-v lists them all)"
    assert rows[0] == "    row 2  302-0000002-0000001  FR  Out of stock, whole order, no message"
    assert rows[1].endswith("no message")
    assert rows[2] == "    row 4  302-0000004-0000001  DE  Out of stock, whole order, message"
    everything = confirmation_lines(report, PRODUCTION, GERMANY, sandbox=False, verbose=True)
    assert len([line for line in everything if line.startswith("    row ")]) == 2000
    assert question(report, sandbox=False) == (
        "Cancel 2000 orders (2000 items) on Amazon and send up to 1998 customer messages?"
    )


def test_the_sandbox_promises_no_minutes_and_one_reads_in_the_singular() -> None:
    report = _report([_ready(2, GERMANY)])
    lines = confirmation_lines(report, "sandbox (local marketplace)", GERMANY, sandbox=True)
    assert lines[0] == "about to send to the sandbox (local marketplace):"
    assert lines[1] == "  cancellations: 1 order (1 item) in DE"
    assert "(the sandbox answers at once)" in lines[4]
    assert question(report, sandbox=True) == (
        "Cancel 1 order (1 item) in the sandbox and send up to 1 customer message?"
    )
    assert planned_messages(report.outcomes).will_send == 1
