"""What a run says at the end: counts by status, the cancellation budget, calls, warnings."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC

from bulk.amazon.throttle import rate_limited_seconds
from bulk.ledger import Ledger
from bulk.models import Status
from bulk.run import RunReport


def _pct(rate: float) -> str:
    return f"{rate * 100:.2f}%"


def status_line(report: RunReport) -> str:
    counts = report.counts
    if not counts:
        return "no order rows found below the header"
    return ", ".join(f"{n} {status.value or 'NEW'}" for status, n in counts.items())


def summary_lines(report: RunReport, verbose: bool = False) -> list[str]:
    lines = [f"rows: {status_line(report)}"]
    s = report.summary
    if s is not None:
        lines.append(
            f"cancellation rate: {_pct(s.rate_now)} now, {_pct(s.projected_rate)} after this run "
            f"(target under {_pct(s.target_rate)}; Amazon's limit 2.5%)"
        )
        lines.append(
            f"budget: {s.budget_used} of {s.week_budget} counted cancellations used this week, "
            f"{s.budget_left} left; today's allowance {s.today_allowance}, "
            f"{s.planned_today} planned today"
            + (f"; next deferred day {s.next_scheduled.isoformat()}" if s.next_scheduled else "")
        )
    if report.lookup_path:
        lines.append(f"look-up: {report.lookup_path}")
    if report.feed_ids:
        lines.append(
            f"sent: {report.sent_orders} orders ({report.sent_items} items) in feed "
            + ", ".join(report.feed_ids)
        )
    sent = [
        o.values.get("Message Status", "")
        for o in report.outcomes
        if o.cancelled_now and o.values.get("Message Status")
    ]
    if sent:
        tally = {
            "sent": sum(1 for m in sent if m.startswith("sent")),
            "not allowed by Amazon": sum(1 for m in sent if m.startswith("not allowed")),
            "not requested": sum(1 for m in sent if m.startswith("not requested")),
            "not sent (see Message Status)": sum(
                1
                for m in sent
                if m.startswith(("failed", "not sent", "Amazon did not", "interrupted"))
            ),
        }
        lines.append(
            "customer messages: " + ", ".join(f"{n} {what}" for what, n in tally.items() if n)
        )
    if report.write is not None:
        w = report.write
        lines.append(f"wrote results to {w.written} rows")
        for order_id, old, new in w.moved:
            lines.append(f"  order {order_id} moved from row {old} to row {new}; written there")
        for order_id in w.missing:
            lines.append(
                f"  order {order_id} is no longer in the sheet; its result is in `bulk history`"
            )
    if verbose and report.calls:
        total = sum(report.calls.values())
        lines.append(
            f"API calls: {total} ("
            + ", ".join(f"{op} {n}" for op, n in sorted(report.calls.items()))
            + f"); at Amazon's published rates about {rate_limited_seconds(report.calls):.0f}s"
        )
    lines.extend(dict.fromkeys(report.warnings))
    return lines


def rows_needing_attention(report: RunReport, limit: int = 20) -> list[str]:
    attention = [o for o in report.outcomes if o.status in (Status.REJECTED, Status.FAILED)]
    lines = [f"  row {o.row}: {o.status.value}: {o.result}" for o in attention[:limit]]
    if len(attention) > limit:
        lines.append(f"  ... and {len(attention) - limit} more (see the Result column)")
    return lines


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


def history_json(rows: list[dict[str, object]]) -> str:
    return json.dumps(rows, indent=2)
