"""The journal: every submission before it is sent, its feed, each row's outcome, each message.

SQLite in the state folder, or a team's PostgreSQL (`bulk.infra.database`). A ledger is opened
for one target (`TargetKey`): every look-up, count and record is that target's alone.
"""

from __future__ import annotations

import contextlib
import functools
import json
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from bulk.errors import LockError
from bulk.infra.database import Database, Row, SQLiteDatabase, held
from bulk.infra.ledger_rows import (
    LedgerRow,
    MessageRecord,
    OrderLine,
    PlannedRow,
    Submission,
)
from bulk.infra.ledger_rows import ledger_row as _row
from bulk.infra.ledger_rows import message_record as _message
from bulk.infra.ledger_rows import submission_record as _submission
from bulk.infra.ledger_schema import SANDBOX, TargetKey, adoptable_key, prepare
from bulk.infra.masking import mask
from bulk.models import BUYER_CANCELED, FeedStatus, LedgerOutcome, MessageState, SubmissionState

__all__ = [
    "SANDBOX",
    "KnownSheet",
    "Ledger",
    "LedgerRow",
    "MessageRecord",
    "OrderLine",
    "PlannedRow",
    "StatusRecord",
    "Submission",
    "TargetKey",
]


@dataclass(frozen=True)
class KnownSheet:
    target: str
    worksheet: str
    last_used: datetime
    # The work its last run left: the earliest day a DEFERRED row waits for, and whether rows
    # wait for Amazon. None: not known (a ledger written before bulk kept it).
    deferred_until: date | None = None
    pending: bool | None = None

    def work_due(self, today: date) -> bool | None:
        """Whether the sheet holds work due `today`, as its last run left it; None: not known."""
        if self.pending is None:
            return None
        return self.pending or (self.deferred_until is not None and self.deferred_until <= today)


@dataclass(frozen=True, slots=True)
class StatusRecord:
    """A status bulk wrote on an order's row without sending it: DEFERRED (with its day) or
    CANCELLED (Amazon showed the order cancelled; nothing was sent)."""

    order_id: str
    status: str
    day: date | None = None


def _packed(document: str) -> bytes:
    """A feed document as the ledger keeps it: deflated. A submission's row is written again at
    each step (uploaded, created, processed, finished), and a 25,000-order feed is megabytes of
    XML that SQLite would copy each time; deflated, it is a few hundred kilobytes."""
    return zlib.compress(document.encode("utf-8"), 6)


# A submission's rows share a handful of times (sent at, purchased at): each is converted once.
@functools.lru_cache(maxsize=4096)
def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


class Ledger:
    """The ledger of one target; every write commits before the caller talks to Amazon.

    `Ledger(path)` opens a SQLite file; `Ledger(database)` an open `Database` (PostgreSQL for
    a team). `target` scopes every query and record (the sandbox unless said).
    """

    def __init__(self, where: Path | Database, target: TargetKey = SANDBOX, machine: str = ""):
        self.db: Database = SQLiteDatabase(where) if isinstance(where, Path) else where
        self.target = target
        # In a team's database, the machine this run is on: a workbook path means a file on
        # it. Empty: the ledger is this machine's alone.
        self.machine = machine
        self.key = target.key
        try:
            prepare(self.db)
            if target.name != SANDBOX.name:
                self._adopt()
        except BaseException:
            self.db.close()
            raise

    @property
    def path(self) -> Path | None:
        """The SQLite file, or None for a server's database."""
        return self.db.path if isinstance(self.db, SQLiteDatabase) else None

    @property
    def where(self) -> str:
        """The ledger as messages name it: its file, or the server's URL (password masked)."""
        return self.db.where

    @property
    def place(self) -> str:
        """Who holds the records, as a sentence names it: this state folder, or the team's."""
        path = self.path
        if path is not None:
            return f"this state folder ({path.parent})"
        return f"the team ledger ({self.where})"

    def _adopt(self) -> None:
        """Production records from before targets were kept (`ledger_schema`) become this
        target's when they name its seller."""
        old = adoptable_key(self.target.seller_id)
        if old == self.key:
            return
        with self.db.transaction():
            for table in (
                "submissions",
                "messages",
                "order_lines",
                "row_warnings",
                "sheets",
                "row_statuses",
            ):
                self.db.execute(
                    f"UPDATE {table} SET target_key = ? WHERE target_key = ?", (self.key, old)
                )

    def hold(self, name: str, doing: str) -> contextlib.AbstractContextManager[None]:
        """A lock for everyone who uses this ledger: the whole team's in PostgreSQL, every run
        on this machine that uses the SQLite file (`bulk.infra.database.held`)."""
        return held(self.db, name, doing)

    def run_lock(self) -> contextlib.AbstractContextManager[None]:
        """One run per target for the team at a time: what it reads (sent orders, the budget)
        stays true until it has recorded what it sends."""
        return self.hold(f"bulk run {self.key}", f"is working on {self.target} for the team")

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
        """Record what will be sent, before any call to Amazon.

        Refused (LockError, nothing recorded) when one of the orders is already in a live
        submission to this target: another run, on another machine of the team, planned it
        after this run checked its rows. The check and the record are one transaction, taken
        in turn by every run of the target, so an order is in one feed only.
        """
        at = _iso(now)
        with self.db.transaction():
            self.db.serialize(f"bulk plan {self.key}")
            taken = sorted(
                {
                    r["order_id"]
                    for r in self._each_in(
                        "SELECT sr.order_id FROM submission_rows sr"
                        " JOIN submissions s ON s.id = sr.submission_id"
                        " WHERE s.target_key = ? AND s.state != 'abandoned'"
                        " AND sr.outcome IN ('pending', 'cancelled') AND sr.order_id IN ({marks})",
                        [r.order_id for r in rows],
                        self.key,
                    )
                }
            )
            if taken:
                shown = ", ".join(taken[:5]) + (
                    f" and {len(taken) - 5} more" if len(taken) > 5 else ""
                )
                raise LockError(
                    f"another bulk run sent {shown} while this one was checking; nothing more "
                    "was sent: run again to see what it did"
                )
            cur = self.db.execute(
                "INSERT INTO submissions (target_key, created_at, sheet, target, document_sha256,"
                " document, state) VALUES (?, ?, ?, ?, ?, ?, 'planned') RETURNING id",
                (self.key, at, sheet, target, sha256, _packed(document)),
            )
            sid = int(cur.fetchone()["id"])
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

    def record_processing(self, sid: int, processing_status: FeedStatus) -> None:
        self.db.execute(
            "UPDATE submissions SET processing_status = ? WHERE id = ?", (processing_status, sid)
        )

    def finish_submission(
        self, sid: int, state: SubmissionState, processing_status: FeedStatus, now: datetime
    ) -> None:
        self.db.execute(
            "UPDATE submissions SET state = ?, processing_status = ?, finished_at = ? WHERE id = ?",
            (state, processing_status, _iso(now), sid),
        )

    def abandon_submission(self, sid: int, now: datetime) -> None:
        """A planned submission that never reached createFeed: its rows go back to the sheet."""
        with self.db.transaction():
            self.db.execute(
                "UPDATE submissions SET state = 'abandoned', finished_at = ? WHERE id = ?",
                (_iso(now), sid),
            )
            self.db.execute(
                "UPDATE submission_rows SET outcome = 'abandoned', updated_at = ? WHERE submission_id = ?",
                (_iso(now), sid),
            )

    def record_outcomes(
        self, sid: int, outcomes: Sequence[tuple[int, LedgerOutcome, str]], now: datetime
    ) -> None:
        """(message id, outcome, result) for many rows, in one transaction."""
        with self.db.transaction():
            self.db.executemany(
                "UPDATE submission_rows SET outcome = ?, result = ?, updated_at = ?"
                " WHERE submission_id = ? AND message_id = ?",
                [(outcome, mask(result), _iso(now), sid, mid) for mid, outcome, result in outcomes],
            )

    def submission(self, sid: int) -> Submission:
        row = self.db.execute("SELECT * FROM submissions WHERE id = ?", (sid,)).fetchone()
        return _submission(row)

    def submissions(self, open_only: bool = False) -> list[Submission]:
        """This target's submissions, oldest first."""
        sql = "SELECT * FROM submissions WHERE target_key = ?"
        if open_only:
            sql += " AND state IN ('planned', 'uploaded', 'created')"
        return [_submission(r) for r in self.db.execute(sql + " ORDER BY id", (self.key,))]

    def rows(self, sid: int) -> list[LedgerRow]:
        return [
            _row(r)
            for r in self.db.execute(
                "SELECT * FROM submission_rows WHERE submission_id = ? ORDER BY message_id", (sid,)
            )
        ]

    def rows_for_orders(self, order_ids: Sequence[str]) -> dict[str, list[LedgerRow]]:
        """Every ledger row of these orders for this target, oldest first."""
        found: dict[str, list[LedgerRow]] = {}
        for r in self._each_in(
            "SELECT sr.* FROM submission_rows sr JOIN submissions s ON s.id = sr.submission_id"
            " WHERE s.target_key = ? AND sr.order_id IN ({marks})"
            " ORDER BY sr.submission_id, sr.message_id",
            order_ids,
            self.key,
        ):
            found.setdefault(r["order_id"], []).append(_row(r))
        return found

    def _each_in(self, sql: str, values: Sequence[str], *before: object) -> Iterator[Row]:
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
            "SELECT sr.message FROM submission_rows sr JOIN submissions s"
            " ON s.id = sr.submission_id WHERE s.target_key = ? AND sr.order_id = ?"
            " AND sr.message IS NOT NULL AND sr.outcome != 'abandoned'"
            " ORDER BY sr.submission_id DESC, sr.message_id DESC LIMIT 1",
            (self.key, order_id),
        ).fetchone()
        return None if r is None else str(r["message"])

    def feed_ids(self) -> dict[int, str]:
        """Each submission's feed id, where Amazon gave one (without reading the documents)."""
        return {
            int(r["id"]): r["feed_id"]
            for r in self.db.execute(
                "SELECT id, feed_id FROM submissions WHERE target_key = ? AND feed_id IS NOT NULL",
                (self.key,),
            )
        }

    def counted_sends(self, since: datetime) -> list[tuple[str, datetime, bool]]:
        """Cancellations sent to this target since `since` that Amazon did not refuse:
        (order, sent at, counts)."""
        return [
            (r["order_id"], datetime.fromisoformat(r["created_at"]), bool(r["counts"]))
            for r in self.db.execute(
                "SELECT sr.order_id, s.created_at, sr.counts FROM submission_rows sr"
                " JOIN submissions s ON s.id = sr.submission_id"
                " WHERE s.target_key = ? AND s.created_at >= ?"
                " AND sr.outcome IN ('pending', 'cancelled') AND s.state != 'abandoned'",
                (self.key, _iso(since)),
            )
        ]

    # Listings ----------------------------------------------------------------

    def record_order_lines(self, lines: Sequence[OrderLine]) -> None:
        """Remember what each order line about to be sent is; before the submission is planned."""
        with self.db.transaction():
            self.db.executemany(
                "INSERT INTO order_lines (target_key, order_id, order_item_id, marketplace_id,"
                " sku, asin, purchased_at, buyer_requested) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (target_key, order_id, order_item_id) DO UPDATE SET"
                " marketplace_id = excluded.marketplace_id, sku = excluded.sku,"
                " asin = excluded.asin, purchased_at = excluded.purchased_at,"
                " buyer_requested = excluded.buyer_requested",
                [
                    (
                        self.key,
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
        """Lines of these SKUs that bulk sent to this target as seller cancellations, of orders
        placed since then.

        Sent means not refused and not abandoned (pending or cancelled); a line the buyer asked
        Amazon to cancel, sent with BuyerCanceled, is the buyer's cancellation and left out.
        """
        wanted = sorted({sku.casefold() for sku in skus if sku})
        found: list[OrderLine] = []
        for r in self._each_in(
            "SELECT DISTINCT ol.order_id, ol.order_item_id, ol.marketplace_id, ol.sku, ol.asin,"
            " ol.purchased_at, ol.buyer_requested FROM submission_rows sr"
            " JOIN submissions s ON s.id = sr.submission_id"
            f" CROSS JOIN {self.db.json_items('sr.items')}"
            " JOIN order_lines ol ON ol.target_key = s.target_key"
            " AND ol.order_id = sr.order_id AND ol.order_item_id = j.value"
            " WHERE s.target_key = ? AND sr.outcome IN ('pending', 'cancelled')"
            " AND s.state != 'abandoned'"
            f" AND NOT (sr.reason_code = '{BUYER_CANCELED}' AND ol.buyer_requested = 1)"
            " AND ol.purchased_at >= ? AND lower(ol.sku) IN ({marks})",
            wanted,
            self.key,
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
        with self.db.transaction():
            self.db.executemany(
                "INSERT INTO row_warnings (target_key, order_id, warnings) VALUES (?, ?, ?)"
                " ON CONFLICT (target_key, order_id) DO UPDATE SET warnings = excluded.warnings",
                [
                    (self.key, order_id, json.dumps(list(texts)))
                    for order_id, texts in warnings.items()
                ],
            )

    def warnings_for(self, order_ids: Sequence[str]) -> dict[str, tuple[str, ...]]:
        return {
            r["order_id"]: tuple(json.loads(r["warnings"]))
            for r in self._each_in(
                "SELECT order_id, warnings FROM row_warnings WHERE target_key = ?"
                " AND order_id IN ({marks})",
                order_ids,
                self.key,
            )
        }

    def history(self) -> Iterator[tuple[Submission, dict[str, int]]]:
        """This target's submissions with how many rows ended each way."""
        for sub in self.submissions():
            counts: dict[str, int] = {}
            for r in self.db.execute(
                "SELECT outcome, COUNT(*) AS n FROM submission_rows WHERE submission_id = ?"
                " GROUP BY outcome",
                (sub.id,),
            ):
                counts[r["outcome"]] = int(r["n"])
            yield sub, counts

    # Statuses bulk wrote without sending -------------------------------------

    def record_statuses(self, records: Sequence[StatusRecord], now: datetime) -> None:
        """Remember each order's DEFERRED promise or outside cancellation (the latest wins)."""
        with self.db.transaction():
            self.db.executemany(
                "INSERT INTO row_statuses (target_key, order_id, status, day, recorded_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (target_key, order_id) DO UPDATE SET"
                " status = excluded.status, day = excluded.day, recorded_at = excluded.recorded_at",
                [
                    (self.key, r.order_id, r.status, r.day.isoformat() if r.day else "", _iso(now))
                    for r in records
                ],
            )

    def forget_statuses(self, order_ids: Sequence[str]) -> None:
        """Drop the promises of orders whose rows bulk has since given another status."""
        held = self.db.execute(
            "SELECT 1 FROM row_statuses WHERE target_key = ? LIMIT 1", (self.key,)
        ).fetchone()
        if held is None:
            return  # the usual case: nothing deferred, nothing to look through
        unique = list(dict.fromkeys(order_ids))
        with self.db.transaction():
            for start in range(0, len(unique), 500):
                chunk = unique[start : start + 500]
                self.db.execute(
                    "DELETE FROM row_statuses WHERE target_key = ? AND order_id IN"
                    f" ({','.join('?' * len(chunk))})",
                    (self.key, *chunk),
                )

    def statuses_for(self, order_ids: Sequence[str]) -> dict[str, StatusRecord]:
        """The status bulk wrote without sending for each of these orders that has one."""
        return {
            r["order_id"]: StatusRecord(
                r["order_id"], r["status"], date.fromisoformat(r["day"]) if r["day"] else None
            )
            for r in self._each_in(
                "SELECT order_id, status, day FROM row_statuses WHERE target_key = ?"
                " AND order_id IN ({marks})",
                order_ids,
                self.key,
            )
        }

    # Sheets ------------------------------------------------------------------

    def remember_sheet(
        self, target: str, worksheet: str, now: datetime, shared: bool = False
    ) -> None:
        """Remember a sheet for `bulk due`: a shared one (a Google Sheet) for every machine of
        the team, a workbook for this machine, where its path is."""
        self.db.execute(
            "INSERT INTO sheets (target_key, target, worksheet, last_used, machine)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (target_key, target, worksheet) DO UPDATE"
            " SET last_used = excluded.last_used, machine = excluded.machine",
            (self.key, target, worksheet, _iso(now), "" if shared else self.machine),
        )

    def record_sheet_work(
        self, target: str, worksheet: str, deferred_until: date | None, pending: bool
    ) -> None:
        """The work a run left on a sheet it knows, for `bulk due` to say when it cannot open it."""
        self.db.execute(
            "UPDATE sheets SET deferred_until = ?, pending = ?"
            " WHERE target_key = ? AND target = ? AND worksheet = ?",
            (
                deferred_until.isoformat() if deferred_until else "",
                int(pending),
                self.key,
                target,
                worksheet,
            ),
        )

    def known_sheets(self) -> list[KnownSheet]:
        """The sheets runs for this target worked on: shared ones, and this machine's."""
        return [
            KnownSheet(
                r["target"],
                r["worksheet"],
                datetime.fromisoformat(r["last_used"]),
                date.fromisoformat(r["deferred_until"]) if r["deferred_until"] else None,
                None if r["pending"] is None else bool(r["pending"]),
            )
            for r in self.db.execute(
                "SELECT target, worksheet, last_used, deferred_until, pending FROM sheets"
                " WHERE target_key = ? AND machine IN ('', ?) ORDER BY target, worksheet",
                (self.key, self.machine),
            )
        ]

    # Messages ----------------------------------------------------------------

    def messages(self, order_ids: Sequence[str], kind: str) -> dict[str, MessageRecord]:
        """The message of this kind of each order that has one (this target's)."""
        return {
            r["order_id"]: _message(r)
            for r in self._each_in(
                "SELECT * FROM messages WHERE target_key = ? AND kind = ?"
                " AND order_id IN ({marks})",
                order_ids,
                self.key,
                kind,
            )
        }

    def begin_message(self, order_id: str, kind: str, text: str, now: datetime) -> bool:
        """Claim the one message of this kind for the order; False when it was claimed before."""
        cur = self.db.execute(
            "INSERT INTO messages (target_key, order_id, kind, state, text, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (self.key, order_id, kind, MessageState.SENDING.value, text, _iso(now)),
        )
        return cur.rowcount == 1

    def finish_message(
        self, order_id: str, kind: str, state: MessageState, detail: str, now: datetime
    ) -> None:
        self.db.execute(
            "UPDATE messages SET state = ?, detail = ?, sent_at = ?"
            " WHERE target_key = ? AND order_id = ? AND kind = ?",
            (
                state.value,
                mask(detail),
                _iso(now) if state is MessageState.SENT else None,
                self.key,
                order_id,
                kind,
            ),
        )
