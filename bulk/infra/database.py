"""The ledger's database: SQLite in the state folder, or a team's PostgreSQL (`[state] url`).

One small connection type speaks to either, so the ledger's queries are written once: `?`
placeholders, `ON CONFLICT` for upserts, `RETURNING` for new ids. What differs (column types,
JSON arrays, locks) is asked of the connection by name.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit, urlunsplit

from bulk.errors import ConfigError, LockError
from bulk.infra.locks import try_lock
from bulk.infra.masking import MASK, mask, remember_secret

POSTGRES_SCHEMES = ("postgresql", "postgres")


class Row(Protocol):
    def __getitem__(self, key: str, /) -> Any: ...


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


def masked_url(url: str) -> str:
    """A database URL as bulk prints it: the password (and any password= option) masked."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        user, _, host = netloc.rpartition("@")
        if ":" in user:
            user = user.split(":", 1)[0] + ":" + MASK
        netloc = f"{user}@{host}"
    query = re.sub(r"(?i)(password=)[^&]*", rf"\g<1>{MASK}", parts.query)
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def is_postgres(url: str) -> bool:
    return urlsplit(url).scheme.lower() in POSTGRES_SCHEMES


class Database(Protocol):
    """One connection, in autocommit: each statement commits, `transaction()` groups several."""

    dialect: str  # "sqlite" or "postgresql"
    where: str  # what the messages call it: a file's path, or the URL with its password masked

    def execute(self, sql: str, params: Sequence[object] = ()) -> Cursor: ...

    def executemany(self, sql: str, rows: Iterable[Sequence[object]]) -> None: ...

    def transaction(self) -> contextlib.AbstractContextManager[None]: ...

    def json_items(self, column: str) -> str:
        """A FROM-clause item that yields each element of a JSON text array as `j.value`."""
        ...

    def serialize(self, name: str) -> None:
        """Inside a transaction: wait for every other transaction that said the same name."""
        ...

    def close(self) -> None: ...


class SQLiteDatabase:
    dialect = "sqlite"

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.where = str(path)
        self.conn = sqlite3.connect(path, isolation_level=None, timeout=30)
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")

    def execute(self, sql: str, params: Sequence[object] = ()) -> Cursor:
        return self.conn.execute(sql, tuple(params))

    def executemany(self, sql: str, rows: Iterable[Sequence[object]]) -> None:
        self.conn.executemany(sql, rows)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        # IMMEDIATE: the write lock is taken at once, so two processes never both read and
        # then both write.
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def json_items(self, column: str) -> str:
        return f"json_each({column}) j"

    def serialize(self, name: str) -> None:
        """BEGIN IMMEDIATE already holds the file's one write lock: writers take turns."""

    def close(self) -> None:
        self.conn.close()


def lock_key(name: str) -> int:
    """A PostgreSQL advisory lock's 64-bit key for a lock's name."""
    return int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "big", signed=True)


class PostgresDatabase:
    dialect = "postgresql"

    def __init__(self, url: str):
        import psycopg
        from psycopg.rows import dict_row

        self.where = masked_url(url)
        parts = urlsplit(url)
        for password in (parts.password, *parse_qs(parts.query).get("password", [])):
            if password:
                remember_secret(password)  # whatever bulk prints or stores from now on masks it
        try:
            self.conn: Any = psycopg.connect(
                url,
                autocommit=True,
                row_factory=dict_row,
                connect_timeout=15,
                application_name="bulk",
            )
        except psycopg.Error as e:
            # The driver's message may quote the URL; the password never reaches the output.
            detail = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise ConfigError(
                f"cannot connect to the state database {self.where}: {_scrub(detail, url)}"
            ) from None
        # A machine that crashed holds its locks only until the server notices the
        # connection is gone: TCP keepalives (and PostgreSQL 14's client check) make that
        # about a minute instead of the system's default two hours.
        for setting in (
            "SET tcp_keepalives_idle = 30",
            "SET tcp_keepalives_interval = 10",
            "SET tcp_keepalives_count = 3",
            "SET client_connection_check_interval = '10s'",
        ):
            with contextlib.suppress(psycopg.Error):
                self.conn.execute(setting)

    @contextlib.contextmanager
    def _answered(self) -> Iterator[None]:
        """The server gone, or a right missing: one line naming the database (its password
        masked), never a traceback. What was committed stays; the next run goes on from it."""
        import psycopg

        try:
            yield
        except (psycopg.OperationalError, psycopg.errors.InsufficientPrivilege) as e:
            detail = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise ConfigError(
                f"the state database {self.where} failed: {mask(detail)}; what it recorded is "
                "kept: fix it and run again"
            ) from None

    def execute(self, sql: str, params: Sequence[object] = ()) -> Cursor:
        with self._answered():
            cursor: Cursor = self.conn.execute(_pg(sql), tuple(params))
        return cursor

    def executemany(self, sql: str, rows: Iterable[Sequence[object]]) -> None:
        with self._answered(), self.conn.cursor() as cursor:
            cursor.executemany(_pg(sql), [tuple(r) for r in rows])

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        with self._answered(), self.conn.transaction():
            yield

    def json_items(self, column: str) -> str:
        return f"jsonb_array_elements_text(({column})::jsonb) AS j(value)"

    def serialize(self, name: str) -> None:
        # Released with the transaction, whether it commits or not.
        self.execute("SELECT pg_advisory_xact_lock(?)", (lock_key(name),))

    def try_lock(self, name: str) -> bool:
        """Take the session's advisory lock `name` if free; held until released or the
        connection ends (a crashed process's locks go with its connection)."""
        row = self.execute("SELECT pg_try_advisory_lock(?) AS got", (lock_key(name),))
        return bool(row.fetchone()["got"])

    def unlock(self, name: str) -> None:
        self.conn.execute("SELECT pg_advisory_unlock(%s)", (lock_key(name),))

    def close(self) -> None:
        self.conn.close()


def _pg(sql: str) -> str:
    """SQLite's `?` placeholders as psycopg's `%s` (a literal % doubled first)."""
    return sql.replace("%", "%%").replace("?", "%s")


def _scrub(text: str, url: str) -> str:
    password = urlsplit(url).password
    return text.replace(password, MASK) if password else text


def open_database(url: str | None, default: Path) -> Database:
    """The database `url` names (a postgresql:// URL, a sqlite:/// path), else `default`."""
    if not url:
        return SQLiteDatabase(default)
    if is_postgres(url):
        return PostgresDatabase(url)
    parts = urlsplit(url)
    if parts.scheme.lower() == "sqlite":
        path = (parts.netloc + parts.path) if parts.netloc else parts.path
        if not path:
            raise ConfigError(f"[state] url {url} names no file: sqlite:///path/to/ledger.sqlite")
        return SQLiteDatabase(Path(path).expanduser())
    raise ConfigError(
        f"[state] url {masked_url(url)}: bulk keeps its state in SQLite (the default, or "
        "sqlite:///path) or PostgreSQL (postgresql://user@host/database)"
    )


@contextlib.contextmanager
def held(db: Database, name: str, doing: str) -> Iterator[None]:
    """A lock for everyone who uses this database: an advisory lock in PostgreSQL (the whole
    team's), a lock file beside a SQLite file (every run on this machine that uses it, whatever
    its state folder)."""
    if isinstance(db, SQLiteDatabase):
        tag = hashlib.sha256(name.encode("utf-8")).hexdigest()[:12]
        lock = try_lock(db.path.with_name(f"{db.path.name}.{tag}.lock"))
        if lock is None:
            raise LockError(
                f"another bulk run {doing} (it uses {db.where}); wait for it to finish and run "
                "again"
            )
        try:
            yield
        finally:
            lock.release()
        return
    if not isinstance(db, PostgresDatabase):
        raise TypeError(f"no locks for {type(db).__name__}")
    if not db.try_lock(name):
        raise LockError(
            f"another bulk run {doing} (the lock is in {db.where}); wait for it to finish and "
            "run again"
        )
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            db.unlock(name)
