"""bulk.rules.listings.assess keeps one tally per listing and takes shortcuts for the usual row
(a reason that is not BuyerCanceled, a purchase time in UTC): the answers are the long way's."""

from __future__ import annotations

import csv
import json
import shutil
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from freezegun import freeze_time
from typer.testing import CliRunner

from bulk.cli import app
from bulk.models import OrderItem, Reason
from bulk.rules.listings import PastCancellation, PlannedCancellation, assess, warning

ROOT = Path(__file__).resolve().parents[1]
US = "ATVPDKIKX0DER"
CA = "A2EUQ1WTGCTBG2"
NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
TODAY = NOW.date()
OUT_OF_STOCK = Reason("Out of stock", "NoInventory")
BUYER = Reason("Buyer requested", "BuyerCanceled")


def item(sku: str, requested: bool = False, asin: str = "") -> OrderItem:
    return OrderItem("", sku, "Mug", 1, buyer_requested_cancel=requested, asin=asin)


def planned(
    row: int,
    *lines: OrderItem,
    reason: Reason = OUT_OF_STOCK,
    market: str = US,
    purchased: datetime = NOW - timedelta(hours=2),
    day: date = TODAY,
    order_id: str = "",
) -> PlannedCancellation:
    return PlannedCancellation(
        row, order_id or f"112-0000000-{row:07d}", market, reason, lines, purchased, day
    )


def past(order: str, sku: str, asin: str = "", market: str = US) -> PastCancellation:
    return PastCancellation(order, market, sku, asin, NOW - timedelta(days=3))


def test_a_listing_is_named_as_this_runs_first_row_writes_it() -> None:
    found = assess(
        [past("o1", "mug-red")], [planned(2, item("Mug-Red")), planned(3, item("MUG-RED"))], NOW
    )
    (risk,) = found.at_risk
    assert (risk.sku, risk.count, risk.earlier, risk.rows, risk.warned_rows) == (
        "Mug-Red",
        3,
        1,
        (2, 3),
        (2, 3),
    )
    assert found.warnings == {
        2: (warning("Mug-Red", 2),),
        3: (warning("MUG-RED", 3),),
    }


@pytest.mark.parametrize(
    ("ledger_asin", "row_asins", "kept"),
    [("", ("", "B0NEW"), "B0NEW"), ("B0OLD", ("B0NEW",), "B0OLD"), ("", ("",), "")],
)
def test_the_first_asin_anyone_gave_is_kept(
    ledger_asin: str, row_asins: tuple[str, ...], kept: str
) -> None:
    rows = [planned(2 + i, item("MUG", asin=asin)) for i, asin in enumerate(row_asins)]
    (risk,) = assess([past("o1", "MUG", ledger_asin)], rows, NOW).at_risk
    assert risk.asin == kept


def test_listings_with_the_same_count_and_name_keep_the_order_of_their_first_warning() -> None:
    # The CA listing is seen first but warned second: it comes second.
    rows = [
        planned(2, item("MUG"), market=CA),
        planned(3, item("MUG"), market=US),
        planned(4, item("MUG"), market=US),
        planned(5, item("MUG"), market=CA),
    ]
    risks = assess([], rows, NOW).at_risk
    assert [(r.marketplace_id, r.rows) for r in risks] == [(US, (3, 4)), (CA, (2, 5))]


def test_a_row_at_risk_for_two_listings_carries_both_warnings_in_line_order() -> None:
    rows = [
        planned(2, item("MUG"), item("CUP")),
        planned(3, item("CUP"), item("MUG"), item("")),
    ]
    found = assess([], rows, NOW)
    assert found.warnings == {3: (warning("CUP", 2), warning("MUG", 2))}


@pytest.mark.parametrize(
    ("reason", "requested", "warned"),
    [(OUT_OF_STOCK, True, True), (OUT_OF_STOCK, False, True), (BUYER, True, False)],
)
def test_only_buyer_canceled_on_a_line_the_buyer_asked_about_is_left_out(
    reason: Reason, requested: bool, warned: bool
) -> None:
    rows = [planned(2, item("MUG")), planned(3, item("MUG", requested=requested), reason=reason)]
    assert (3 in assess([], rows, NOW).warnings) is warned


@pytest.mark.parametrize("zone", [UTC, timezone(timedelta(hours=5)), None])
@pytest.mark.parametrize(("minutes", "warned"), [(-1, True), (1, False)])
def test_the_30_days_end_at_the_same_moment_in_any_zone(
    zone: timezone | None, minutes: int, warned: bool
) -> None:
    # Bought a minute inside (or outside) the 30 days, written in UTC, in +05:00 or naive (UTC).
    moment = NOW - timedelta(days=30, minutes=minutes)
    bought = moment.replace(tzinfo=None) if zone is None else moment.astimezone(zone)
    rows = [planned(2, item("MUG")), planned(3, item("MUG"), purchased=bought)]
    assert (3 in assess([], rows, NOW).warnings) is warned


def test_rows_are_counted_in_sending_order_whatever_order_they_come_in() -> None:
    rows = [
        planned(9, item("MUG"), day=TODAY + timedelta(days=1)),
        planned(7, item("MUG")),
        planned(8, item("MUG")),
    ]
    found = assess([], rows, NOW)
    assert found.at_risk[0].rows == (7, 8, 9)
    assert found.warnings == {8: (warning("MUG", 2),), 9: (warning("MUG", 3),)}


# --- end to end: each order's listing is in its own marketplace --------------------------------


def test_a_check_counts_each_marketplaces_listing_apart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # MUG twice in the US and once in Canada: only the US listing's second order is at risk.
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    monkeypatch.chdir(tmp_path)
    for name in ("BULK_HOME", "BULK_SANDBOX_ORDERS", "LWA_APP_ID", "SP_API_REFRESH_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    ids = ["112-0000001-0000001", "702-0000001-0000002", "112-0000001-0000003"]
    markets = [US, CA, US]
    orders = [
        {
            "id": order_id,
            "status": "Unshipped",
            "channel": "MFN",
            "purchased": "2026-03-02T12:00:00+00:00",
            "locale": "en_US",
            "marketplace_id": market,
            "items": [{"id": f"0000000000000{n}", "sku": "MUG", "title": "Mug", "qty": 1}],
        }
        for n, (order_id, market) in enumerate(zip(ids, markets, strict=True))
    ]
    book = {
        "seller_id": "A1SANDBOXSELLER",
        "marketplace_id": US,
        "performance": {"orders_last_7_days": 4000, "seller_cancels_last_7_days": 10},
        "orders": orders,
    }
    (tmp_path / "book.json").write_text(json.dumps(book), encoding="utf-8")
    (tmp_path / "bulk.toml").write_text(
        '[amazon]\nmarketplaces = ["US", "CA"]\n[sandbox]\norders = "book.json"\n',
        encoding="utf-8",
    )
    with (tmp_path / "run.csv").open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["Order ID", "Reason", "Details", "Notify"])
        for order_id in ids:
            out.writerow([order_id, "Out of stock", "The warehouse has none of these left", "No"])
    with freeze_time("2026-03-02 15:00:00"):
        result = CliRunner().invoke(app, ["check", "run.csv"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    with (tmp_path / "run.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["Status"] for r in rows] == ["READY"] * 3
    assert [warning("MUG", 2) in r["Result"] for r in rows] == [False, False, True]
