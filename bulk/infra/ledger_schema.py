"""The ledger's tables, for SQLite and PostgreSQL, and the migration of older SQLite ledgers.

Every record carries `target_key`, the target it was made against (`TargetKey.key`): what a
rehearsal against the sandbox did is never taken for what production did, and the reverse.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

from bulk.infra.database import Database
from bulk.models import TargetName

SANDBOX_KEY = TargetName.SANDBOX.value


@dataclass(frozen=True)
class TargetKey:
    """What a ledger record was made against: the sandbox, or production for one seller
    account in one SP-API region (an account's regions are separate marketplaces to Amazon)."""

    name: TargetName
    seller_id: str = ""
    region: str = ""
    # A sandbox runs in-process on each machine with its own state: in a team's shared ledger,
    # one machine's rehearsal is not another's. Names the machine and state folder; empty in
    # a ledger of one state folder.
    sandbox_of: str = ""

    @property
    def key(self) -> str:
        if self.name is TargetName.SANDBOX:
            return f"{SANDBOX_KEY}/{self.sandbox_of}" if self.sandbox_of else SANDBOX_KEY
        return f"{self.name.value}/{self.seller_id}/{self.region}"

    def __str__(self) -> str:
        if self.name is TargetName.SANDBOX:
            return f"the sandbox of {self.sandbox_of}" if self.sandbox_of else SANDBOX_KEY
        return f"{self.name.value} (seller {self.seller_id}, region {self.region})"


SANDBOX = TargetKey(TargetName.SANDBOX)

# Version 2: every record carries its target. Version 3: the statuses bulk wrote without
# sending (row_statuses), and the work each known sheet was left with. SQLite keeps the number
# in PRAGMA user_version, PostgreSQL in bulk_schema. Version 4: which machine a known sheet
# (a workbook, by its path there) was used on.
SCHEMA_VERSION = 4

_TABLES = """
CREATE TABLE IF NOT EXISTS submissions (
    id {id},
    target_key TEXT NOT NULL,    -- TargetKey.key: sandbox, or production/<seller>/<region>
    created_at TEXT NOT NULL,
    sheet TEXT NOT NULL,
    target TEXT NOT NULL,        -- sandbox or production (as the run described it)
    document_sha256 TEXT NOT NULL,
    document {blob} NOT NULL,    -- deflated feed XML
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
    outcome TEXT NOT NULL,        -- pending, cancelled, failed, abandoned
    result TEXT NOT NULL DEFAULT '',
    updated_at TEXT,
    message TEXT,                 -- the customer message previewed and to be sent (NULL: none)
    PRIMARY KEY (submission_id, message_id)
);
CREATE TABLE IF NOT EXISTS messages (
    target_key TEXT NOT NULL,
    order_id TEXT NOT NULL,
    kind TEXT NOT NULL,           -- unexpectedProblem
    state TEXT NOT NULL,          -- sending, sent, failed, not_allowed
    text TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    sent_at TEXT,
    PRIMARY KEY (target_key, order_id, kind)
);
-- What each cancelled order line was (its listing and its order's purchase date), for the
-- per-listing count, and the warnings each sent row carries until Amazon confirms it.
CREATE TABLE IF NOT EXISTS order_lines (
    target_key TEXT NOT NULL,
    order_id TEXT NOT NULL,
    order_item_id TEXT NOT NULL,
    marketplace_id TEXT NOT NULL,
    sku TEXT NOT NULL,
    asin TEXT NOT NULL DEFAULT '',
    purchased_at TEXT NOT NULL,   -- the order's purchase date, UTC ISO-8601
    buyer_requested INTEGER NOT NULL,
    PRIMARY KEY (target_key, order_id, order_item_id)
);
CREATE TABLE IF NOT EXISTS row_warnings (
    target_key TEXT NOT NULL,
    order_id TEXT NOT NULL,
    warnings TEXT NOT NULL,       -- JSON list of the texts the row's Result keeps
    PRIMARY KEY (target_key, order_id)
);
-- The sheets worked on, so that `bulk due` can finish them unattended.
CREATE TABLE IF NOT EXISTS sheets (
    target_key TEXT NOT NULL,
    target TEXT NOT NULL,         -- a workbook's absolute path, or a Google Sheet by key
    worksheet TEXT NOT NULL,      -- the --worksheet given, or ''
    last_used TEXT NOT NULL,
    deferred_until TEXT,          -- the earliest day a DEFERRED row waits for ('' none, NULL unknown)
    pending INTEGER,              -- 1 when rows were left SUBMITTED (NULL unknown)
    machine TEXT NOT NULL DEFAULT '', -- the machine a workbook is on; '' a Google Sheet, or any
    PRIMARY KEY (target_key, target, worksheet)
);
-- Statuses bulk wrote on a row that no submission records: the day a DEFERRED row was
-- promised, an order Amazon showed cancelled that bulk never sent. A row's status is trusted
-- only when the ledger holds it (bulk.rules.trust); one record per order, the latest.
CREATE TABLE IF NOT EXISTS row_statuses (
    target_key TEXT NOT NULL,
    order_id TEXT NOT NULL,
    status TEXT NOT NULL,         -- DEFERRED or CANCELLED
    day TEXT NOT NULL DEFAULT '', -- DEFERRED: the day promised, ISO
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (target_key, order_id)
);
"""

# Columns later versions added to a table version 2 created: (table, column, declaration).
_ADDED = (
    ("sheets", "deferred_until", "TEXT"),
    ("sheets", "pending", "INTEGER"),
    ("sheets", "machine", "TEXT NOT NULL DEFAULT ''"),  # version 4
)

_INDEXES = """
CREATE INDEX IF NOT EXISTS submissions_target ON submissions(target_key, state);
CREATE INDEX IF NOT EXISTS submission_rows_order ON submission_rows(order_id);
CREATE INDEX IF NOT EXISTS order_lines_sku ON order_lines(sku);
"""

_SQLITE = {"id": "INTEGER PRIMARY KEY", "blob": "TEXT"}
_POSTGRES = {"id": "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", "blob": "BYTEA"}

# The tables that had no target before version 2, rebuilt with it.
_REBUILT = ("messages", "order_lines", "row_warnings", "sheets")


def _statements(script: str, dialect: str) -> list[str]:
    words = _POSTGRES if dialect == "postgresql" else _SQLITE
    text = re.sub(r"--[^\n]*", "", script).format(**words)
    return [s.strip() for s in text.split(";") if s.strip()]


def prepare(db: Database) -> None:
    """Create the tables, or bring a ledger written by an earlier version up to date."""
    if db.dialect == "postgresql":
        _prepare_postgres(db)
    else:
        _prepare_sqlite(db)


def _prepare_postgres(db: Database) -> None:
    with db.transaction():
        # Two machines starting at once would race to create the same tables.
        db.serialize("bulk schema")
        db.execute("CREATE TABLE IF NOT EXISTS bulk_schema (version INTEGER NOT NULL)")
        row = db.execute("SELECT max(version) AS v FROM bulk_schema").fetchone()
        if row["v"] is not None and int(row["v"]) >= SCHEMA_VERSION:
            return
        for statement in _statements(_TABLES + _INDEXES, db.dialect):
            db.execute(statement)
        for table, column, declaration in _ADDED:
            db.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {declaration}")
        db.execute("DELETE FROM bulk_schema")
        db.execute("INSERT INTO bulk_schema (version) VALUES (?)", (SCHEMA_VERSION,))


def _prepare_sqlite(db: Database) -> None:
    version = int(db.execute("PRAGMA user_version").fetchone()[0])
    if version >= SCHEMA_VERSION:
        return
    with db.transaction():
        existing = {
            r["name"] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        if "submissions" in existing and version < 2:
            _migrate_sqlite(db, existing)
        else:
            for statement in _statements(_TABLES, db.dialect):
                db.execute(statement)
        for table, column, declaration in _ADDED:
            if column not in {r["name"] for r in db.execute(f"PRAGMA table_info({table})")}:
                db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")
        for statement in _statements(_INDEXES, db.dialect):
            db.execute(statement)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


_MERCHANT = re.compile(rb"<MerchantIdentifier>([^<]*)</MerchantIdentifier>")


def _seller_of(document: bytes | str) -> str:
    raw = document.encode("utf-8") if isinstance(document, str) else zlib.decompress(document)
    found = _MERCHANT.search(raw)
    return found.group(1).decode("utf-8", "replace").strip() if found else ""


def adoptable_key(seller_id: str) -> str:
    """The key an older production record gets: its seller is in its feed, its region is not
    (see `_migrate_sqlite`); the first production run for that seller adopts it."""
    return f"{TargetName.PRODUCTION.value}/{seller_id}/"


def _migrate_sqlite(db: Database, existing: set[str]) -> None:
    """Version 0 or 1 to 2, keeping every record.

    Why each record is attributed as it is: before version 2, every submission was written
    with the `target` its run had ("sandbox" or "production"), so a submission says which it
    was. A production submission's feed names its seller (MerchantIdentifier) but not the
    region, so it gets `production/<seller>/` and the first production run for that seller
    takes it as its own (`Ledger` does). Messages, order lines, warnings and known sheets carry
    no target of their own: each follows the latest submission of its order (the one that
    cancelled it and led to the message); with none, it is the sandbox's, the default target
    every ledger was made with unless production was configured. A known sheet is kept for
    every target the ledger has records of, so `bulk due` still finds it whichever it runs for.
    """
    columns = {r["name"] for r in db.execute("PRAGMA table_info(submission_rows)")}
    if "message" not in columns:
        # Version 1: the exact customer message is recorded with the submission.
        db.execute("ALTER TABLE submission_rows ADD COLUMN message TEXT")
    columns = {r["name"] for r in db.execute("PRAGMA table_info(submissions)")}
    if "target_key" not in columns:
        db.execute(
            f"ALTER TABLE submissions ADD COLUMN target_key TEXT NOT NULL DEFAULT '{SANDBOX_KEY}'"
        )
        for r in db.execute(
            "SELECT id, document FROM submissions WHERE target = 'production'"
        ).fetchall():
            db.execute(
                "UPDATE submissions SET target_key = ? WHERE id = ?",
                (adoptable_key(_seller_of(r["document"])), r["id"]),
            )
    for table in _REBUILT:
        if table in existing:
            db.execute(f"ALTER TABLE {table} RENAME TO {table}_v1")
    for statement in _statements(_TABLES, db.dialect):
        db.execute(statement)
    latest = (
        "COALESCE((SELECT s.target_key FROM submission_rows sr"
        " JOIN submissions s ON s.id = sr.submission_id"
        " WHERE sr.order_id = old.order_id AND sr.outcome != 'abandoned'"
        f" ORDER BY s.id DESC LIMIT 1), '{SANDBOX_KEY}')"
    )
    copies = {
        "messages": f"INSERT INTO messages SELECT {latest}, old.order_id, old.kind, old.state,"
        " old.text, old.detail, old.created_at, old.sent_at FROM messages_v1 old",
        "order_lines": f"INSERT INTO order_lines SELECT {latest}, old.order_id,"
        " old.order_item_id, old.marketplace_id, old.sku, old.asin, old.purchased_at,"
        " old.buyer_requested FROM order_lines_v1 old",
        "row_warnings": f"INSERT INTO row_warnings SELECT {latest}, old.order_id, old.warnings"
        " FROM row_warnings_v1 old",
        "sheets": "INSERT INTO sheets (target_key, target, worksheet, last_used)"
        " SELECT k.target_key, old.target, old.worksheet,"
        f" old.last_used FROM sheets_v1 old, (SELECT '{SANDBOX_KEY}' AS target_key"
        " UNION SELECT DISTINCT target_key FROM submissions) k",
    }
    for table in _REBUILT:
        if table in existing:
            db.execute(copies[table])
            db.execute(f"DROP TABLE {table}_v1")
