"""bulk.run against a fake Marketplace: the pipeline needs only the Protocol, not Amazon."""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bulk import run
from bulk.amazon.feed import ProcessingReport
from bulk.amazon.protocol import FeedState, LookUp, Marketplace
from bulk.config import parse_config
from bulk.ledger import Ledger
from bulk.messages import load_templates
from bulk.models import Order, OrderItem, Status
from bulk.rates import AccountFigures
from bulk.sheets import open_sheet

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
DE, FR, UK = "A1PA6795UKMFR9", "A13V1IB3VIYZZH", "A1F83G8C2ARO7P"


class FakeMarket:
    """Answers from a dict; records what the pipeline asked. Sends nothing anywhere."""

    def __init__(self, orders: Iterable[Order], marketplace_ids: Sequence[str]) -> None:
        self.orders = {o.order_id: o for o in orders}
        self._ids = tuple(marketplace_ids)
        self._calls: Counter[str] = Counter()
        self.asked: list[tuple[str, ...]] = []
        self.locales_asked: list[str] = []

    @property
    def marketplace_ids(self) -> tuple[str, ...]:
        return self._ids

    @property
    def calls(self) -> Counter[str]:
        return self._calls

    @property
    def answer_seconds(self) -> float:
        return 0.0  # answers come from memory

    def look_up(
        self,
        order_ids: Sequence[str],
        now: datetime,
        since: datetime,
        progress: Callable[[str], None],
    ) -> LookUp:
        self.asked.append(tuple(order_ids))
        self._calls["getOrder"] += len(order_ids)
        found = {i: self.orders[i] for i in order_ids if i in self.orders}
        return LookUp(found, f"fake for {len(order_ids)} orders")

    def get_orders(self, order_ids: Iterable[str], now: datetime) -> dict[str, Order]:
        return {i: self.orders[i] for i in order_ids if i in self.orders}

    def unshipped_orders(self, progress: Callable[[str], None]) -> dict[str, Order]:
        return {}

    def account_figures(self, progress: Callable[[str], None]) -> dict[str, AccountFigures]:
        self._calls["createReport"] += 1
        return {m: AccountFigures(1_000, 0, date(2026, 11, 29)) for m in self._ids}

    def upload_document(self, document: bytes) -> str:
        raise AssertionError("check sends nothing")

    def create_feed(self, document_id: str, marketplace_id: str) -> str:
        raise AssertionError("check sends nothing")

    def wait_for_feed(
        self, feed_id: str, limit_seconds: float, progress: Callable[[FeedState, float], None]
    ) -> FeedState:
        raise AssertionError("check sends nothing")

    def feeds_since(self, since: datetime) -> list[FeedState]:
        return []

    def report(self, result_document_id: str) -> ProcessingReport:
        raise AssertionError("check sends nothing")

    def message_actions(self, order_id: str, marketplace_id: str) -> set[str]:
        raise AssertionError("check sends nothing")

    def buyer_locale(self, order_id: str, marketplace_id: str) -> str:
        # A read: check writes each preview in the buyer's language, as it will be sent.
        self.locales_asked.append(order_id)
        return ""

    def send_unexpected_problem(self, order_id: str, marketplace_id: str, text: str) -> None:
        raise AssertionError("check sends nothing")


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
    fake = FakeMarket(rows.values(), [DE, FR])
    market: Marketplace = fake  # the fake satisfies the Protocol (`mypy tests/test_run_fake.py`)
    config = parse_config({"amazon": {"marketplaces": ["DE", "FR"]}})
    with Ledger(tmp_path / "ledger.sqlite") as ledger:
        ctx = run.Context(
            config=config,
            ledger=ledger,
            marketplace=market,
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
    assert fake.asked == [(*rows, "302-0000009-0000009")]  # one look-up for the sheet
    assert report.lookup_path == "fake for 5 orders"
    assert dict(fake.calls) == {"getOrder": 5, "createReport": 1}
