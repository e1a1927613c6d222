"""The running marketplace: one order book, its state, its limits, and presigned document URLs."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import threading
import uuid
from datetime import datetime
from typing import Any
from urllib.parse import quote

from bulk import marketplaces
from bulk.access import NEEDED_ROLES
from bulk.sandbox import clock
from bulk.sandbox.book import Book
from bulk.sandbox.limits import Buckets, FaultInjector
from bulk.sandbox.state import Cancellation, Document, State
from bulk.sandbox.wire import invalid_input

# Presigned URLs last five minutes (feeds_2021-06-30.json, CreateFeedDocumentResponse.url).
URL_LIFETIME_SECONDS = 300

FINAL_STATUSES = ("DONE", "CANCELLED", "FATAL")


def progress(observation: int, polls: int) -> str:
    """The processing status shown the `observation`-th time (1-based) a job is looked at.

    With `polls` = 2 a job shows IN_QUEUE, then IN_PROGRESS, then finishes on the third look;
    with 0 it finishes on the first.
    """
    if observation <= polls // 2:
        return "IN_QUEUE"
    if observation <= polls:
        return "IN_PROGRESS"
    return "DONE"


class SandboxMarket:
    """Book, state and limits behind one lock; every request holds it while it runs."""

    def __init__(self, book: Book, state: State, roles: tuple[str, ...] = NEEDED_ROLES) -> None:
        self.book = book
        # The app's roles (Amazon's names) and the Restricted Data Tokens issued to it:
        # token -> (the (method, path) resources it covers, when it expires).
        self.roles = roles
        self.rdts: dict[str, tuple[frozenset[tuple[str, str]], datetime]] = {}
        self.state = state
        self.lock = threading.RLock()
        self.buckets = Buckets(book.time_scale)
        self.faults = FaultInjector(book.faults, sum(state.calls.values()))
        self.base_url = ""  # set once the server has its port

    # Orders ----------------------------------------------------------------------

    def cancelled(self, order_id: str) -> dict[str, Cancellation]:
        return self.state.cancelled(order_id)

    # Marketplaces ----------------------------------------------------------------

    @property
    def region(self) -> str:
        """The SP-API region of the seller's account: the book's marketplace's."""
        home = marketplaces.by_id(self.book.marketplace_id)
        assert home is not None  # checked when the book was loaded
        return str(home.region)

    def sells_in(self, marketplace_id: str) -> bool:
        """Whether the seller's account covers `marketplace_id`: any marketplace of its region."""
        found = marketplaces.by_id(marketplace_id)
        return found is not None and found.region == self.region

    # Documents -------------------------------------------------------------------

    def new_document(
        self, kind: str, content_type: str, body: bytes = b"", compressed: bool = False
    ) -> Document:
        # Shaped like Amazon's ids: amzn1.tortuga.* for feed documents, amzn1.spdoc.* for reports.
        prefix = "amzn1.spdoc.1.4.na" if kind == "report" else "amzn1.tortuga.4.na"
        doc = Document(
            id=f"{prefix}.{uuid.uuid4()}.T{secrets.token_hex(6).upper()}",
            kind=kind,
            content_type=content_type,
            created=clock.iso(clock.now()),
            body=body.decode("latin-1"),
            uploaded=bool(body),
            compressed=compressed,
        )
        self.state.documents[doc.id] = doc
        return doc

    def _signature(self, action: str, doc: Document, expires: str) -> str:
        message = f"{action}\n{doc.id}\n{doc.content_type}\n{expires}".encode()
        return hmac.new(self.state.secret.encode(), message, hashlib.sha256).hexdigest()

    def signed_url(self, action: str, doc: Document) -> str:
        """A presigned URL to PUT (`upload`) or GET (`download`) the document's bytes."""
        expires = str(int(clock.now().timestamp()) + URL_LIFETIME_SECONDS)
        sig = self._signature(action, doc, expires)
        return f"{self.base_url}/_sandbox/{action}/{quote(doc.id)}?expires={expires}&sig={sig}"

    def check_url(self, action: str, doc: Document, expires: str, sig: str) -> str | None:
        """Why a presigned URL is refused (S3 error code), or None when it is good."""
        if not hmac.compare_digest(self._signature(action, doc, expires), sig):
            return "SignatureDoesNotMatch"
        if not expires.isdigit() or int(expires) < clock.now().timestamp():
            return "AccessDenied"
        return None

    # Paging ----------------------------------------------------------------------

    def next_token(self, data: dict[str, Any]) -> str:
        raw = json.dumps(data, sort_keys=True).encode("utf-8")
        mac = hmac.new(self.state.secret.encode(), raw, hashlib.sha256).hexdigest()[:16]
        return base64.urlsafe_b64encode(raw).decode("ascii") + "." + mac

    def read_token(self, token: str, name: str) -> dict[str, Any]:
        raw_text, _, mac = token.partition(".")
        try:
            raw = base64.urlsafe_b64decode(raw_text.encode("ascii"))
            good = hmac.new(self.state.secret.encode(), raw, hashlib.sha256).hexdigest()[:16]
            data = json.loads(raw) if hmac.compare_digest(good, mac) else None
        except (binascii.Error, ValueError, UnicodeError):
            data = None
        if not isinstance(data, dict):
            raise invalid_input(f"Invalid {name}.", f"{name} {token!r} was not issued by this API")
        return data

    # Calls -----------------------------------------------------------------------

    def count(self, operation: str) -> None:
        self.state.calls[operation] = self.state.calls.get(operation, 0) + 1

    def throttled(self, operation: str, now: datetime) -> bool:
        return self.book.enforce_rate_limits and not self.buckets.take(operation, now)
