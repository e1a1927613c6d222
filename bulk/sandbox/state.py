"""The sandbox's memory between runs: cancellations, feeds, documents, reports, messages."""

from __future__ import annotations

# It lives in one JSON file in the state folder, rewritten atomically (temporary file, then
# `os.replace`) after every request that changed it, and a lock file keeps two servers off one
# folder.
#
# When the order book's content changes, the history (feeds, documents, reports, messages, call
# counts) is kept, but a cancellation survives only if the order's own entry in the book is
# unchanged: editing an order in the book puts it back exactly as the book now describes it, while
# every other order keeps what the sandbox did to it. An unreadable state file is moved aside
# (`sandbox-state.json.unreadable`) and the sandbox starts afresh.
import hashlib
import json
import os
import secrets
import tempfile
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, TypeVar

from bulk.errors import ConfigError, LockError
from bulk.infra.locks import try_lock
from bulk.sandbox import clock
from bulk.sandbox.book import Book

STATE_FILE = "sandbox-state.json"
LOCK_FILE = "sandbox.lock"
VERSION = 1
BLOBS = "blobs"  # large document bodies, one file each, named by their SHA-256
BLOB_MARK = "blob:sha256:"


@dataclass(frozen=True)
class Cancellation:
    """One order line the sandbox cancelled."""

    order_id: str
    item_id: str
    reason: str
    feed_id: str
    time: str
    # False when the buyer asked for it and the seller used BuyerCanceled: Amazon does not count
    # it against the cancellation rate (docs/amazon.md, "Cancellation rate").
    counts: bool
    fingerprint: str  # BookOrder.fingerprint when it was cancelled


@dataclass(frozen=True)
class Document:
    """A feed or report document behind a signed URL."""

    id: str
    kind: str  # "feed" (uploaded by the seller), "result" (processing report), "report"
    content_type: str
    created: str
    body: str = ""  # the bytes, latin-1 decoded so any byte survives JSON
    uploaded: bool = False
    compressed: bool = False  # served gzip-compressed with compressionAlgorithm GZIP

    @property
    def data(self) -> bytes:
        return self.body.encode("latin-1")


@dataclass(frozen=True)
class Feed:
    """A feed submitted with createFeed, and what processing it did."""

    id: str
    feed_type: str
    marketplace_ids: tuple[str, ...]
    created: str
    input_document_id: str
    content: str  # the uploaded bytes at createFeed time, latin-1 decoded
    content_type: str
    status: str = "IN_QUEUE"
    observations: int = 0  # getFeed/getFeeds answers that showed this feed
    started: str = ""
    ended: str = ""
    result_document_id: str = ""
    outcome: tuple[dict[str, Any], ...] = ()  # per message, for /_sandbox/feeds


@dataclass(frozen=True)
class Report:
    """A report requested with createReport."""

    id: str
    report_type: str
    marketplace_ids: tuple[str, ...]
    created: str
    data_start: str
    data_end: str
    status: str = "IN_QUEUE"
    observations: int = 0
    started: str = ""
    ended: str = ""
    document_id: str = ""


@dataclass(frozen=True)
class Message:
    """A buyer message the sandbox accepted."""

    order_id: str
    kind: str
    text: str
    time: str
    body: dict[str, Any]


R = TypeVar("R")


def _record(cls: type[R], raw: Any) -> R:
    if not isinstance(raw, dict):
        raise ValueError(f"{cls.__name__} must be an object")
    values: dict[str, Any] = {}
    for f in fields(cls):  # type: ignore[arg-type]
        if f.name in raw:
            value = raw[f.name]
            values[f.name] = tuple(value) if isinstance(value, list) else value
    return cls(**values)


class State:
    """Everything the sandbox changed, loaded from and saved to the state folder."""

    def __init__(self, folder: Path, book: Book) -> None:
        self.folder = folder
        self.path = folder / STATE_FILE
        self.book_sha256 = book.sha256
        self.secret = secrets.token_hex(16)
        self.next_id = 1
        self.cancellations: dict[str, dict[str, Cancellation]] = {}
        self.documents: dict[str, Document] = {}
        self.feeds: dict[str, Feed] = {}
        self.reports: dict[str, Report] = {}
        self.messages: list[Message] = []
        self.calls: dict[str, int] = {}
        # The UTC day this state began: the book's past cancellations are placed in the 7 days
        # before it and leave the report's window day by day from then on.
        self.started = clock.now().date().isoformat()
        self._lock: Any | None = None  # the folder's file lock (bulk.infra.locks)
        self._json_cache: dict[int, tuple[Any, Any]] = {}
        self._cancel_json: tuple[int, list[dict[str, Any]]] | None = None
        self._saved: tuple[Any, ...] | None = None

    # Identity --------------------------------------------------------------------

    def take_id(self) -> int:
        number = self.next_id
        self.next_id += 1
        return number

    # Cancellations ---------------------------------------------------------------

    def cancelled(self, order_id: str) -> dict[str, Cancellation]:
        return self.cancellations.get(order_id, {})

    def cancel(self, cancellation: Cancellation) -> None:
        self.cancellations.setdefault(cancellation.order_id, {})[cancellation.item_id] = (
            cancellation
        )

    def all_cancellations(self) -> list[Cancellation]:
        return [c for items in self.cancellations.values() for c in items.values()]

    # Persistence -----------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "version": VERSION,
            "book_sha256": self.book_sha256,
            "secret": self.secret,
            "next_id": self.next_id,
            "cancellations": self._cancellations_json(),
            "documents": [self._cached(d, self._document_json) for d in self.documents.values()],
            "feeds": [self._cached(f, self._feed_json) for f in self.feeds.values()],
            "reports": [self._cached(r, asdict) for r in self.reports.values()],
            "messages": [self._cached(m, asdict) for m in self.messages],
            "calls": self.calls,
            "started": self.started,
        }

    # Saving after every request must stay cheap with 100,000 orders: records are immutable,
    # so each is turned into JSON once; large bodies go to content-addressed files, written
    # once, and the state file names them.

    def _cached(self, record: Any, make: Any) -> Any:
        hit = self._json_cache.get(id(record))
        if hit is None or hit[0] is not record:
            hit = (record, make(record))
            self._json_cache[id(record)] = hit
        return hit[1]

    def _cancellations_json(self) -> list[dict[str, Any]]:
        count = sum(len(items) for items in self.cancellations.values())
        if self._cancel_json is None or self._cancel_json[0] != count:
            self._cancel_json = (count, [asdict(c) for c in self.all_cancellations()])
        return self._cancel_json[1]

    def _blob(self, text: str) -> str:
        if len(text) < 4096:
            return text
        data = text.encode("latin-1")
        name = hashlib.sha256(data).hexdigest()
        path = self.folder / BLOBS / name
        if not path.exists():
            path.parent.mkdir(exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(data)
            tmp.replace(path)
        return BLOB_MARK + name

    def _unblob(self, value: Any) -> Any:
        if isinstance(value, str) and value.startswith(BLOB_MARK):
            return (self.folder / BLOBS / value[len(BLOB_MARK) :]).read_bytes().decode("latin-1")
        return value

    def _document_json(self, doc: Document) -> dict[str, Any]:
        data = asdict(doc)
        data["body"] = self._blob(doc.body)
        return data

    def _feed_json(self, feed: Feed) -> dict[str, Any]:
        data = asdict(feed)
        data["content"] = self._blob(feed.content)
        return data

    def _fingerprint(self) -> tuple[Any, ...]:
        """Everything a save must keep but the call counts, which are saved with the rest."""
        return (
            self.next_id,
            sum(len(items) for items in self.cancellations.values()),
            tuple((d.id, d.uploaded, len(d.body)) for d in self.documents.values()),
            tuple((f.id, f.status, f.observations) for f in self.feeds.values()),
            tuple((r.id, r.status, r.observations) for r in self.reports.values()),
            len(self.messages),
        )

    def _load(self, data: Any, book: Book) -> None:
        if not isinstance(data, dict) or data.get("version") != VERSION:
            raise ValueError("unknown state version")
        self.secret = str(data["secret"])
        self.next_id = int(data["next_id"])
        for raw in data["documents"]:
            raw["body"] = self._unblob(raw.get("body", ""))
            doc = _record(Document, raw)
            self.documents[doc.id] = doc
        for raw in data["feeds"]:
            raw["content"] = self._unblob(raw.get("content", ""))
            feed = _record(Feed, raw)
            self.feeds[feed.id] = feed
        for raw in data["reports"]:
            report = _record(Report, raw)
            self.reports[report.id] = report
        self.messages = [_record(Message, raw) for raw in data["messages"]]
        self.calls = {str(k): int(v) for k, v in dict(data["calls"]).items()}
        self.started = str(data.get("started") or self.started)
        for raw in data["cancellations"]:
            cancellation = _record(Cancellation, raw)
            order = book.order(cancellation.order_id)
            # Kept only while the order's book entry is the one it was cancelled on.
            if order is not None and order.fingerprint == cancellation.fingerprint:
                self.cancel(cancellation)

    def save(self, force: bool = False) -> None:
        """Write the state atomically: a crash leaves the old file or the new one, never half.

        Skipped when nothing but call counts changed (they go with the next save, or at stop).
        """
        fingerprint = self._fingerprint()
        if not force and fingerprint == self._saved:
            return
        text = json.dumps(self.to_json(), separators=(",", ":"))
        fd, tmp = tempfile.mkstemp(prefix=".sandbox-state-", suffix=".tmp", dir=self.folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(text)
            Path(tmp).replace(self.path)
            self._saved = fingerprint
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None


def open_state(folder: Path, book: Book) -> State:
    """Lock `folder` for this server and load its state (or start one) for `book`."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        lock = try_lock(folder / LOCK_FILE)
    except OSError as e:
        raise ConfigError(f"cannot use sandbox state folder {folder}: {e.strerror or e}") from None
    if lock is None:
        raise LockError(
            f"another sandbox is running on state folder {folder}; stop it (Ctrl-C in its "
            "terminal) or point BULK_HOME at another folder"
        )
    state = State(folder, book)
    state._lock = lock
    if state.path.exists():
        try:
            state._load(json.loads(state.path.read_text(encoding="utf-8")), book)
        except (ValueError, KeyError, TypeError, OSError):
            # A state file we cannot read is moved aside, never silently overwritten.
            state.path.replace(state.path.with_name(STATE_FILE + ".unreadable"))
            state = State(folder, book)
            state._lock = lock
        state.book_sha256 = book.sha256
    state.save()
    return state
