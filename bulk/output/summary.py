"""The one summary of a run: a JSON-ready document built from the run report.

`--json` prints it, the webhook posts it, and the human printout is rendered from it, so the
three never disagree. Every field is described in docs/json.md, and docs/schemas/ holds its
JSON Schema; a change of meaning bumps the schema id (bulk.output.documents).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from bulk import marketplaces
from bulk.columns import ResultColumn
from bulk.formats import counted, percent, plural
from bulk.marketplaces import rate_limited_seconds
from bulk.models import MessageOutcome, Status
from bulk.output.documents import DUE, SUMMARY
from bulk.output.documents import Document as Document
from bulk.pipeline.context import RowOutcome, RunReport
from bulk.rules import listings, policy
from bulk.rules.messages import NOTIFY_NO


def _status_name(status: Status) -> str:
    return status.value or "NEW"


def _row(o: RowOutcome) -> dict[str, Any]:
    return {
        "row": o.row,
        "order_id": o.order_id,
        "status": _status_name(o.status),
        "result": o.result,
    }


def rows_to_fix(outcomes: Sequence[RowOutcome]) -> list[dict[str, Any]]:
    """REJECTED and FAILED rows, in sheet order: what staff must look at. `changed` is false for
    a row this run left as it was (`bulk due` looks only at rows whose day came)."""
    return [{**_row(o), "changed": o.changed} for o in outcomes if not o.status.in_good_standing]


def rows_to_fix_changed(doc: Document) -> bool:
    """This run found (or found again) a row for staff to fix."""
    return any(r["changed"] for r in doc["rows_to_fix"])


def message_counts(outcomes: Sequence[RowOutcome]) -> dict[str, int]:
    """What became of the customer messages of the rows this run cancelled."""
    counts = {kind.value: 0 for kind in MessageOutcome}
    for o in outcomes:
        if o.cancelled_now and o.message is not None:
            counts[o.message] += 1
    return counts


def listings_at_risk(at_risk: Sequence[listings.ListingRisk]) -> list[dict[str, Any]]:
    """The listings this run cancels for the 2nd or later time in 30 days (bulk.rules.listings)."""
    found = []
    for risk in at_risk:
        market = marketplaces.by_id(risk.marketplace_id)
        found.append(
            {
                "sku": risk.sku,
                "asin": risk.asin or None,
                "marketplace": market.code if market else None,
                "marketplace_id": risk.marketplace_id,
                "seller_cancellations_30_days": risk.count,
                "earlier": risk.earlier,
                "rows": list(risk.rows),
                "warned_rows": list(risk.warned_rows),
            }
        )
    return found


def _lookup(report: RunReport) -> dict[str, Any] | None:
    """How this run looked its orders up, as data; `description` is the line people read."""
    found = report.lookup
    if found is None and not report.lookup_path:
        return None
    return {
        "method": (found.method or None) if found else None,
        "orders": dict(found.read or {}) if found else {},
        "rate_limited_seconds": round(found.seconds, 1) if found else 0.0,
        "order_by_order_seconds": (
            round(found.order_by_order_seconds, 1)
            if found and found.order_by_order_seconds is not None
            else None
        ),
        "description": report.lookup_path,
    }


def _budget(s: policy.Summary) -> dict[str, Any]:
    """One marketplace's cancellation budget: the week's, today's, and what this run uses."""
    return {
        "marketplace": s.marketplace or None,
        "day": s.day.isoformat(),
        "week": s.week_budget,
        "used": s.budget_used,  # this run's planned_today included
        "left": s.budget_left,
        "today_allowance": s.today_allowance,  # before this run
        "planned_today": s.planned_today,
        "left_today": max(0, min(s.today_allowance - s.planned_today, s.budget_left)),
        "next_scheduled": s.next_scheduled.isoformat() if s.next_scheduled else None,
        # Every rate window of the marketplace (7 days; India 7 and 30), before this run.
        "windows": [
            {"days": w.days, "orders": w.orders, "budget": w.budget, "used": w.used}
            for w in s.windows
        ],
    }


def build_summary(
    report: RunReport,
    *,
    command: str,
    sheet: str = "",
    target: str = "",
    now: datetime | None = None,
    pulled: int | None = None,
) -> Document:
    """Everything a run reports, as plain JSON types (see README, "Machine-readable output")."""
    s = report.summary
    rate = budget = fee = None
    if s is not None:
        rate = {
            "now": round(s.rate_now, 6),
            "after": round(s.projected_rate, 6),
            "target": s.target_rate,
            # The marketplace's own target (bulk.marketplaces): 2.5%, India 2%.
            "amazon_limit": s.amazon_target,
            "marketplace": s.marketplace or None,
        }
        budget = _budget(s)
        if s.fee:
            fee = {"charged_today": s.charged_today, "charged_later": s.charged_later}
    write = None
    if report.write is not None:
        w = report.write
        write = {
            "rows": w.written,
            "moved": [{"order_id": o, "from_row": a, "to_row": b} for o, a, b in w.moved],
            "missing": list(w.missing),
        }
    by_status = {_status_name(status): n for status, n in report.counts.items()}
    return {
        "schema": SUMMARY,
        "command": command,
        "sheet": sheet,
        "target": target,
        "at": (now or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds"),
        "exit_code": report.exit_code,
        "rows": {"total": len(report.outcomes), "by_status": by_status},
        "rate": rate,
        "budget": budget,
        # Each marketplace's budget when the run has rows in several (Amazon counts each alone).
        "budgets": [_budget(b) for b in report.budgets] if len(report.budgets) > 1 else [],
        "fee": fee,
        "lookup": _lookup(report),
        "api": api_document(report.calls, report.amazon_seconds),
        "sent": {
            "orders": report.sent_orders if report.feed_ids else 0,
            "items": report.sent_items if report.feed_ids else 0,
            "feeds": list(report.feed_ids),
        },
        "declined": report.declined,
        "messages": message_counts(report.outcomes),
        # Rows to be sent or scheduled whose customer message will not go out, and why.
        "messages_withheld": [
            {"row": row, "order_id": order_id, "why": why}
            for row, order_id, why in report.messages_withheld()
        ],
        "deferred": [
            {
                "row": o.row,
                "order_id": o.order_id,
                "scheduled_for": o.values[ResultColumn.SCHEDULED_FOR],
                "wait_days": _wait_days(o, s.day if s is not None else None),
            }
            for o in report.outcomes
            if o.status is Status.DEFERRED and o.values.get(ResultColumn.SCHEDULED_FOR)
        ],
        "rows_to_fix": rows_to_fix(report.outcomes),
        "listings_at_risk": listings_at_risk(report.listings),
        "written": write,
        "warnings": list(dict.fromkeys(report.warnings)),
        # `bulk due` with [due] pull: the buyers' cancellation requests it added as rows.
        "pulled": pulled,
    }


def _wait_days(o: RowOutcome, today: date | None) -> int | None:
    """How many more days the buyer of a DEFERRED row waits for its cancellation."""
    day = o.decision.scheduled_for if o.decision is not None else None
    if day is None or today is None:
        return None
    return max(0, (day - today).days)


def sent_something(doc: Document) -> bool:
    """A feed went out or a buyer was messaged in this run."""
    return bool(doc["sent"]["feeds"]) or doc["messages"]["sent"] > 0


# Human lines ----------------------------------------------------------------------------------


def status_line(doc: Document) -> str:
    counts = doc["rows"]["by_status"]
    if not counts:
        return "none yet (add orders below the header, then run this again)"
    return ", ".join(f"{n} {status}" for status, n in counts.items())


def api_document(calls: Mapping[str, int], answer_seconds: float | None = None) -> Document:
    """A run's API calls as its --json document carries them: by operation, in all, and the
    time they need at Amazon's published rates (and, when measured, the time spent waiting)."""
    api: Document = {
        "calls": dict(sorted(calls.items())),
        "total": sum(calls.values()),
        "rate_limited_seconds": round(rate_limited_seconds(dict(calls)), 1),
    }
    if answer_seconds is not None:
        api["answer_seconds"] = round(answer_seconds, 1)
    return api


def api_line(api: Document) -> str:
    """The -v line for an `api_document`."""
    line = (
        f"API calls: {api['total']} ("
        + ", ".join(f"{op} {n}" for op, n in api["calls"].items())
        + f"); at Amazon's published rates about {api['rate_limited_seconds']:.0f}s"
    )
    if "answer_seconds" in api:
        line += f"; waited {api['answer_seconds']:.1f}s for Amazon's answers"
    return line


def budget_lines(budget: dict[str, Any], named: bool = False) -> list[str]:
    """What the cancellation budget allows, plainly: used, and left today and this week."""
    where = f" {budget['marketplace']}" if named and budget["marketplace"] else ""
    lines = []
    for w in budget["windows"]:
        if w["days"] != 7:
            lines.append(
                f"{w['days']}-day budget{where}: {w['used']} of "
                f"{counted(w['budget'], 'counted cancellation')} used before this run (about "
                f"{counted(w['orders'], 'order')} at this week's volume), "
                f"{max(0, w['budget'] - w['used'])} left"
            )
    this_run = budget["planned_today"]
    mine = f", {this_run} of them by this run" if this_run else ""
    lines.append(
        f"budget{where}: {budget['used']} of this week's "
        f"{counted(budget['week'], 'counted cancellation')} used{mine}; "
        f"left: {budget['left_today']} today, {budget['left']} this week"
        + (f"; next deferred day {budget['next_scheduled']}" if budget["next_scheduled"] else "")
    )
    return lines


def summary_lines(doc: Document, verbose: bool = False) -> list[str]:
    """The summary a person reads at the end of a run, from the same document --json prints."""
    lines = [f"rows: {status_line(doc)}"]
    if doc.get("pulled"):
        lines.append(f"buyer cancellation requests pulled into the sheet: {doc['pulled']}")
    rate, budget = doc["rate"], doc["budget"]
    if rate is not None and budget is not None:
        # With several marketplaces the rate shown is the main one's: it says whose.
        whose = f" ({rate['marketplace']})" if doc["budgets"] and rate["marketplace"] else ""
        lines.append(
            f"cancellation rate{whose}: {percent(rate['now'])} now, {percent(rate['after'])} after this run "
            f"(target under {percent(rate['target'])}; Amazon's limit {percent(rate['amazon_limit'])})"
        )
        for each in doc["budgets"] or [budget]:
            lines.extend(budget_lines(each, named=bool(doc["budgets"])))
    waits = [d["wait_days"] for d in doc["deferred"] if d["wait_days"] is not None]
    if waits:
        shortest, longest = min(waits), max(waits)
        span = f"{shortest} to {longest}" if shortest != longest else f"{longest}"
        lines.append(
            f"deferred: buyers of {counted(len(waits), 'row')} wait "
            f"{span} more {plural(longest, 'day')} for their cancellation "
            "(never past an order's ship-by date)"
        )
    lines.extend(_listing_lines(doc["listings_at_risk"]))
    fee = doc["fee"]
    if fee is not None:
        later = fee["charged_later"]
        lines.append(
            f"cancellation fee: Amazon {rate['marketplace']} charges each seller cancellation "
            "(100% of the referral fee, 150% after the estimated ship date); "
            f"{fee['charged_today']} of this run's cancellations will be charged"
            + (
                f", {later} more when the deferred {plural(later, 'row')} "
                f"{plural(later, 'is')} sent"
                if later
                else ""
            )
        )
    if doc["lookup"]:
        lines.append(f"look-up: {doc['lookup']['description']}")
    sent = doc["sent"]
    if sent["feeds"]:
        lines.append(
            f"sent: {counted(sent['orders'], 'order')} ({counted(sent['items'], 'item')}) in "
            f"{'feed' if len(sent['feeds']) == 1 else 'feeds'} " + ", ".join(sent["feeds"])
        )
    words = {
        "sent": "sent",
        "not_allowed": "not allowed by Amazon",
        "not_requested": "not requested",
        "not_sent": "not sent (see Message Status)",
    }
    messages = doc["messages"]
    if any(messages.values()):
        lines.append(
            "customer messages: "
            + ", ".join(f"{messages[k]} {w}" for k, w in words.items() if messages[k])
        )
    lines.extend(_withheld_lines(doc["messages_withheld"]))
    write = doc["written"]
    if write is not None:
        lines.append(f"wrote results to {counted(write['rows'], 'row')}")
        for m in write["moved"]:
            lines.append(
                f"  order {m['order_id']} moved from row {m['from_row']} to row {m['to_row']}; "
                "written there"
            )
        for order_id in write["missing"]:
            lines.append(
                f"  order {order_id} is no longer in the sheet; its result is in `bulk history`"
            )
    if verbose and doc["api"]["total"]:
        lines.append(api_line(doc["api"]))
    lines.extend(doc["warnings"])
    return lines


def _some(values: list[Any], limit: int) -> str:
    """At most `limit` values, then how many more: a large run's lists stay one screen."""
    shown = ", ".join(map(str, values[:limit]))
    return shown + (f" and {len(values) - limit} more" if len(values) > limit else "")


def _withheld_lines(withheld: list[dict[str, Any]], limit: int = 10) -> list[str]:
    """The rows whose customer message will not be sent, and why; rows left unmessaged by
    Notify No are only counted (staff chose that)."""
    if not withheld:
        return []
    chosen = [w for w in withheld if w["why"] == NOTIFY_NO]
    named = [w for w in withheld if w["why"] != NOTIFY_NO]
    lines = []
    if named:
        lines.append(f"customer messages that will not be sent ({len(named)}):")
        lines += [f"  row {w['row']} ({w['order_id']}): {w['why']}" for w in named[:limit]]
        if len(named) > limit:
            lines.append(f"  ... and {len(named) - limit} more (see the Message Status column)")
    if chosen:
        rows = [w["row"] for w in chosen]
        lines.append(
            f"no customer message for {len(rows)} {'row' if len(rows) == 1 else 'rows'} "
            f"with Notify No ({'row' if len(rows) == 1 else 'rows'} {_some(rows, 10)})"
        )
    return lines


def _listing_lines(at_risk: list[dict[str, Any]], limit: int = 20) -> list[str]:
    """The "listings at risk" section: each listing, its count, the rows, and what to do.

    A large run can put hundreds of listings at risk: the terminal shows the `limit` with the
    most cancellations (the JSON document has them all) and a few rows of each."""
    if not at_risk:
        return []
    lines = [
        "listings at risk: Amazon may remove an offer after two seller cancellations of "
        f"orders placed in the last {listings.SKU_WINDOW_DAYS} days"
    ]
    for risk in at_risk[:limit]:
        where = [f"ASIN {risk['asin']}"] if risk["asin"] else []
        where += [risk["marketplace"]] if risk["marketplace"] else []
        name = risk["sku"] + (f" ({', '.join(where)})" if where else "")
        earlier = f"{risk['earlier']} sent earlier, " if risk["earlier"] else ""
        rows = risk["rows"]
        lines.append(
            f"  {name}: {counted(risk['seller_cancellations_30_days'], 'seller cancellation')} "
            "of orders "
            f"placed in the last {listings.SKU_WINDOW_DAYS} days ({earlier}"
            f"{'row' if len(rows) == 1 else 'rows'} {_some(rows, 10)} in this run)"
        )
    if len(at_risk) > limit:
        more = counted(len(at_risk) - limit, "more listing")
        lines.append(f"  ... and {more} (all of them in --json)")
    lines.append(f"  what to do: {listings.ADVICE}")
    return lines


def attention_lines(doc: Document, limit: int = 20) -> list[str]:
    """The rows to fix, one line each, at most `limit` of them."""
    rows = doc["rows_to_fix"]
    lines = [f"  row {r['row']}: {r['status']}: {r['result']}" for r in rows[:limit]]
    if len(rows) > limit:
        lines.append(f"  ... and {len(rows) - limit} more (see the Result column)")
    return lines


def short_text(doc: Document) -> str:
    """One or two lines for a chat message (Slack and Teams show a webhook's `text` as is)."""
    where = doc["sheet"] or "a sheet"
    parts = [f"bulk {doc['command']} on {where} ({doc['target'] or 'unknown target'})"]
    if doc.get("pulled"):
        parts.append(f"{doc['pulled']} buyer cancellation requests arrived")
    sent = doc["sent"]
    if sent["feeds"]:
        parts.append(f"sent {counted(sent['orders'], 'cancellation')}")
    if doc["messages"]["sent"]:
        parts.append(f"messaged {counted(doc['messages']['sent'], 'buyer')}")
    parts.append(status_line(doc))
    fix = len(doc["rows_to_fix"])
    if fix:
        parts.append(f"{counted(fix, 'row')} to fix")
    rate = doc["rate"]
    if rate is not None:
        parts.append(f"cancellation rate {percent(rate['after'])} after this run")
    return "; ".join(parts)


def due_document(
    runs: Sequence[tuple[str, str, str, str, Document | None]],
    exit_code: int,
    *,
    now: datetime,
    note: str | None = None,
    skipped: Sequence[tuple[str, str, str]] = (),
    nothing_due: bool | None = None,
) -> Document:
    """`bulk due --json`: one entry per known sheet, with that sheet's run summary when it ran,
    and the sheets skipped with work due on them (sheet, worksheet, why)."""
    if nothing_due is None:
        nothing_due = not skipped and all(a in ("nothing due", "skipped") for _, _, a, _, _ in runs)
    return {
        "schema": DUE,
        "command": "due",
        "at": now.astimezone(UTC).isoformat(timespec="seconds"),
        "exit_code": exit_code,
        "nothing_due": nothing_due,
        "note": note,
        "skipped": [
            {"sheet": target, "worksheet": worksheet or None, "reason": reason}
            for target, worksheet, reason in skipped
        ],
        "sheets": [
            {
                "sheet": target,
                "worksheet": worksheet or None,
                "action": action,
                "line": line,
                "summary": summary,
            }
            for target, worksheet, action, line, summary in runs
        ],
    }
