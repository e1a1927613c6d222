"""`bulk due`: finish every sheet this state folder knows that has work due today.

Work is due on a sheet when a DEFERRED row's day has come, or a submission is still pending
(SUBMITTED rows, or a feed the ledger has not seen finish). Each sheet is taken under its own
lock; a locked or missing sheet is skipped with one line. Safe to run every hour: a sheet with
nothing due is only read, and nothing is ever sent twice (the ledger decides).
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from bulk.columns import find_header
from bulk.errors import BulkError, LockError
from bulk.formats import counted, plural
from bulk.infra.ledger import KnownSheet
from bulk.models import Status
from bulk.output.summary import Document, build_summary
from bulk.pipeline.context import Context, Options, RunReport
from bulk.pipeline.pull import PullReport, is_requested, pull
from bulk.pipeline.run import status as run_status
from bulk.pipeline.run import submit as run_submit
from bulk.rules.rows import parse_rows
from bulk.sheets.base import Sheet, is_google_target, parse_target

OpenSheet = Callable[[str, str | None], Sheet]
SheetLock = Callable[[str], contextlib.AbstractContextManager[None]]


def sheet_key(target: str) -> str:
    """How a sheet is known: a workbook by its absolute path, a Google Sheet by its key (and
    tab, when the URL names one)."""
    if is_google_target(target):
        key, gid = parse_target(target)
        if gid is None:
            return f"gsheet:{key}"
        return f"https://docs.google.com/spreadsheets/d/{key}/edit#gid={gid}"
    return str(Path(target).expanduser().resolve())


@dataclass
class SheetRun:
    """What `bulk due` did with one sheet."""

    sheet: KnownSheet
    action: str  # "sent", "collected", "nothing due", "not sent", "skipped"
    line: str  # one line for a person
    report: RunReport | None = None
    summary: Document | None = None
    # Skipped although its last run left work due today (or what it left is not known): the
    # work waits, and `bulk due` says so (exit 1, the webhook, `skipped` in --json).
    skipped_work: bool = False
    pulled: PullReport | None = None  # the buyers' requests pulled first ([due] pull)

    @property
    def exit_code(self) -> int:
        """1 when this run found rows for staff to fix, or skipped a sheet with work due; rows it
        left alone do not count (they were reported when they were last checked, and would
        otherwise fail every hour)."""
        if self.skipped_work:
            return 1
        if self.report is None:
            return 0
        if self.report.unwritten:
            return self.report.exit_code  # sent, but the sheet does not show it
        return int(any(o.changed and not o.status.in_good_standing for o in self.report.outcomes))


@dataclass
class DueReport:
    runs: list[SheetRun] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return max((r.exit_code for r in self.runs), default=0)

    @property
    def nothing_due(self) -> bool:
        return all(r.action in ("nothing due", "skipped") and not r.skipped_work for r in self.runs)

    @property
    def skipped(self) -> list[SheetRun]:
        """The sheets skipped with work due on them."""
        return [r for r in self.runs if r.skipped_work]


@dataclass(frozen=True)
class Due:
    """The work a sheet holds today."""

    deferred: int  # DEFERRED rows whose day has come
    pending: int  # SUBMITTED rows, or ledger submissions of this sheet still open
    requests: int = 0  # rows for buyers' pending cancellation requests, not sent yet

    def __bool__(self) -> bool:
        return bool(self.deferred or self.pending or self.requests)

    def describe(self) -> str:
        parts = []
        if self.deferred:
            parts.append(f"{counted(self.deferred, 'deferred row')} due")
        if self.requests:
            parts.append(f"{counted(self.requests, 'buyer request')} to send")
        if self.pending:
            parts.append(f"{self.pending} pending")
        return ", ".join(parts)


def due_work(ctx: Context, sheet: Sheet, requested: frozenset[str] = frozenset()) -> Due:
    """What is due on `sheet`; `requested`: the orders of buyers' pending requests."""
    grid = sheet.read()
    rows = parse_rows(grid, find_header(grid), ctx.config)
    # Scheduled For is a day in the team's zone ([sheet] timezone).
    today = ctx.now().astimezone(ctx.config.zone).date()
    deferred = sum(
        1
        for r in rows
        # A day that cannot be read is due now: the row is checked, and its Result names the cell.
        if r.status is Status.DEFERRED and (r.scheduled_for is None or r.scheduled_for <= today)
    )
    pending = sum(1 for r in rows if r.status is Status.SUBMITTED)
    open_subs = sum(1 for s in ctx.ledger.submissions(open_only=True) if s.sheet == sheet.label)
    requests = sum(1 for r in rows if is_requested(r, requested))
    return Due(deferred, max(pending, open_subs), requests)


def run_due(
    ctx: Context,
    open_sheet: OpenSheet,
    lock: SheetLock,
    send: bool,
) -> DueReport:
    """Finish every known sheet's due work; with `send` False, only collect pending results."""
    report = DueReport()
    for known in ctx.ledger.known_sheets():
        report.runs.append(_one(ctx, known, open_sheet, lock, send))
    return report


def _skipped(ctx: Context, known: KnownSheet, name: str, why: str) -> SheetRun:
    """A sheet `bulk due` could not work on: whether work waits there, from what its last run
    left (the ledger); not known counts as waiting."""
    today = ctx.now().astimezone(ctx.config.zone).date()
    waiting = known.work_due(today)
    line = f"{name}: skipped, {why}"
    if waiting is None:
        line += "; whether it has work due is not known"
    elif waiting:
        line += "; it has work due (" + _left(known, today) + ")"
    return SheetRun(known, "skipped", line, skipped_work=waiting is not False)


def _left(known: KnownSheet, today: date) -> str:
    parts = []
    if known.deferred_until is not None and known.deferred_until <= today:
        parts.append("deferred rows")
    if known.pending:
        parts.append("results to collect from Amazon")
    return " and ".join(parts)


def _one(
    ctx: Context, known: KnownSheet, open_sheet: OpenSheet, lock: SheetLock, send: bool
) -> SheetRun:
    name = known.target + (f" [{known.worksheet}]" if known.worksheet else "")
    if not is_google_target(known.target) and not Path(known.target).exists():
        return _skipped(
            ctx,
            known,
            name,
            f"the file is no longer there (last used {known.last_used.date().isoformat()})",
        )
    try:
        with lock(known.target):
            sheet = open_sheet(known.target, known.worksheet or None)
            before = Counter(ctx.account.calls)
            pulled, unpulled = _pull(ctx, sheet)
            requested = pulled.orders if pulled is not None else frozenset()
            work = due_work(ctx, sheet, requested)
            if not work:
                line = f"{name}: nothing due" + unpulled
                return SheetRun(
                    known, "nothing due", line, skipped_work=bool(unpulled), pulled=pulled
                )
            if (work.deferred or work.requests) and send:
                opts = Options(only_deferred=True, requested=requested)
                result = run_submit(ctx, sheet, opts, lambda _report: True)
            else:
                result = run_status(ctx, sheet)
            result.calls = {
                op: n - before[op] for op, n in ctx.account.calls.items() if n > before[op]
            }
    except LockError:
        # Another bulk run has the sheet now; what is due there stays due for the next hour.
        return SheetRun(known, "skipped", f"{name}: skipped, another bulk run is working on it")
    except BulkError as e:
        return _skipped(ctx, known, name, str(e))
    ctx.ledger.record_sheet_work(known.target, known.worksheet, *result.work_left())
    summary = build_summary(
        result,
        command="due",
        sheet=sheet.label,
        target=ctx.target,
        now=ctx.now(),
        pulled=len(pulled.added) if pulled is not None else None,
    )
    action, line = _said(name, work, result, send, pulled)
    return SheetRun(known, action, line + unpulled, result, summary, bool(unpulled), pulled=pulled)


def _pull(ctx: Context, sheet: Sheet) -> tuple[PullReport | None, str]:
    """The buyers' requests pulled into `sheet` when [due] pull is on, or why they were not: a
    failed pull is work skipped (exit 1), and never keeps the sheet's other due work from
    being done."""
    if not ctx.config.due.pull:
        return None, ""
    try:
        return pull(ctx, sheet), ""
    except LockError:
        raise
    except BulkError as e:
        return None, f"; buyers' cancellation requests not pulled: {e}"


def _said(
    name: str, work: Due, result: RunReport, send: bool, pulled: PullReport | None = None
) -> tuple[str, str]:
    done = []
    if pulled is not None and pulled.added:
        done.append(f"{len(pulled.added)} buyer cancellation requests pulled into the sheet")
    if result.feed_ids:
        feeds = "feed" if len(result.feed_ids) == 1 else "feeds"
        done.append(
            f"sent {counted(result.sent_orders, 'order')} in {feeds} {', '.join(result.feed_ids)}"
        )
    settled = sum(
        1 for o in result.outcomes if o.changed and o.status in (Status.CANCELLED, Status.FAILED)
    )
    if settled:
        done.append(f"{counted(settled, 'result')} collected")
    waiting = sum(1 for o in result.outcomes if o.status is Status.SUBMITTED)
    if waiting:
        done.append(f"{waiting} still with Amazon")
    replanned = sum(
        1
        for o in result.outcomes
        if o.changed and o.status is Status.DEFERRED and o.result.startswith("re-planned")
    )
    if replanned:
        done.append(f"{replanned} re-planned (see Result)")
    if result.unwritten:
        done.append("the results were not written to the sheet (see below)")
    if (work.deferred or work.requests) and not send:
        # The line starts with what is due: it only says how to send it.
        waiting = work.deferred + work.requests
        done.append(f"run `bulk due --yes` to send {plural(waiting, 'it', 'them')}")
        action = "not sent"
    else:
        action = "sent" if result.feed_ids else "collected"
    return action, f"{name}: {work.describe()}: " + ("; ".join(done) or "nothing changed")
