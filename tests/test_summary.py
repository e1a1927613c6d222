"""The run summary document: what --json prints, the webhook posts and the printout shows."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from bulk import marketplaces, models
from bulk.config import PolicyConfig
from bulk.models import MessageOutcome, Status
from bulk.output.documents import SUMMARY as SCHEMA
from bulk.output.summary import build_summary, sent_something, short_text, summary_lines
from bulk.pipeline.context import RowOutcome, RunReport
from bulk.rules import policy
from bulk.sheets.base import WriteReport

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def _report(feed: bool = True) -> RunReport:
    figures = models.AccountFigures(
        order_count=400, cancellation_count=3, report_end=date(2026, 3, 1)
    )
    outcomes = [
        RowOutcome(
            2,
            "112-0000001-0000001",
            Status.CANCELLED,
            "Amazon cancelled the order",
            {"Message Status": "sent 2026-03-02 15:00 UTC"},
            cancelled_now=True,
            message=MessageOutcome.SENT,
        ),
        RowOutcome(
            3,
            "112-0000001-0000002",
            Status.CANCELLED,
            "Amazon cancelled the order",
            {"Message Status": "not allowed by Amazon for this order"},
            cancelled_now=True,
            message=MessageOutcome.NOT_ALLOWED,
        ),
        RowOutcome(
            4,
            "112-0000001-0000003",
            Status.DEFERRED,
            "over today's budget",
            {"Scheduled For": "2026-03-04"},
            decision=models.Decision(
                Status.DEFERRED, "over today's budget", scheduled_for=date(2026, 3, 4)
            ),
        ),
        RowOutcome(5, "112-0000001-0000005", Status.REJECTED, "the order has shipped"),
        RowOutcome(6, "112-0000001-0000006", Status.FAILED, "Amazon error 25: bad"),
    ]
    summary = policy.summarize(
        [], figures, [], NOW, PolicyConfig(target_rate=0.02), marketplaces.BY_CODE["US"]
    )
    return RunReport(
        outcomes,
        summary=summary,
        write=WriteReport(written=5, moved=(("112-0000001-0000002", 3, 9),)),
        feed_ids=["50001"] if feed else [],
        calls={"getOrders": 1, "createFeed": 1},
        amazon_seconds=12.34,
        warnings=["a warning", "a warning"],
        sent_orders=2,
        sent_items=3,
        lookup_path="getOrders for 5 orders",
    )


def test_the_document_holds_every_figure_as_plain_json() -> None:
    doc = build_summary(_report(), command="submit", sheet="orders.xlsx", target="sandbox", now=NOW)
    assert json.loads(json.dumps(doc)) == doc
    assert doc["schema"] == SCHEMA
    assert doc["at"] == "2026-03-02T15:00:00+00:00"
    assert doc["exit_code"] == 1
    assert doc["rows"] == {
        "total": 5,
        "by_status": {"REJECTED": 1, "DEFERRED": 1, "CANCELLED": 2, "FAILED": 1},
    }
    assert doc["rate"] == {
        "now": 0.0075,
        "after": 0.0075,
        "target": 0.02,
        "amazon_limit": 0.025,
        "marketplace": "US",
    }
    assert doc["budget"]["week"] == 8 and doc["budget"]["left"] == 5
    assert doc["budget"]["windows"] == [{"days": 7, "orders": 400, "budget": 8, "used": 3}]
    assert doc["fee"] is None  # no fee in the US marketplace
    assert doc["api"] == {
        "calls": {"createFeed": 1, "getOrders": 1},
        "total": 2,
        "rate_limited_seconds": 0.0,
        "answer_seconds": 12.3,
    }
    assert doc["sent"] == {"orders": 2, "items": 3, "feeds": ["50001"]}
    assert doc["messages"] == {"sent": 1, "not_allowed": 1, "not_requested": 0, "not_sent": 0}
    assert doc["deferred"] == [
        {
            "row": 4,
            "order_id": "112-0000001-0000003",
            "scheduled_for": "2026-03-04",
            "wait_days": 2,
        }
    ]
    assert [r["row"] for r in doc["rows_to_fix"]] == [5, 6]
    assert doc["written"]["moved"] == [
        {"order_id": "112-0000001-0000002", "from_row": 3, "to_row": 9}
    ]
    assert doc["warnings"] == ["a warning"]
    assert sent_something(doc)


def test_nothing_counts_as_sent_without_a_feed_or_a_message() -> None:
    report = _report(feed=False)
    for o in report.outcomes:
        o.cancelled_now = False
    doc = build_summary(report, command="check")
    assert doc["sent"] == {"orders": 0, "items": 0, "feeds": []}
    assert not sent_something(doc)


def test_the_printout_and_the_chat_text_come_from_the_document() -> None:
    doc = build_summary(_report(), command="submit", sheet="orders.xlsx", target="sandbox", now=NOW)
    lines = summary_lines(doc, verbose=True)
    assert lines[0] == "rows: 1 REJECTED, 1 DEFERRED, 2 CANCELLED, 1 FAILED"
    assert "cancellation rate: 0.75% now, 0.75% after this run" in lines[1]
    assert "sent: 2 orders (3 items) in feed 50001" in lines
    assert "customer messages: 1 sent, 1 not allowed by Amazon" in lines
    assert (
        "deferred: buyers of 1 row wait 2 more days for their cancellation (never past an "
        "order's ship-by date)" in lines
    )
    assert any(line.startswith("API calls: 2 (createFeed 1, getOrders 1)") for line in lines)
    assert lines.count("a warning") == 1
    text = short_text(doc)
    assert text.startswith("bulk submit on orders.xlsx (sandbox); sent 2 cancellations")
    assert "2 rows to fix" in text
