"""Statuses checked against the ledger: which rows' statuses are bulk's own, what an untrusted
row's Result says, and the statuses bulk writes without sending, recorded before the sheet shows
them (bulk.rules.trust decides)."""

from __future__ import annotations

from collections.abc import Sequence

from bulk.columns import ResultColumn
from bulk.infra.ledger import LedgerRow, StatusRecord
from bulk.models import Status
from bulk.pipeline.context import Context, RowOutcome
from bulk.rules import trust
from bulk.rules.rows import ParsedRow


def doubts(
    ctx: Context,
    parsed: Sequence[ParsedRow],
    known: dict[str, list[LedgerRow]],
    records: dict[str, StatusRecord],
) -> dict[int, str]:
    """Row number -> why its status is not bulk's, for the rows whose status is not trusted."""
    feed_ids = ctx.ledger.feed_ids() if trust.needs_feed_ids(parsed) else {}
    found: dict[int, str] = {}
    for row in parsed:
        why = trust.doubt(row, known.get(row.order_id, ()), records.get(row.order_id), feed_ids)
        if why:
            found[row.row] = why
    return found


def say_doubts(outcomes: Sequence[RowOutcome], doubts: dict[int, str]) -> None:
    """Each untrusted row's Result says why it was checked as new; the cells its old status
    left (a feed id, a message, a case) are cleared when the check did not write them."""
    if not doubts:
        return
    for o in outcomes:
        why = doubts.get(o.row)
        if why is None or not o.changed:
            continue
        if o.status is Status.CANCELLED and not o.cancelled_now:
            o.result = trust.CANCELLED_OUTSIDE
        else:
            o.result = trust.with_doubt(why, o.result)
        for column in (
            ResultColumn.FEED_ID,
            ResultColumn.SCHEDULED_FOR,
            ResultColumn.CUSTOMER_MESSAGE,
            ResultColumn.MESSAGE_STATUS,
            ResultColumn.SUPPORT_CASE,
        ):
            o.values.setdefault(column, "")


def record_statuses(ctx: Context, outcomes: Sequence[RowOutcome]) -> None:
    """Before the sheet shows them: the statuses bulk writes without sending (a DEFERRED
    row's day, an order found cancelled on Amazon), so that the next run trusts them; and
    promises no longer standing are dropped."""
    kept: list[StatusRecord] = []
    dropped: list[str] = []
    for o in outcomes:
        if not o.changed or not o.order_id:
            continue
        if o.status is Status.DEFERRED and o.decision is not None:
            kept.append(StatusRecord(o.order_id, Status.DEFERRED, o.decision.scheduled_for))
        elif o.status is Status.CANCELLED and not o.cancelled_now and o.decision is not None:
            kept.append(StatusRecord(o.order_id, Status.CANCELLED))
        elif o.request is not None and o.status in (
            Status.READY,
            Status.REJECTED,
            Status.HELD,
            Status.ESCALATE,
        ):
            dropped.append(o.order_id)  # (a duplicate row has no request: not its promise)
    if dropped:
        ctx.ledger.forget_statuses(dropped)
    if kept:
        ctx.ledger.record_statuses(kept, ctx.now())
