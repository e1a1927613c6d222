"""Listing risk: the pure count (bulk.rules.listings), its ledger query, and the CLI end to end."""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from freezegun import freeze_time
from typer.testing import CliRunner

from bulk.cli import app
from bulk.infra.ledger import Ledger, OrderLine, PlannedRow
from bulk.models import OrderItem, Reason
from bulk.rules.listings import (
    ListingRisk,
    PastCancellation,
    PlannedCancellation,
    assess,
    ordinal,
    seller_lines,
    warning,
)

ROOT = Path(__file__).resolve().parents[1]
US = "ATVPDKIKX0DER"
DE = "A1PA6795UKMFR9"
NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
TODAY = NOW.date()
OUT_OF_STOCK = Reason("Out of stock", "NoInventory")
BUYER = Reason("Buyer requested", "BuyerCanceled")


# --- the pure count ------------------------------------------------------------------------------


def item(sku: str, n: int = 1, requested: bool = False, asin: str = "") -> OrderItem:
    return OrderItem(f"{n:014d}", sku, sku.title(), 1, buyer_requested_cancel=requested, asin=asin)


def planned(
    row: int,
    *lines: OrderItem,
    reason: Reason = OUT_OF_STOCK,
    market: str = US,
    days_ago: float = 0.1,
    day: date = TODAY,
    order_id: str = "",
) -> PlannedCancellation:
    return PlannedCancellation(
        row=row,
        order_id=order_id or f"112-0000000-{row:07d}",
        marketplace_id=market,
        reason=reason,
        lines=lines,
        purchased=NOW - timedelta(days=days_ago),
        day=day,
    )


def past(order: str, sku: str, days_ago: float, market: str = US) -> PastCancellation:
    return PastCancellation(order, market, sku, "", NOW - timedelta(days=days_ago))


@pytest.mark.parametrize(
    ("n", "text"),
    [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (11, "11th"), (12, "12th"), (13, "13th"),
     (21, "21st"), (22, "22nd"), (101, "101st"), (111, "111th")],
)  # fmt: skip
def test_ordinal(n: int, text: str) -> None:
    assert ordinal(n) == text


@pytest.mark.parametrize(
    ("reason", "lines", "kept"),
    [
        pytest.param(OUT_OF_STOCK, [item("A", 1, True)], ["A"], id="buyer-asked-other-reason"),
        pytest.param(BUYER, [item("A", 1, True)], [], id="buyer-asked-buyer-canceled"),
        pytest.param(BUYER, [item("A", 1)], ["A"], id="no-buyer-request"),
        pytest.param(BUYER, [item("A", 1, True), item("B", 2)], ["B"], id="mixed-lines"),
    ],
)
def test_seller_lines(reason: Reason, lines: list[OrderItem], kept: list[str]) -> None:
    assert [i.sku for i in seller_lines(reason, lines)] == kept


@pytest.mark.parametrize(
    ("history", "plan", "warned"),
    [
        pytest.param(
            [],
            [planned(2, item("MUG")), planned(3, item("MUG")), planned(4, item("MUG"))],
            {3: [warning("MUG", 2)], 4: [warning("MUG", 3)]},
            id="three-rows-one-sku",
        ),
        pytest.param(
            [], [planned(2, item("MUG")), planned(3, item("CUP"))], {}, id="two-skus-once-each"
        ),
        pytest.param(
            [past("111-0000000-0000001", "MUG", 7)],
            [planned(2, item("MUG"))],
            {2: [warning("MUG", 2)]},
            id="ledger-a-week-ago",
        ),
        pytest.param(
            [past("111-0000000-0000001", "MUG", 31)],
            [planned(2, item("MUG"))],
            {},
            id="ledger-31-days-ago",
        ),
        pytest.param(
            [past("111-0000000-0000001", "MUG", 29.9)],
            [planned(2, item("MUG"))],
            {2: [warning("MUG", 2)]},
            id="ledger-29-days-ago",
        ),
        pytest.param(
            [],
            [planned(2, item("MUG")), planned(3, item("MUG"), days_ago=31)],
            {},
            id="this-run-order-placed-31-days-ago",
        ),
        pytest.param(
            [],
            [planned(2, item("MUG", 1, True), reason=BUYER), planned(3, item("MUG"))],
            {},
            id="buyer-requested-left-out",
        ),
        pytest.param(
            [],
            [planned(2, item("MUG"), reason=BUYER), planned(3, item("MUG"))],
            {3: [warning("MUG", 2)]},
            id="buyer-requested-reason-without-request-counts",
        ),
        pytest.param(
            [],
            [planned(2, item("MUG", 1), item("MUG", 2)), planned(3, item("MUG"))],
            {3: [warning("MUG", 2)]},
            id="two-lines-of-one-order-count-once",
        ),
        pytest.param(
            [],
            [planned(2, item("MUG")), planned(3, item("MUG"), market=DE)],
            {},
            id="same-sku-other-marketplace",
        ),
        pytest.param(
            [],
            [planned(2, item("mug")), planned(3, item("MUG"))],
            {3: [warning("MUG", 2)]},
            id="sku-case-insensitive",
        ),
        pytest.param(
            [],
            [
                planned(2, item("MUG"), day=TODAY + timedelta(days=1)),
                planned(3, item("MUG")),
            ],
            {2: [warning("MUG", 2)]},
            id="sending-order-not-sheet-order",
        ),
        pytest.param(
            [],
            [planned(2, item("MUG"), item("CUP", 2)), planned(3, item("MUG"), item("CUP", 2))],
            {3: [warning("MUG", 2), warning("CUP", 2)]},
            id="one-row-two-listings",
        ),
    ],
)
def test_assess_warns_second_and_later(
    history: list[PastCancellation],
    plan: list[PlannedCancellation],
    warned: dict[int, list[str]],
) -> None:
    found = assess(history, plan, NOW)
    assert {row: list(w) for row, w in found.warnings.items()} == warned


def test_assess_lists_listings_at_risk_with_counts_rows_and_asin() -> None:
    history = [past("111-0000000-0000001", "MUG", 3), past("111-0000000-0000002", "MUG", 40)]
    plan = [
        planned(5, item("MUG", asin="B0MUG00001")),
        planned(6, item("CUP")),
        planned(7, item("MUG")),
        planned(8, item("CUP")),
        planned(9, item("CUP")),
        planned(10, item("PLATE")),
    ]
    found = assess(history, plan, NOW)
    assert found.at_risk == (
        ListingRisk(US, "CUP", "", 3, 0, (6, 8, 9), (8, 9)),
        ListingRisk(US, "MUG", "B0MUG00001", 3, 1, (5, 7), (5, 7)),
    )


def test_warning_names_sku_count_and_risk() -> None:
    assert warning("MUG-RED", 2) == (
        "2nd seller cancellation of MUG-RED in 30 days: the offer may be removed"
    )


# --- the ledger query ----------------------------------------------------------------------------


def line(order: str, n: int, sku: str, days_ago: float, requested: bool = False) -> OrderLine:
    return OrderLine(order, f"{n:014d}", US, sku, "", NOW - timedelta(days=days_ago), requested)


@pytest.mark.parametrize(
    ("reason", "requested", "outcome", "found"),
    [
        pytest.param("NoInventory", False, "cancelled", True, id="cancelled"),
        pytest.param("NoInventory", False, "pending", True, id="pending"),
        pytest.param("NoInventory", False, "failed", False, id="refused"),
        pytest.param("NoInventory", False, "abandoned", False, id="abandoned"),
        pytest.param("BuyerCanceled", True, "cancelled", False, id="buyer-requested"),
        pytest.param("BuyerCanceled", False, "cancelled", True, id="buyer-canceled-unasked"),
        pytest.param("NoInventory", True, "cancelled", True, id="asked-but-other-reason"),
    ],
)
def test_seller_cancelled_lines(
    tmp_path: Path, reason: str, requested: bool, outcome: str, found: bool
) -> None:
    with Ledger(tmp_path / "ledger.sqlite") as ledger:
        ledger.record_order_lines(
            [line("112-1", 1, "MUG-RED", 2, requested), line("112-1", 2, "CUP", 2)]
        )
        sid = ledger.plan_submission(
            "s",
            "sandbox",
            "<x/>",
            "h",
            [PlannedRow(1, 2, "112-1", (f"{1:014d}",), reason, True)],
            NOW,
        )
        ledger.record_outcomes(sid, [(1, outcome, "")], NOW)
        got = ledger.seller_cancelled_lines(["mug-red", "CUP"], NOW - timedelta(days=30))
    # CUP is a line of the order but not in the feed: only the cancelled line counts.
    assert [(g.order_id, g.sku) for g in got] == ([("112-1", "MUG-RED")] if found else [])


def test_seller_cancelled_lines_only_orders_placed_since(tmp_path: Path) -> None:
    with Ledger(tmp_path / "ledger.sqlite") as ledger:
        ledger.record_order_lines([line("112-1", 1, "MUG", 31), line("112-2", 1, "MUG", 29)])
        rows = [
            PlannedRow(1, 2, "112-1", (f"{1:014d}",), "NoInventory", True),
            PlannedRow(2, 3, "112-2", (f"{1:014d}",), "NoInventory", True),
        ]
        ledger.plan_submission("s", "sandbox", "<x/>", "h", rows, NOW)
        got = ledger.seller_cancelled_lines(["MUG"], NOW - timedelta(days=30))
    assert [g.order_id for g in got] == ["112-2"]


# --- end to end: the CLI, the sandbox over HTTP, a real ledger and sheet -------------------------

runner = CliRunner()


def order(
    order_id: str,
    sku: str,
    purchased: str,
    requested: bool = False,
    market: str | None = None,
) -> dict[str, Any]:
    n = order_id[4:11] + order_id[-3:]  # unique per order in this book
    entry: dict[str, Any] = {
        "id": order_id,
        "status": "Unshipped",
        "channel": "MFN",
        "purchased": purchased,
        "locale": "en_US",
        "items": [
            {
                "id": f"0000{n}",
                "sku": sku,
                "title": sku.title(),
                "qty": 1,
                "buyer_requested_cancel": requested,
            }
        ],
    }
    if market:
        entry["marketplace_id"] = market
    return entry


RUN1 = "2026-03-02T12:00:00+00:00"
WEEK = "2026-03-09T12:00:00+00:00"
MONTH = "2026-04-02T12:00:00+00:00"  # 31 days after RUN1's orders were placed

BOOK = [
    order("112-0000001-0000001", "MUG-RED", RUN1),
    order("112-0000001-0000002", "MUG-RED", RUN1),
    order("112-0000001-0000003", "MUG-RED", RUN1),
    order("112-0000001-0000004", "LAMP-DESK", RUN1, requested=True),
    order("112-0000001-0000005", "LAMP-DESK", RUN1, requested=True),
    order("112-0000001-0000006", "TEE-BLK", RUN1),
    order("112-0000001-0000007", "TEE-BLK", RUN1),
    order("112-0000002-0000001", "MUG-RED", WEEK),
    order("112-0000003-0000001", "MUG-RED", MONTH),
]


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    monkeypatch.chdir(tmp_path)
    for name in ("BULK_HOME", "BULK_SANDBOX_ORDERS", "LWA_APP_ID", "SP_API_REFRESH_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    write_book(tmp_path, BOOK)
    yield tmp_path


def write_book(
    folder: Path,
    orders: list[dict[str, Any]],
    market: str = US,
    performance: tuple[int, int] = (4000, 10),
) -> None:
    book = {
        "seller_id": "A1SANDBOXSELLER",
        "marketplace_id": market,
        "performance": {
            "orders_last_7_days": performance[0],
            "seller_cancels_last_7_days": performance[1],
        },
        "feed_polls": 1,
        "report_polls": 1,
        "orders": orders,
    }
    (folder / "book.json").write_text(json.dumps(book), encoding="utf-8")
    (folder / "bulk.toml").write_text('[sandbox]\norders = "book.json"\n', encoding="utf-8")


def write_sheet(path: Path, rows: list[tuple[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["Order ID", "Reason", "Details", "Notify"])
        for order_id, reason in rows:
            out.writerow([order_id, reason, "The warehouse has none of these left", "No"])


def results(path: Path) -> dict[int, dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return dict(enumerate(csv.DictReader(f), start=2))


def submit(sheet: str, when: str, *extra: str) -> Any:
    with freeze_time(when):
        return runner.invoke(app, ["submit", sheet, "--yes", *extra], catch_exceptions=False)


def test_three_rows_of_one_sku_warn_the_second_and_third(workdir: Path) -> None:
    write_sheet(
        workdir / "run1.csv",
        [
            ("112-0000001-0000001", "Out of stock"),
            ("112-0000001-0000002", "Out of stock"),
            ("112-0000001-0000003", "Out of stock"),
            ("112-0000001-0000006", "Out of stock"),
        ],
    )
    result = submit("run1.csv", "2026-03-02 15:00:00")
    assert result.exit_code == 0, result.output
    rows = results(workdir / "run1.csv")
    assert [r["Status"] for r in rows.values()] == ["CANCELLED"] * 4
    # The warning outlives Amazon's confirmation.
    assert rows[2]["Result"] == "Amazon cancelled the order"
    assert rows[3]["Result"] == (
        "Amazon cancelled the order; 2nd seller cancellation of MUG-RED in 30 days: "
        "the offer may be removed"
    )
    assert rows[4]["Result"] == (
        "Amazon cancelled the order; 3rd seller cancellation of MUG-RED in 30 days: "
        "the offer may be removed"
    )
    assert rows[5]["Result"] == "Amazon cancelled the order"  # TEE-BLK once: no risk

    out = result.output
    assert "listings at risk:" in out
    assert (
        "  MUG-RED (ASIN " in out
        and ", US): 3 seller cancellations of orders placed in the last 30 days "
        "(rows 2, 3, 4 in this run)"
        in out
    )
    assert "TEE-BLK" not in out
    assert "set the listing's quantity to 0 until it is restocked" in out
    assert "reactivate it in Manage Inventory by editing its price" in out


def test_json_carries_the_listings_at_risk(workdir: Path) -> None:
    write_sheet(
        workdir / "run1.csv",
        [
            ("112-0000001-0000001", "Out of stock"),
            ("112-0000001-0000002", "Out of stock"),
            ("112-0000001-0000006", "Out of stock"),
        ],
    )
    result = submit("run1.csv", "2026-03-02 15:00:00", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    [risk] = doc["listings_at_risk"]
    assert risk["sku"] == "MUG-RED" and risk["asin"]
    assert (risk["marketplace"], risk["marketplace_id"]) == ("US", US)
    assert (risk["seller_cancellations_30_days"], risk["earlier"]) == (2, 0)
    assert (risk["rows"], risk["warned_rows"]) == ([2, 3], [3])
    assert "listings at risk:" in result.stderr


def test_check_previews_the_warning_before_anything_is_sent(workdir: Path) -> None:
    write_sheet(
        workdir / "run1.csv",
        [("112-0000001-0000001", "Out of stock"), ("112-0000001-0000002", "Out of stock")],
    )
    with freeze_time("2026-03-02 15:00:00"):
        result = runner.invoke(app, ["check", "run1.csv"], catch_exceptions=False)
    rows = results(workdir / "run1.csv")
    assert rows[2]["Result"] == "ready: 1 item, Out of stock"
    assert rows[3]["Result"] == (
        "ready: 1 item, Out of stock; 2nd seller cancellation of MUG-RED in 30 days: "
        "the offer may be removed"
    )
    assert "listings at risk:" in result.output


def test_a_week_later_the_ledger_counts_the_first_runs_cancellations(workdir: Path) -> None:
    write_sheet(
        workdir / "run1.csv",
        [("112-0000001-0000001", "Out of stock"), ("112-0000001-0000002", "Out of stock")],
    )
    assert submit("run1.csv", "2026-03-02 15:00:00").exit_code == 0
    write_sheet(workdir / "run2.csv", [("112-0000002-0000001", "Out of stock")])
    result = submit("run2.csv", "2026-03-09 15:00:00")
    assert result.exit_code == 0, result.output
    assert results(workdir / "run2.csv")[2]["Result"] == (
        "Amazon cancelled the order; 3rd seller cancellation of MUG-RED in 30 days: "
        "the offer may be removed"
    )
    assert ": 3 seller cancellations of orders placed in the last 30 days " in result.output
    assert "(2 sent earlier, row 2 in this run)" in result.output


def test_a_31_day_old_cancellation_no_longer_counts(workdir: Path) -> None:
    write_sheet(workdir / "run1.csv", [("112-0000001-0000001", "Out of stock")])
    assert submit("run1.csv", "2026-03-02 15:00:00").exit_code == 0
    write_sheet(workdir / "run3.csv", [("112-0000003-0000001", "Out of stock")])
    result = submit("run3.csv", "2026-04-02 15:00:00")  # the first order: 31 days 3 hours ago
    assert result.exit_code == 0, result.output
    assert results(workdir / "run3.csv")[2]["Result"] == "Amazon cancelled the order"
    assert "listings at risk" not in result.output


def test_buyer_requested_cancellations_are_left_out(workdir: Path) -> None:
    write_sheet(
        workdir / "run1.csv",
        [
            ("112-0000001-0000004", "Buyer requested"),  # the buyer asked: not the seller's
            ("112-0000001-0000005", "Buyer requested"),
            ("112-0000001-0000006", "Buyer requested"),  # no buyer request: counts
            ("112-0000001-0000007", "Out of stock"),
        ],
    )
    result = submit("run1.csv", "2026-03-02 15:00:00")
    assert result.exit_code == 0, result.output
    rows = results(workdir / "run1.csv")
    assert "LAMP-DESK" not in result.output
    assert rows[3]["Result"] == "Amazon cancelled the order"
    # Today's "counts toward the rate" warning stays after Amazon confirms, too.
    assert rows[4]["Result"] == (
        "Amazon cancelled the order; Amazon has no buyer request for this order; this "
        "cancellation will count toward the cancellation rate"
    )
    assert rows[5]["Result"] == (
        "Amazon cancelled the order; 2nd seller cancellation of TEE-BLK in 30 days: "
        "the offer may be removed"
    )


def test_warnings_survive_a_no_wait_submit_collected_by_status(workdir: Path) -> None:
    write_sheet(
        workdir / "run1.csv",
        [("112-0000001-0000001", "Out of stock"), ("112-0000001-0000002", "Out of stock")],
    )
    first = submit("run1.csv", "2026-03-02 15:00:00", "--no-wait")
    assert first.exit_code == 0, first.output
    rows = results(workdir / "run1.csv")
    assert rows[3]["Status"] == "SUBMITTED"
    assert rows[3]["Result"].endswith(
        "; 2nd seller cancellation of MUG-RED in 30 days: the offer may be removed"
    )
    with freeze_time("2026-03-02 15:10:00"):
        later = runner.invoke(app, ["status", "run1.csv"], catch_exceptions=False)
    assert later.exit_code == 0, later.output
    rows = results(workdir / "run1.csv")
    assert rows[3]["Status"] == "CANCELLED"
    assert rows[3]["Result"] == (
        "Amazon cancelled the order; 2nd seller cancellation of MUG-RED in 30 days: "
        "the offer may be removed"
    )
    assert rows[2]["Result"] == "Amazon cancelled the order"


def test_the_summary_document_carries_the_listings_at_risk() -> None:
    from bulk.output.summary import build_summary, summary_lines
    from bulk.pipeline.context import RunReport

    risk = ListingRisk(US, "MUG-RED", "B0MUG00001", 3, 1, (3, 4), (3, 4))
    doc = json.loads(json.dumps(build_summary(RunReport([], listings=(risk,)), command="submit")))
    assert doc["listings_at_risk"] == [
        {
            "sku": "MUG-RED",
            "asin": "B0MUG00001",
            "marketplace": "US",
            "marketplace_id": US,
            "seller_cancellations_30_days": 3,
            "earlier": 1,
            "rows": [3, 4],
            "warned_rows": [3, 4],
        }
    ]
    lines = summary_lines(doc)
    assert (
        "  MUG-RED (ASIN B0MUG00001, US): 3 seller cancellations of orders placed in the last "
        "30 days (1 sent earlier, rows 3, 4 in this run)" in lines
    )
    assert build_summary(RunReport([]), command="check")["listings_at_risk"] == []


INDIA = "A21TJRUUN4KGV"


def test_india_two_windows_and_the_fee_line(workdir: Path) -> None:
    orders = [
        order(f"403-0000001-000000{k}", "KETTLE-STEEL", RUN1, market=INDIA) for k in (1, 2, 3)
    ]
    orders.append(order("403-0000001-0000004", "LAMP-DESK", RUN1, requested=True, market=INDIA))
    write_book(workdir, orders, market=INDIA, performance=(700, 5))
    (workdir / "bulk.toml").write_text(
        '[amazon]\nmarketplace = "IN"\n[sandbox]\norders = "book.json"\n', encoding="utf-8"
    )
    write_sheet(
        workdir / "india.csv",
        [
            ("403-0000001-0000001", "Out of stock"),
            ("403-0000001-0000002", "Out of stock"),
            ("403-0000001-0000003", "Out of stock"),
            ("403-0000001-0000004", "Buyer requested"),
        ],
    )
    result = submit("india.csv", "2026-03-02 15:00:00")
    assert result.exit_code == 0, result.output
    out = result.output
    # India's target is under 2%: 13 of 700 orders; its 30-day window is measured too.
    assert "(target under 2%; Amazon's limit 2%)" in out
    assert (
        "budget: 8 of this week's 13 counted cancellations used, 3 of them by this run; "
        "left: 4 today, 5 this week" in out
    )
    assert (
        "30-day budget: 5 of 59 counted cancellations used before this run (about 3000 orders "
        "at this week's volume), 54 left" in out
    )
    assert (
        "cancellation fee: Amazon IN charges each seller cancellation (100% of the referral "
        "fee, 150% after the estimated ship date); 3 of this run's cancellations will be "
        "charged" in out
    )
    # The listing rule is the same in India.
    assert "  KETTLE-STEEL (ASIN " in out and ", IN): 3 seller cancellations" in out
    rows = results(workdir / "india.csv")
    assert rows[4]["Result"].endswith(
        "3rd seller cancellation of KETTLE-STEEL in 30 days: the offer may be removed"
    )


def test_a_large_run_lists_at_most_twenty_listings_and_ten_rows_each() -> None:
    from bulk.output.summary import build_summary, summary_lines
    from bulk.pipeline.context import RunReport

    risks = tuple(
        ListingRisk(US, f"SKU-{k:03d}", "", 200 - k, 0, tuple(range(2, 202)), tuple(range(3, 202)))
        for k in range(30)
    )
    doc = json.loads(json.dumps(build_summary(RunReport([], listings=risks), command="check")))
    assert len(doc["listings_at_risk"]) == 30  # the document keeps them all
    lines = summary_lines(doc)
    shown = [line for line in lines if line.startswith("  SKU-")]
    assert len(shown) == 20
    assert shown[0].endswith("rows 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 and 190 more in this run)")
    assert "  ... and 10 more listings (all of them in --json)" in lines
