"""The pipeline: read the sheet, check rows, look orders up, apply the policy, send, write results."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bulk import policy
from bulk.amazon.feed import FeedMessage, ProcessingReport, build_document, sha256, split_messages
from bulk.amazon.marketplace import FeedState, Marketplace, UncertainError
from bulk.config import Config
from bulk.errors import AmazonError
from bulk.ledger import Ledger, LedgerRow, PlannedRow, Submission
from bulk.messages import Templates, lint_message, render_message, render_support_case
from bulk.models import CancelRequest, Decision, Order, Status
from bulk.rows import ParsedRow, find_header, parse_rows
from bulk.sheets.base import RowUpdate, Sheet, WriteReport
from bulk.state import crash_point

MESSAGE_KIND = "unexpectedProblem"


@dataclass(frozen=True)
class Options:
    dry_run: bool = False
    allow_late: bool = False
    wait: bool = True
    save_feed: Path | None = None


@dataclass
class Context:
    """What a run works with; the CLI builds it, tests build their own."""

    config: Config
    ledger: Ledger
    marketplace: Marketplace
    templates: Templates
    target: str  # "sandbox" or "production"
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    progress: Callable[[str], None] = lambda _line: None


@dataclass
class RowOutcome:
    """What bulk will write on one row."""

    row: int
    order_id: str
    status: Status
    result: str
    values: dict[str, str] = field(default_factory=dict)
    request: CancelRequest | None = None
    order: Order | None = None
    decision: Decision | None = None
    changed: bool = True  # False: leave the row's cells alone
    cancelled_now: bool = False  # this run learned that bulk's feed cancelled it: message the buyer


@dataclass
class RunReport:
    outcomes: list[RowOutcome]
    summary: policy.Summary | None = None
    write: WriteReport | None = None
    feed_ids: list[str] = field(default_factory=list)
    calls: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    sent_orders: int = 0
    sent_items: int = 0
    lookup_path: str = ""
    declined: bool = False

    def count(self, status: Status) -> int:
        return sum(1 for o in self.outcomes if o.status is status)

    @property
    def counts(self) -> dict[Status, int]:
        tally = Counter(o.status for o in self.outcomes)
        return {s: tally[s] for s in Status if tally[s]}

    @property
    def exit_code(self) -> int:
        return 0 if all(o.status.in_good_standing for o in self.outcomes) else 1


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


# Evaluation -------------------------------------------------------------------------


def _needs_items(order: Order) -> bool:
    # Items are fetched only for orders bulk may send (one getOrderItems call each).
    return order.status in ("Unshipped", "PartiallyShipped") and order.channel == "MFN"


def _ledger_state(rows: list[LedgerRow], sheet_updated: datetime | None) -> LedgerRow | None:
    """The ledger row that decides this order now, or None when the row may be checked again.

    An open or cancelled submission always decides. A failed one decides only when the sheet
    never heard of it (its Updated At is older than the failure): when staff cleared a FAILED
    status, the row is theirs to try again.
    """
    rows = [r for r in rows if r.outcome != "abandoned"]
    if not rows:
        return None
    latest = rows[-1]
    if latest.outcome in ("pending", "cancelled"):
        return latest
    if latest.outcome == "failed" and latest.updated_at is not None:
        failed_at = latest.updated_at.astimezone(UTC).replace(second=0, microsecond=0)
        if sheet_updated is None or sheet_updated < failed_at:
            return latest
    return None


def _updated_at(row: ParsedRow) -> datetime | None:
    text = row.previous.get("Updated At", "").strip()
    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M UTC").replace(tzinfo=UTC)
    except ValueError:
        return None


def _unchanged(row: ParsedRow) -> RowOutcome:
    return RowOutcome(
        row.row,
        row.order_id,
        row.status,
        row.previous.get("Result", ""),
        request=row.request,
        changed=False,
    )


def _from_ledger(
    ctx: Context, row: ParsedRow, request: CancelRequest | None, state: LedgerRow
) -> RowOutcome:
    """What the ledger says of an order the sheet has not caught up with."""
    sub = ctx.ledger.submission(state.submission_id)
    feed = {"Feed ID": sub.feed_id or ""}
    if state.outcome == "pending":
        text = f"sent in feed {sub.feed_id or '(being created)'}; waiting for Amazon"
        return RowOutcome(row.row, row.order_id, Status.SUBMITTED, text, feed, request=request)
    if state.outcome == "failed":
        return RowOutcome(row.row, row.order_id, Status.FAILED, state.result, feed, request=request)
    # Cancelled by an earlier run whose sheet write never happened: finish the job,
    # including the customer message if it was not sent (the ledger says).
    return RowOutcome(
        row.row,
        row.order_id,
        Status.CANCELLED,
        state.result or "cancelled by an earlier bulk run",
        feed,
        request=request,
        cancelled_now=True,
    )


def evaluate(ctx: Context, sheet: Sheet, opts: Options) -> RunReport:
    """Read and check every row; look up orders; decide and plan. Nothing is sent."""
    grid = sheet.read()
    header = find_header(grid)
    parsed = parse_rows(grid, header, ctx.config)
    now = ctx.now()
    outcomes: list[RowOutcome] = []
    candidates: list[tuple[ParsedRow, CancelRequest]] = []
    submitted: list[ParsedRow] = []
    for row in parsed:
        if row.status in (Status.CANCELLED, Status.FAILED):
            outcomes.append(_unchanged(row))
        elif row.status is Status.SUBMITTED:
            submitted.append(row)
        elif row.problems or row.request is None:
            outcomes.append(
                RowOutcome(row.row, row.order_id, Status.REJECTED, "; ".join(row.problems))
            )
        else:
            candidates.append((row, row.request))

    # The ledger knows what was sent even when the sheet does not (a crash before the sheet
    # was written, or staff cleared the status): never send an order twice.
    known = ctx.ledger.rows_for_orders(
        [r.order_id for _, r in candidates] + [r.order_id for r in submitted]
    )
    for row in submitted:
        state = _ledger_state(known.get(row.order_id, []), None)
        if state is None or state.outcome == "pending":
            # Polled by `collect`, never sent again; with no ledger entry (another state
            # folder sent it) it stays as it is.
            outcomes.append(_unchanged(row))
        else:
            outcomes.append(_from_ledger(ctx, row, row.request, state))
    fresh: list[tuple[ParsedRow, CancelRequest]] = []
    for row, request in candidates:
        state = _ledger_state(known.get(request.order_id, []), _updated_at(row))
        if state is None:
            fresh.append((row, request))
        else:
            outcomes.append(_from_ledger(ctx, row, request, state))

    orders: dict[str, Order] = {}
    lookup_path = ""
    if fresh:
        ctx.progress(f"looking up {len(fresh)} orders on Amazon")
        orders, lookup_path = ctx.marketplace.look_up(
            [r.order_id for _, r in fresh],
            now,
            _needs_items,
            ctx.config.policy.report_threshold,
            lambda status: ctx.progress(f"unshipped-orders report: {status}"),
        )

    decided: list[tuple[CancelRequest, Order | None, Decision]] = []
    today = now.astimezone(UTC).date()
    for row, request in fresh:
        order = orders.get(request.order_id)
        deferred = row.status is Status.DEFERRED
        # A row bulk itself deferred is past the time window by the time its day comes: the
        # delay is the budget's doing, so the window does not hold it back.
        decision = policy.decide(
            request, order, now, ctx.config.policy, opts.allow_late or deferred
        )
        day = row.scheduled_for
        if deferred and day is not None and day > today and decision.status is Status.READY:
            # Not its day yet: it keeps its place in that day's budget.
            decision = replace(
                decision,
                status=Status.DEFERRED,
                scheduled_for=day,
                result=row.previous.get("Result", "") or f"scheduled for {day.isoformat()}",
            )
        decided.append((request, order, decision))

    summary: policy.Summary | None = None
    if any(
        d.status in (Status.READY, Status.DEFERRED) and d.counts_toward_rate for _, _, d in decided
    ):
        figures = ctx.marketplace.account_figures(
            lambda status: ctx.progress(f"reading the account's cancellation rate: {status}")
        )
        sends = [
            policy.Send(order_id, sent_at, counts)
            for order_id, sent_at, counts in ctx.ledger.counted_sends(now - timedelta(days=8))
        ]
        plans = policy.plan(decided, figures, sends, now, ctx.config.policy)
        decided = [(r, o, d) for (r, o, _), d in zip(decided, plans, strict=True)]
        summary = policy.summarize(
            [d for _, _, d in decided], figures, sends, now, ctx.config.policy
        )

    for request, order, decision in decided:
        outcomes.append(_outcome(ctx, request, order, decision))
    outcomes.sort(key=lambda o: o.row)
    return RunReport(
        outcomes, summary=summary, warnings=list(grid.warnings), lookup_path=lookup_path
    )


def _outcome(
    ctx: Context, request: CancelRequest, order: Order | None, decision: Decision
) -> RowOutcome:
    result = decision.result
    if decision.warnings:
        result = "; ".join([result, *decision.warnings])
    values: dict[str, str] = {
        "Scheduled For": decision.scheduled_for.isoformat() if decision.scheduled_for else "",
    }
    seller = ctx.config.messages.seller_name
    if decision.status in (Status.READY, Status.DEFERRED, Status.HELD):
        text = render_message(ctx.templates, request, order, seller)
        values["Customer Message"] = text
        problems = lint_message(text)
        if problems:
            values["Message Status"] = "will not be sent: " + "; ".join(problems)
        elif not request.notify:
            values["Message Status"] = "not requested (Notify is No)"
        else:
            values["Message Status"] = ""
    if decision.status is Status.ESCALATE:
        values["Support Case"] = render_support_case(
            ctx.templates, request, order, decision.result, seller
        )
    return RowOutcome(
        request.row,
        request.order_id,
        decision.status,
        result,
        values,
        request=request,
        order=order,
        decision=decision,
    )


def _updates(outcomes: Sequence[RowOutcome], now: datetime) -> list[RowUpdate]:
    updates = []
    for o in outcomes:
        if not o.changed:
            continue
        values = {
            "Status": o.status.value,
            "Result": o.result,
            "Updated At": _stamp(now),
            **o.values,
        }
        updates.append(RowUpdate(o.row, o.order_id, values))
    return updates


def _write(ctx: Context, sheet: Sheet, report: RunReport) -> None:
    crash_point("before-sheet-write")
    report.write = sheet.write(_updates(report.outcomes, ctx.now()))
    report.warnings.extend(report.write.warnings)


# Commands -----------------------------------------------------------------------


def check(ctx: Context, sheet: Sheet, opts: Options | None = None) -> RunReport:
    """Validate, look up and preview; writes statuses and messages, sends nothing."""
    report = evaluate(ctx, sheet, opts or Options())
    _write(ctx, sheet, report)
    report.calls = dict(ctx.marketplace.calls)
    return report


def submit(
    ctx: Context,
    sheet: Sheet,
    opts: Options,
    confirm: Callable[[RunReport], bool],
) -> RunReport:
    """Finish what earlier runs left open, check, confirm, send READY rows, collect, write."""
    resume(ctx)
    report = evaluate(ctx, sheet, opts)
    outcomes = report.outcomes
    ready = [o for o in outcomes if o.status is Status.READY and o.decision is not None]
    report.sent_orders = len(ready)
    report.sent_items = sum(len(o.decision.items) for o in ready if o.decision)
    messages = _feed_messages(ready)
    if opts.save_feed is not None:
        document = build_document(ctx.config.amazon.seller_id, messages) if messages else b""
        opts.save_feed.write_bytes(document)
    if opts.dry_run or not ready:
        if not opts.dry_run:
            collect(ctx, outcomes, wait=False)
            _send_messages(ctx, outcomes)
            _write(ctx, sheet, report)
        report.calls = dict(ctx.marketplace.calls)
        return report
    if not confirm(report):
        report.declined = True
        _write(ctx, sheet, report)
        report.calls = dict(ctx.marketplace.calls)
        return report
    by_row = {o.row: o for o in ready}
    for chunk in split_messages(ctx.config.amazon.seller_id, messages):
        feed_id = _send_feed(ctx, sheet, chunk, by_row)
        if feed_id is not None:
            report.feed_ids.append(feed_id)
    collect(ctx, outcomes, wait=opts.wait)
    _send_messages(ctx, outcomes)
    _write(ctx, sheet, report)
    report.calls = dict(ctx.marketplace.calls)
    return report


def status(ctx: Context, sheet: Sheet) -> RunReport:
    """Poll pending submissions and write their results; sends no new cancellations."""
    resume(ctx)
    grid = sheet.read()
    header = find_header(grid)
    rows = parse_rows(grid, header, ctx.config)
    known = ctx.ledger.rows_for_orders([r.order_id for r in rows if r.status is Status.SUBMITTED])
    outcomes = []
    for row in rows:
        state = _ledger_state(known.get(row.order_id, []), None)
        if row.status is Status.SUBMITTED and state is not None and state.outcome != "pending":
            outcomes.append(_from_ledger(ctx, row, row.request, state))
        else:
            outcomes.append(_unchanged(row))
    report = RunReport(outcomes, warnings=list(grid.warnings))
    collect(ctx, outcomes, wait=True)
    _send_messages(ctx, outcomes)
    _write(ctx, sheet, report)
    report.calls = dict(ctx.marketplace.calls)
    return report


# Sending ------------------------------------------------------------------------


def _feed_messages(ready: Sequence[RowOutcome]) -> list[FeedMessage]:
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


def _send_feed(
    ctx: Context, sheet: Sheet, messages: list[FeedMessage], by_row: dict[int, RowOutcome]
) -> str | None:
    """Record, upload, create: the ledger knows each step before the next call is made."""
    document = build_document(ctx.config.amazon.seller_id, messages)
    rows_by_order = {o.order_id: o for o in by_row.values()}
    planned = []
    for m in messages:
        o = rows_by_order[m.order_id]
        counts = o.decision.counts_toward_rate if o.decision else True
        planned.append(
            PlannedRow(m.message_id, o.row, m.order_id, m.item_ids, m.reason_code, counts)
        )
    sid = ctx.ledger.plan_submission(
        sheet.label, ctx.target, document.decode("utf-8"), sha256(document), planned, ctx.now()
    )
    crash_point("after-ledger-write")
    ctx.progress(f"uploading the cancellation feed ({len(messages)} orders)")
    document_id = ctx.marketplace.upload_document(document)
    ctx.ledger.record_document(sid, document_id)
    crash_point("after-upload")
    try:
        feed_id = ctx.marketplace.create_feed(document_id)
    except UncertainError as e:
        ctx.progress(f"{e}; checking Amazon's feed list so that nothing is sent twice")
        _recover_unknown_feed(ctx, ctx.ledger.submission(sid))
        for r in ctx.ledger.rows(sid):
            o = rows_by_order[r.order_id]
            if r.outcome == "cancelled":
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
        o.values["Feed ID"] = feed_id
    return feed_id


def resume(ctx: Context) -> None:
    """Finish submissions an earlier run left open (crash, Ctrl-C, --no-wait)."""
    for sub in ctx.ledger.submissions(open_only=True):
        if sub.state == "planned":
            # Nothing reached createFeed: no feed exists for it. Its rows go back to the sheet
            # and are checked again like any row.
            ctx.ledger.abandon_submission(sub.id, ctx.now())
        elif sub.state == "uploaded":
            _recover_unknown_feed(ctx, sub)


def _recover_unknown_feed(ctx: Context, sub: Submission) -> None:
    """createFeed may or may not have run; getFeeds does not say which document a feed carries."""
    known = {s.feed_id for s in ctx.ledger.submissions() if s.feed_id}
    strangers = [
        f
        for f in ctx.marketplace.feeds_since(sub.created_at - timedelta(minutes=5))
        if f.feed_id not in known
    ]
    if not strangers:
        ctx.ledger.abandon_submission(sub.id, ctx.now())
        return
    ctx.progress(
        f"an earlier run stopped while creating a feed; waiting for {len(strangers)} "
        "unrecorded feed(s) to finish before deciding what to send again"
    )
    limit = ctx.config.policy.feed_wait_minutes * 60
    for f in strangers:
        state = f
        if not state.finished:
            state = ctx.marketplace.wait_for_feed(f.feed_id, limit, lambda s, w: None)
        if not state.finished:
            raise AmazonError(
                f"feed {f.feed_id} (possibly this tool's, from an interrupted run) is still "
                f"{state.processing_status}; run again later so no order is sent twice"
            )
    # Trust what Amazon says now: orders cancelled are done; the rest go back to the sheet.
    rows = ctx.ledger.rows(sub.id)
    orders = ctx.marketplace.get_orders([r.order_id for r in rows], ctx.now(), lambda o: False)
    now = ctx.now()
    recorded: list[tuple[int, str, str]] = []
    for r in rows:
        order = orders.get(r.order_id)
        if order is not None and (order.status == "Canceled" or _items_closed(ctx, order, r.items)):
            recorded.append((r.message_id, "cancelled", "Amazon shows it cancelled"))
        else:
            recorded.append((r.message_id, "abandoned", ""))
    ctx.ledger.record_outcomes(sub.id, recorded, now)
    ctx.ledger.finish_submission(sub.id, "recovered", "UNKNOWN", now)


def collect(ctx: Context, outcomes: Sequence[RowOutcome], wait: bool) -> None:
    """Poll every open feed; map its processing report back to the rows; trust Amazon's state."""
    # A rejected duplicate row has no request: results belong to the row that asked.
    by_order: dict[str, RowOutcome] = {}
    for o in sorted(outcomes, key=lambda o: o.request is None):
        by_order.setdefault(o.order_id, o)
    limit = ctx.config.policy.feed_wait_minutes * 60 if wait else 0.0
    for sub in ctx.ledger.submissions(open_only=True):
        if sub.feed_id is None:
            continue

        def show(state: FeedState, waited: float, feed_id: str = sub.feed_id) -> None:
            ctx.progress(f"feed {feed_id}: {state.processing_status} ({waited:.0f}s)")

        state = ctx.marketplace.wait_for_feed(sub.feed_id, limit, show)
        crash_point("while-polling")
        ctx.ledger.record_processing(sub.id, state.processing_status)
        rows = ctx.ledger.rows(sub.id)
        if not state.finished:
            for r in rows:
                waiting = by_order.get(r.order_id)
                if waiting is not None:
                    waiting.status = Status.SUBMITTED
                    waiting.result = (
                        f"Amazon is still processing feed {sub.feed_id} "
                        f"({state.processing_status}); run `bulk status` later to collect the result"
                    )
                    waiting.values["Feed ID"] = sub.feed_id
                    waiting.changed = True
            continue
        _finish(ctx, sub, state, rows, by_order)


def _finish(
    ctx: Context,
    sub: Submission,
    state: FeedState,
    rows: list[LedgerRow],
    by_order: dict[str, RowOutcome],
) -> None:
    now = ctx.now()
    report: ProcessingReport | None = None
    if state.result_document_id:
        report = ctx.marketplace.report(state.result_document_id)
    feed_id = sub.feed_id or ""
    if state.processing_status != "DONE":
        words = ""
        if report is not None:
            words = "; ".join(
                f"{r.message_code}: {r.description}" for r in report.results if r.message_id == 0
            )
        text = f"Amazon ended feed {feed_id} {state.processing_status}" + (
            f": {words}" if words else ""
        )
        ctx.ledger.record_outcomes(sub.id, [(r.message_id, "failed", text) for r in rows], now)
        for r in rows:
            _set(by_order, r, Status.FAILED, text, feed_id)
        ctx.ledger.finish_submission(
            sub.id, state.processing_status.lower(), state.processing_status, now
        )
        return
    # Read the orders again: the report has no public list of codes for "already shipped" or
    # "already cancelled", so Amazon's order state is what the row says (FIELD-NOTES).
    orders = _read_again(ctx, rows, report, now)
    recorded: list[tuple[int, str, str]] = []
    for r in rows:
        errors = [
            x for x in (report.for_message(r.message_id) if report else []) if x.code == "Error"
        ]
        order = orders.get(r.order_id)
        amazon_state = order.status if order else "unknown"
        if order is not None and order.status == "Canceled":
            outcome, status_, text = "cancelled", Status.CANCELLED, "Amazon cancelled the order"
            if errors:
                text += f" (the feed said {errors[0].message_code}: {errors[0].description})"
        elif errors:
            words = "; ".join(f"Amazon error {e.message_code}: {e.description}" for e in errors)
            outcome, status_, text = "failed", Status.FAILED, f"{words} (order is {amazon_state})"
        elif order is not None and _items_closed(ctx, order, r.items):
            outcome, status_ = "cancelled", Status.CANCELLED
            text = f"Amazon cancelled {len(r.items)} item(s); the rest of the order stays open"
        else:
            outcome, status_ = "failed", Status.FAILED
            text = (
                f"feed {feed_id} finished without an error, but Amazon shows the order "
                f"{amazon_state}; check it in Seller Central"
            )
        recorded.append((r.message_id, outcome, text))
        _set(by_order, r, status_, text, feed_id)
    ctx.ledger.record_outcomes(sub.id, recorded, now)
    ctx.ledger.finish_submission(sub.id, "done", "DONE", now)


def _read_again(
    ctx: Context, rows: list[LedgerRow], report: ProcessingReport | None, now: datetime
) -> dict[str, Order]:
    """Amazon's state of each order after the feed, by the cheaper path.

    For a large feed, one unshipped-orders report replaces a getOrders call per 50 orders:
    an order the feed cancelled without error and that is no longer unshipped is cancelled;
    orders the report still lists, or that had errors, are read one by one.
    """
    ids = [r.order_id for r in rows]
    if len(ids) < ctx.config.policy.report_threshold:
        return ctx.marketplace.get_orders(ids, now, lambda o: False)
    unshipped = ctx.marketplace.unshipped_orders(lambda status: None)
    errored = {
        r.order_id
        for r in rows
        if report is not None and any(x.code == "Error" for x in report.for_message(r.message_id))
    }
    wanted = set(ids)
    found = {i: o for i, o in unshipped.items() if i in wanted}
    gone = [i for i in ids if i not in unshipped and i not in errored]
    for order_id in gone:
        found[order_id] = Order(order_id, "Canceled", "MFN", now)
    leftovers = [i for i in ids if i in errored and i not in unshipped]
    if leftovers:
        found.update(ctx.marketplace.get_orders(leftovers, now, lambda o: False))
    return found


def _items_closed(ctx: Context, order: Order, item_ids: tuple[str, ...]) -> bool:
    """True when the order is still open but none of these lines has units left to ship."""
    if order.status not in ("Unshipped", "PartiallyShipped"):
        return False
    lines = order.items or ctx.marketplace.with_items(order).items
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
    o.values["Feed ID"] = feed_id
    o.changed = True
    o.cancelled_now = status_ is Status.CANCELLED


# Messages -----------------------------------------------------------------------


def _send_messages(ctx: Context, outcomes: Sequence[RowOutcome]) -> None:
    """After a row is CANCELLED, send its customer message once, where Amazon allows it."""
    for o in outcomes:
        if not o.cancelled_now or o.request is None:
            continue
        request = o.request
        record = ctx.ledger.message(o.order_id, MESSAGE_KIND)
        if record is not None:
            o.values["Message Status"] = _message_status(
                record.state, record.detail, record.sent_at
            )
            continue
        if not request.notify:
            o.values["Message Status"] = "not requested (Notify is No)"
            continue
        try:
            actions = ctx.marketplace.message_actions(o.order_id)
        except AmazonError as e:
            o.values["Message Status"] = f"failed: {e}"
            continue
        if MESSAGE_KIND not in actions:
            ctx.ledger.begin_message(o.order_id, MESSAGE_KIND, "", ctx.now())
            ctx.ledger.finish_message(o.order_id, MESSAGE_KIND, "not_allowed", "", ctx.now())
            o.values["Message Status"] = "not allowed by Amazon for this order"
            continue
        locale = ctx.marketplace.buyer_locale(o.order_id)
        order = o.order
        if order is not None and locale:
            order = replace(order, locale=locale)
        text = render_message(ctx.templates, request, order, ctx.config.messages.seller_name)
        o.values["Customer Message"] = text
        problems = lint_message(text)
        if problems:
            o.values["Message Status"] = "not sent: " + "; ".join(problems)
            continue
        if not ctx.ledger.begin_message(o.order_id, MESSAGE_KIND, text, ctx.now()):
            continue
        crash_point("before-message")
        try:
            ctx.marketplace.send_unexpected_problem(o.order_id, text)
        except UncertainError as e:
            # It may have reached the buyer: never send it again.
            ctx.ledger.finish_message(o.order_id, MESSAGE_KIND, "uncertain", str(e), ctx.now())
            o.values["Message Status"] = _message_status("uncertain", str(e), None)
            continue
        except AmazonError as e:
            ctx.ledger.finish_message(o.order_id, MESSAGE_KIND, "failed", str(e), ctx.now())
            o.values["Message Status"] = f"failed: {e}"
            continue
        ctx.ledger.finish_message(o.order_id, MESSAGE_KIND, "sent", "", ctx.now())
        o.values["Message Status"] = f"sent {_stamp(ctx.now())}"


def _message_status(state: str, detail: str, sent_at: datetime | None) -> str:
    if state == "sent":
        return f"sent {_stamp(sent_at)}" if sent_at else "sent"
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
