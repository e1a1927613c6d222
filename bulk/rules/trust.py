"""Whether a row's status is bulk's own: a status is trusted only when the ledger holds it.

Anyone can type `CANCELLED`, `DEFERRED` or `SUBMITTED` into the Status column, or change the
Order ID of a finished row. A status the ledger has no record of, for that order, is not bulk's:
the row is checked as a new one, and its Result says why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from bulk.columns import ResultColumn
from bulk.infra.ledger import LedgerRow, StatusRecord
from bulk.models import Status
from bulk.rules.rows import ParsedRow

# Statuses that are checked again on every run: nothing in them needs to be trusted.
_CHECKED_ANYWAY = (Status.NEW, Status.READY, Status.REJECTED, Status.HELD, Status.ESCALATE)

CANCELLED_OUTSIDE = (
    "cancelled outside bulk: Amazon shows the order cancelled, and bulk has no record of "
    "sending it; nothing was sent"
)

# `bulk due` runs unattended and sends only what bulk itself deferred: a row that passes every
# check but whose DEFERRED the ledger does not hold waits for a person's `bulk submit`.
NOT_DUE_UNATTENDED = (
    "it passes every check, but `bulk due` sends only rows bulk deferred; run `bulk submit` "
    "to send it"
)


def needs_feed_ids(rows: Sequence[ParsedRow]) -> bool:
    """True when some finished row names a feed, so the ledger's feed ids are worth reading."""
    return any(
        r.status in (Status.SUBMITTED, Status.CANCELLED, Status.FAILED)
        and r.previous.get(ResultColumn.FEED_ID, "").strip()
        for r in rows
    )


def doubt(
    row: ParsedRow,
    history: Sequence[LedgerRow],
    record: StatusRecord | None,
    feed_ids: Mapping[int, str],
) -> str:
    """Why the row's status is not bulk's, or "" when it is (or when it needs no trust).

    `history` is the ledger's rows of the order, `record` a status bulk wrote without sending
    (DEFERRED, or CANCELLED outside bulk), `feed_ids` each submission's feed id.
    """
    status = row.status
    if status in _CHECKED_ANYWAY:
        return ""
    sent = [r for r in history if r.outcome != "abandoned"]
    if status is Status.DEFERRED:
        held = record is not None and record.status == Status.DEFERRED
    elif status is Status.CANCELLED:
        held = any(r.outcome == "cancelled" for r in sent) or (
            record is not None and record.status == Status.CANCELLED
        )
    elif status is Status.FAILED:
        held = any(r.outcome == "failed" for r in sent)
    else:  # SUBMITTED
        held = bool(sent)
    if not held:
        return (
            f"Status {status.value} was not written by bulk (the ledger has no record of it "
            "for this order), so the row was checked as new"
        )
    feed = row.previous.get(ResultColumn.FEED_ID, "").strip()
    if (
        feed
        and status is not Status.DEFERRED
        and feed not in {feed_ids.get(r.submission_id) for r in sent}
    ):
        return (
            f"Feed ID {feed} is not a feed bulk sent order {row.order_id} in (was the Order ID "
            "changed?), so the row was checked as new"
        )
    return ""


def promised_day(row: ParsedRow, record: StatusRecord | None) -> date | None:
    """The day bulk promised a DEFERRED row, from the ledger; None when it holds no promise."""
    if row.status is not Status.DEFERRED or record is None or record.status != Status.DEFERRED:
        return None
    return record.day


def with_doubt(doubt_text: str, result: str) -> str:
    """A row's Result once its status was not trusted: why, then what the check found."""
    return f"{doubt_text}: {result}" if result else doubt_text
