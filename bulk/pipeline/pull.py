"""`bulk pull`: bring buyers' cancellation requests into the sheet as new rows.

Amazon tells the seller when a buyer asks to cancel (searchOrders with CANCELLATION); missing
one and shipping anyway ends in a return or an A-to-z claim. Each unshipped order with a
pending request that the sheet does not hold in any row becomes one row: Order ID, the reason
whose Amazon code is BuyerCanceled, the buyer's words in Details, and Items when the buyer asked
about some lines only. The rows are then like any other: checked, READY, sent by the next
`submit` (or `due`), out of the cancellation rate. Pulling again adds nothing new.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from bulk.columns import find_header
from bulk.config import Config
from bulk.errors import ConfigError
from bulk.models import Order, OrderItem, Status
from bulk.pipeline.context import Context
from bulk.rules.rows import ParsedRow
from bulk.sheets.base import Sheet, WriteReport

DEFAULT_DAYS = 7  # how far back `bulk pull` looks for orders, by purchase date


@dataclass(frozen=True)
class PullReport:
    """What a pull found and wrote."""

    days: int
    requests: int  # unshipped orders with a pending buyer request in the window
    added: tuple[tuple[str, int], ...] = ()  # (order id, row) of each row appended
    orders: frozenset[str] = frozenset()  # the orders of those requests
    calls: Mapping[str, int] = field(default_factory=dict)
    write: WriteReport | None = None

    @property
    def already(self) -> int:
        """Requests whose order the sheet already holds."""
        return self.requests - len(self.added)


def buyer_reason(config: Config) -> str:
    """The dropdown label of the reason whose Amazon code is BuyerCanceled."""
    for reason in config.reasons:
        if reason.buyer_requested:
            return reason.label
    raise ConfigError(
        "[reasons] has no reason with the Amazon code BuyerCanceled, which rows for buyers' "
        'requests need; add one, e.g. "Buyer requested" = "BuyerCanceled"'
    )


def _open(item: OrderItem) -> bool:
    return item.quantity_ordered > item.quantity_shipped


def request_row(order: Order, reason: str) -> dict[str, str]:
    """The new row for one order's buyer request (column name -> text)."""
    lines = [item for item in order.items if _open(item)]
    asked = [item for item in lines if item.buyer_requested_cancel]
    words = "; ".join(dict.fromkeys(w for i in asked if (w := i.buyer_cancel_reason.strip())))
    details = (
        f"The buyer asked Amazon to cancel: {words}"
        if words
        else "The buyer asked Amazon to cancel (no reason given)"
    )
    row = {"Order ID": order.order_id, "Reason": reason, "Details": details}
    if len(asked) < len(lines):
        # Some lines only: name them, by SKU unless two lines share it.
        skus = Counter(item.sku.casefold() for item in order.items)
        row["Items"] = ", ".join(
            item.sku if item.sku and skus[item.sku.casefold()] == 1 else item.order_item_id
            for item in asked
        )
    return row


def request_rows(orders: Sequence[Order], reason: str) -> list[dict[str, str]]:
    """One row per order with a pending request, oldest purchase first."""
    return [request_row(order, reason) for order in orders if _asked(order)]


def _asked(order: Order) -> bool:
    return any(item.buyer_requested_cancel and _open(item) for item in order.items)


def is_requested(row: ParsedRow, requested: frozenset[str]) -> bool:
    """A row for a buyer's pending cancellation request (an order in `requested`, the buyer's
    reason) that is not sent yet: `bulk due` checks and sends it with the deferred rows."""
    return (
        row.order_id in requested
        and row.request is not None
        and row.request.reason.buyer_requested
        and row.status in (Status.NEW, Status.READY, Status.HELD)
    )


def pull(ctx: Context, sheet: Sheet, days: int = DEFAULT_DAYS) -> PullReport:
    """Append a row for every pending buyer request the sheet does not hold yet."""
    if days < 1:
        raise ConfigError(f"--days must be at least 1, not {days}")
    reason = buyer_reason(ctx.config)
    grid = sheet.read()
    header = find_header(grid)
    before = Counter(ctx.account.calls)
    ctx.progress(f"reading buyers' cancellation requests of the last {days} days")
    found = ctx.account.buyer_requests(ctx.now() - timedelta(days=days), ctx.progress)
    calls = {op: n - before[op] for op, n in ctx.account.calls.items() if n > before[op]}
    rows = request_rows(found, reason)
    if not rows:
        return PullReport(days, 0, calls=calls)
    orders = frozenset(row["Order ID"] for row in rows)
    # The write plan reads the sheet as it is then and leaves out every order it holds in any
    # row, including one a colleague typed in meanwhile (bulk.sheets.plan).
    written = sheet.write([], header, rows)
    return PullReport(days, len(rows), written.appended, orders, calls, written)
