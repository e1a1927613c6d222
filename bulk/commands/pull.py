"""`bulk pull SHEET`: what it prints and the `--json` document it emits (bulk.pull/1); the work
is bulk.pipeline.pull."""

from __future__ import annotations

from datetime import UTC, datetime

from bulk.marketplaces import rate_limited_seconds
from bulk.output.documents import PULL, Document
from bulk.pipeline.pull import PullReport


def pull_document(report: PullReport, *, sheet: str, target: str, now: datetime) -> Document:
    """Everything a pull reports, as plain JSON types (docs/json.md, its bulk.pull/1 section)."""
    calls = dict(sorted(report.calls.items()))
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
        "api": {
            "calls": calls,
            "total": sum(calls.values()),
            "rate_limited_seconds": round(rate_limited_seconds(calls), 1),
        },
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
    api = doc["api"]
    if verbose and api["total"]:
        lines.append(
            f"API calls: {api['total']} ("
            + ", ".join(f"{op} {k}" for op, k in api["calls"].items())
            + f"); at Amazon's published rates about {api['rate_limited_seconds']:.0f}s"
        )
    return [*lines, *doc["warnings"]]
