"""Write samples/orders.xlsx and samples/orders.csv: one row for every outcome bulk can give.

Run from the repository root: `python tools/make_samples.py`. The orders are those of
samples/marketplace.json, the sandbox's demo order book (shipped inside the package).
"""

from __future__ import annotations

import csv
from pathlib import Path

from openpyxl import load_workbook

from bulk.commands.new import create_order_sheet
from bulk.config import Config

HERE = Path(__file__).resolve().parent.parent / "samples"

# Order ID, Reason, Details, Items, Remedy, Notify, Note to Buyer — and what the sandbox makes
# of it. Details are the team's own notes; only a Note to Buyer is quoted to the buyer.
ROWS: list[tuple[str, ...]] = [
    # Cancelled: out of stock, whole order.
    (
        "112-0000001-0000001",
        "Out of stock",
        "Supplier shipment of red mugs lost in transit",
        "",
        "Refund",
        "",
        "",
    ),
    # Cancelled: one line of a two-line order.
    (
        "112-0000001-0000002",
        "Out of stock",
        "White tee size L sold out at the warehouse",
        "TEE-WHT-L",
        "Refund",
        "Yes",
        "Only the size L T-shirt is cancelled; the other item ships as planned.",
    ),
    # Deferred: the newest counted cancellation does not fit today's budget.
    (
        "112-0000001-0000003",
        "Undeliverable address",
        "Carrier rejected the address: no such street",
        "",
        "None",
        "",
        "",
    ),
    # Cancelled, not counted: the buyer asked Amazon to cancel (Amazon confirms it to them, so
    # no message goes out: Notify is blank).
    (
        "112-0000001-0000004",
        "Buyer requested",
        "Buyer asked to cancel through Amazon",
        "",
        "Refund",
        "",
        "",
    ),
    # Rejected: already shipped.
    (
        "112-0000001-0000005",
        "Out of stock",
        "Blue mug discontinued by the manufacturer",
        "",
        "Refund",
        "",
        "",
    ),
    # Escalate: partly shipped.
    (
        "112-0000001-0000006",
        "Out of stock",
        "Pillows backordered for six weeks",
        "PILLOW-STD-2",
        "Refund",
        "",
        "",
    ),
    # Cancelled already on Amazon: nothing is sent.
    (
        "112-0000001-0000007",
        "Out of stock",
        "Lavender candles recalled by the supplier",
        "",
        "Refund",
        "",
        "",
    ),
    # Held: payment pending.
    (
        "112-0000001-0000008",
        "Out of stock",
        "Steel bottles damaged in the warehouse",
        "",
        "Refund",
        "",
        "",
    ),
    # Escalate: fulfilled by Amazon (FBA).
    (
        "112-0000001-0000009",
        "Customer exchange",
        "Buyer wants the blue mug instead of the red one",
        "",
        "Replacement",
        "",
        "",
    ),
    # Held: purchased 30 hours ago, outside the 24-hour window.
    (
        "112-0000001-0000010",
        "Out of stock",
        "Jute rug delivery from the mill is late",
        "",
        "Refund",
        "",
        "",
    ),
    # Cancelled, German buyer: the message goes out in German.
    (
        "112-0000001-0000011",
        "Out of stock",
        "Gooseneck kettles out of stock until March",
        "",
        "Replacement",
        "Yes",
        "Der Wasserkocher ist voraussichtlich ab März wieder lieferbar.",
    ),
    # Cancelled, but Amazon allows no message for this order.
    ("112-0000001-0000012", "Out of stock", "Navy canvas aprons sold out", "", "Refund", "", ""),
    # Rejected: not an Amazon order id.
    (
        "112-000001-0000013",
        "Out of stock",
        "Typo in the order id copied from an email",
        "",
        "Refund",
        "",
        "",
    ),
    # Rejected: the same order twice.
    (
        "112-0000001-0000001",
        "Out of stock",
        "Second row for the same red mug order",
        "",
        "Refund",
        "",
        "",
    ),
    # Rejected: unknown reason, and details too short.
    ("112-0000001-0000014", "Pricing error", "wrong price", "", "Refund", "", ""),
    # Rejected: Amazon has no such order.
    (
        "112-9999999-9999999",
        "Out of stock",
        "Order id from another marketplace account",
        "",
        "Refund",
        "",
        "",
    ),
]
HEADER = ["Order ID", "Reason", "Details", "Items", "Remedy", "Notify", "Note to Buyer"]


def main() -> None:
    xlsx = HERE / "orders.xlsx"
    xlsx.unlink(missing_ok=True)
    create_order_sheet(xlsx, Config(), rows=200)
    wb = load_workbook(xlsx)
    ws = wb["Orders"]
    for r, row in enumerate(ROWS, start=2):
        for c, value in enumerate(row, start=1):
            if value:
                ws.cell(r, c, value)
    wb.save(xlsx)
    with open(HERE / "orders.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        writer.writerows(ROWS)


if __name__ == "__main__":
    main()
