"""What `bulk submit` shows before it asks: enough for a person to decide.

Where it goes (the sandbox, or production with the seller and marketplaces), the orders and
items per marketplace, the cancellation rate before and after, which customer messages will
and will not be sent and how long they take at Amazon's rates, and the first rows (all with
-v). Built from the run's report, the same data the sheet and the summary show.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from bulk import marketplaces
from bulk.columns import ResultColumn
from bulk.formats import counted, percent
from bulk.marketplaces import rate_limited_seconds
from bulk.models import Status
from bulk.pipeline.context import RowOutcome, RunReport
from bulk.pipeline.messaging import MESSAGE_CALLS

FIRST_ROWS = 5  # rows listed without -v


@dataclass(frozen=True)
class Messages:
    """The customer messages a submission plans, from the rows' Message Status."""

    will_send: int  # sent after the cancellation, where Amazon allows a message for the order
    will_not: dict[str, int]  # why not -> how many

    @property
    def seconds(self) -> float:
        """Amazon's rate-limited time for the messages (their calls, about one a second)."""
        return rate_limited_seconds({op: n * self.will_send for op, n in MESSAGE_CALLS.items()})


def _ready(report: RunReport) -> list[RowOutcome]:
    return [o for o in report.outcomes if o.status is Status.READY and o.request is not None]


def planned_messages(outcomes: Sequence[RowOutcome]) -> Messages:
    """What the rows to send say of their message: blank Message Status is one to send."""
    will_send = 0
    will_not: Counter[str] = Counter()
    for o in outcomes:
        said = o.values.get(ResultColumn.MESSAGE_STATUS, "")
        if o.request is not None and o.request.notify and not said:
            will_send += 1
        else:
            # "will not be sent: <why>", "not requested (Notify is No)", ...
            why = said.removeprefix("will not be sent: ") or "not requested"
            will_not[why] += 1
    return Messages(will_send, dict(will_not))


def _market_code(o: RowOutcome, main_id: str) -> str:
    """The code of the order's marketplace: its own where Amazon said, else the main one."""
    market_id = o.order.marketplace_id if o.order is not None and o.order.marketplace_id else ""
    found = marketplaces.by_id(market_id or main_id)
    return found.code if found is not None else market_id or main_id


def _at_amazons_rates(seconds: float) -> str:
    if seconds < 60:
        return "under a minute"
    minutes = round(seconds / 60)
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"about {counted(minutes, 'minute')}"
    return f"about {counted(hours, 'hour')}" + (f" {counted(rest, 'minute')}" if rest else "")


def confirmation_lines(
    report: RunReport, target: str, main_id: str, sandbox: bool, verbose: bool = False
) -> list[str]:
    """The lines shown above the question: `target` is where it goes, in words; `main_id` the
    marketplace of orders Amazon named none for."""
    ready = _ready(report)
    lines = [f"about to send to {'the ' if sandbox else ''}{target}:"]
    by_market: Counter[str] = Counter()
    items: Counter[str] = Counter()
    for o in ready:
        code = _market_code(o, main_id)
        by_market[code] += 1
        items[code] += len(o.decision.items) if o.decision is not None else 0
    lines.append(
        "  cancellations: "
        + ", ".join(
            f"{counted(n, 'order')} ({counted(items[code], 'item')}) in {code}"
            for code, n in by_market.items()
        )
    )
    # Amazon measures the rate per marketplace: each one's with rows in this run.
    for s in report.budgets or ((report.summary,) if report.summary else ()):
        lines.append(
            f"  cancellation rate{f' ({s.marketplace})' if s.marketplace else ''}: "
            f"{percent(s.rate_now)} now, {percent(s.projected_rate)} after "
            f"(target under {percent(s.target_rate)})"
        )
    messages = planned_messages(ready)
    if messages.will_send:
        how_long = (
            "the sandbox answers at once"
            if sandbox
            else f"{_at_amazons_rates(messages.seconds)} at Amazon's rates"
        )
        lines.append(
            f"  customer messages: {messages.will_send} will be sent after the cancellations, "
            f"where Amazon allows one for the order ({how_long})"
        )
    reasons = sorted(messages.will_not.items(), key=lambda kv: -kv[1])
    for why, n in reasons[:3]:
        lines.append(f"  customer messages: {n} will not be sent: {why}")
    if len(reasons) > 3:
        rest = sum(n for _, n in reasons[3:])
        lines.append(f"  customer messages: {rest} more will not be sent (see Message Status)")
    shown = ready if verbose else ready[:FIRST_ROWS]
    lines.append("  rows:")
    for o in shown:
        assert o.request is not None
        what = (
            "whole order"
            if not o.request.items
            else counted(len(o.decision.items) if o.decision else 0, "item")
        )
        message = (
            "message"
            if o.request.notify and not o.values.get(ResultColumn.MESSAGE_STATUS)
            else "no message"
        )
        lines.append(
            f"    row {o.row}  {o.order_id}  {_market_code(o, main_id)}  "
            f"{o.request.reason.label}, {what}, {message}"
        )
    if len(ready) > len(shown):
        lines.append(f"    ... and {len(ready) - len(shown)} more (-v lists them all)")
    return lines


def question(report: RunReport, sandbox: bool) -> str:
    ready = _ready(report)
    messages = planned_messages(ready).will_send
    where = "in the sandbox" if sandbox else "on Amazon"
    also = f" and send up to {counted(messages, 'customer message')}" if messages else ""
    orders = counted(report.sent_orders, "order")
    return f"Cancel {orders} ({counted(report.sent_items, 'item')}) {where}{also}?"
