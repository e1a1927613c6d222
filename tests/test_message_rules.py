"""Which buyers get a message, in which language, and what stops one: end to end on the sandbox.

The sandbox answers getAttributes with each order's `locale` from its book and takes messages
only through the order's own marketplace, as Amazon does.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from typer.testing import CliRunner

from bulk.cli import app
from bulk.sandbox import start_sandbox

DE, ES, NL = "A1PA6795UKMFR9", "A1RKKUPIHCS9HS", "A1805IZSGTT6HS"
DETAILS = "Internal: supplier ticket 4411, pallet damaged"
REVIEW = "Our team will review the stock levels"

# order id -> (marketplace, buyer's locale, reason, remedy, notify, note to buyer, buyer asked)
ORDERS: dict[str, tuple[str, str, str, str, str, str, bool]] = {
    "305-0000001-0000001": (NL, "nl_NL", "Out of stock", "Refund", "", "", False),
    "405-0000001-0000002": (ES, "ca_ES", "Out of stock", "Refund", "", "", False),
    "305-0000001-0000003": (DE, "tr_TR", "Out of stock", "Replacement", "", "", False),
    "305-0000001-0000004": (
        DE,
        "de_DE",
        "Out of stock",
        "Refund",
        "",
        "Ruf uns an: 030 1234567",
        False,
    ),
    "305-0000001-0000005": (
        DE,
        "de_DE",
        "Out of stock",
        "Refund",
        "",
        "Schreib uns per WhatsApp",
        False,
    ),
    "305-0000001-0000006": (
        DE,
        "de_DE",
        "Out of stock",
        "Refund",
        "",
        "Use code THANKS10 next time",
        False,
    ),
    "305-0000001-0000007": (DE, "en_GB", "Out of stock", "Refund", "", REVIEW, False),
    "305-0000001-0000008": (DE, "de_DE", "Buyer requested", "Refund", "", "", True),
    "305-0000001-0000009": (DE, "de_DE", "Buyer requested", "Refund", "Yes", "", True),
    "305-0000001-0000010": (DE, "de_DE", "Undeliverable address", "Replacement", "", "", False),
}
BLOCKED = {
    "305-0000001-0000004": "phone number (030 1234567)",
    "305-0000001-0000005": "messaging app or social account (WhatsApp)",
    "305-0000001-0000006": "discount or promo code (code THANKS10)",
}
runner = CliRunner()


def book() -> dict[str, Any]:
    orders = []
    for n, (order_id, (market, locale, _, _, _, _, asked)) in enumerate(ORDERS.items(), 1):
        orders.append(
            {
                "id": order_id,
                "status": "Unshipped",
                "channel": "MFN",
                "purchased": "-3h",
                "locale": locale,
                "marketplace_id": market,
                "items": [
                    {
                        "id": f"{n:014d}",
                        "sku": f"SKU-{n}",
                        "title": f"Item {n}",
                        "qty": 1,
                        "buyer_requested_cancel": asked,
                    }
                ],
            }
        )
    return {
        "seller_id": "A1SANDBOXSELLER",
        "marketplace_id": DE,
        "performance": {"orders_last_7_days": 20000, "seller_cancels_last_7_days": 0},
        "feed_polls": 1,
        "report_polls": 1,
        "orders": orders,
    }


@pytest.fixture
def eu(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    (tmp_path / "book.json").write_text(json.dumps(book()), encoding="utf-8")
    (tmp_path / "bulk.toml").write_text(
        '[amazon]\nmarketplaces = ["DE", "ES", "NL"]\n[sandbox]\norders = "book.json"\n'
        '[messages]\ndefault_locale = "en_US"\n',
        encoding="utf-8",
    )
    with open(tmp_path / "orders.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["Order ID", "Reason", "Details", "Remedy", "Notify", "Note to Buyer"])
        for order_id, (_, _, reason, remedy, notify, note, _) in ORDERS.items():
            writer.writerow([order_id, reason, DETAILS, remedy, notify, note])
    monkeypatch.chdir(tmp_path)
    for name in ("BULK_HOME", "BULK_SANDBOX_ORDERS", "BULK_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    yield tmp_path


def rows(folder: Path) -> dict[str, dict[str, str]]:
    with open(folder / "orders.csv", encoding="utf-8", newline="") as f:
        return {row["Order ID"]: row for row in csv.DictReader(f)}


def sent(folder: Path) -> dict[str, str]:
    with start_sandbox(folder / "book.json", folder / ".bulk" / "sandbox") as sb:
        messages = requests.get(f"{sb.url}/_sandbox/messages", timeout=10).json()
    return {m["orderId"]: m["text"] for m in messages}


def test_each_buyer_reads_their_language_or_the_marketplace_s_and_forbidden_notes_stop_a_message(
    eu: Path,
) -> None:
    checked = runner.invoke(app, ["check", "orders.csv"], catch_exceptions=False)
    assert checked.exit_code == 1, checked.output  # Replacement for an undeliverable address
    sheet = rows(eu)
    refused = sheet["305-0000001-0000010"]
    assert refused["Status"] == "REJECTED"
    assert "Remedy Replacement does not go with reason 'Undeliverable address'" in refused["Result"]
    # The summary names each row whose message will not be sent, and why.
    out = checked.output
    assert "customer messages that will not be sent (4):" in out, out
    for order_id, why in BLOCKED.items():
        line = next(ln for ln in out.splitlines() if f"({order_id})" in ln)
        assert why in line, line
    asked = next(ln for ln in out.splitlines() if "(305-0000001-0000008)" in ln)
    assert "the buyer asked to cancel" in asked

    submitted = runner.invoke(app, ["submit", "orders.csv", "--yes"], catch_exceptions=False)
    assert submitted.exit_code == 1, submitted.output
    sheet = rows(eu)
    texts = sent(eu)
    assert set(texts) == {
        "305-0000001-0000001",
        "405-0000001-0000002",
        "305-0000001-0000003",
        "305-0000001-0000007",
        "305-0000001-0000009",
    }
    for text in texts.values():
        assert DETAILS not in text and "pallet" not in text  # Details never reach a buyer

    # A Dutch buyer on amazon.nl: Dutch.
    assert texts["305-0000001-0000001"].startswith("Beste klant,")
    # A Catalan-speaking buyer on amazon.es: no Catalan templates, so Spanish, not English.
    assert texts["405-0000001-0000002"].startswith("Hola:")
    # A Turkish-speaking buyer on amazon.de: Turkish.
    turkish = texts["305-0000001-0000003"]
    assert turkish.startswith("Sayın Müşterimiz,")
    assert "yeni bir sipariş verebilirsiniz" in turkish  # a replacement is a new order
    # "review" in its ordinary sense passes, and the Note to Buyer is quoted.
    assert REVIEW in texts["305-0000001-0000007"]
    # The buyer's own request, Notify Yes: "as you requested", in German.
    assert "wie von Ihnen gewünscht" in texts["305-0000001-0000009"]

    for order_id, why in BLOCKED.items():
        assert sheet[order_id]["Status"] == "CANCELLED"
        assert sheet[order_id]["Message Status"].startswith("not sent: "), sheet[order_id]
        assert why in sheet[order_id]["Message Status"]
    # The buyer asked Amazon, Notify blank: Amazon confirms it; bulk sends nothing.
    quiet = sheet["305-0000001-0000008"]
    assert quiet["Status"] == "CANCELLED"
    assert quiet["Message Status"].startswith("no message: the buyer asked to cancel")
    assert "customer messages: 5 sent, 1 not requested, 3 not sent" in submitted.output
