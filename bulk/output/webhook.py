"""The run webhook: posts a run's summary document to `[notify] webhook`, bounded, never fatal."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import httpx

from bulk.formats import counted
from bulk.infra.masking import mask
from bulk.output.summary import Document, rows_to_fix_changed, sent_something, short_text

TIMEOUT_SECONDS = 5.0
ATTEMPTS = 3
# Rows to fix listed in a post; a chat message with thousands of rows helps nobody, and the
# full list is in the sheet and in `--json`.
MAX_ROWS = 50
_JSON = {"Content-Type": "application/json; charset=utf-8"}
# Adaptive Card schema version: 1.4 is what Teams renders on every client (RichTextBlock is 1.2).
CARD_VERSION = "1.4"


def worth_posting(doc: Document) -> bool:
    """A run is posted when it sent something, left rows for staff to fix, or pulled buyers'
    cancellation requests into the sheet; `bulk due`'s own document when it skipped a sheet
    with work due."""
    if "skipped" in doc:
        return bool(doc["skipped"])
    return sent_something(doc) or rows_to_fix_changed(doc) or bool(doc.get("pulled"))


def payload(doc: Document) -> dict[str, Any]:
    """The `json` format: the summary document plus `text`, one line for people."""
    body = dict(doc)
    if "skipped" in doc:
        body["text"] = skipped_text(doc)
        return body
    rows = list(doc["rows_to_fix"])
    if len(rows) > MAX_ROWS:
        body["rows_to_fix"] = rows[:MAX_ROWS]
        body["rows_to_fix_left_off"] = len(rows) - MAX_ROWS
    body["text"] = short_text(doc)
    return body


def skipped_text(doc: Document) -> str:
    """`bulk due`'s chat line when it could not open sheets with work due on them."""
    lines = [f"bulk due skipped {counted(len(doc['skipped']), 'sheet')} with work due:"]
    lines += [f"- {s['reason']}" for s in doc["skipped"]]
    return "\n".join(lines)


def _fix_lines(doc: Document) -> list[str]:
    rows = list(doc["rows_to_fix"])
    lines = [f"row {r['row']}: {r['status']}: {r['result']}" for r in rows[:MAX_ROWS]]
    if len(rows) > MAX_ROWS:
        lines.append(f"... and {len(rows) - MAX_ROWS} more rows to fix (all of them in the sheet)")
    return lines


def slack_escape(text: str) -> str:
    """Slack's control characters as the entities Slack asks for (&, <, > only: the rest of
    the text is left as it is, and `mrkdwn: false` keeps *, _, ~ and ` literal)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(doc: Document) -> dict[str, Any]:
    """Slack's incoming-webhook message: `text`, with Slack's markup switched off so that a
    row's `*` or `_` shows as typed (docs/webhooks.md)."""
    _title, first, rest = _parts(doc)
    return {"text": slack_escape("\n".join([first, *rest])), "mrkdwn": False}


def _parts(doc: Document) -> tuple[str, str, list[str]]:
    """A post's title, its line for people, and the lines under it (rows to fix, or the sheets
    `bulk due` skipped with work due)."""
    if "skipped" in doc:
        first, *rest = skipped_text(doc).split("\n")
        return "bulk due", first, rest
    return f"bulk {doc['command']} on {doc['sheet'] or 'a sheet'}", short_text(doc), _fix_lines(doc)


def _run(text: str, **style: Any) -> dict[str, Any]:
    # A TextRun is never read as Markdown (unlike a TextBlock): cell text shows as typed.
    return {"type": "TextRun", "text": text, **style}


def teams_payload(doc: Document) -> dict[str, Any]:
    """A Teams (Workflows) message carrying one Adaptive Card (docs/webhooks.md)."""
    title, first, fixes = _parts(doc)
    body: list[dict[str, Any]] = [
        {
            "type": "RichTextBlock",
            "inlines": [_run(title, weight="Bolder", size="Medium")],
        },
        {"type": "RichTextBlock", "inlines": [_run(first)]},
    ]
    if fixes:
        heading = "Skipped sheets" if "skipped" in doc else "Rows to fix"
        body.append({"type": "RichTextBlock", "inlines": [_run(heading, weight="Bolder")]})
        body.extend({"type": "RichTextBlock", "inlines": [_run(line)]} for line in fixes)
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": CARD_VERSION,
        "body": body,
    }
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": card,
            }
        ],
    }


FORMATS: dict[str, Callable[[Document], dict[str, Any]]] = {
    "json": payload,
    "slack": slack_payload,
    "teams": teams_payload,
}


def _attempt(url: str, content: bytes, timeout: float) -> httpx.Response:
    """One POST that ends within `timeout` seconds, however slowly the receiver answers: the
    clock bounds the whole attempt (connect, send, headers, body), not each read."""

    async def send() -> httpx.Response:
        async with httpx.AsyncClient(timeout=timeout) as client:
            return await client.post(url, content=content, headers=_JSON)

    async def bounded() -> httpx.Response:
        return await asyncio.wait_for(send(), timeout)

    return asyncio.run(bounded())


def post(
    url: str,
    doc: Document,
    *,
    format: str = "json",
    timeout: float = TIMEOUT_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
) -> str | None:
    """Post the document in the receiver's format; returns None when delivered, else one
    warning line.

    A timeout, a refused connection or a 5xx/429 answer is tried again (ATTEMPTS in all, one
    and two seconds apart); any other answer is final. Nothing here raises: a webhook that is
    down never fails or holds up the run for more than ATTEMPTS x TIMEOUT_SECONDS plus the
    pauses.
    """
    # Masked like every text bulk prints: Amazon's words in a row's Result pass through here.
    content = mask(json.dumps(FORMATS[format](doc))).encode("utf-8")
    problem = ""
    for attempt in range(ATTEMPTS):
        if attempt:
            sleep(float(attempt))
        try:
            res = _attempt(url, content, timeout)
        except (httpx.HTTPError, TimeoutError) as e:
            late = isinstance(e, (TimeoutError, httpx.TimeoutException))
            problem = f"no answer within {timeout:g}s" if late else type(e).__name__
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
