"""Several marketplaces of one region in one sheet, end to end against the sandbox."""

from __future__ import annotations

import csv
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from typer.testing import CliRunner

from bulk.amazon.clients import connect
from bulk.cli import app
from bulk.sandbox import start_sandbox
from bulk.targets import SANDBOX_CREDENTIALS

DATA = Path(__file__).parent / "data"
DE, FR, IT, UK = "A1PA6795UKMFR9", "A13V1IB3VIYZZH", "APJ6JRA9NG5V4", "A1F83G8C2ARO7P"
ROWS = {
    "302-0000001-0000001": ("Out of stock", DE),
    "402-0000001-0000002": ("Out of stock", FR),
    "403-0000001-0000003": ("Buyer requested", IT),
    "026-0000001-0000004": ("Out of stock", UK),  # a marketplace bulk.toml leaves out
}
DETAILS = "Seasonal stock-out at the warehouse"
runner = CliRunner()


@pytest.fixture
def eu(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder with the EU book, bulk.toml for DE, FR and IT, and a sheet of their orders."""
    shutil.copy(DATA / "marketplace_eu.json", tmp_path / "book.json")
    (tmp_path / "bulk.toml").write_text(
        '[amazon]\nmarketplaces = ["DE", "FR", "IT"]\n[sandbox]\norders = "book.json"\n',
        encoding="utf-8",
    )
    with open(tmp_path / "eu.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["Order ID", "Reason", "Details", "Notify"])
        for order_id, (reason, _) in ROWS.items():
            writer.writerow([order_id, reason, DETAILS, "Yes"])
    monkeypatch.chdir(tmp_path)
    for name in ("BULK_HOME", "BULK_SANDBOX_ORDERS", "BULK_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    yield tmp_path


def sheet(folder: Path) -> dict[str, dict[str, str]]:
    with open(folder / "eu.csv", encoding="utf-8", newline="") as f:
        return {row["Order ID"]: row for row in csv.DictReader(f)}


def sandbox_view(folder: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """What the run's sandbox kept (its state persists): feeds as getFeeds lists them, and the
    buyer messages it accepted."""
    with start_sandbox(folder / "book.json", folder / ".bulk" / "sandbox") as sb:
        clients = connect(sb.url, sb.url, dict(SANDBOX_CREDENTIALS), DE)
        try:
            listed = clients.feeds.get_feeds(
                feedTypes=["POST_ORDER_ACKNOWLEDGEMENT_DATA"], marketplaceIds=[DE, FR, IT, UK]
            )
        finally:
            clients.close()
        documents = requests.get(f"{sb.url}/_sandbox/feeds", timeout=10).json()
        messages = requests.get(f"{sb.url}/_sandbox/messages", timeout=10).json()
    content = {d["feedId"]: d["document"] for d in documents}
    feeds = [{**f, "document": content[f["feedId"]]} for f in listed.payload["feeds"]]
    return feeds, messages


def test_an_eu_sheet_sends_one_feed_per_marketplace_and_messages_in_each_buyers_language(
    eu: Path,
) -> None:
    result = runner.invoke(app, ["submit", "eu.csv", "--yes", "-v"], catch_exceptions=False)
    assert result.exit_code == 1, result.output  # the UK row is REJECTED

    rows = sheet(eu)
    for order_id in ("302-0000001-0000001", "402-0000001-0000002", "403-0000001-0000003"):
        assert rows[order_id]["Status"] == "CANCELLED", rows[order_id]
    uk = rows["026-0000001-0000004"]
    assert uk["Status"] == "REJECTED"
    assert "marketplace UK (A1F83G8C2ARO7P)" in uk["Result"]
    assert 'add "UK" to [amazon] marketplaces' in uk["Result"]

    feeds, messages = sandbox_view(eu)
    # One feed per marketplace, each carrying only that marketplace's order.
    by_market = {tuple(f["marketplaceIds"]): f for f in feeds}
    assert sorted(by_market) == sorted([(DE,), (FR,), (IT,)])
    for order_id, (_, market) in ROWS.items():
        if market == UK:
            assert all(order_id not in f["document"] for f in feeds)
            continue
        carried = re.findall(
            r"<AmazonOrderID>([^<]+)</AmazonOrderID>", by_market[(market,)]["document"]
        )
        assert carried == [order_id]

    # Each buyer's message went through the order's own marketplace (the sandbox refuses any
    # other) and is in the buyer's language.
    texts = {m["orderId"]: m["text"] for m in messages}
    assert set(texts) == {"302-0000001-0000001", "402-0000001-0000002", "403-0000001-0000003"}
    assert "Leider ist die Ware nicht mehr vorrätig" in texts["302-0000001-0000001"]
    assert "Malheureusement, nous sommes en rupture de stock" in texts["402-0000001-0000002"]
    assert "come da sua richiesta, abbiamo annullato" in texts["403-0000001-0000003"]
