"""Unit tests of the pipeline (bulk.pipeline.run, bulk.pipeline.submission, bulk.pipeline.messaging) against an in-memory
SellerAccount, with a real SQLite ledger and a real CSV sheet; the clock is passed in."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fake_market import FakeMarket

from bulk.amazon.protocol import AccessDeniedError, SellerAccount
from bulk.config import parse_config
from bulk.infra.ledger import Ledger
from bulk.models import Order, OrderItem, OrderStatus
from bulk.output.summary import message_counts
from bulk.pipeline import run
from bulk.pipeline.context import Options
from bulk.rules.messages import load_templates
from bulk.sheets import Sheet, open_sheet

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
DE, FR = "A1PA6795UKMFR9", "A13V1IB3VIYZZH"
A, B, C = "302-0000001-0000001", "302-0000001-0000002", "402-0000001-0000003"


def order(order_id: str, marketplace_id: str) -> Order:
    item = OrderItem(f"{order_id[-7:]}0000000", "MUG", "Mug", 1)
    return Order(
        order_id, OrderStatus.UNSHIPPED, "MFN", NOW - timedelta(hours=2), marketplace_id, (item,)
    )


def market(*ids: str) -> FakeMarket:
    return FakeMarket({i: order(i, FR if i.startswith("402") else DE) for i in ids}, (DE, FR))


def write_sheet(path: Path, ids: list[str]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["Order ID", "Reason", "Details"])
        for order_id in ids:
            writer.writerow([order_id, "Out of stock", "Seasonal stock-out at the warehouse"])
    return path


def read_sheet(path: Path) -> dict[str, dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return {row["Order ID"]: row for row in csv.DictReader(f)}


def context(tmp_path: Path, fake: SellerAccount, ledger: Ledger) -> run.Context:
    return run.Context(
        config=parse_config({"amazon": {"marketplaces": ["DE", "FR"]}}),
        ledger=ledger,
        account=fake,
        templates=load_templates(None, "en_US"),
        target="sandbox",
        now=lambda: NOW,
    )


def sheet(path: Path, tmp_path: Path) -> Sheet:
    return open_sheet(str(path), backup_dir=tmp_path / "backups")


def submit(tmp_path: Path, fake: FakeMarket, path: Path, wait: bool = True) -> run.RunReport:
    with Ledger(tmp_path / "ledger.sqlite") as ledger:
        ctx = context(tmp_path, fake, ledger)
        return run.submit(ctx, sheet(path, tmp_path), Options(wait=wait), lambda _r: True)


def test_check_marks_rows_ready_with_a_message_preview_and_sends_nothing(tmp_path: Path) -> None:
    fake = market(A, C)
    path = write_sheet(tmp_path / "orders.csv", [A, C])
    with Ledger(tmp_path / "ledger.sqlite") as ledger:
        run.check(context(tmp_path, fake, ledger), sheet(path, tmp_path))
    rows = read_sheet(path)
    assert {i: r["Status"] for i, r in rows.items()} == {A: "READY", C: "READY"}
    assert all(r["Customer Message"].strip() for r in rows.values())
    # getAttributes: the preview is written in the buyer's language, as it will be sent.
    assert {call[0] for call in fake.log} == {"getOrder", "createReport", "getAttributes"}


def test_submit_sends_one_feed_per_marketplace_and_maps_the_report_back(tmp_path: Path) -> None:
    fake = market(A, B, C)
    fake.errors[B] = ("18", "The order cannot be cancelled in its current state")
    path = write_sheet(tmp_path / "orders.csv", [A, B, C])
    report = submit(tmp_path, fake, path)
    by_marketplace = {f.marketplace_id: sorted(f.order_ids.values()) for f in fake.feeds.values()}
    assert by_marketplace == {DE: [A, B], FR: [C]}
    rows = read_sheet(path)
    assert {i: r["Status"] for i, r in rows.items()} == {
        A: "CANCELLED",
        B: "FAILED",
        C: "CANCELLED",
    }
    assert (
        "Amazon error 18: The order cannot be cancelled in its current state" in rows[B]["Result"]
    )
    # Messages go to the cancelled orders only, each in its own marketplace.
    assert [(o, m) for o, m, _text in fake.sent] == [(A, DE), (C, FR)]
    assert message_counts(report.outcomes) == {
        "sent": 2,
        "not_allowed": 0,
        "not_requested": 0,
        "not_sent": 0,
    }


def test_a_message_amazon_does_not_allow_is_recorded_and_not_sent(tmp_path: Path) -> None:
    fake = market(A)
    fake.not_allowed.add(A)
    path = write_sheet(tmp_path / "orders.csv", [A])
    report = submit(tmp_path, fake, path)
    assert message_counts(report.outcomes)["not_allowed"] == 1
    assert read_sheet(path)[A]["Message Status"] == "not allowed by Amazon for this order"
    assert fake.calls["createUnexpectedProblem"] == 0


def test_an_uncertain_message_is_unknown_and_never_sent_again(tmp_path: Path) -> None:
    fake = market(A)
    fake.uncertain.add(A)
    path = write_sheet(tmp_path / "orders.csv", [A])
    report = submit(tmp_path, fake, path)
    assert message_counts(report.outcomes)["not_sent"] == 1
    first = read_sheet(path)[A]["Message Status"]
    assert first.startswith("Amazon did not confirm it"), first
    assert fake.calls["createUnexpectedProblem"] == 1
    fake.uncertain.clear()  # Amazon answers again: still, the buyer may have the message
    write_sheet(path, [A])  # as if the first run's sheet write was lost: the ledger decides
    submit(tmp_path, fake, path)
    assert fake.calls["createUnexpectedProblem"] == 1
    assert fake.sent == []
    assert read_sheet(path)[A]["Message Status"] == first


def test_status_after_no_wait_collects_the_result(tmp_path: Path) -> None:
    fake = market(A, C)
    fake.hold_feeds = True
    path = write_sheet(tmp_path / "orders.csv", [A, C])
    submit(tmp_path, fake, path, wait=False)
    assert {i: r["Status"] for i, r in read_sheet(path).items()} == {A: "SUBMITTED", C: "SUBMITTED"}
    assert fake.sent == []
    fake.hold_feeds = False
    with Ledger(tmp_path / "ledger.sqlite") as ledger:
        run.status(context(tmp_path, fake, ledger), sheet(path, tmp_path))
    rows = read_sheet(path)
    assert {i: r["Status"] for i, r in rows.items()} == {A: "CANCELLED", C: "CANCELLED"}
    assert {o for o, _m, _t in fake.sent} == {A, C}
    assert fake.calls["createFeed"] == 2  # status sends no new feed


@pytest.mark.parametrize("restricted", [False, True])
def test_one_report_reads_back_every_finished_feed(tmp_path: Path, restricted: bool) -> None:
    """Two feeds (DE and FR), two orders each: Amazon's state after them is read once, from
    the All Orders report (no restricted role needed), or with [amazon] restricted_data from
    the unshipped-orders report."""
    D = "402-0000001-0000004"
    fake = market(A, B, C, D)
    fake.restricted_data = restricted
    fake.errors[B] = ("18", "The order cannot be cancelled in its current state")
    path = write_sheet(tmp_path / "orders.csv", [A, B, C, D])
    config = parse_config(
        {"amazon": {"marketplaces": ["DE", "FR"]}, "policy": {"report_threshold": 2}}
    )
    with Ledger(tmp_path / "ledger.sqlite") as ledger:
        ctx = context(tmp_path, fake, ledger)
        ctx.config = config
        run.submit(ctx, sheet(path, tmp_path), Options(wait=True), lambda _r: True)
    assert len(fake.feeds) == 2
    if restricted:
        assert fake.calls["unshippedReport"] == 1
        assert fake.calls["allOrdersReport"] == 0
        assert fake.calls["getOrders"] == 0  # B is still in the report: its state is known
    else:
        assert fake.calls["allOrdersReport"] == 1
        assert fake.calls["unshippedReport"] == 0
        # Only B, which the report shows still open, is read again by itself.
        assert [e[1] for e in fake.log if e[0] == "getOrders"] == [(B,)]
    rows = read_sheet(path)
    assert {i: r["Status"] for i, r in rows.items()} == {
        A: "CANCELLED",
        B: "FAILED",
        C: "CANCELLED",
        D: "CANCELLED",
    }


def test_status_leaves_a_finished_sheet_alone_even_beside_a_duplicate(tmp_path: Path) -> None:
    """A CANCELLED row is final: `bulk status` does not write it again because a rejected
    duplicate row of the same order made the ledger's history of that order known."""
    fake = market(A)
    path = write_sheet(tmp_path / "orders.csv", [A, A])
    submit(tmp_path, fake, path)
    with open(path, newline="", encoding="utf-8") as f:
        assert [r["Status"] for r in csv.DictReader(f)] == ["CANCELLED", "REJECTED"]
    before = path.read_bytes()
    with Ledger(tmp_path / "ledger.sqlite") as ledger:
        report = run.status(context(tmp_path, fake, ledger), sheet(path, tmp_path))
    assert report.write is not None and report.write.written == 0
    assert path.read_bytes() == before
    assert [o for o, _m, _t in fake.sent] == [A]  # the buyer was messaged once


class _Revoking(FakeMarket):
    """A market whose access is revoked once its feed has been created (a role removed, the
    authorisation withdrawn): Amazon answers 403 to the read-back."""

    revoked = False

    def create_feed(self, document_id: str, marketplace_id: str) -> str:
        feed_id = super().create_feed(document_id, marketplace_id)
        self.revoked = True
        return feed_id

    def get_orders(self, order_ids: Iterable[str], now: datetime) -> dict[str, Order]:
        if self.revoked:
            raise AccessDeniedError("getOrder: Amazon refused access (Unauthorized)")
        return super().get_orders(order_ids, now)


def test_access_lost_between_the_feed_and_the_read_back_leaves_rows_submitted(
    tmp_path: Path,
) -> None:
    fake = _Revoking({i: order(i, DE) for i in (A, B)}, (DE, FR))
    path = write_sheet(tmp_path / "orders.csv", [A, B])
    report = submit(tmp_path, fake, path)
    assert any("refused access" in w for w in report.warnings)
    rows = read_sheet(path)
    for order_id in (A, B):
        assert rows[order_id]["Status"] == "SUBMITTED"
        assert "refused access" in rows[order_id]["Result"]
        assert "`bulk status`" in rows[order_id]["Result"]
        assert rows[order_id]["Feed ID"] == "feed-1"
    assert report.exit_code == 0  # SUBMITTED is in good standing: the outcome is pending
    # Access is back: `bulk status` finishes the rows; nothing is sent again.
    fake.revoked = False
    with Ledger(tmp_path / "ledger.sqlite") as ledger:
        run.status(context(tmp_path, fake, ledger), sheet(path, tmp_path))
    assert {r["Status"] for r in read_sheet(path).values()} == {"CANCELLED"}
    assert fake.calls["createFeed"] == 1


def test_row_by_row_work_runs_without_cycle_collection_and_the_look_ups_with_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Checking, deciding, listing risk, rendering and the sheet update make many objects and no
    cycles: the collector waits. The look-ups and the buyers' languages talk to Amazon, whose
    connections leave cycles that can hold a downloaded report: the collector runs."""
    import gc

    collecting: dict[str, bool] = {}

    def watched(module: object, name: str) -> None:
        original = getattr(module, name)

        def call(*args: object, **kwargs: object) -> object:
            collecting[name] = gc.isenabled()
            return original(*args, **kwargs)

        monkeypatch.setattr(module, name, call)

    for name in ("parse_rows", "_decide", "listing_risk", "_render", "_updates", "_look_up"):
        watched(run, name)
    watched(run, "with_buyer_locales")
    fake = market(A, C)
    path = write_sheet(tmp_path / "orders.csv", [A, C])
    with Ledger(tmp_path / "ledger.sqlite") as ledger:
        run.check(context(tmp_path, fake, ledger), sheet(path, tmp_path))
    assert collecting == {
        "parse_rows": False,
        "_decide": False,
        "listing_risk": False,
        "_render": False,
        "_updates": False,
        "_look_up": True,
        "with_buyer_locales": True,
    }
    assert gc.isenabled()
