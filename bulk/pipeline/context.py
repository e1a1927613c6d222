"""What a run works with and what it reports: options, context, row outcomes, the run report."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from bulk.amazon.protocol import LookUp, SellerAccount
from bulk.columns import ResultColumn
from bulk.config import Config
from bulk.grid import Header
from bulk.infra.ledger import Ledger
from bulk.infra.progress import Progress
from bulk.models import CancelRequest, Decision, MessageOutcome, Order, Status
from bulk.rules import listings, policy
from bulk.rules.messages import Templates
from bulk.sheets.base import WriteReport


@dataclass(frozen=True)
class Options:
    dry_run: bool = False
    allow_late: bool = False
    wait: bool = True
    save_feed: Path | None = None
    # `bulk due`: only DEFERRED rows are checked (and sent when their day came); rows staff
    # added or changed since are left for a person's `bulk submit`.
    only_deferred: bool = False
    # With only_deferred: rows of these orders that ask for the buyer's reason (BuyerCanceled)
    # and are not sent yet are checked and sent too: the buyers' requests `bulk due` pulled.
    requested: frozenset[str] = frozenset()
    include_hidden: bool = False  # check and send rows hidden in the sheet


@dataclass
class Context:
    """What a run works with; the CLI builds it, tests build their own."""

    config: Config
    ledger: Ledger
    account: SellerAccount  # the seller account on Amazon (or the sandbox), all its marketplaces
    templates: Templates
    target: str  # "sandbox" or "production"
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    progress: Callable[[str], None] = lambda _line: None
    steps: Progress = field(default_factory=Progress)  # long steps: done/total, time left
    # Waiting in real time (for a sheet someone has open); looked up when called, so a test
    # can replace time.sleep with a clock it moves.
    sleep: Callable[[float], None] = lambda seconds: time.sleep(seconds)


@dataclass(slots=True)
class RowOutcome:
    """What bulk will write on one row."""

    row: int
    order_id: str
    status: Status
    result: str
    values: dict[ResultColumn, str] = field(default_factory=dict)
    request: CancelRequest | None = None
    order: Order | None = None
    decision: Decision | None = None
    changed: bool = True  # False: leave the row's cells alone
    cancelled_now: bool = False  # this run learned that bulk's feed cancelled it: message the buyer
    message: MessageOutcome | None = (
        None  # what became of that message (set by bulk.pipeline.messaging)
    )
    # Before sending: None when the row has no customer message to weigh (not READY, DEFERRED
    # or HELD); "" when its message will be sent; else why it will not (its Message Status).
    message_withheld: str | None = None


@dataclass
class RunReport:
    outcomes: list[RowOutcome]
    summary: policy.Summary | None = None  # the main marketplace's (the first in budgets)
    budgets: tuple[policy.Summary, ...] = ()  # each marketplace's with rows in this run
    write: WriteReport | None = None
    feed_ids: list[str] = field(default_factory=list)
    calls: dict[str, int] = field(default_factory=dict)
    amazon_seconds: float = 0.0  # waiting for Amazon's answers (network and Amazon's work)
    warnings: list[str] = field(default_factory=list)
    sent_orders: int = 0
    sent_items: int = 0
    lookup_path: str = ""  # in words, as the summary prints it
    lookup: LookUp | None = None  # the same, as data (--json)
    declined: bool = False
    header: Header | None = None  # where the sheet's header was found when it was read
    # Listings this run cancels for the 2nd or later time in 30 days (bulk.rules.listings).
    listings: tuple[listings.ListingRisk, ...] = ()
    # Why the results could not be written to the sheet (they are in the ledger); empty: written.
    unwritten: str = ""

    def messages_planned(self, statuses: tuple[Status, ...] = (Status.READY,)) -> tuple[int, int]:
        """How many customer messages the rows in `statuses` will send, and how many they will
        not (Notify No, a buyer's own request, a message the lint refused): what a
        confirmation tells staff before `submit` sends the READY rows."""
        weighed = [
            o.message_withheld
            for o in self.outcomes
            if o.status in statuses and o.message_withheld is not None
        ]
        sent = sum(1 for why in weighed if not why)
        return sent, len(weighed) - sent

    def messages_withheld(self) -> list[tuple[int, str, str]]:
        """(row, order id, why) for each row to be sent or scheduled whose customer message will
        not go out, in sheet order."""
        return [
            (o.row, o.order_id, o.message_withheld)
            for o in self.outcomes
            if o.message_withheld and o.status in (Status.READY, Status.DEFERRED)
        ]

    def count(self, status: Status) -> int:
        return sum(1 for o in self.outcomes if o.status is status)

    @property
    def counts(self) -> dict[Status, int]:
        tally = Counter(o.status for o in self.outcomes)
        return {s: tally[s] for s in Status if tally[s]}

    def work_left(self) -> tuple[date | None, bool]:
        """The earliest day a DEFERRED row waits for (None: none waits), and whether rows wait
        for Amazon (SUBMITTED): what `bulk due` will find on the sheet."""
        days: list[date] = []
        for o in self.outcomes:
            if o.status is not Status.DEFERRED:
                continue
            day = o.decision.scheduled_for if o.decision is not None else None
            text = o.values.get(ResultColumn.SCHEDULED_FOR, "")
            if day is None and text:
                day = date.fromisoformat(text)
            # A DEFERRED row whose day is not known may be due any day: count it due now.
            days.append(day or date.min)
        return min(days, default=None), any(o.status is Status.SUBMITTED for o in self.outcomes)

    @property
    def exit_code(self) -> int:
        if self.unwritten:
            return 2  # the sheet does not show what was done: the run did not finish its job
        return 0 if all(o.status.in_good_standing for o in self.outcomes) else 1
