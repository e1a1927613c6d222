"""Customer messages after a cancellation: once per order, where Amazon allows it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, tzinfo

from bulk.amazon.protocol import UncertainError
from bulk.columns import ResultColumn
from bulk.errors import AmazonError
from bulk.formats import format_updated_at
from bulk.infra.ledger import MessageRecord
from bulk.infra.state import crash_point
from bulk.models import MessageOutcome, MessageState
from bulk.pipeline.context import Context, RowOutcome
from bulk.rules.lint import lint_message
from bulk.rules.messages import render_message, why_no_message

MESSAGE_KIND = "unexpectedProblem"
# What a message's state in the ledger means for the run's summary.
_OUTCOME = {
    MessageState.SENT: MessageOutcome.SENT,
    MessageState.NOT_ALLOWED: MessageOutcome.NOT_ALLOWED,
    MessageState.FAILED: MessageOutcome.NOT_SENT,
    MessageState.UNCERTAIN: MessageOutcome.NOT_SENT,
    MessageState.SENDING: MessageOutcome.NOT_SENT,
}
# The calls one customer message takes (messaging.json; each about 1 a second).
MESSAGE_CALLS = {"getMessagingActionsForOrder": 1, "getAttributes": 1, "createUnexpectedProblem": 1}


def send_messages(ctx: Context, outcomes: Sequence[RowOutcome]) -> None:
    """After a row is CANCELLED, send its customer message once, where Amazon allows it."""
    todo = [o for o in outcomes if o.cancelled_now and o.request is not None]
    # What earlier runs sent, read at once; each message is still claimed before it is sent.
    earlier = ctx.ledger.messages([o.order_id for o in todo], MESSAGE_KIND)
    with ctx.steps.step("customer messages", len(todo), MESSAGE_CALLS) as step:
        for o in todo:
            _send_one(ctx, o, earlier.get(o.order_id))
            step.advance()


def _send_one(ctx: Context, o: RowOutcome, record: MessageRecord | None) -> None:
    """One row's customer message, claimed in the ledger before it is sent."""
    if o.request is None:
        return
    request = o.request
    if record is not None:
        # Sent (or tried) by an earlier run: the sheet shows that text and what became of it,
        # and this run's summary does not count it again.
        if record.text:
            o.values[ResultColumn.CUSTOMER_MESSAGE] = record.text
        o.values[ResultColumn.MESSAGE_STATUS] = message_status(
            record.state, record.detail, record.sent_at, ctx.config.zone
        )
        return
    withheld = why_no_message(request, o.order)
    if withheld:
        o.values[ResultColumn.MESSAGE_STATUS] = withheld
        # Counted by the run that decided the row; a later run that only finishes it from the
        # ledger (its sheet write was lost) does not count it again.
        o.message = MessageOutcome.NOT_REQUESTED if o.decision is not None else None
        return
    market = _marketplace_of(ctx, o)
    try:
        actions = ctx.account.message_actions(o.order_id, market)
    except AmazonError as e:
        o.values[ResultColumn.MESSAGE_STATUS] = f"failed: {e}"
        o.message = MessageOutcome.NOT_SENT
        return
    if MESSAGE_KIND not in actions:
        ctx.ledger.begin_message(o.order_id, MESSAGE_KIND, "", ctx.now())
        _finish(ctx, o, MessageState.NOT_ALLOWED, "")
        return
    text = ctx.ledger.recorded_message(o.order_id)
    if text is None:
        # Sent by a version of bulk that did not record the message: render it now.
        locale = ctx.account.buyer_locale(o.order_id, market)
        order = o.order
        if order is not None and locale:
            order = replace(order, locale=locale)
        text = render_message(ctx.templates, request, order, ctx.config.messages.seller_name)
    o.values[ResultColumn.CUSTOMER_MESSAGE] = text
    problems = lint_message(text)
    if problems:
        o.values[ResultColumn.MESSAGE_STATUS] = "not sent: " + "; ".join(problems)
        o.message = MessageOutcome.NOT_SENT
        return
    crash_point("before-message")
    if not ctx.ledger.begin_message(o.order_id, MESSAGE_KIND, text, ctx.now()):
        return
    try:
        ctx.account.send_unexpected_problem(o.order_id, market, text)
        crash_point("after-message")
    except UncertainError as e:
        # It may have reached the buyer: never send it again.
        _finish(ctx, o, MessageState.UNCERTAIN, str(e))
        return
    except AmazonError as e:
        _finish(ctx, o, MessageState.FAILED, str(e))
        return
    _finish(ctx, o, MessageState.SENT, "")


def _finish(ctx: Context, o: RowOutcome, state: MessageState, detail: str) -> None:
    """Record how the message ended, then say so on the row."""
    now = ctx.now()
    ctx.ledger.finish_message(o.order_id, MESSAGE_KIND, state, detail, now)
    o.values[ResultColumn.MESSAGE_STATUS] = message_status(
        state, detail, now if state is MessageState.SENT else None, ctx.config.zone
    )
    o.message = _OUTCOME[state]


def _marketplace_of(ctx: Context, o: RowOutcome) -> str:
    """The marketplace the order was placed in: its message goes there (Messaging API)."""
    ids = ctx.account.marketplace_ids
    if o.order is None and len(ids) > 1:
        # A row finished from the ledger carries no order: read it to learn where it lives.
        found = ctx.account.get_orders([o.order_id], ctx.now()).get(o.order_id)
        if found is not None:
            o.order = found
    if o.order is not None and o.order.marketplace_id:
        return o.order.marketplace_id
    return ids[0]


def message_status(
    state: MessageState, detail: str, sent_at: datetime | None, zone: tzinfo = UTC
) -> str:
    """The Message Status cell's words for a message's state in the ledger (times in `zone`,
    the team's)."""
    if state is MessageState.SENT:
        return f"sent {format_updated_at(sent_at, zone)}" if sent_at else "sent"
    if state is MessageState.NOT_ALLOWED:
        return "not allowed by Amazon for this order"
    if state is MessageState.FAILED:
        return f"failed: {detail}"
    if state is MessageState.UNCERTAIN:
        return (
            f"Amazon did not confirm it ({detail}); not sent again so the buyer gets no "
            "duplicate; check Buyer-Seller Messages"
        )
    return "interrupted while sending; not sent again (check Buyer-Seller Messages)"
