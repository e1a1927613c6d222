"""The records the ledger reads back (submissions, their rows, messages) and the order lines
and planned rows it is given, with how a stored row becomes one."""

from __future__ import annotations

import functools
import json
import zlib
from dataclasses import dataclass
from datetime import datetime

from bulk.infra.database import Row
from bulk.infra.ledger_schema import SANDBOX
from bulk.models import FeedStatus, LedgerOutcome, MessageState, SubmissionState


@functools.lru_cache(maxsize=4096)
def _parse(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _unpacked(stored: bytes | memoryview | str) -> str:
    """A stored feed document; ledgers written before documents were deflated hold text."""
    return stored if isinstance(stored, str) else zlib.decompress(stored).decode("utf-8")


@dataclass(frozen=True)
class OrderLine:
    """One order line bulk sends: its listing and its order's purchase date."""

    order_id: str
    order_item_id: str
    marketplace_id: str
    sku: str
    asin: str
    purchased: datetime
    buyer_requested: bool


@dataclass(frozen=True)
class PlannedRow:
    message_id: int
    sheet_row: int
    order_id: str
    items: tuple[str, ...]
    reason_code: str
    counts: bool
    message: str | None = None  # the customer message to send once it is cancelled


@dataclass(frozen=True)
class Submission:
    id: int
    created_at: datetime
    sheet: str
    target: str
    document_sha256: str
    document: str
    document_id: str | None
    feed_id: str | None
    state: SubmissionState
    processing_status: FeedStatus | None
    finished_at: datetime | None
    target_key: str = SANDBOX.key

    @property
    def open(self) -> bool:
        return self.state.open


@dataclass(frozen=True, slots=True)
class LedgerRow:
    submission_id: int
    message_id: int
    sheet_row: int
    order_id: str
    items: tuple[str, ...]
    reason_code: str
    counts: bool
    outcome: LedgerOutcome
    result: str
    updated_at: datetime | None
    message: str | None = None


@dataclass(frozen=True)
class MessageRecord:
    order_id: str
    kind: str
    state: MessageState
    text: str
    detail: str
    sent_at: datetime | None


def message_record(r: Row) -> MessageRecord:
    return MessageRecord(
        r["order_id"],
        r["kind"],
        MessageState(r["state"]),
        r["text"],
        r["detail"],
        _parse(r["sent_at"]),
    )


def submission_record(r: Row) -> Submission:
    return Submission(
        id=int(r["id"]),
        created_at=datetime.fromisoformat(r["created_at"]),
        sheet=r["sheet"],
        target=r["target"],
        document_sha256=r["document_sha256"],
        document=_unpacked(r["document"]),
        document_id=r["document_id"],
        feed_id=r["feed_id"],
        state=SubmissionState(r["state"]),
        processing_status=FeedStatus(r["processing_status"]) if r["processing_status"] else None,
        finished_at=_parse(r["finished_at"]),
        target_key=r["target_key"],
    )


def ledger_row(r: Row) -> LedgerRow:
    # Positional, in LedgerRow's field order: a submission reads back a row per order.
    return LedgerRow(
        int(r["submission_id"]),
        int(r["message_id"]),
        int(r["sheet_row"]),
        r["order_id"],
        tuple(json.loads(r["items"])),
        r["reason_code"],
        bool(r["counts"]),
        LedgerOutcome(r["outcome"]),
        r["result"],
        _parse(r["updated_at"]),
        r["message"],
    )
