"""What a run says at the end (rendered from bulk.output.summary), and the ledger's history."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC

from bulk.infra.ledger import Ledger
from bulk.output import summary
from bulk.pipeline.run import RunReport


def summary_lines(report: RunReport, verbose: bool = False) -> list[str]:
    """The end-of-run lines, rendered from the same document `--json` prints."""
    return summary.summary_lines(summary.build_summary(report, command=""), verbose)


def history_rows(ledger: Ledger) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for sub, counts in ledger.history():
        rows.append(
            {
                "id": sub.id,
                "created_at": sub.created_at.astimezone(UTC).isoformat(timespec="seconds"),
                "sheet": sub.sheet,
                "target": sub.target,
                "feed_id": sub.feed_id,
                "state": sub.state,
                "processing_status": sub.processing_status,
                "orders": sum(counts.values()),
                "outcomes": counts,
            }
        )
    return rows


def history_text(rows: Iterable[dict[str, object]]) -> list[str]:
    lines = []
    for r in rows:
        outcomes = r["outcomes"]
        assert isinstance(outcomes, dict)
        counted = ", ".join(f"{n} {k}" for k, n in sorted(outcomes.items()))
        lines.append(
            f"#{r['id']}  {r['created_at']}  {r['target']}  feed {r['feed_id'] or '-'}  "
            f"{r['state']}  {r['orders']} orders ({counted})  {r['sheet']}"
        )
    return lines or ["no submissions yet"]
