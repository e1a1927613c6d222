"""The ledger, on each backend: a real SQLite file and a real PostgreSQL database."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bulk.errors import LockError
from bulk.infra.ledger import SANDBOX, Ledger, OrderLine, PlannedRow, TargetKey
from bulk.infra.ledger_schema import SCHEMA_VERSION
from bulk.models import MessageState, TargetName

OpenLedger = Callable[..., Ledger]  # the `ledger_backend` fixture: (target=SANDBOX) -> Ledger

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
ROWS = [
    PlannedRow(1, 2, "112-0000001-0000001", ("00000000000101",), "NoInventory", True),
    PlannedRow(2, 3, "112-0000002-0000002", ("00000000000201",), "BuyerCanceled", False),
]


def test_a_submission_is_recorded_step_by_step_and_survives_reopening(
    ledger_backend: OpenLedger,
) -> None:
    with ledger_backend() as ledger:
        sid = ledger.plan_submission("orders.xlsx", "sandbox", "<xml/>", "abc", ROWS, NOW)
        assert ledger.submission(sid).state == "planned"
        ledger.record_document(sid, "doc-1")
    with ledger_backend() as ledger:
        sub = ledger.submission(sid)
        assert (sub.state, sub.document_id, sub.feed_id) == ("uploaded", "doc-1", None)
        ledger.record_feed(sid, "50001")
        assert [s.id for s in ledger.submissions(open_only=True)] == [sid]
        ledger.record_outcomes(
            sid,
            [(1, "cancelled", "Amazon cancelled the order"), (2, "failed", "Amazon error 18028")],
            NOW,
        )
        ledger.finish_submission(sid, "done", "DONE", NOW)
        assert ledger.submissions(open_only=True) == []
        rows = ledger.rows(sid)
        assert [(r.order_id, r.outcome, r.counts) for r in rows] == [
            ("112-0000001-0000001", "cancelled", True),
            ("112-0000002-0000002", "failed", False),
        ]
        assert rows[0].items == ("00000000000101",)
        history = list(ledger.history())
        assert history[0][1] == {"cancelled": 1, "failed": 1}


def test_counted_sends_leave_out_refused_and_abandoned_ones(ledger_backend: OpenLedger) -> None:
    with ledger_backend() as ledger:
        other = ledger.plan_submission("s", "sandbox", "<x/>", "h", ROWS[:1], NOW)
        ledger.abandon_submission(other, NOW)
        assert ledger.counted_sends(NOW - timedelta(days=1)) == []
        sid = ledger.plan_submission("s", "sandbox", "<x/>", "h", ROWS, NOW)
        ledger.record_outcomes(sid, [(2, "failed", "no")], NOW)
        assert ledger.counted_sends(NOW - timedelta(days=1)) == [("112-0000001-0000001", NOW, True)]
        assert ledger.counted_sends(NOW + timedelta(minutes=1)) == []
        found = ledger.rows_for_orders(["112-0000001-0000001", "112-0000009-0000009"])
        assert [r.outcome for r in found["112-0000001-0000001"]] == ["abandoned", "pending"]
        assert "112-0000009-0000009" not in found


def test_a_feed_document_is_kept_deflated_and_read_back_whole(ledger_backend: OpenLedger) -> None:
    document = "<AmazonEnvelope>" + "<Message>…</Message>" * 20_000 + "</AmazonEnvelope>"
    with ledger_backend() as ledger:
        sid = ledger.plan_submission("orders.xlsx", "sandbox", document, "abc", ROWS, NOW)
    with ledger_backend() as ledger:
        assert ledger.submission(sid).document == document
        stored = ledger.db.execute("SELECT document FROM submissions WHERE id = ?", (sid,))
        assert len(stored.fetchone()["document"]) < len(document.encode("utf-8")) // 20
        if ledger.db.dialect == "sqlite":
            # A ledger from before kept the text itself.
            ledger.db.execute("UPDATE submissions SET document = '<xml/>' WHERE id = ?", (sid,))
            assert ledger.submission(sid).document == "<xml/>"


def test_a_message_can_be_claimed_once(ledger_backend: OpenLedger) -> None:
    with ledger_backend() as ledger:
        assert ledger.begin_message("112-0000001-0000001", "unexpectedProblem", "hi", NOW)
        assert not ledger.begin_message("112-0000001-0000001", "unexpectedProblem", "hi", NOW)
        record = ledger.messages(["112-0000001-0000001"], "unexpectedProblem").get(
            "112-0000001-0000001"
        )
        assert record is not None and record.state == "sending"
        ledger.finish_message(
            "112-0000001-0000001", "unexpectedProblem", MessageState.SENT, "", NOW
        )
        record = ledger.messages(["112-0000001-0000001"], "unexpectedProblem").get(
            "112-0000001-0000001"
        )
        assert record is not None and (record.state, record.sent_at) == ("sent", NOW)
        assert ledger.messages(["112-0000002-0000002"], "unexpectedProblem") == {}


def test_the_messages_of_many_orders_are_read_together(ledger_backend: OpenLedger) -> None:
    ids = [f"112-{i:07d}-0000001" for i in range(1, 1202)]  # more than one query's worth
    with ledger_backend() as ledger:
        for order_id in ids[::2]:
            ledger.begin_message(order_id, "unexpectedProblem", f"to {order_id}", NOW)
        ledger.begin_message(ids[1], "otherKind", "other", NOW)
        found = ledger.messages(ids, "unexpectedProblem")
    assert set(found) == set(ids[::2])
    assert all(found[i].text == f"to {i}" and found[i].state == "sending" for i in found)


# The ledger as the first release wrote it (no recorded customer message, user_version 0).
FIRST_RELEASE_SCHEMA = """
CREATE TABLE submissions (
    id INTEGER PRIMARY KEY, created_at TEXT NOT NULL, sheet TEXT NOT NULL, target TEXT NOT NULL,
    document_sha256 TEXT NOT NULL, document TEXT NOT NULL, document_id TEXT, feed_id TEXT,
    state TEXT NOT NULL, processing_status TEXT, finished_at TEXT
);
CREATE TABLE submission_rows (
    submission_id INTEGER NOT NULL REFERENCES submissions(id), message_id INTEGER NOT NULL,
    sheet_row INTEGER NOT NULL, order_id TEXT NOT NULL, items TEXT NOT NULL,
    reason_code TEXT NOT NULL, counts INTEGER NOT NULL, outcome TEXT NOT NULL,
    result TEXT NOT NULL DEFAULT '', updated_at TEXT, PRIMARY KEY (submission_id, message_id)
);
CREATE TABLE messages (
    order_id TEXT NOT NULL, kind TEXT NOT NULL, state TEXT NOT NULL, text TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL, sent_at TEXT,
    PRIMARY KEY (order_id, kind)
);
INSERT INTO submissions VALUES
    (1, '2026-11-26T12:00:00+00:00', 'orders.xlsx', 'sandbox', 'abc', '<xml/>', 'doc-1', '50001',
     'created', 'IN_QUEUE', NULL);
INSERT INTO submission_rows VALUES
    (1, 1, 2, '112-0000001-0000001', '["00000000000101"]', 'NoInventory', 1, 'pending', '',
     '2026-11-26T12:00:00+00:00');
"""


def test_a_ledger_from_the_first_release_opens_and_keeps_its_rows(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "ledger.sqlite"
    old = sqlite3.connect(path)
    old.executescript(FIRST_RELEASE_SCHEMA)
    old.close()
    with Ledger(path) as ledger:
        [sub] = ledger.submissions(open_only=True)
        assert (sub.feed_id, sub.state) == ("50001", "created")
        [row] = ledger.rows(sub.id)
        assert (row.order_id, row.outcome, row.message) == ("112-0000001-0000001", "pending", None)
        # Nothing recorded: the message is rendered when it is sent, as the first release did.
        assert ledger.recorded_message("112-0000001-0000001") is None
        planned = [
            PlannedRow(
                1, 3, "112-0000002-0000002", ("00000000000201",), "NoInventory", True, "Hallo"
            )
        ]
        ledger.plan_submission("orders.xlsx", "sandbox", "<xml/>", "def", planned, NOW)
        assert ledger.recorded_message("112-0000002-0000002") == "Hallo"
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    db.close()
    with Ledger(path) as ledger:  # opening it again migrates nothing twice
        assert len(ledger.submissions()) == 2


def test_the_recorded_message_is_the_latest_submissions(ledger_backend: OpenLedger) -> None:
    with ledger_backend() as ledger:
        first = [
            PlannedRow(1, 2, "112-0000001-0000001", ("00000000000101",), "NoInventory", True, "old")
        ]
        sid = ledger.plan_submission("s", "sandbox", "<xml/>", "a", first, NOW)
        ledger.abandon_submission(sid, NOW)
        assert ledger.recorded_message("112-0000001-0000001") is None  # never sent
        again = [
            PlannedRow(1, 2, "112-0000001-0000001", ("00000000000101",), "NoInventory", True, "new")
        ]
        ledger.plan_submission("s", "sandbox", "<xml/>", "b", again, NOW)
        assert ledger.recorded_message("112-0000001-0000001") == "new"


PRODUCTION_US = TargetKey(TargetName.PRODUCTION, "A1SELLER", "NA")
PRODUCTION_EU = TargetKey(TargetName.PRODUCTION, "A1SELLER", "EU")
ORDER = "112-0000001-0000001"


def _send_everything(ledger: Ledger) -> None:
    """A submission, its order line, warnings, message and sheet: one of every record."""
    sid = ledger.plan_submission("orders.xlsx", ledger.target.name, "<x/>", "h", ROWS[:1], NOW)
    ledger.record_feed(sid, f"feed-{ledger.key}")
    ledger.record_order_lines(
        [OrderLine(ORDER, "00000000000101", "ATVPDKIKX0DER", "MUG", "B0", NOW, False)]
    )
    ledger.record_warnings({ORDER: [f"warned in {ledger.key}"]})
    assert ledger.begin_message(ORDER, "unexpectedProblem", f"hello from {ledger.key}", NOW)
    ledger.remember_sheet("/sheets/orders.xlsx", "", NOW)


def test_each_target_sees_only_its_own_records(ledger_backend: OpenLedger) -> None:
    with ledger_backend(SANDBOX) as rehearsal:
        _send_everything(rehearsal)
    with ledger_backend(PRODUCTION_US) as production:
        # A rehearsal is not production: no look-up, count or record of it shows here.
        assert production.rows_for_orders([ORDER]) == {}
        assert production.counted_sends(NOW - timedelta(days=1)) == []
        assert production.submissions() == []
        assert list(production.history()) == []
        assert production.messages([ORDER], "unexpectedProblem") == {}
        assert production.recorded_message(ORDER) is None
        assert production.seller_cancelled_lines(["MUG"], NOW - timedelta(days=1)) == []
        assert production.warnings_for([ORDER]) == {}
        assert production.known_sheets() == []
        # Production records the same order, message and sheet as its own.
        _send_everything(production)
        [sub] = production.submissions()
        assert (sub.feed_id, sub.target_key) == ("feed-production/A1SELLER/NA", PRODUCTION_US.key)
        assert production.warnings_for([ORDER]) == {ORDER: ("warned in production/A1SELLER/NA",)}
        assert len(production.seller_cancelled_lines(["MUG"], NOW - timedelta(days=1))) == 1
        assert len(production.counted_sends(NOW - timedelta(days=1))) == 1
    with ledger_backend(PRODUCTION_EU) as europe:  # the same seller in another region
        assert europe.rows_for_orders([ORDER]) == {}
        assert europe.counted_sends(NOW - timedelta(days=1)) == []
    with ledger_backend() as rehearsal:  # the sandbox is the default, and kept its own
        [sub] = rehearsal.submissions()
        assert sub.feed_id == "feed-sandbox"
        [message] = rehearsal.messages([ORDER], "unexpectedProblem").values()
        assert message.text == "hello from sandbox"
        assert len(rehearsal.known_sheets()) == 1
        assert len(rehearsal.counted_sends(NOW - timedelta(days=1))) == 1


# A version-1 ledger with a rehearsal and a production run of one seller (targets not kept).
VERSION_1_SCHEMA = (
    FIRST_RELEASE_SCHEMA.replace(
        "updated_at TEXT, PRIMARY", "updated_at TEXT, message TEXT, PRIMARY"
    ).replace("'2026-11-26T12:00:00+00:00');", "'2026-11-26T12:00:00+00:00', NULL);")
    + """
INSERT INTO submissions VALUES
    (2, '2026-11-26T13:00:00+00:00', 'orders.xlsx', 'production', 'def',
     '<AmazonEnvelope><Header><MerchantIdentifier>A1SELLER</MerchantIdentifier></Header>',
     'doc-2', '60002', 'done', 'DONE', NULL);
INSERT INTO submission_rows VALUES
    (2, 1, 3, '112-0000002-0000002', '["00000000000201"]', 'NoInventory', 1, 'cancelled', '',
     '2026-11-26T13:00:00+00:00', NULL);
INSERT INTO messages VALUES
    ('112-0000001-0000001', 'unexpectedProblem', 'sent', 'to one', '', '2026-11-26', NULL),
    ('112-0000002-0000002', 'unexpectedProblem', 'sent', 'to two', '', '2026-11-26', NULL),
    ('112-0000003-0000003', 'unexpectedProblem', 'sent', 'to three', '', '2026-11-26', NULL);
CREATE TABLE sheets (
    target TEXT NOT NULL, worksheet TEXT NOT NULL, last_used TEXT NOT NULL,
    PRIMARY KEY (target, worksheet)
);
INSERT INTO sheets VALUES ('/sheets/orders.xlsx', '', '2026-11-26T13:00:00+00:00');
PRAGMA user_version = 1;
"""
)


def test_an_older_ledger_gives_each_record_the_target_it_was_made_against(
    tmp_path: Path,
) -> None:
    import sqlite3

    path = tmp_path / "ledger.sqlite"
    old = sqlite3.connect(path)
    old.executescript(VERSION_1_SCHEMA)
    old.close()
    since = datetime(2026, 11, 1, tzinfo=UTC)
    with Ledger(path) as rehearsal:
        assert [s.feed_id for s in rehearsal.submissions()] == ["50001"]
        assert list(rehearsal.rows_for_orders([ORDER, "112-0000002-0000002"])) == [ORDER]
        # A message follows its order's submission; one with none is the sandbox's.
        messages = rehearsal.messages(
            [ORDER, "112-0000002-0000002", "112-0000003-0000003"], "unexpectedProblem"
        )
        assert sorted(m.text for m in messages.values()) == ["to one", "to three"]
        assert [s.target for s in rehearsal.known_sheets()] == ["/sheets/orders.xlsx"]
    with Ledger(path, TargetKey(TargetName.PRODUCTION, "A2OTHER", "NA")) as other:
        assert other.submissions() == []  # another seller's production adopts nothing
    with Ledger(path, PRODUCTION_US) as production:
        # The production submission named its seller: the first production run for that seller
        # takes it (and what followed its order) as its own.
        [sub] = production.submissions()
        assert (sub.feed_id, sub.target_key) == ("60002", PRODUCTION_US.key)
        assert [s[0] for s in production.counted_sends(since)] == ["112-0000002-0000002"]
        [message] = production.messages(["112-0000002-0000002"], "unexpectedProblem").values()
        assert message.text == "to two"
        assert [s.target for s in production.known_sheets()] == ["/sheets/orders.xlsx"]
    with Ledger(path, PRODUCTION_EU) as europe:  # taken once, by the first
        assert europe.submissions() == []


def test_an_order_another_run_planned_meanwhile_is_refused_whole(
    ledger_backend: OpenLedger,
) -> None:
    """Two runs that both checked an order before either recorded it: the second record is
    refused, nothing of it written, so the order goes out in one feed only."""
    with ledger_backend() as first, ledger_backend() as second:
        first.plan_submission("copy-1.xlsx", "sandbox", "<x/>", "a", ROWS[:1], NOW)
        with pytest.raises(LockError, match="another bulk run sent 112-0000001-0000001"):
            second.plan_submission("copy-2.xlsx", "sandbox", "<x/>", "b", ROWS, NOW)
        assert len(second.submissions()) == 1
        assert [r.outcome for r in second.rows_for_orders([ORDER])[ORDER]] == ["pending"]
        # Another target's record does not stand in the way; an abandoned one neither.
        with ledger_backend(PRODUCTION_US) as production:
            sid = production.plan_submission("real.xlsx", "production", "<x/>", "c", ROWS, NOW)
            production.abandon_submission(sid, NOW)
            production.plan_submission("real.xlsx", "production", "<x/>", "d", ROWS, NOW)


def test_a_message_is_claimed_once_across_connections(ledger_backend: OpenLedger) -> None:
    with ledger_backend() as one, ledger_backend() as other:
        assert one.begin_message(ORDER, "unexpectedProblem", "from one", NOW)
        assert not other.begin_message(ORDER, "unexpectedProblem", "from other", NOW)
        assert other.messages([ORDER], "unexpectedProblem")[ORDER].text == "from one"


def test_the_team_run_lock_holds_across_connections_and_dies_with_its_holder(
    pg_url: str,
) -> None:
    """In PostgreSQL the run lock is the team's: a second connection (another machine) is
    refused while it is held, and a holder that dies without letting go frees it."""
    import subprocess
    import sys

    from bulk.infra.database import PostgresDatabase

    with (
        Ledger(PostgresDatabase(pg_url), PRODUCTION_US) as one,
        Ledger(PostgresDatabase(pg_url), PRODUCTION_US) as other,
    ):
        with one.run_lock():
            with pytest.raises(LockError, match="is working on production"), other.run_lock():
                pass
            with Ledger(PostgresDatabase(pg_url), PRODUCTION_EU) as europe, europe.run_lock():
                pass  # another target's runs go on
        with other.run_lock():  # let go: free again
            pass
    # A process that takes the lock and dies at once (no clean-up) does not keep it.
    script = (
        "import os, sys\n"
        "from bulk.infra.database import PostgresDatabase\n"
        "from bulk.infra.ledger import Ledger, TargetKey\n"
        "from bulk.models import TargetName\n"
        "ledger = Ledger(PostgresDatabase(sys.argv[1]), "
        "TargetKey(TargetName.PRODUCTION, 'A1SELLER', 'NA'))\n"
        "ledger.run_lock().__enter__()\n"
        "print('held', flush=True)\n"
        "os._exit(9)\n"
    )
    died = subprocess.run(
        [sys.executable, "-c", script, pg_url], capture_output=True, text=True, timeout=60
    )
    assert (died.returncode, died.stdout.strip()) == (9, "held"), died.stderr
    with Ledger(PostgresDatabase(pg_url), PRODUCTION_US) as after, after.run_lock():
        pass


def test_a_database_password_is_never_shown(pg_url: str) -> None:
    from urllib.parse import urlsplit, urlunsplit

    from bulk.errors import ConfigError
    from bulk.infra.database import PostgresDatabase, masked_url

    parts = urlsplit(pg_url)
    wrong = urlunsplit(
        (parts.scheme, f"nobody:s3cret-pw@{parts.hostname}:{parts.port}", "/nowhere", "", "")
    )
    assert masked_url(wrong) == f"postgresql://nobody:***@{parts.hostname}:{parts.port}/nowhere"
    assert "s3cret-pw" not in masked_url(wrong + "?password=s3cret-pw")
    with pytest.raises(ConfigError) as by_option:
        PostgresDatabase(f"{pg_url}?user=nobody&password=0ption-pw-9")
    assert "0ption-pw-9" not in str(by_option.value)
    with pytest.raises(ConfigError) as refused:
        PostgresDatabase(wrong)
    assert "s3cret-pw" not in str(refused.value)
    assert "nobody:***@" in str(refused.value)


def test_a_workbook_is_known_on_its_machine_and_a_google_sheet_everywhere(
    ledger_backend: OpenLedger,
) -> None:
    google = "https://docs.google.com/spreadsheets/d/1TeamSheetKey"
    with ledger_backend() as store:
        ann = Ledger(store.db, SANDBOX, machine="ann-laptop")
        bob = Ledger(store.db, SANDBOX, machine="bob-laptop")
        ann.remember_sheet("/home/ann/orders.xlsx", "", NOW)
        ann.remember_sheet(google, "", NOW, shared=True)
        assert [s.target for s in ann.known_sheets()] == ["/home/ann/orders.xlsx", google]
        # Bob's `bulk due` does not look for Ann's file on his disk.
        assert [s.target for s in bob.known_sheets()] == [google]


def test_a_database_user_without_rights_or_a_lost_server_is_one_line(pg_url: str) -> None:
    """No traceback: the right that is missing, or the server that went away, named in one
    line with the database (its password masked)."""
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    from bulk.errors import ConfigError
    from bulk.infra.database import PostgresDatabase

    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute("CREATE ROLE bulk_reader LOGIN PASSWORD 'reader-pw-42'")
        admin.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    parts = urlsplit(pg_url)
    reader = urlunsplit(
        (
            parts.scheme,
            f"bulk_reader:reader-pw-42@{parts.hostname}:{parts.port}",
            parts.path,
            "",
            "",
        )
    )
    try:
        with pytest.raises(ConfigError) as refused:
            Ledger(PostgresDatabase(reader))
        text = str(refused.value)
        assert "permission denied for schema public" in text, text
        assert "reader-pw-42" not in text and "bulk_reader:***@" in text
        # The server goes away in the middle of a run (here: its connection is ended).
        with ledger_for(pg_url) as ledger:
            pid = ledger.db.execute("SELECT pg_backend_pid() AS pid").fetchone()["pid"]
            with psycopg.connect(pg_url, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
            with pytest.raises(ConfigError, match=r"the state database .* failed: "):
                ledger.plan_submission("s", "sandbox", "<x/>", "h", ROWS, NOW)
    finally:
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute("DROP ROLE IF EXISTS bulk_reader")


def ledger_for(url: str) -> Ledger:
    from bulk.infra.database import PostgresDatabase

    return Ledger(PostgresDatabase(url))


def test_statuses_bulk_wrote_without_sending_are_kept_per_target(
    ledger_backend: OpenLedger,
) -> None:
    from datetime import date

    from bulk.infra.ledger import StatusRecord

    ids = [f"112-{n:07d}-0000001" for n in range(1, 1202)]  # more than two IN chunks
    with ledger_backend() as sandbox:
        sandbox.forget_statuses(ids)  # nothing recorded yet: nothing to do
        sandbox.record_statuses(
            [StatusRecord(i, "DEFERRED", date(2026, 3, 3)) for i in ids[:-1]]
            + [StatusRecord(ids[-1], "CANCELLED")],
            NOW,
        )
        found = sandbox.statuses_for(ids)
        assert len(found) == len(ids)
        assert found[ids[0]] == StatusRecord(ids[0], "DEFERRED", date(2026, 3, 3))
        assert found[ids[-1]] == StatusRecord(ids[-1], "CANCELLED", None)
        sandbox.record_statuses([StatusRecord(ids[0], "DEFERRED", date(2026, 3, 5))], NOW)
        assert sandbox.statuses_for(ids[:1])[ids[0]].day == date(2026, 3, 5)  # the latest wins
        sandbox.forget_statuses(ids[:1100])
        assert sorted(sandbox.statuses_for(ids)) == ids[1100:]
    production = TargetKey(TargetName.PRODUCTION, "A1SELLER", "NA")
    with ledger_backend(production) as real:
        assert real.statuses_for(ids) == {}  # the sandbox's promises are not production's


def test_the_work_a_run_left_on_a_sheet_is_known_to_due(ledger_backend: OpenLedger) -> None:
    from datetime import date

    with ledger_backend() as ledger:
        ledger.remember_sheet("/books/orders.xlsx", "", NOW)
        assert ledger.known_sheets()[0].work_due(date(2026, 3, 3)) is None  # not known yet
        ledger.record_sheet_work("/books/orders.xlsx", "", date(2026, 3, 4), False)
        sheet = ledger.known_sheets()[0]
        assert sheet.work_due(date(2026, 3, 3)) is False
        assert sheet.work_due(date(2026, 3, 4)) is True
        ledger.record_sheet_work("/books/orders.xlsx", "", None, True)
        assert ledger.known_sheets()[0].work_due(date(2026, 3, 3)) is True


def test_a_version_2_ledger_gains_the_statuses_and_the_sheets_work(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "ledger.sqlite"
    with Ledger(path) as ledger:
        ledger.remember_sheet("/books/orders.xlsx", "", NOW)
    # As version 2 left it: no row_statuses table, no work columns on sheets.
    db = sqlite3.connect(path)
    db.executescript(
        "DROP TABLE row_statuses;"
        "ALTER TABLE sheets RENAME TO sheets_v3;"
        "CREATE TABLE sheets (target_key TEXT NOT NULL, target TEXT NOT NULL,"
        " worksheet TEXT NOT NULL, last_used TEXT NOT NULL, machine TEXT NOT NULL DEFAULT '',"
        " PRIMARY KEY (target_key, target, worksheet));"
        "INSERT INTO sheets SELECT target_key, target, worksheet, last_used, machine"
        " FROM sheets_v3;"
        "DROP TABLE sheets_v3;"
        "PRAGMA user_version = 2;"
    )
    db.close()
    with Ledger(path) as ledger:
        sheet = ledger.known_sheets()[0]
        assert sheet.target == "/books/orders.xlsx" and sheet.pending is None
        assert ledger.statuses_for(["112-0000001-0000001"]) == {}
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_a_run_lock_is_one_per_target_for_everyone_on_the_ledger(
    ledger_backend: OpenLedger,
) -> None:
    """Two runs on one ledger (two machines on a team's database; two state folders on one
    SQLite file): the second run of a target is refused while the first holds it."""
    with (
        ledger_backend(PRODUCTION_US) as one,
        ledger_backend(PRODUCTION_US) as other,
        ledger_backend(PRODUCTION_EU) as europe,
    ):
        with one.run_lock():
            with pytest.raises(LockError, match="is working on production"), other.run_lock():
                pass
            with europe.run_lock():
                pass  # another target's runs go on
            with (
                one.hold("bulk sheet /s.xlsx", "is working on /s.xlsx"),
                pytest.raises(LockError, match=r"is working on /s\.xlsx"),
                other.hold("bulk sheet /s.xlsx", "is working on /s.xlsx"),
            ):
                pass
        with other.run_lock():  # let go: free again
            pass
