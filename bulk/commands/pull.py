"""`bulk pull SHEET`: what it prints and the `--json` document it emits (bulk.pull/1); the work
is bulk.pipeline.pull."""

from __future__ import annotations

from datetime import UTC, datetime

from bulk.output.documents import PULL, Document
from bulk.output.summary import api_document, api_line
from bulk.pipeline.pull import PullReport


def pull_document(report: PullReport, *, sheet: str, target: str, now: datetime) -> Document:
    """Everything a pull reports, as plain JSON types (docs/json.md, its bulk.pull/1 section)."""
    return {
        "schema": PULL,
        "command": "pull",
        "sheet": sheet,
        "target": target,
        "at": now.astimezone(UTC).isoformat(timespec="seconds"),
        "exit_code": 0,
        "days": report.days,
        "requests": report.requests,
        "added": [{"order_id": order_id, "row": row} for order_id, row in report.added],
        "already_in_sheet": report.already,
        "api": api_document(report.calls),
        "warnings": list(report.write.warnings) if report.write is not None else [],
    }


def pull_lines(doc: Document, verbose: bool = False) -> list[str]:
    """The lines a person reads after a pull, from the same document --json prints."""
    n, added = doc["requests"], doc["added"]
    head = (
        f"buyer cancellation requests on unshipped orders of the last {doc['days']} days: "
        f"{n} pending"
    )
    if not n:
        return [head, *doc["warnings"]]
    rows = ", ".join(str(a["row"]) for a in added[:10]) + (" ..." if len(added) > 10 else "")
    parts = [f"{len(added)} {'row' if len(added) == 1 else 'rows'} added"]
    if added:
        parts[0] += f" (row {rows})" if len(added) == 1 else f" (rows {rows})"
    if doc["already_in_sheet"]:
        parts.append(f"{doc['already_in_sheet']} already in the sheet")
    lines = [f"{head}; {', '.join(parts)}"]
    if added:
        lines.append(
            "next: `bulk submit` sends them; a cancellation the buyer asked for does not count "
            "toward the cancellation rate, so no budget holds them back"
        )
    if verbose and doc["api"]["total"]:
        lines.append(api_line(doc["api"]))
    return [*lines, *doc["warnings"]]
