"""Counts agree in number in everything check, submit, status and due print (one helper,
bulk.formats.counted), over the sample and over a one-row sheet; the budget says plainly what
is used and what is left; a missing-columns message lists them as a sentence does."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from freezegun import freeze_time
from test_cli import sheet_rows
from test_due import DAY1, DAY2, workdir  # noqa: F401 (a fixture)
from typer.testing import CliRunner

from bulk import marketplaces, models
from bulk.cli import app
from bulk.config import PolicyConfig
from bulk.formats import counted, listed, plural
from bulk.output.summary import build_summary, summary_lines
from bulk.pipeline.context import RunReport
from bulk.rules import policy

NOUNS = (
    "orders|rows|buyers|items|cancellations|pages|results|feeds|messages|listings|calls|days"
    "|entries|columns|sheets|minutes|hours"
)
# "1 orders", "1 deferred rows", "1 counted cancellations": a count of one with a plural noun.
ONE_MANY = re.compile(rf"(?<![\d.,])\b1 (?:[a-z-]+ )?(?:{NOUNS})\b")


def bulk(when: str, *args: str, input: str | None = None) -> Any:
    with freeze_time(when):
        return CliRunner().invoke(app, list(args), input=input, catch_exceptions=False)


def test_counts_agree_in_number() -> None:
    assert [counted(n, "order") for n in (0, 1, 2)] == ["0 orders", "1 order", "2 orders"]
    assert counted(1, "deferred row") == "1 deferred row"
    assert counted(3, "deferred row") == "3 deferred rows"
    assert counted(2, "entry") == "2 entries" and counted(2, "box") == "2 boxes"
    assert plural(1, "is") == "is" and plural(2, "is") == "are"
    assert plural(2, "it", "them") == "them"
    assert listed(["'Reason'"]) == "'Reason'"
    assert listed(["'Reason'", "'Details'"]) == "'Reason' and 'Details'"
    assert listed(["a", "b", "c"]) == "a, b and c"
    assert ONE_MANY.search("getOrder for 1 orders") and ONE_MANY.search("1 deferred rows due")
    assert not ONE_MANY.search("1 of 8 counted cancellations") and not ONE_MANY.search("11 rows")


def _said(*results: object) -> str:
    text = "\n".join(getattr(r, "output", "") for r in results)
    assert text.strip()
    return text


def _one_order_sheet(folder: Path) -> Path:
    sheet = folder / "one.csv"
    sheet.write_text(
        "Order ID,Reason,Details,Notify\n"
        "112-0000001-0000001,Out of stock,Supplier shipment of red mugs lost in transit,Yes\n",
        encoding="utf-8",
    )
    return sheet


def test_nothing_check_submit_status_or_due_print_says_1_with_a_plural(
    workdir: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BULK_ASSUME_TTY", "1")  # the confirmation is shown and answered
    sample = "samples/orders.xlsx"
    one = str(_one_order_sheet(workdir))
    said = _said(
        bulk(DAY1, "check", sample, "-v"),
        bulk(DAY1, "check", one, "-v"),
        bulk(DAY1, "submit", one, "-v", input="y\n"),
        bulk(DAY1, "submit", sample, "-v", input="y\n"),
        bulk(DAY1, "status", sample, "-v"),
        bulk(DAY1, "status", one, "-v"),
        bulk(DAY2, "due", "-v"),
        bulk(DAY2, "due", "--yes", "-v"),
    )
    assert ONE_MANY.findall(said) == [], [
        line for line in said.splitlines() if ONE_MANY.search(line)
    ]
    assert "(s)" not in said
    # The one-row sheet's own lines, in the singular.
    assert "looking up 1 order on Amazon" in said
    assert "sent: 1 order (1 item) in feed" in said
    assert "Cancel 1 order (1 item) in the sandbox and send up to 1 customer message?" in said
    assert "wrote results to 1 row" in said
    assert "1 deferred row due: run `bulk due --yes` to send it" in said
    assert "1 deferred row due: sent 1 order in feed" in said


def test_a_missing_columns_message_lists_them_as_a_sentence(workdir: Path) -> None:  # noqa: F811
    sheet = workdir / "bare.csv"
    sheet.write_text("Order ID,Colour\n112-0000001-0000001,red\n", encoding="utf-8")
    result = bulk(DAY1, "check", str(sheet))
    assert result.exit_code == 2
    assert "columns 'Reason' and 'Details' are missing in sheet" in result.output
    assert "add them or run `bulk new FILE.xlsx`" in result.output
    sheet.write_text("Order ID,Reason\n112-0000001-0000001,x\n", encoding="utf-8")
    result = bulk(DAY1, "check", str(sheet))
    assert "column 'Details' is missing in sheet" in result.output


def _summary(code: str, planned: int, cancelled: int) -> policy.Summary:
    figures = models.AccountFigures(
        order_count=400, cancellation_count=cancelled, report_end=date(2026, 3, 1)
    )
    decisions = [models.Decision(models.Status.READY, "ready")] * planned
    now = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    return policy.summarize(decisions, figures, [], now, PolicyConfig(), marketplaces.BY_CODE[code])


def test_the_budget_says_what_is_used_and_left_today_and_this_week() -> None:
    germany = _summary("DE", planned=4, cancelled=3)
    lines = summary_lines(
        build_summary(RunReport([], summary=germany, budgets=(germany,)), command="check")
    )
    budget = next(line for line in lines if line.startswith("budget"))
    # The week allows 9 (under 2.5% of 400); 3 used before, 4 by this run; today's share was 5.
    assert budget == (
        "budget: 7 of this week's 9 counted cancellations used, 4 of them by this run; "
        "left: 1 today, 2 this week"
    )
    # With rows in several marketplaces, each one's budget (Amazon counts each alone).
    france = _summary("FR", planned=1, cancelled=0)
    lines = summary_lines(
        build_summary(RunReport([], summary=germany, budgets=(germany, france)), command="check")
    )
    assert any(line.startswith("cancellation rate (DE): ") for line in lines)
    budgets = [line for line in lines if line.startswith("budget")]
    assert budgets == [
        "budget DE: 7 of this week's 9 counted cancellations used, 4 of them by this run; "
        "left: 1 today, 2 this week",
        "budget FR: 1 of this week's 9 counted cancellations used, 1 of them by this run; "
        "left: 4 today, 8 this week",
    ]


def test_the_support_case_is_written_for_amazons_staff(workdir: Path) -> None:  # noqa: F811
    result = bulk(DAY1, "check", "samples/orders.xlsx")
    assert result.exit_code == 1, result.output
    rows = sheet_rows(workdir / "samples" / "orders.xlsx")
    cases = [r["Support Case"] for r in rows.values() if r["Status"] == "ESCALATE"]
    assert len(cases) == 2
    for case in cases:
        assert case.startswith("Subject: Please cancel")
        assert "Why we cannot cancel it ourselves: " in case
        for words in ("Support Case", "column", "sheet", "nothing was sent", "bulk"):
            assert words not in case, (words, case)
    # The team's own Result still says where the case is.
    escalated = [r["Result"] for r in rows.values() if r["Status"] == "ESCALATE"]
    assert all("the Support Case column holds a case" in text for text in escalated)
