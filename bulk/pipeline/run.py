"""The pipeline: read the sheet, check rows, look orders up, apply the policy, send, write results.

The commands `check`, `submit` and `status` live here; sending and following feeds is in
`bulk.pipeline.submission`, customer messages in `bulk.pipeline.messaging`, the shared types in `bulk.pipeline.context`.
`evaluate` runs in steps: read the ledger for the sheet's orders (`_known`), settle what the sheet
settles (`_triage`), then what the ledger settles (`_after_ledger`), look the rest up (`_look_up`),
decide each (`_decide`), fit them into the budgets and warn of listings at risk
(`bulk.pipeline.planning`), and render each row's outcome (`_render`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta, tzinfo

from bulk.amazon.protocol import (
    LookUp,
    build_document,
    feed_documents,
)
from bulk.columns import ResultColumn, find_header
from bulk.errors import SheetError, SheetOpenError
from bulk.formats import counted, format_updated_at, parse_updated_at
from bulk.infra.heap import without_cycle_collection
from bulk.infra.ledger import LedgerRow, OrderLine
from bulk.infra.masking import MaskMemo, mask
from bulk.infra.state import crash_point
from bulk.models import CancelRequest, Decision, LedgerOutcome, Order, Status
from bulk.pipeline import statuses, writes
from bulk.pipeline.context import Context, Options, RowOutcome, RunReport
from bulk.pipeline.messaging import send_messages
from bulk.pipeline.planning import (
    Decided,
    elsewhere,
    listing_risk,
    order_market,
    plan_budgets,
    with_buyer_locales,
)
from bulk.pipeline.pull import is_requested
from bulk.pipeline.submission import (
    by_marketplace,
    check_roles,
    collect,
    feed_messages,
    resume,
    send_feed,
)
from bulk.rules import policy, ship_by, trust
from bulk.rules.message_shapes import MessageShapes
from bulk.rules.messages import render_support_case, why_no_message
from bulk.rules.rows import ParsedRow, parse_rows
from bulk.sheets.base import RowUpdate, Sheet

# Re-exported for callers that build a run themselves.
__all__ = [
    "Context",
    "Options",
    "RowOutcome",
    "RunReport",
    "check",
    "evaluate",
    "keep_warnings",
    "status",
    "submit",
]

# Evaluation -------------------------------------------------------------------------


def _ledger_state(rows: list[LedgerRow], sheet_updated: datetime | None) -> LedgerRow | None:
    """The ledger row that decides this order now, or None when the row may be checked again.

    An open or cancelled submission always decides. A failed one decides only when the sheet
    never heard of it (its Updated At is older than the failure): when staff cleared a FAILED
    status, the row is theirs to try again.
    """
    rows = [r for r in rows if r.outcome != LedgerOutcome.ABANDONED]
    if not rows:
        return None
    latest = rows[-1]
    if latest.outcome in (LedgerOutcome.PENDING, LedgerOutcome.CANCELLED):
        return latest
    if latest.outcome == LedgerOutcome.FAILED and latest.updated_at is not None:
        failed_at = latest.updated_at.astimezone(UTC).replace(second=0, microsecond=0)
        if sheet_updated is None or sheet_updated < failed_at:
            return latest
    return None


def _updated_at(row: ParsedRow) -> datetime | None:
    """When a run last wrote the row (None for a row no run has written yet)."""
    return parse_updated_at(row.previous.get(ResultColumn.UPDATED_AT, ""))


def _unchanged(row: ParsedRow) -> RowOutcome:
    return RowOutcome(
        row.row,
        row.order_id,
        row.status,
        row.previous.get(ResultColumn.RESULT, ""),
        request=row.request,
        changed=False,
    )


def _from_ledger(
    ctx: Context, row: ParsedRow, request: CancelRequest | None, state: LedgerRow
) -> RowOutcome:
    """What the ledger says of an order the sheet has not caught up with."""
    sub = ctx.ledger.submission(state.submission_id)
    # A sent row has no day to wait for: a Scheduled For it kept from a deferral is cleared.
    feed = {ResultColumn.FEED_ID: sub.feed_id or "", ResultColumn.SCHEDULED_FOR: ""}
    if state.outcome == LedgerOutcome.PENDING:
        text = f"sent in feed {sub.feed_id or '(being created)'}; waiting for Amazon"
        return RowOutcome(row.row, row.order_id, Status.SUBMITTED, text, feed, request=request)
    if state.outcome == LedgerOutcome.FAILED:
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


# Staff review the sheet they can see: a row hidden from them is never sent behind their back.
HIDDEN_ROW = (
    "row is hidden in the sheet; unhide it (or clear the filter) to have it checked, or run "
    "with --include-hidden"
)


def _no_record(ctx: Context, row: ParsedRow, warnings: list[str]) -> RowOutcome:
    """A SUBMITTED row this ledger never sent: say so on the row and in the summary."""
    place = ctx.ledger.place
    feed = row.previous.get(ResultColumn.FEED_ID, "").strip()
    warnings.append(f"{place} has no record of the feed for row {row.row}")
    text = (
        f"{place} has no record of the feed"
        + (f" {feed}" if feed else "")
        + " for this row: it was sent from another folder or machine, or its Order ID was "
        "edited; run `bulk status` where it was sent (or with BULK_HOME set to that folder), "
        "or check the order in Seller Central and set the Status yourself"
    )
    values = {ResultColumn.FEED_ID: feed} if feed else {}
    return RowOutcome(row.row, row.order_id, Status.SUBMITTED, text, values, request=row.request)


def _needs_detail(request: CancelRequest) -> bool:
    """Whether a row needs order item ids or a buyer's request (not in the All Orders report)."""
    return bool(request.items) or request.reason.buyer_requested


@dataclass(frozen=True)
class _Known:
    """What the ledger says of the sheet's orders before anything is looked up."""

    rows: dict[str, list[LedgerRow]]  # each order's submissions
    doubts: dict[int, str]  # rows whose status bulk did not write (bulk.rules.trust)
    promised: dict[int, date]  # the day each DEFERRED row was promised


def _known(ctx: Context, parsed: Sequence[ParsedRow]) -> _Known:
    """Read the ledger for the sheet's orders: what was sent, and which statuses are bulk's own.

    The ledger knows what was sent even when the sheet does not (a crash before the sheet was
    written, or staff cleared the status): never send an order twice.
    """
    order_ids = [r.order_id for r in parsed if r.order_id]
    known = ctx.ledger.rows_for_orders(order_ids)
    records = ctx.ledger.statuses_for(order_ids)
    doubts = statuses.doubts(ctx, parsed, known, records)
    promised: dict[int, date] = {}
    for row in parsed:
        if row.row not in doubts and row.status is Status.DEFERRED:
            day = trust.promised_day(row, records.get(row.order_id)) or row.scheduled_for
            if day is not None:
                promised[row.row] = day
    return _Known(known, doubts, promised)


@dataclass
class _Triage:
    """The rows sorted by what the sheet alone says of them."""

    outcomes: list[RowOutcome] = field(default_factory=list)  # settled without Amazon
    submitted: list[ParsedRow] = field(default_factory=list)  # the ledger says what became of them
    candidates: list[tuple[ParsedRow, CancelRequest]] = field(default_factory=list)


def _triage(parsed: Sequence[ParsedRow], known: _Known, opts: Options, today: date) -> _Triage:
    """Settle what the sheet alone settles; set aside SUBMITTED rows and rows to look up."""
    triage = _Triage()
    for row in parsed:
        status = Status.NEW if row.row in known.doubts else row.status
        if status is Status.SUBMITTED:
            triage.submitted.append(row)
            continue
        settled = _settled_by_sheet(row, status, opts, known.promised.get(row.row), today)
        if isinstance(settled, RowOutcome):
            triage.outcomes.append(settled)
        else:
            triage.candidates.append((row, settled))
    return triage


def _settled_by_sheet(
    row: ParsedRow, status: Status, opts: Options, day: date | None, today: date
) -> RowOutcome | CancelRequest:
    """The outcome of a row the sheet settles on its own, or the request to look up."""
    if status in (Status.CANCELLED, Status.FAILED):
        return _unchanged(row)
    if (
        opts.only_deferred
        and row.status is not Status.DEFERRED
        and not is_requested(row, opts.requested)
    ):
        return _unchanged(row)
    if row.hidden and not opts.include_hidden:
        return _hidden(row, day, today)
    if row.problems or row.request is None:
        return RowOutcome(row.row, row.order_id, Status.REJECTED, "; ".join(row.problems))
    return row.request


def _hidden(row: ParsedRow, day: date | None, today: date) -> RowOutcome:
    """A row hidden in the sheet is HELD, unless it waits for a day still to come."""
    if day is not None and day > today:
        # Not due yet: nothing is sent, so there is nothing to hold; it stays DEFERRED.
        waiting = _unchanged(row)
        waiting.values[ResultColumn.SCHEDULED_FOR] = day.isoformat()
        return waiting
    return RowOutcome(row.row, row.order_id, Status.HELD, HIDDEN_ROW)


def _after_ledger(
    ctx: Context, triage: _Triage, known: _Known, warnings: list[str]
) -> list[tuple[ParsedRow, CancelRequest]]:
    """Settle the rows the ledger knows more of than the sheet; the rest are looked up."""
    for row in triage.submitted:
        state = _ledger_state(known.rows.get(row.order_id, []), None)
        if state is None:
            triage.outcomes.append(_no_record(ctx, row, warnings))
        elif state.outcome == LedgerOutcome.PENDING:
            triage.outcomes.append(_unchanged(row))  # polled by `collect`, never sent again
        else:
            triage.outcomes.append(_from_ledger(ctx, row, row.request, state))
    fresh: list[tuple[ParsedRow, CancelRequest]] = []
    for row, request in triage.candidates:
        state = _ledger_state(known.rows.get(request.order_id, []), _updated_at(row))
        if state is None:
            fresh.append((row, request))
        else:
            triage.outcomes.append(_from_ledger(ctx, row, request, state))
    return fresh


def _look_up(
    ctx: Context, requests: Sequence[CancelRequest], now: datetime, sending: bool
) -> LookUp:
    """Read the orders from Amazon (every one with its item ids when the run sends)."""
    ctx.progress(f"looking up {counted(len(requests), 'order')} on Amazon")
    # The oldest purchase a row can have under the policy starts the windowed search;
    # older orders are read one by one.
    since = now - timedelta(hours=ctx.config.policy.window_hours)
    calls = ctx.account.calls
    # Only orders read one by one get a bar and an estimate: a search or a report reads
    # them all at once, and says its pages or statuses as lines.
    read = ctx.steps.announced(
        "looking up orders", lambda: calls["getOrder"] + calls["getOrderItems"]
    )
    with read as one_by_one:
        detail = None if sending else [r.order_id for r in requests if _needs_detail(r)]
        return ctx.account.look_up(
            [r.order_id for r in requests], now, since, ctx.progress, one_by_one, detail
        )


def _without_detail_warning(found: LookUp) -> str:
    return (
        f"{found.without_detail} orders were read from Amazon's All Orders report (no "
        "ship-by dates, no buyers' requests): this check does not bound their deferral by "
        "the ship-by date; `bulk submit` reads every order it sends or defers with both"
    )


def _decide(
    ctx: Context,
    opts: Options,
    known: _Known,
    row: ParsedRow,
    request: CancelRequest,
    order: Order | None,
    now: datetime,
) -> Decision:
    """The policy's decision for one looked-up row, the day it was promised kept."""
    # A row bulk itself deferred (the ledger holds the promise) is past the time window by
    # the time its day comes: the delay is the budget's doing, so the window does not hold
    # it back. A DEFERRED typed by hand has no promise: the usual rules apply.
    day = known.promised.get(row.row)
    decision = elsewhere(order, ctx.account.marketplace_ids) or policy.decide(
        request, order, now, ctx.config.policy, opts.allow_late, promised=day
    )
    if row.row in known.doubts and opts.only_deferred and decision.status is Status.READY:
        decision = replace(decision, status=Status.HELD, result=trust.NOT_DUE_UNATTENDED)
    if day is None or decision.status is not Status.READY:
        return decision
    return _keep_promise(row, order, decision, day, now.astimezone(ctx.config.zone).date())


def _keep_promise(
    row: ParsedRow, order: Order | None, decision: Decision, day: date, today: date
) -> Decision:
    """A READY row that was promised `day`: it waits for that day, or is served first."""
    last = ship_by.deadline(order)
    if day > today and decision.counts_toward_rate and (last is None or day <= last):
        # Not its day yet: it keeps its place in that day's budget.
        return replace(
            decision,
            status=Status.DEFERRED,
            scheduled_for=day,
            result=row.previous.get(ResultColumn.RESULT, "") or f"scheduled for {day.isoformat()}",
        )
    # Its day has come (or its ship-by date comes first, or the buyer asked Amazon to
    # cancel and it waits for nothing): it carries the day it was promised, so the
    # plan serves it first and says so if the budget is still full.
    return replace(decision, scheduled_for=min(day, today))


def _budgets(ctx: Context, decided: Decided, now: datetime) -> tuple[Decided, list[policy.Summary]]:
    """Fit the rows that count toward the rate into each marketplace's budget, if any."""
    sent = (Status.READY, Status.DEFERRED)
    if any(d.status in sent and d.counts_toward_rate for _, _, d in decided):
        return plan_budgets(ctx, decided, now)
    return decided, []


def _render(ctx: Context, decided: Decided) -> list[RowOutcome]:
    """Each decided row's outcome, with the customer message and support case it brings."""
    shapes = MessageShapes(ctx.templates, ctx.config.messages.seller_name)
    return [_outcome(ctx, shapes, request, order, decision) for request, order, decision in decided]


def evaluate(ctx: Context, sheet: Sheet, opts: Options, sending: bool = False) -> RunReport:
    """Read and check every row; look up orders; decide and plan. Nothing is sent.

    `sending`: the run will send what is READY, so every order is read with its item ids.
    """
    grid = sheet.read()
    header = find_header(grid)
    now = ctx.now()
    warnings = list(grid.warnings)
    # Row by row work makes many objects and no cycles: the collector waits (infra.heap).
    with without_cycle_collection():
        parsed = parse_rows(grid, header, ctx.config)
        known = _known(ctx, parsed)
        # Scheduled For is a day in the team's zone: a deferred row's day comes at their midnight.
        triage = _triage(parsed, known, opts, now.astimezone(ctx.config.zone).date())
        fresh = _after_ledger(ctx, triage, known, warnings)
    found = _look_up(ctx, [r for _, r in fresh], now, sending) if fresh else None
    if found is not None and found.without_detail:
        warnings.append(_without_detail_warning(found))
    orders = found.orders if found is not None else {}
    decided: Decided = []
    with without_cycle_collection():
        for row, request in fresh:
            order = orders.get(request.order_id)
            decided.append((request, order, _decide(ctx, opts, known, row, request, order, now)))
    decided, budgets = _budgets(ctx, decided, now)  # may read the account's figures
    with without_cycle_collection():
        decided, at_risk = listing_risk(ctx, decided, now)
    with_locales = with_buyer_locales(ctx, decided)  # may ask each buyer's language
    with without_cycle_collection():
        outcomes = triage.outcomes + _render(ctx, with_locales)
        statuses.say_doubts(outcomes, known.doubts)
        outcomes.sort(key=lambda o: o.row)
        if not opts.dry_run:
            writes.refuse_unwritable(grid, header, outcomes)
    return RunReport(
        outcomes,
        summary=budgets[0] if budgets else None,
        budgets=tuple(budgets),
        warnings=warnings,
        lookup_path=found.path if found is not None else "",
        lookup=found,
        header=header,
        listings=at_risk,
    )


# Looked up once: an enum member read from its class costs a dictionary look-up of its own, and
# `_outcome` reads these for every row.
_READY, _DEFERRED, _HELD, _ESCALATE = Status.READY, Status.DEFERRED, Status.HELD, Status.ESCALATE
_WITH_MESSAGE = frozenset({_READY, _DEFERRED, _HELD})
_SCHEDULED_FOR = ResultColumn.SCHEDULED_FOR
_CUSTOMER_MESSAGE, _MESSAGE_STATUS = ResultColumn.CUSTOMER_MESSAGE, ResultColumn.MESSAGE_STATUS


def _outcome(
    ctx: Context,
    shapes: MessageShapes,
    request: CancelRequest,
    order: Order | None,
    decision: Decision,
) -> RowOutcome:
    # A DEFERRED row waiting for its day keeps its earlier Result, warnings included.
    result = _with(decision.result, decision.warnings)
    status = decision.status
    scheduled = decision.scheduled_for
    values = {_SCHEDULED_FOR: scheduled.isoformat() if scheduled and status is _DEFERRED else ""}
    withheld: str | None = None
    if status in _WITH_MESSAGE:
        message = shapes.message(request, order)
        values[_CUSTOMER_MESSAGE] = message.text
        withheld = why_no_message(request, order)
        if not withheld and message.problems:
            withheld = "will not be sent: " + "; ".join(message.problems)
        values[_MESSAGE_STATUS] = withheld
    elif status is _ESCALATE:
        values[ResultColumn.SUPPORT_CASE] = render_support_case(
            ctx.templates,
            request,
            order,
            policy.for_seller_support(decision.result),
            ctx.config.messages.seller_name,
        )
    return RowOutcome(
        request.row,
        request.order_id,
        status,
        result,
        values,
        request,
        order,
        decision,
        message_withheld=withheld,
    )


def _with(result: str, warnings: Sequence[str]) -> str:
    """`result` followed by each warning it does not already carry."""
    if not warnings:
        return result
    missing = [w for w in warnings if w not in result]
    return "; ".join([result, *missing]) if missing else result


def _remember(ctx: Context, ready: Sequence[RowOutcome]) -> None:
    """Before sending: what each line is (for later runs' listing counts), and each row's
    warnings, which its Result keeps once Amazon confirms (`keep_warnings`)."""
    lines = [
        OrderLine(
            order_id=o.order_id,
            order_item_id=item.order_item_id,
            marketplace_id=order_market(ctx, o.order).marketplace_id,
            sku=item.sku,
            asin=item.asin,
            purchased=o.order.purchased,
            buyer_requested=item.buyer_requested_cancel,
        )
        for o in ready
        if o.order is not None and o.order.purchased is not None and o.decision is not None
        for item in o.decision.items
    ]
    ctx.ledger.record_order_lines(lines)
    ctx.ledger.record_warnings(
        {o.order_id: o.decision.warnings for o in ready if o.decision is not None}
    )


def keep_warnings(ctx: Context, outcomes: Sequence[RowOutcome]) -> None:
    """Put back the warnings a sent row carried before Amazon's answer replaced its Result."""
    sent = [o for o in outcomes if o.changed and o.status in (Status.SUBMITTED, Status.CANCELLED)]
    if not sent:
        return
    # This run's own rows carry their decision; rows sent by an earlier run ask the ledger.
    stored = ctx.ledger.warnings_for([o.order_id for o in sent if o.decision is None])
    for o in sent:
        warnings = o.decision.warnings if o.decision is not None else stored.get(o.order_id, ())
        o.result = _with(o.result, warnings)


# The sheet update is keyed by the columns' titles; each status is written as its word.
_TITLES = {column: column.value for column in ResultColumn}
_STATUS_WORDS = {status: status.value for status in Status}
_STATUS_TITLE, _RESULT_TITLE = ResultColumn.STATUS.value, ResultColumn.RESULT.value
_UPDATED_AT_TITLE = ResultColumn.UPDATED_AT.value


def _updates(outcomes: Sequence[RowOutcome], now: datetime, zone: tzinfo) -> list[RowUpdate]:
    updates = []
    at = format_updated_at(now, zone)
    masked, titles = MaskMemo(), _TITLES
    for o in outcomes:
        if not o.changed:
            continue
        # Results and message statuses may quote a server's words: no credential reaches the
        # sheet. The status and the time are bulk's own. A Result names the row's own
        # warnings (listings at risk, counted per SKU) more often than not: masked as it is.
        values = {
            _STATUS_TITLE: _STATUS_WORDS[o.status],
            _RESULT_TITLE: mask(o.result),
            _UPDATED_AT_TITLE: at,
        }
        for name, value in o.values.items():
            values[titles[name]] = masked(value)
        updates.append(RowUpdate(o.row, o.order_id, values))
    return updates


# How long a run waits for a sheet someone opened while it ran, and how often it looks again.
SHEET_WAIT_SECONDS = 600.0
SHEET_WAIT_STEP = 15.0


def _write(ctx: Context, sheet: Sheet, report: RunReport) -> None:
    """Write the results; when someone opened the file meanwhile, wait for it (bounded).

    What was sent is in the ledger before the sheet is written, so when the file stays open
    the run says what it did, and the next run writes it.
    """
    crash_point("before-sheet-write")
    statuses.record_statuses(ctx, report.outcomes)
    with without_cycle_collection():
        updates = _updates(report.outcomes, ctx.now(), ctx.config.zone)
    deadline = ctx.now() + timedelta(seconds=SHEET_WAIT_SECONDS)
    while True:
        try:
            report.write = sheet.write(updates, report.header)
            break
        except SheetOpenError as e:
            left = (deadline - ctx.now()).total_seconds()
            if left <= 0:
                report.unwritten = (
                    f"the results were not written: {e}. What was sent is recorded in "
                    f"{ctx.ledger.where}; once the file is closed, `bulk status` writes the sent "
                    "rows and `bulk submit` every row (nothing is sent twice)"
                )
                report.warnings.append(report.unwritten)
                return
            ctx.progress(
                f"{sheet.label} was opened in a spreadsheet program; close it to let bulk write "
                f"the results (waiting {int(left) // 60}:{int(left) % 60:02d} more)"
            )
            ctx.sleep(min(SHEET_WAIT_STEP, left))
        except SheetError as e:
            # The sheet changed under the run in a way no wait mends (a formula put in a result
            # cell, the worksheet renamed): the run still says what it sent.
            report.unwritten = (
                f"the results were not written: {e}. What was sent is recorded in "
                f"{ctx.ledger.where}; once the sheet is fixed, `bulk status` writes the sent rows "
                "and `bulk submit` every row (nothing is sent twice)"
            )
            report.warnings.append(report.unwritten)
            return
    report.warnings.extend(report.write.warnings)


def _count_calls(ctx: Context, report: RunReport) -> None:
    """The run's API calls, and how long it waited for Amazon's answers."""
    report.calls = dict(ctx.account.calls)
    report.amazon_seconds = ctx.account.answer_seconds


# Commands -----------------------------------------------------------------------


def check(ctx: Context, sheet: Sheet, opts: Options | None = None) -> RunReport:
    """Validate, look up and preview; writes statuses and messages, sends nothing."""
    report = evaluate(ctx, sheet, opts or Options())
    _write(ctx, sheet, report)
    _count_calls(ctx, report)
    return report


def submit(
    ctx: Context,
    sheet: Sheet,
    opts: Options,
    confirm: Callable[[RunReport], bool],
) -> RunReport:
    """Finish what earlier runs left open, check, confirm, send READY rows, collect, write."""
    resume(ctx)
    report = evaluate(ctx, sheet, opts, sending=True)
    outcomes = report.outcomes
    ready = [o for o in outcomes if o.status is Status.READY and o.decision is not None]
    report.sent_orders = len(ready)
    report.sent_items = sum(len(o.decision.items) for o in ready if o.decision)
    if opts.save_feed is not None:
        messages = feed_messages(ready)
        document = build_document(ctx.config.amazon.seller_id, messages) if messages else b""
        opts.save_feed.write_bytes(document)
    if opts.dry_run or not ready:
        if not opts.dry_run:
            report.warnings.extend(collect(ctx, outcomes, wait=False))
            keep_warnings(ctx, outcomes)
            send_messages(ctx, outcomes)
            _write(ctx, sheet, report)
        _count_calls(ctx, report)
        return report
    check_roles(ctx, ready)
    if not confirm(report):
        report.declined = True
        _write(ctx, sheet, report)
        _count_calls(ctx, report)
        return report
    _remember(ctx, ready)
    by_order = {o.order_id: o for o in ready}
    # One feed per marketplace: a feed is created for the marketplaces it names.
    for marketplace_id, group in by_marketplace(ready, ctx.account.marketplace_ids[0]):
        for chunk, document in feed_documents(ctx.config.amazon.seller_id, feed_messages(group)):
            feed_id = send_feed(ctx, sheet, chunk, document, by_order, marketplace_id)
            if feed_id is not None:
                report.feed_ids.append(feed_id)
    report.warnings.extend(collect(ctx, outcomes, wait=opts.wait))
    keep_warnings(ctx, outcomes)
    send_messages(ctx, outcomes)
    _write(ctx, sheet, report)
    _count_calls(ctx, report)
    return report


def status(ctx: Context, sheet: Sheet) -> RunReport:
    """Poll pending submissions and write their results; sends no new cancellations."""
    resume(ctx)
    grid = sheet.read()
    header = find_header(grid)
    rows = parse_rows(grid, header, ctx.config)
    # Every row the ledger knows more of than the sheet: SUBMITTED rows, and rows whose results
    # a run could not write (the file was open, the run was stopped).
    known = ctx.ledger.rows_for_orders(
        [r.order_id for r in rows if r.status not in (Status.CANCELLED, Status.FAILED)]
    )
    outcomes = []
    warnings = list(grid.warnings)
    for row in rows:
        if row.status in (Status.CANCELLED, Status.FAILED):
            # Final on the sheet, as `evaluate` treats it: a duplicate row of the same order
            # brings its history into `known`, and must not have the row written again.
            outcomes.append(_unchanged(row))
            continue
        history = known.get(row.order_id, [])
        submitted = row.status is Status.SUBMITTED
        state = _ledger_state(history, None if submitted else _updated_at(row))
        # A rejected duplicate row has no request: the result belongs to the row that asked.
        settled = submitted or row.request is not None
        if (
            state is not None
            and settled
            and (state.outcome != LedgerOutcome.PENDING or not submitted)
        ):
            outcomes.append(_from_ledger(ctx, row, row.request, state))
        elif submitted and state is None:
            outcomes.append(_no_record(ctx, row, warnings))
        else:
            outcomes.append(_unchanged(row))
    report = RunReport(outcomes, warnings=warnings, header=header)
    report.warnings.extend(collect(ctx, outcomes, wait=True))
    keep_warnings(ctx, outcomes)
    send_messages(ctx, outcomes)
    _write(ctx, sheet, report)
    _count_calls(ctx, report)
    return report
