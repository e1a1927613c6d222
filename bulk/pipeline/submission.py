"""Sending and following feeds: record, upload, create, resume, poll, map results to rows."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta

from bulk import access
from bulk.amazon.protocol import (
    AccessDeniedError,
    FeedMessage,
    FeedState,
    ProcessingReport,
    ReportResult,
    UncertainError,
)
from bulk.columns import ResultColumn
from bulk.errors import AmazonError
from bulk.formats import counted
from bulk.infra.ledger import LedgerRow, PlannedRow, Submission
from bulk.infra.progress import Wait
from bulk.infra.state import crash_point
from bulk.models import (
    OPEN_STATUSES,
    FeedStatus,
    LedgerOutcome,
    Order,
    OrderStatus,
    Status,
    SubmissionState,
)
from bulk.pipeline.context import Context, RowOutcome
from bulk.sheets.base import Sheet


def by_marketplace(ready: Sequence[RowOutcome], main: str) -> list[tuple[str, list[RowOutcome]]]:
    """READY rows grouped by their order's marketplace (the main one when unknown), in order."""
    groups: dict[str, list[RowOutcome]] = {}
    for o in ready:
        market = o.order.marketplace_id if o.order is not None and o.order.marketplace_id else main
        groups.setdefault(market, []).append(o)
    return list(groups.items())


def feed_messages(ready: Sequence[RowOutcome]) -> list[FeedMessage]:
    messages = []
    for index, o in enumerate(ready, start=1):
        assert o.decision is not None and o.request is not None
        messages.append(
            FeedMessage(
                message_id=index,
                order_id=o.order_id,
                item_ids=tuple(i.order_item_id for i in o.decision.items),
                reason_code=o.request.reason.code,
            )
        )
    return messages


def send_feed(
    ctx: Context,
    sheet: Sheet,
    messages: list[FeedMessage],
    document: bytes,
    rows_by_order: dict[str, RowOutcome],
    marketplace_id: str,
) -> str | None:
    """Record, upload, create (for one marketplace): the ledger knows each step before the
    next call is made."""
    planned = []
    for m in messages:
        o = rows_by_order[m.order_id]
        counts = o.decision.counts_toward_rate if o.decision else True
        # The previewed customer message goes into the ledger with the submission: whichever
        # run learns of the cancellation (this one, `bulk status`, a re-run after a crash)
        # sends exactly this text.
        message = o.values.get(ResultColumn.CUSTOMER_MESSAGE) or None
        planned.append(
            PlannedRow(m.message_id, o.row, m.order_id, m.item_ids, m.reason_code, counts, message)
        )
    sid = ctx.ledger.plan_submission(
        sheet.label,
        ctx.target,
        document.decode("utf-8"),
        hashlib.sha256(document).hexdigest(),
        planned,
        ctx.now(),
    )
    crash_point("after-ledger-write")
    ctx.progress(f"uploading the cancellation feed ({counted(len(messages), 'order')})")
    document_id = ctx.account.upload_document(document)
    ctx.ledger.record_document(sid, document_id)
    crash_point("after-upload")
    try:
        feed_id = ctx.account.create_feed(document_id, marketplace_id)
    except UncertainError as e:
        ctx.progress(f"{e}; checking Amazon's feed list so that nothing is sent twice")
        _recover_unknown_feed(ctx, ctx.ledger.submission(sid))
        for r in ctx.ledger.rows(sid):
            o = rows_by_order[r.order_id]
            if r.outcome == LedgerOutcome.CANCELLED:
                o.status, o.result, o.cancelled_now = Status.CANCELLED, r.result, True
            else:
                o.result = (
                    "Amazon did not confirm receiving the feed, and the order is still open; "
                    "the next `bulk submit` sends it"
                )
        return None
    crash_point("after-create-feed")
    ctx.ledger.record_feed(sid, feed_id)
    ctx.progress(f"feed {feed_id} created")
    for m in messages:
        o = rows_by_order[m.order_id]
        o.status = Status.SUBMITTED
        o.result = f"sent in feed {feed_id}; waiting for Amazon"
        o.values[ResultColumn.FEED_ID] = feed_id
    return feed_id


def resume(ctx: Context) -> None:
    """Finish submissions an earlier run left open (crash, Ctrl-C, --no-wait)."""
    for sub in ctx.ledger.submissions(open_only=True):
        if sub.state == SubmissionState.PLANNED:
            # Nothing reached createFeed: no feed exists for it. Its rows go back to the sheet
            # and are checked again like any row.
            ctx.ledger.abandon_submission(sub.id, ctx.now())
        elif sub.state == SubmissionState.UPLOADED:
            _recover_unknown_feed(ctx, sub)


def _recover_unknown_feed(ctx: Context, sub: Submission) -> None:
    """createFeed may or may not have run; getFeeds does not say which document a feed carries."""
    known = {s.feed_id for s in ctx.ledger.submissions() if s.feed_id}
    strangers = [
        f
        for f in ctx.account.feeds_since(sub.created_at - timedelta(minutes=5))
        if f.feed_id not in known
    ]
    if not strangers:
        ctx.ledger.abandon_submission(sub.id, ctx.now())
        return
    ctx.progress(
        "an earlier run stopped while creating a feed; waiting for "
        f"{counted(len(strangers), 'unrecorded feed')} to finish before deciding what to send again"
    )
    limit = ctx.config.policy.feed_wait_minutes * 60
    for f in strangers:
        state = f
        if not state.finished:
            state = ctx.account.wait_for_feed(f.feed_id, limit, lambda s, w: None)
        if not state.finished:
            raise AmazonError(
                f"feed {f.feed_id} (possibly this tool's, from an interrupted run) is still "
                f"{state.processing_status}; run again later so no order is sent twice"
            )
    if len(strangers) == 1:
        # The one feed Amazon has that no submission claims came from this submission's
        # createFeed (its answer was lost, or the run stopped before recording it): its rows
        # show its Feed ID, as rows of any other feed do.
        ctx.ledger.record_feed(sub.id, strangers[0].feed_id)
    # Trust what Amazon says now: orders cancelled are done; the rest go back to the sheet.
    rows = ctx.ledger.rows(sub.id)
    orders = ctx.account.get_orders([r.order_id for r in rows], ctx.now())
    now = ctx.now()
    recorded: list[tuple[int, LedgerOutcome, str]] = []
    for r in rows:
        order = orders.get(r.order_id)
        if order is not None and (
            order.status == OrderStatus.CANCELED or _items_closed(order, r.items)
        ):
            recorded.append((r.message_id, LedgerOutcome.CANCELLED, "Amazon shows it cancelled"))
        else:
            recorded.append((r.message_id, LedgerOutcome.ABANDONED, ""))
    ctx.ledger.record_outcomes(sub.id, recorded, now)
    ctx.ledger.finish_submission(sub.id, SubmissionState.RECOVERED, FeedStatus.UNKNOWN, now)


def _waiting(
    by_order: dict[str, RowOutcome], rows: list[LedgerRow], feed_id: str, text: str
) -> None:
    """The feed's rows stay SUBMITTED, saying why and what to do; `bulk status` finishes them."""
    for r in rows:
        waiting = by_order.get(r.order_id)
        if waiting is not None:
            waiting.status = Status.SUBMITTED
            waiting.result = text
            waiting.values[ResultColumn.FEED_ID] = feed_id
            waiting.changed = True


def _no_access(feed_id: str, e: AccessDeniedError) -> str:
    return (
        f"sent in feed {feed_id}, but Amazon then refused access ({e}); nothing will be sent "
        "again: restore the app's role or authorisation in Seller Central, then run "
        "`bulk status` to collect the result"
    )


def collect(ctx: Context, outcomes: Sequence[RowOutcome], wait: bool) -> list[str]:
    """Poll every open feed; map its processing report back to the rows; trust Amazon's state.

    When Amazon refuses access on the way (a role removed, the authorisation revoked after
    the feed went out), the feed's rows stay SUBMITTED with a Result that says so; the
    submission stays open for `bulk status`. Returns a warning for each such feed.
    """
    # A rejected duplicate row has no request: results belong to the row that asked.
    by_order: dict[str, RowOutcome] = {}
    for o in sorted(outcomes, key=lambda o: o.request is None):
        by_order.setdefault(o.order_id, o)
    limit = ctx.config.policy.feed_wait_minutes * 60 if wait else 0.0
    warnings: list[str] = []
    finished: list[tuple[Submission, FeedState, list[LedgerRow], ProcessingReport | None]] = []
    for sub in ctx.ledger.submissions(open_only=True):
        if sub.feed_id is None:
            continue
        rows = ctx.ledger.rows(sub.id)
        try:
            # Amazon gives no estimate of a feed's processing time: the wait shows the real
            # time so far, what is usual, and when bulk stops waiting (feed_wait_minutes).
            label = f"feed {sub.feed_id} with Amazon"
            usual = f"usually a few minutes, gives up after {limit / 60:g} min"
            with ctx.steps.wait(label, usual if limit else "") as feed_wait:

                def show(state: FeedState, _waited: float, shown: Wait = feed_wait) -> None:
                    shown.update(state.processing_status)

                state = ctx.account.wait_for_feed(sub.feed_id, limit, show)
            crash_point("while-polling")
            ctx.ledger.record_processing(sub.id, state.processing_status)
            if not state.finished:
                text = (
                    f"Amazon is still processing feed {sub.feed_id} "
                    f"({state.processing_status}); run `bulk status` later to collect the result"
                )
                _waiting(by_order, rows, sub.feed_id, text)
                continue
            report = None
            if state.result_document_id:
                report = ctx.account.report(state.result_document_id)
        except AccessDeniedError as e:
            _waiting(by_order, rows, sub.feed_id, _no_access(sub.feed_id, e))
            warnings.append(_no_access(sub.feed_id, e))
            continue
        finished.append((sub, state, rows, report))
    # Amazon's state of every order the finished feeds sent, read once for all of them: one
    # report serves a run's every feed (4 feeds of 25,000 orders: 1 report).
    done = [
        (sub, rows, report)
        for sub, state, rows, report in finished
        if state.processing_status is FeedStatus.DONE
    ]
    try:
        orders = _read_again(ctx, done, ctx.now()) if done else {}
    except AccessDeniedError as e:
        # The feeds are done, but the orders' state could not be read: their rows wait.
        for sub, rows, _ in done:
            _waiting(by_order, rows, sub.feed_id or "", _no_access(sub.feed_id or "", e))
            warnings.append(_no_access(sub.feed_id or "", e))
        finished = [f for f in finished if f[1].processing_status != "DONE"]
        orders = {}
    for sub, state, rows, report in finished:
        _finish(ctx, sub, state, rows, report, orders, by_order)
    return warnings


def _errors(report: ProcessingReport | None, r: LedgerRow) -> list[ReportResult]:
    """The processing report's errors for one order of its feed."""
    if report is None:
        return []
    return [x for x in report.for_message(r.message_id) if x.code == "Error"]


def _finish(
    ctx: Context,
    sub: Submission,
    state: FeedState,
    rows: list[LedgerRow],
    report: ProcessingReport | None,
    orders: dict[str, Order],
    by_order: dict[str, RowOutcome],
) -> None:
    now = ctx.now()
    feed_id = sub.feed_id or ""
    if state.processing_status is not FeedStatus.DONE:
        words = ""
        if report is not None:
            words = "; ".join(
                f"{r.message_code}: {r.description}" for r in report.results if r.message_id == 0
            )
        text = f"Amazon ended feed {feed_id} {state.processing_status}" + (
            f": {words}" if words else ""
        )
        ctx.ledger.record_outcomes(
            sub.id, [(r.message_id, LedgerOutcome.FAILED, text) for r in rows], now
        )
        for r in rows:
            _set(by_order, r, Status.FAILED, text, feed_id)
        ctx.ledger.finish_submission(
            sub.id, SubmissionState(state.processing_status.lower()), state.processing_status, now
        )
        return
    # The orders were read again (`_read_again`): the report has no public list of codes for
    # "already shipped" or "already cancelled", so Amazon's order state is what the row says
    # (docs/amazon.md, "Processing reports").
    recorded: list[tuple[int, LedgerOutcome, str]] = []
    for r in rows:
        errors = _errors(report, r)
        order = orders.get(r.order_id)
        amazon_state = order.status if order else "unknown"
        if order is not None and order.status == OrderStatus.CANCELED:
            outcome, status_, text = (
                LedgerOutcome.CANCELLED,
                Status.CANCELLED,
                "Amazon cancelled the order",
            )
            if errors:
                text += f" (the feed said {errors[0].message_code}: {errors[0].description})"
        elif errors:
            words = "; ".join(f"Amazon error {e.message_code}: {e.description}" for e in errors)
            outcome, status_, text = (
                LedgerOutcome.FAILED,
                Status.FAILED,
                f"{words} (order is {amazon_state})",
            )
        elif order is not None and _items_closed(order, r.items):
            outcome, status_ = LedgerOutcome.CANCELLED, Status.CANCELLED
            text = f"Amazon cancelled {len(r.items)} item(s); the rest of the order stays open"
        else:
            outcome, status_ = LedgerOutcome.FAILED, Status.FAILED
            text = (
                f"feed {feed_id} finished without an error, but Amazon shows the order "
                f"{amazon_state}; check it in Seller Central"
            )
        recorded.append((r.message_id, outcome, text))
        _set(by_order, r, status_, text, feed_id)
    ctx.ledger.record_outcomes(sub.id, recorded, now)
    ctx.ledger.finish_submission(sub.id, SubmissionState.DONE, FeedStatus.DONE, now)


def _read_again(
    ctx: Context,
    feeds: list[tuple[Submission, list[LedgerRow], ProcessingReport | None]],
    now: datetime,
) -> dict[str, Order]:
    """Amazon's state of each order after its feed, for every finished feed, by the cheaper path.

    For many orders, one All Orders report (by last update, since the oldest feed was created;
    not restricted) replaces a getOrder call per order: an order it shows Cancelled is
    cancelled. Orders it shows otherwise or does not list are read one by one (a line cancelled
    from an open order needs its order item id, which the report does not have). With [amazon] restricted_data, the
    unshipped-orders report serves as before: an order a feed cancelled without error and that
    is no longer unshipped is cancelled.
    """
    ids = [r.order_id for _, rows, _ in feeds for r in rows]
    if len(ids) < ctx.config.policy.report_threshold:
        return ctx.account.get_orders(ids, now)
    errored = {r.order_id for _, rows, report in feeds for r in rows if _errors(report, r)}
    if ctx.account.restricted_data:
        unshipped = ctx.account.unshipped_orders(lambda status: None)
        wanted = set(ids)
        found = {i: o for i, o in unshipped.items() if i in wanted}
        gone = [i for i in ids if i not in unshipped and i not in errored]
        for order_id in gone:
            found[order_id] = Order(order_id, OrderStatus.CANCELED, "MFN", now)
        leftovers = [i for i in ids if i in errored and i not in unshipped]
        if leftovers:
            found.update(ctx.account.get_orders(leftovers, now))
        return found
    # Feeds are created after the orders they cancel were last updated: a minute's margin.
    since = min(sub.created_at for sub, _, _ in feeds) - timedelta(minutes=1)
    updated = ctx.account.all_orders(since, lambda status: None)
    found = {
        i: updated[i] for i in ids if i in updated and updated[i].status == OrderStatus.CANCELED
    }
    rest = [i for i in ids if i not in found]
    if rest:
        found.update(ctx.account.get_orders(rest, now))
    return found


def _items_closed(order: Order, item_ids: tuple[str, ...]) -> bool:
    """True when the order is still open but none of these lines has units left to ship."""
    if order.status not in OPEN_STATUSES:
        return False
    lines = order.items
    if not lines:
        return False  # Amazon listed no lines: nothing shows them closed
    open_ids = {i.order_item_id for i in lines if i.quantity_ordered - i.quantity_shipped > 0}
    return not open_ids.intersection(item_ids)


def _set(
    by_order: dict[str, RowOutcome], r: LedgerRow, status_: Status, text: str, feed_id: str
) -> None:
    o = by_order.get(r.order_id)
    if o is None:
        return  # the row is no longer in the sheet; the ledger keeps the outcome
    o.status = status_
    o.result = text
    o.values[ResultColumn.FEED_ID] = feed_id
    o.values[ResultColumn.SCHEDULED_FOR] = (
        ""  # sent: a day it was once deferred to no longer stands
    )
    o.changed = True
    o.cancelled_now = status_ is Status.CANCELLED


def check_roles(ctx: Context, ready: Sequence[RowOutcome]) -> None:
    """Refuse to send anything when the app lacks a role the rows at hand need: the feed needs
    Inventory and Order Tracking, customer messages Buyer Communication (docs/amazon.md,
    "Roles and restricted data"). Better than failing after the feed went out."""
    needed = [access.INVENTORY_AND_ORDER_TRACKING]
    messages = sum(1 for o in ready if o.request is not None and o.request.notify)
    if messages:
        needed.append(access.BUYER_COMMUNICATION)
    missing = ctx.account.missing_roles(needed)
    if not missing:
        return
    why = {
        access.INVENTORY_AND_ORDER_TRACKING: "the cancellation feed",
        access.BUYER_COMMUNICATION: f"the customer messages of {counted(messages, 'row')}",
    }
    lacking = "; ".join(f"Amazon's role {r}, needed for {why[r]}" for r in missing)
    raise AccessDeniedError(
        f"nothing was sent: the app lacks {lacking}; add the role to the app in Seller "
        "Central's Develop Apps page and authorise it again"
        + (" (or set Notify to No on those rows)" if access.BUYER_COMMUNICATION in missing else "")
        + "; `bulk doctor` checks every role"
    )
