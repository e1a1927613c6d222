"""bulk.pipeline.run against a fake SellerAccount: the pipeline needs only the Protocol, not Amazon."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fake_market import FakeMarket

from bulk.amazon.protocol import SellerAccount
from bulk.config import parse_config
from bulk.infra.ledger import Ledger
from bulk.models import Order, OrderItem, Status
from bulk.pipeline import run
from bulk.rules.messages import load_templates
from bulk.sheets import open_sheet

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
DE, FR, UK = "A1PA6795UKMFR9", "A13V1IB3VIYZZH", "A1F83G8C2ARO7P"


def order(order_id: str, marketplace_id: str, hours: float = 2.0, **kw: object) -> Order:
    item = OrderItem(f"{order_id[-7:]}0000000", "MUG", "Mug", 1)
    return Order(
        order_id,
        str(kw.get("status", "Unshipped")),
        "MFN",
        NOW - timedelta(hours=hours) if kw.get("purchased", True) else None,
        marketplace_id,
        (item,),
    )


def test_check_decides_every_row_through_the_protocol_alone(tmp_path: Path) -> None:
    rows = {
        "302-0000001-0000001": order("302-0000001-0000001", DE),
        "402-0000001-0000002": order("402-0000001-0000002", FR),
        "026-0000001-0000003": order("026-0000001-0000003", UK),  # not in the run's list
        "302-0000001-0000004": order("302-0000001-0000004", DE, purchased=False),
    }
    sheet_path = tmp_path / "orders.csv"
    with open(sheet_path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["Order ID", "Reason", "Details"])
        for order_id in [*rows, "302-0000009-0000009"]:
            writer.writerow([order_id, "Out of stock", "Seasonal stock-out at the warehouse"])
    fake = FakeMarket(rows, (DE, FR))
    market: SellerAccount = fake  # the fake satisfies the Protocol (`mypy tests/test_run_fake.py`)
    config = parse_config({"amazon": {"marketplaces": ["DE", "FR"]}})
    with Ledger(tmp_path / "ledger.sqlite") as ledger:
        ctx = run.Context(
            config=config,
            ledger=ledger,
            account=market,
            templates=load_templates(None, "en_US"),
            target="sandbox",
            now=lambda: NOW,
        )
        report = run.check(ctx, open_sheet(str(sheet_path), backup_dir=tmp_path / "backups"))
    status = {o.order_id: o for o in report.outcomes}
    assert status["302-0000001-0000001"].status is Status.READY
    assert status["402-0000001-0000002"].status is Status.READY
    assert status["026-0000001-0000003"].status is Status.REJECTED
    assert 'add "UK" to [amazon] marketplaces' in status["026-0000001-0000003"].result
    assert status["302-0000001-0000004"].status is Status.HELD  # no purchase date
    assert status["302-0000009-0000009"].status is Status.REJECTED  # Amazon has no such order
    # One look-up for the sheet; the buyers' languages are read for the previews; nothing sent.
    assert [args for op, *args in fake.log if op == "getOrder"] == [
        [(*rows, "302-0000009-0000009")]
    ]
    assert report.lookup_path == "fake look-up"
    assert dict(fake.calls) == {"getOrder": 5, "createReport": 1, "getAttributes": 2}
