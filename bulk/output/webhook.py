"""The run webhook: posts a run's summary document to `[notify] webhook`, bounded, never fatal."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx

from bulk.infra.masking import mask
from bulk.output.summary import Document, rows_to_fix_changed, sent_something, short_text

TIMEOUT_SECONDS = 5.0
ATTEMPTS = 3
# Rows to fix listed in a post; a chat message with thousands of rows helps nobody, and the
# full list is in the sheet and in `--json`.
MAX_ROWS = 50
_JSON = {"Content-Type": "application/json; charset=utf-8"}


def worth_posting(doc: Document) -> bool:
    """A run is posted when it sent something or left rows for staff to fix."""
    return sent_something(doc) or rows_to_fix_changed(doc)


def payload(doc: Document) -> dict[str, Any]:
    """The summary document plus `text`, which Slack and Teams incoming webhooks show as is."""
    body = dict(doc)
    rows = list(doc["rows_to_fix"])
    if len(rows) > MAX_ROWS:
        body["rows_to_fix"] = rows[:MAX_ROWS]
        body["rows_to_fix_left_off"] = len(rows) - MAX_ROWS
    body["text"] = short_text(doc)
    return body


def post(
    url: str,
    doc: Document,
    *,
    timeout: float = TIMEOUT_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
) -> str | None:
    """Post the document; returns None when delivered, else one warning line.

    A timeout, a refused connection or a 5xx/429 answer is tried again (ATTEMPTS in all, one
    and two seconds apart); any other answer is final. Nothing here raises: a webhook that is
    down never fails or holds up the run for more than ATTEMPTS x TIMEOUT_SECONDS.
    """
    # Masked like every text bulk prints: Amazon's words in a row's Result pass through here.
    content = mask(json.dumps(payload(doc))).encode("utf-8")
    problem = ""
    with httpx.Client(timeout=timeout) as client:
        for attempt in range(ATTEMPTS):
            if attempt:
                sleep(float(attempt))
            try:
                res = client.post(url, content=content, headers=_JSON)
            except httpx.HTTPError as e:
                problem = type(e).__name__
                continue
            if res.is_success:
                return None
            problem = f"HTTP {res.status_code}"
            if res.status_code != 429 and res.status_code < 500:
                break
    # The URL itself may hold a secret token (Slack's and Teams' do): name only its host.
    host = httpx.URL(url).host or "the webhook"
    return mask(
        f"warning: the run summary was not delivered to {host} ({problem}); the run itself is unaffected"
    )
