"""The header vocabulary: column names, their aliases, and which row of a sheet is the header."""

from __future__ import annotations

from enum import StrEnum

from bulk.errors import SheetError
from bulk.formats import listed, plural
from bulk.grid import CellKind, Grid, Header, SheetRow, per_short_text

__all__ = [
    "COLUMN_WIDTHS",
    "INPUT_COLUMNS",
    "REQUIRED_COLUMNS",
    "RESULT_COLUMNS",
    "WRAPPED_COLUMNS",
    "Header",
    "ResultColumn",
    "column_name",
    "current_header",
    "find_header",
    "header_key",
    "header_of",
    "is_order_id_header",
]


@per_short_text  # every row's Reason and Remedy go through here
def header_key(text: str) -> str:
    """Headers (and reasons) match case-, space- and punctuation-insensitively.

    Letters of every script count: "在庫切れ" and "住所不明" must stay two labels.
    """
    return "".join(c for c in text.casefold() if c.isalnum())


INPUT_COLUMNS: tuple[str, ...] = (
    "Order ID",
    "Reason",
    "Details",
    "Items",
    "Remedy",
    "Notify",
    "Note to Buyer",
)
REQUIRED_COLUMNS: tuple[str, ...] = ("Order ID", "Reason", "Details")


class ResultColumn(StrEnum):
    """The result columns, in the order they are appended; a row's values are keyed by them."""

    STATUS = "Status"
    RESULT = "Result"
    SCHEDULED_FOR = "Scheduled For"
    FEED_ID = "Feed ID"
    UPDATED_AT = "Updated At"
    CUSTOMER_MESSAGE = "Customer Message"
    MESSAGE_STATUS = "Message Status"
    SUPPORT_CASE = "Support Case"


# Their titles, as plain text.
RESULT_COLUMNS: tuple[str, ...] = tuple(column.value for column in ResultColumn)

# How wide each column is shown (in characters), in `bulk new`'s sheet and when bulk adds the
# column to a team's sheet; the columns whose text runs to several lines are wrapped.
COLUMN_WIDTHS: dict[str, int] = {
    "Order ID": 22,
    "Reason": 24,
    "Details": 48,
    "Items": 26,
    "Remedy": 14,
    "Notify": 10,
    "Note to Buyer": 48,
    "Status": 12,
    "Result": 70,
    "Scheduled For": 14,
    "Feed ID": 16,
    "Updated At": 20,
    "Customer Message": 70,
    "Message Status": 28,
    "Support Case": 70,
}
WRAPPED_COLUMNS: tuple[str, ...] = (
    "Details",
    "Note to Buyer",
    "Result",
    "Customer Message",
    "Support Case",
)

_ALIASES: dict[str, tuple[str, ...]] = {
    "Order ID": ("order id", "AmazonOrderId", "amazon order id", "order number", "order no"),
    "Reason": ("reason", "cancel reason", "cancellation reason", "CancelReason"),
    "Details": ("details", "detail", "notes", "note", "explanation", "comment", "comments"),
    "Items": ("items", "item", "skus", "sku", "order item ids", "order items"),
    "Remedy": ("remedy", "resolution"),
    "Notify": ("notify", "notify buyer", "notify customer", "message customer", "send message"),
    # Not "note" or "message": those name Details and Customer Message.
    "Note to Buyer": (
        "note to buyer",
        "note for buyer",
        "buyer note",
        "note to customer",
        "note for customer",
        "customer note",
        "message to buyer",
    ),
    "Status": ("status",),
    "Result": ("result", "results"),
    "Scheduled For": ("scheduled for", "scheduled"),
    "Feed ID": ("feed id", "feedid"),
    "Updated At": ("updated at", "updated"),
    "Customer Message": ("customer message", "message"),
    "Message Status": ("message status",),
    "Support Case": ("support case", "seller support case"),
}
_BY_KEY: dict[str, str] = {
    header_key(alias): name for name, aliases in _ALIASES.items() for alias in (name, *aliases)
}
_EXACT: dict[str, str] = {header_key(name): name for name in _ALIASES}

# How far down a sheet the header is looked for when choosing among worksheets.
HEADER_SEARCH_ROWS = 50


def column_name(text: str) -> str | None:
    """The canonical column a header cell names ("order-id" -> "Order ID"), or None."""
    return _BY_KEY.get(header_key(text))


def is_order_id_header(text: str) -> bool:
    return column_name(text) == "Order ID"


def has_order_id_header(row: SheetRow) -> bool:
    return any(c.kind is CellKind.TEXT and is_order_id_header(c.text) for c in row.cells)


def _columns(row: SheetRow) -> dict[str, int]:
    keys = [header_key(c.text) if c.kind is CellKind.TEXT else "" for c in row.cells]
    columns: dict[str, int] = {}
    # A column named exactly wins over an alias anywhere in the row: with "Notes" left
    # of "Details", Details is the column to read.
    for index, key in enumerate(keys):
        exact = _EXACT.get(key)
        if exact and exact not in columns:
            columns[exact] = index
    for index, key in enumerate(keys):
        name = _BY_KEY.get(key) if key else None
        if name and name not in columns:
            columns[name] = index
    return columns


def header_of(row: SheetRow) -> Header | None:
    """The row as a header when it names Order ID and every other required column."""
    columns = _columns(row)
    if all(name in columns for name in REQUIRED_COLUMNS):
        return Header(row.number, columns)
    return None


def find_header(grid: Grid) -> Header:
    """The first row that names Order ID together with the other required columns.

    A title or notes row above the table that merely mentions an order number is passed
    over; when no row is complete, the message names the nearest candidates.
    """
    partial: list[tuple[SheetRow, list[str]]] = []
    for row in grid.rows:
        columns = _columns(row)
        if "Order ID" not in columns:
            continue
        missing = [name for name in REQUIRED_COLUMNS if name not in columns]
        if not missing:
            return Header(row.number, columns)
        partial.append((row, missing))
    if partial:
        row, missing = max(partial, key=lambda p: (-len(p[1]), -p[0].number))
        names = listed([f"'{m}'" for m in missing])
        others = [str(r.number) for r, _ in partial if r is not row]
        also = (
            f"; {plural(len(others), 'row')} {', '.join(others[:3])} also "
            f"mention{'' if len(others) > 1 else 's'} an order id"
            if others
            else ""
        )
        raise SheetError(
            f"{plural(len(missing), 'column')} {names} {plural(len(missing), 'is')} missing in "
            f"sheet '{grid.name}' (header row {row.number}{also}); add "
            f"{plural(len(missing), 'it', 'them')} or run `bulk new FILE.xlsx` for a template"
        )
    if not any(not r.blank for r in grid.rows):
        raise SheetError(
            f"sheet '{grid.name}' is empty; add a header row with Order ID, Reason and Details "
            "or run `bulk new FILE.xlsx` for a template"
        )
    raise SheetError(
        f"no header row with an 'Order ID' column in sheet '{grid.name}'; "
        "add one or run `bulk new FILE.xlsx` for a template"
    )


def current_header(grid: Grid, header: Header | None) -> Header:
    """The header found when the sheet was read, while its row, read again, still names the
    same columns; else the header of the sheet as it is now."""
    if header is not None:
        row = next((r for r in grid.rows if r.number == header.row), None)
        now = header_of(row) if row is not None else None
        if now is not None and all(now.columns.get(n) == i for n, i in header.columns.items()):
            return header
    return find_header(grid)
