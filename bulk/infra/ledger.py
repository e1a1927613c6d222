"""The SQLite journal: every submission before it is sent, its feed, each row's outcome, each message."""

from __future__ import annotations

import functools
import json
import sqlite3
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bulk.infra.masking import mask
from bulk.models import MessageState

SCHEMA = """
CREATE TABLE IF NOT EXISTS submissions (
    id INTEGER PRIMARY KEY,
    created_at TEXT NOT NULL,
    sheet TEXT NOT NULL,
    target TEXT NOT NULL,
    document_sha256 TEXT NOT NULL,
    document TEXT NOT NULL,
    document_id TEXT,            -- recorded before createFeed
    feed_id TEXT,                -- recorded right after createFeed
    state TEXT NOT NULL,         -- planned, uploaded, created, done, fatal, cancelled
    processing_status TEXT,      -- Amazon's processingStatus, last seen
    finished_at TEXT
);
CREATE TABLE IF NOT EXISTS submission_rows (
    submission_id INTEGER NOT NULL REFERENCES submissions(id),
    message_id INTEGER NOT NULL,
    sheet_row INTEGER NOT NULL,
    order_id TEXT NOT NULL,
    items TEXT NOT NULL,          -- JSON list of order item ids in the feed
    reason_code TEXT NOT NULL,
    counts INTEGER NOT NULL,      -- 1 when it counts toward the cancellation rate
    outcome TEXT NOT NULL,        -- pending, cancelled, failed
    result TEXT NOT NULL DEFAULT '',
    updated_at TEXT,
    message TEXT,                 -- the customer message previewed and to be sent (NULL: none)
    PRIMARY KEY (submission_id, message_id)
);
CREATE INDEX IF NOT EXISTS submission_rows_order ON submission_rows(order_id);
CREATE TABLE IF NOT EXISTS messages (
    order_id TEXT NOT NULL,
    kind TEXT NOT NULL,           -- unexpectedProblem
    state TEXT NOT NULL,          -- sending, sent, failed, not_allowed
    text TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    sent_at TEXT,
    PRIMARY KEY (order_id, kind)
);
"""


# What each cancelled order line was (its listing and its order's purchase date), for the
# per-listing count, and the warnings each sent row carries until Amazon confirms it. Kept
# apart from the submission tables: facts about orders, written before the feed is planned.
LISTINGS_SCHEMA = """
CREATE TABLE IF NOT EXISTS order_lines (
    order_id TEXT NOT NULL,
    order_item_id TEXT NOT NULL,
    marketplace_id TEXT NOT NULL,
    sku TEXT NOT NULL,
    asin TEXT NOT NULL DEFAULT '',
    purchased_at TEXT NOT NULL,   -- the order's purchase date, UTC ISO-8601
    buyer_requested INTEGER NOT NULL,
    PRIMARY KEY (order_id, order_item_id)
);
CREATE INDEX IF NOT EXISTS order_lines_sku ON order_lines(sku);
CREATE TABLE IF NOT EXISTS row_warnings (
    order_id TEXT PRIMARY KEY,
    warnings TEXT NOT NULL        -- JSON list of the texts the row's Result keeps
);
"""

# The sheets this state folder has worked on, so that `bulk due` can finish them unattended.
SHEETS_SCHEMA = """
CREATE TABLE IF NOT EXISTS sheets (
    target TEXT NOT NULL,         -- a workbook's absolute path, or a Google Sheet by key
    worksheet TEXT NOT NULL,      -- the --worksheet given, or ''
    last_used TEXT NOT NULL,
    PRIMARY KEY (target, worksheet)
);
"""


@dataclass(frozen=True)
class KnownSheet:
    target: str
    worksheet: str
    last_used: datetime


# PRAGMA user_version: 0 is the first release's ledger, migrated in place when opened.
SCHEMA_VERSION = 1


def _migrate(db: sqlite3.Connection) -> None:
    """Bring a ledger written by an earlier version up to SCHEMA_VERSION, keeping every row."""
    version = int(db.execute("PRAGMA user_version").fetchone()[0])
    if version >= SCHEMA_VERSION:
        return
    with db:
        db.execute("BEGIN IMMEDIATE")
        columns = {r[1] for r in db.execute("PRAGMA table_info(submission_rows)")}
        if "message" not in columns:
            # Version 1: the exact customer message is recorded with the submission, so a later
            # run (`bulk status`, a re-run after a crash) sends what staff previewed.
            db.execute("ALTER TABLE submission_rows ADD COLUMN message TEXT")
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def _packed(document: str) -> bytes:
    """A feed document as the ledger keeps it: deflated. A submission's row is written again at
    each step (uploaded, created, processed, finished), and a 25,000-order feed is megabytes of
    XML that SQLite would copy each time; deflated, it is a few hundred kilobytes."""
    return zlib.compress(document.encode("utf-8"), 6)


def _unpacked(stored: bytes | str) -> str:
    """A stored feed document; ledgers written before documents were deflated hold text."""
    return stored if isinstance(stored, str) else zlib.decompress(stored).decode("utf-8")


# A submission's rows share a handful of times (sent at, purchased at): each is converted once.
@functools.lru_cache(maxsize=4096)
def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


@functools.lru_cache(maxsize=4096)
def _parse(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


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
    state: str
    processing_status: str | None
    finished_at: datetime | None

    @property
    def open(self) -> bool:
        return self.state in ("planned", "uploaded", "created")


@dataclass(frozen=True, slots=True)
class LedgerRow:
    submission_id: int
    message_id: int
    sheet_row: int
    order_id: str
    items: tuple[str, ...]
    reason_code: str
    counts: bool
    outcome: str
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


class Ledger:
    """A SQLite file; every write commits before the caller goes on to talk to Amazon."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(path, isolation_level=None, timeout=30)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(SCHEMA)
        self.db.executescript(LISTINGS_SCHEMA)
        self.db.executescript(SHEETS_SCHEMA)
        _migrate(self.db)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Submissions -------------------------------------------------------------

    def plan_submission(
        self,
        sheet: str,
        target: str,
        document: str,
        sha256: str,
        rows: Sequence[PlannedRow],
        now: datetime,
    ) -> int:
        """Record what will be sent, before any call to Amazon."""
        at = _iso(now)
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            cur = self.db.execute(
                "INSERT INTO submissions (created_at, sheet, target, document_sha256, document, state)"
                " VALUES (?, ?, ?, ?, ?, 'planned')",
                (at, sheet, target, sha256, _packed(document)),
            )
            sid = int(cur.lastrowid or 0)
            self.db.executemany(
                "INSERT INTO submission_rows (submission_id, message_id, sheet_row, order_id, items,"
                " reason_code, counts, outcome, updated_at, message)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)",
                [
                    (
                        sid,
                        r.message_id,
                        r.sheet_row,
                        r.order_id,
                        json.dumps(list(r.items)),
                        r.reason_code,
                        int(r.counts),
                        at,
                        r.message,
                    )
                    for r in rows
                ],
            )
        return sid

    def record_document(self, sid: int, document_id: str) -> None:
        self.db.execute(
            "UPDATE submissions SET document_id = ?, state = 'uploaded' WHERE id = ?",
            (document_id, sid),
        )

    def record_feed(self, sid: int, feed_id: str) -> None:
        self.db.execute(
            "UPDATE submissions SET feed_id = ?, state = 'created', processing_status = 'IN_QUEUE'"
            " WHERE id = ?",
            (feed_id, sid),
        )

    def record_processing(self, sid: int, processing_status: str) -> None:
        self.db.execute(
            "UPDATE submissions SET processing_status = ? WHERE id = ?", (processing_status, sid)
        )

    def finish_submission(
        self, sid: int, state: str, processing_status: str, now: datetime
    ) -> None:
        self.db.execute(
            "UPDATE submissions SET state = ?, processing_status = ?, finished_at = ? WHERE id = ?",
            (state, processing_status, _iso(now), sid),
        )

    def abandon_submission(self, sid: int, now: datetime) -> None:
        """A planned submission that never reached createFeed: its rows go back to the sheet."""
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute(
                "UPDATE submissions SET state = 'abandoned', finished_at = ? WHERE id = ?",
                (_iso(now), sid),
            )
            self.db.execute(
                "UPDATE submission_rows SET outcome = 'abandoned', updated_at = ? WHERE submission_id = ?",
                (_iso(now), sid),
            )

    def record_outcomes(
        self, sid: int, outcomes: Sequence[tuple[int, str, str]], now: datetime
    ) -> None:
        """(message id, outcome, result) for many rows, in one transaction."""
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.executemany(
                "UPDATE submission_rows SET outcome = ?, result = ?, updated_at = ?"
                " WHERE submission_id = ? AND message_id = ?",
                [(outcome, mask(result), _iso(now), sid, mid) for mid, outcome, result in outcomes],
            )

    def submission(self, sid: int) -> Submission:
        row = self.db.execute("SELECT * FROM submissions WHERE id = ?", (sid,)).fetchone()
        return _submission(row)

    def submissions(self, open_only: bool = False) -> list[Submission]:
        sql = "SELECT * FROM submissions"
        if open_only:
            sql += " WHERE state IN ('planned', 'uploaded', 'created')"
        return [_submission(r) for r in self.db.execute(sql + " ORDER BY id")]

    def rows(self, sid: int) -> list[LedgerRow]:
        return [
            _row(r)
            for r in self.db.execute(
                "SELECT * FROM submission_rows WHERE submission_id = ? ORDER BY message_id", (sid,)
            )
        ]

    def rows_for_orders(self, order_ids: Sequence[str]) -> dict[str, list[LedgerRow]]:
        """Every ledger row of these orders, oldest first."""
        found: dict[str, list[LedgerRow]] = {}
        for r in self._each_in(
            "SELECT * FROM submission_rows WHERE order_id IN ({marks})"
            " ORDER BY submission_id, message_id",
            order_ids,
        ):
            found.setdefault(r["order_id"], []).append(_row(r))
        return found

    def _each_in(self, sql: str, values: Sequence[str], *before: object) -> Iterator[sqlite3.Row]:
        """The rows of `sql` for every one of `values`, which fill its `IN ({marks})`: 500 to a
        query (older SQLite builds take at most 999 variables). `before` fills the `?` that
        come before the list."""
        unique = list(dict.fromkeys(values))
        for start in range(0, len(unique), 500):
            chunk = unique[start : start + 500]
            marks = ",".join("?" * len(chunk))
            yield from self.db.execute(sql.format(marks=marks), (*before, *chunk))

    def recorded_message(self, order_id: str) -> str | None:
        """The customer message recorded with the order's latest submission, if any."""
        r = self.db.execute(
            "SELECT message FROM submission_rows WHERE order_id = ? AND message IS NOT NULL"
            " AND outcome != 'abandoned' ORDER BY submission_id DESC, message_id DESC LIMIT 1",
            (order_id,),
        ).fetchone()
        return None if r is None else str(r["message"])

    def counted_sends(self, since: datetime) -> list[tuple[str, datetime, bool]]:
        """Cancellations sent since `since` that Amazon did not refuse: (order, sent at, counts)."""
        return [
            (r["order_id"], datetime.fromisoformat(r["created_at"]), bool(r["counts"]))
            for r in self.db.execute(
                "SELECT sr.order_id, s.created_at, sr.counts FROM submission_rows sr"
                " JOIN submissions s ON s.id = sr.submission_id"
                " WHERE s.created_at >= ? AND sr.outcome IN ('pending', 'cancelled')"
                " AND s.state != 'abandoned'",
                (_iso(since),),
            )
        ]

    # Listings ----------------------------------------------------------------

    def record_order_lines(self, lines: Sequence[OrderLine]) -> None:
        """Remember what each order line about to be sent is; before the submission is planned."""
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.executemany(
                "INSERT OR REPLACE INTO order_lines (order_id, order_item_id, marketplace_id, sku,"
                " asin, purchased_at, buyer_requested) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        line.order_id,
                        line.order_item_id,
                        line.marketplace_id,
                        line.sku,
                        line.asin,
                        _iso(line.purchased),
                        int(line.buyer_requested),
                    )
                    for line in lines
                ],
            )

    def seller_cancelled_lines(
        self, skus: Sequence[str], purchased_since: datetime
    ) -> list[OrderLine]:
        """Lines of these SKUs that bulk sent as seller cancellations, of orders placed since then.

        Sent means not refused and not abandoned (pending or cancelled); a line the buyer asked
        Amazon to cancel, sent with BuyerCanceled, is the buyer's cancellation and left out.
        """
        wanted = sorted({sku.casefold() for sku in skus if sku})
        found: list[OrderLine] = []
        for r in self._each_in(
            "SELECT DISTINCT ol.* FROM submission_rows sr"
            " JOIN submissions s ON s.id = sr.submission_id"
            " JOIN json_each(sr.items) j"
            " JOIN order_lines ol ON ol.order_id = sr.order_id AND ol.order_item_id = j.value"
            " WHERE sr.outcome IN ('pending', 'cancelled') AND s.state != 'abandoned'"
            " AND NOT (sr.reason_code = 'BuyerCanceled' AND ol.buyer_requested = 1)"
            " AND ol.purchased_at >= ? AND lower(ol.sku) IN ({marks})",
            wanted,
            _iso(purchased_since),
        ):
            found.append(
                OrderLine(
                    order_id=r["order_id"],
                    order_item_id=r["order_item_id"],
                    marketplace_id=r["marketplace_id"],
                    sku=r["sku"],
                    asin=r["asin"],
                    purchased=datetime.fromisoformat(r["purchased_at"]),
                    buyer_requested=bool(r["buyer_requested"]),
                )
            )
        return found

    def record_warnings(self, warnings: Mapping[str, Sequence[str]]) -> None:
        """The warnings each order's row keeps in Result after Amazon confirms it (by order)."""
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.executemany(
                "INSERT OR REPLACE INTO row_warnings (order_id, warnings) VALUES (?, ?)",
                [(order_id, json.dumps(list(texts))) for order_id, texts in warnings.items()],
            )

    def warnings_for(self, order_ids: Sequence[str]) -> dict[str, tuple[str, ...]]:
        return {
            r["order_id"]: tuple(json.loads(r["warnings"]))
            for r in self._each_in(
                "SELECT * FROM row_warnings WHERE order_id IN ({marks})", order_ids
            )
        }

    def history(self) -> Iterator[tuple[Submission, dict[str, int]]]:
        for sub in self.submissions():
            counts: dict[str, int] = {}
            for r in self.db.execute(
                "SELECT outcome, COUNT(*) AS n FROM submission_rows WHERE submission_id = ?"
                " GROUP BY outcome",
                (sub.id,),
            ):
                counts[r["outcome"]] = int(r["n"])
            yield sub, counts

    # Sheets ------------------------------------------------------------------

    def remember_sheet(self, target: str, worksheet: str, now: datetime) -> None:
        self.db.execute(
            "INSERT INTO sheets (target, worksheet, last_used) VALUES (?, ?, ?)"
            " ON CONFLICT (target, worksheet) DO UPDATE SET last_used = excluded.last_used",
            (target, worksheet, _iso(now)),
        )

    def known_sheets(self) -> list[KnownSheet]:
        return [
            KnownSheet(r["target"], r["worksheet"], datetime.fromisoformat(r["last_used"]))
            for r in self.db.execute("SELECT * FROM sheets ORDER BY target, worksheet")
        ]

    # Messages ----------------------------------------------------------------

    def messages(self, order_ids: Sequence[str], kind: str) -> dict[str, MessageRecord]:
        """The message of this kind of each order that has one."""
        return {
            r["order_id"]: _message(r)
            for r in self._each_in(
                "SELECT * FROM messages WHERE kind = ? AND order_id IN ({marks})", order_ids, kind
            )
        }

    def begin_message(self, order_id: str, kind: str, text: str, now: datetime) -> bool:
        """Claim the one message of this kind for the order; False when it was claimed before."""
        cur = self.db.execute(
            "INSERT OR IGNORE INTO messages (order_id, kind, state, text, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (order_id, kind, MessageState.SENDING, text, _iso(now)),
        )
        return cur.rowcount == 1

    def finish_message(
        self, order_id: str, kind: str, state: MessageState, detail: str, now: datetime
    ) -> None:
        self.db.execute(
            "UPDATE messages SET state = ?, detail = ?, sent_at = ? WHERE order_id = ? AND kind = ?",
            (
                state,
                mask(detail),
                _iso(now) if state is MessageState.SENT else None,
                order_id,
                kind,
            ),
        )


def _message(r: sqlite3.Row) -> MessageRecord:
    return MessageRecord(
        r["order_id"],
        r["kind"],
        MessageState(r["state"]),
        r["text"],
        r["detail"],
        _parse(r["sent_at"]),
    )


def _submission(r: sqlite3.Row) -> Submission:
    return Submission(
        id=int(r["id"]),
        created_at=datetime.fromisoformat(r["created_at"]),
        sheet=r["sheet"],
        target=r["target"],
        document_sha256=r["document_sha256"],
        document=_unpacked(r["document"]),
        document_id=r["document_id"],
        feed_id=r["feed_id"],
        state=r["state"],
        processing_status=r["processing_status"],
        finished_at=_parse(r["finished_at"]),
    )


def _row(r: sqlite3.Row) -> LedgerRow:
    # Positional, in LedgerRow's field order: a submission reads back a row per order.
    return LedgerRow(
        int(r["submission_id"]),
        int(r["message_id"]),
        int(r["sheet_row"]),
        r["order_id"],
        tuple(json.loads(r["items"])),
        r["reason_code"],
        bool(r["counts"]),
        r["outcome"],
        r["result"],
        _parse(r["updated_at"]),
        r["message"],
    )
