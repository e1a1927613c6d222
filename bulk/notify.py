"""Customer messages after a cancellation: once per order, where Amazon allows it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from bulk.amazon.protocol import UncertainError
from bulk.context import Context, RowOutcome, stamp
from bulk.errors import AmazonError
from bulk.lint import lint_message
from bulk.messages import render_message
from bulk.state import crash_point

MESSAGE_KIND = "unexpectedProblem"
# The calls one customer message takes (messaging.json; each about 1 a second).
MESSAGE_CALLS = {"getMessagingActionsForOrder": 1, "getAttributes": 1, "createUnexpectedProblem": 1}


def send_messages(ctx: Context, outcomes: Sequence[RowOutcome]) -> None:
    """After a row is CANCELLED, send its customer message once, where Amazon allows it."""
    todo = [o for o in outcomes if o.cancelled_now and o.request is not None]
    with ctx.steps.step("customer messages", len(todo), MESSAGE_CALLS) as step:
        for o in todo:
            _send_one(ctx, o)
            step.advance()


def _send_one(ctx: Context, o: RowOutcome) -> None:
    """One row's customer message, claimed in the ledger before it is sent."""
    if o.request is None:
        return
    request = o.request
    record = ctx.ledger.message(o.order_id, MESSAGE_KIND)
    if record is not None:
        o.values["Message Status"] = message_status(record.state, record.detail, record.sent_at)
        return
    if not request.notify:
        o.values["Message Status"] = "not requested (Notify is No)"
        return
    market = _marketplace_of(ctx, o)
    try:
        actions = ctx.marketplace.message_actions(o.order_id, market)
    except AmazonError as e:
        o.values["Message Status"] = f"failed: {e}"
        return
    if MESSAGE_KIND not in actions:
        ctx.ledger.begin_message(o.order_id, MESSAGE_KIND, "", ctx.now())
        ctx.ledger.finish_message(o.order_id, MESSAGE_KIND, "not_allowed", "", ctx.now())
        o.values["Message Status"] = "not allowed by Amazon for this order"
        return
    locale = ctx.marketplace.buyer_locale(o.order_id, market)
    order = o.order
    if order is not None and locale:
        order = replace(order, locale=locale)
    text = render_message(ctx.templates, request, order, ctx.config.messages.seller_name)
    o.values["Customer Message"] = text
    problems = lint_message(text)
    if problems:
        o.values["Message Status"] = "not sent: " + "; ".join(problems)
        return
    if not ctx.ledger.begin_message(o.order_id, MESSAGE_KIND, text, ctx.now()):
        return
    crash_point("before-message")
    try:
        ctx.marketplace.send_unexpected_problem(o.order_id, market, text)
    except UncertainError as e:
        # It may have reached the buyer: never send it again.
        ctx.ledger.finish_message(o.order_id, MESSAGE_KIND, "uncertain", str(e), ctx.now())
        o.values["Message Status"] = message_status("uncertain", str(e), None)
        return
    except AmazonError as e:
        ctx.ledger.finish_message(o.order_id, MESSAGE_KIND, "failed", str(e), ctx.now())
        o.values["Message Status"] = f"failed: {e}"
        return
    ctx.ledger.finish_message(o.order_id, MESSAGE_KIND, "sent", "", ctx.now())
    o.values["Message Status"] = f"sent {stamp(ctx.now())}"


def _marketplace_of(ctx: Context, o: RowOutcome) -> str:
    """The marketplace the order was placed in: its message goes there (Messaging API)."""
    ids = ctx.marketplace.marketplace_ids
    if o.order is None and len(ids) > 1:
        # A row finished from the ledger carries no order: read it to learn where it lives.
        found = ctx.marketplace.get_orders([o.order_id], ctx.now()).get(o.order_id)
        if found is not None:
            o.order = found
    if o.order is not None and o.order.marketplace_id:
        return o.order.marketplace_id
    return ids[0]


def message_status(state: str, detail: str, sent_at: datetime | None) -> str:
    if state == "sent":
        return f"sent {stamp(sent_at)}" if sent_at else "sent"
    if state == "not_allowed":
        return "not allowed by Amazon for this order"
    if state == "failed":
        return f"failed: {detail}"
    if state == "uncertain":
        return (
            f"Amazon did not confirm it ({detail}); not sent again so the buyer gets no "
            "duplicate; check Buyer-Seller Messages"
        )
    return "interrupted while sending; not sent again (check Buyer-Seller Messages)"
