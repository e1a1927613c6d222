"""Cell parsing and the per-row checks that need no Amazon call."""

from __future__ import annotations

import functools
import operator
import re
import sys
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from types import MappingProxyType

from bulk.columns import INPUT_COLUMNS, ResultColumn, header_key
from bulk.config import Config
from bulk.formats import parse_day
from bulk.grid import BLANK, Cell, CellKind, Grid, Header, SheetRow, column_letter
from bulk.models import (
    NOTIFY_NO_WORDS,
    NOTIFY_YES_WORDS,
    ORDER_ID_RE,
    CancelRequest,
    ItemRef,
    Reason,
    Remedy,
    Status,
    allowed_remedies,
    remedy_refused,
)
from bulk.rules.lint import MAX_MESSAGE_CHARS


@dataclass(frozen=True, slots=True)
class ParsedRow:
    """A data row: what the sheet says now, and the request it makes when it is valid."""

    row: int
    order_id: str  # as typed, trimmed ("" when blank)
    status: Status  # the status the sheet holds now
    previous: Mapping[ResultColumn, str]  # result columns as the sheet holds them now
    request: CancelRequest | None
    problems: tuple[str, ...]
    hidden: bool = False  # staff cannot see the row (hidden by hand, by a filter, in an outline)
    scheduled_for: date | None = None  # the day its Scheduled For cell holds (`with_day`)


_KIND_WORDS = {
    CellKind.NUMBER: "a number",
    CellKind.DATE: "a date",
    CellKind.BOOL: "TRUE/FALSE",
    CellKind.FORMULA: "a formula",
    CellKind.ERROR: "an error value",
}
# Read as text as they are (module constants: an enum member looked up on its class costs as much
# as the rest of a cell's check).
_PLAIN = (CellKind.BLANK, CellKind.TEXT)
_TEXT = CellKind.TEXT


def _text(cell: Cell, column: str, problems: list[str], *, also: tuple[CellKind, ...] = ()) -> str:
    """The cell as trimmed text; a problem (and "") when it holds another kind of value."""
    if cell.merged_into:
        problems.append(
            f"{column} is inside merged cells starting at {cell.merged_into}; unmerge them "
            "so each row has its own value"
        )
        return ""
    if cell.kind in _PLAIN or cell.kind in also:
        return cell.text.strip()
    shown = f" ({echo(cell.text)})" if cell.text else ""
    problems.append(f"{column} holds {_KIND_WORDS[cell.kind]}{shown}; type it as plain text")
    return ""


# The most of a bad value a message repeats: enough to find the cell, never a whole page.
ECHO_CHARS = 40


def echo(value: str) -> str:
    """A value as a message shows it: its first ECHO_CHARS characters, with invisible ones
    made visible (`<U+200B>`), and its length when it was cut."""
    shown = "".join(
        f"<U+{ord(c):04X}>" if c != " " and _invisible(c) else c for c in value[:ECHO_CHARS]
    )
    return shown if len(value) <= ECHO_CHARS else f"{shown}… ({len(value)} characters)"


def _strange_character(value: str) -> str:
    """Names the first character an order id cannot hold that is invisible or only looks
    like a digit or hyphen (U+200B, U+FEFF, U+2011...): "" when there is none."""
    if value.isascii() and value.isprintable():
        return ""  # the usual case, answered without a look at each character
    for position, char in enumerate(value, 1):
        if not (char.isascii() and char.isprintable()):
            name = unicodedata.name(char, "a control character")
            kind = "an invisible character" if _invisible(char) else "a character that is not ASCII"
            return f"{kind}, U+{ord(char):04X} {name}, at character {position}"
    return ""


def _invisible(char: str) -> bool:
    # Cf: format characters (zero-width space, BOM, joiners); Cc: controls; Z*: spaces;
    # Co and Cn: private-use and unassigned code points, which no font shows.
    return unicodedata.category(char) in ("Cf", "Cc", "Zs", "Zl", "Zp", "Co", "Cn")


# Linear in the entry's length: the spaces before a separator are taken by one `\s*` only
# ("x" must follow a space, checked by a lookbehind), never split between two repeats.
_ITEM_RE = re.compile(r"^(?P<ref>[^\s:*]+)\s*(?:(?:[:*]|(?<=\s)x)\s*(?P<qty>\S+))?$", re.IGNORECASE)


# Details stay internal (the team, the Seller Support case, the ledger), but they are stored and
# quoted there: Details longer than a whole buyer message (MAX_MESSAGE_CHARS) are rejected here,
# before any look-up spends time on the row (a 1 MB cell once took minutes).
MAX_DETAILS_CHARS = MAX_MESSAGE_CHARS
# The Note to Buyer is quoted in the customer message: short enough to leave the message room
# for the explanation in any language (docs/amazon.md, "Messaging rules").
MAX_NOTE_CHARS = 500


def parse_items(text: str) -> tuple[tuple[ItemRef, ...], list[str]]:
    """`SKU-1, 12345678901234, SKU-2 x1` -> item refs (a quantity after `x`, `:` or `*`)."""
    refs: list[ItemRef] = []
    problems: list[str] = []
    if not text:
        return (), problems
    for token in re.split(r"[,;\n]+", text):
        token = token.strip()
        if not token:
            continue
        m = _ITEM_RE.match(token)
        if not m:
            problems.append(
                f"Items entry '{echo(token)}' is not a SKU or order item id; "
                "separate entries with commas, e.g. 'MUG-RED, MUG-BLUE x1'"
            )
            continue
        qty_text = m.group("qty")
        quantity: int | None = None
        if qty_text is not None:
            # Not str.isdigit(): it is true for "²", which int() refuses.
            if not re.fullmatch(r"[0-9]+", qty_text) or int(qty_text) == 0:
                problems.append(
                    f"Items entry '{echo(token)}' has quantity '{echo(qty_text)}'; use a whole number "
                    "of at least 1, e.g. 'MUG-RED x1'"
                )
                continue
            quantity = int(qty_text)
        refs.append(ItemRef(m.group("ref"), quantity))
    return tuple(refs), problems


_REMEDIES = {header_key(r.value): r for r in Remedy} | {"norefund": Remedy.NONE, "": Remedy.REFUND}
_STATUSES = {s.value: s for s in Status}
_STATUS, _NEW = ResultColumn.STATUS, Status.NEW
# The result columns of every row of a sheet that has none yet (its first check): one empty,
# read-only mapping for all of them rather than an empty dictionary each (100,000 rows: 6 MB).
_NONE: Mapping[ResultColumn, str] = MappingProxyType({})
_YES = NOTIFY_YES_WORDS
_NO = NOTIFY_NO_WORDS


def reason_lookup(reasons: Sequence[Reason]) -> dict[str, Reason]:
    """Labels and Amazon codes, matched like headers; a bare code maps to its first label.

    Only the configured reasons: a code the team left out of [reasons] is not accepted.
    """
    table: dict[str, Reason] = {}
    for reason in reasons:
        table.setdefault(header_key(reason.label), reason)
    for reason in reasons:
        table.setdefault(header_key(reason.code), reason)
    return table


def parse_rows(grid: Grid, header: Header, config: Config) -> list[ParsedRow]:
    """Every non-blank row below the header, checked; duplicates name the first row."""
    rules = _Rules(
        config, reason_lookup(config.reasons), ", ".join(r.label for r in config.reasons), {}, {}
    )
    parsed: list[ParsedRow] = []
    input_indexes = [i for name, i in header.columns.items() if name in INPUT_COLUMNS]
    # Where each column is, found once for the sheet.
    at = _Columns(
        {name: index for name in INPUT_COLUMNS if (index := header.index(name)) is not None},
        _result_indexes(header),
    )
    id_index = at.inputs.get(_PER_ROW, sys.maxsize)
    for row in grid.rows:
        if row.number <= header.row:
            continue
        cells = row.cells
        id_cell = cells[id_index] if id_index < len(cells) else BLANK
        # A row with an order id is not blank: the other cells need no look.
        typed = id_cell.kind is _TEXT and id_cell.text.strip()
        if not typed and all(row.cell(i).blank for i in input_indexes):
            continue
        checked = _parse_row(row, id_cell, at, rules)
        parsed.append(with_day(checked, at, grid.locale) if at.scheduled else checked)
    return parsed


def with_day(row: ParsedRow, at: _Columns, locale: str) -> ParsedRow:
    """The row with the day its Scheduled For holds, in any common form (bulk.formats.parse_day;
    the sheet's locale, when known, tells 12/7 apart). A DEFERRED row whose day cannot be read is
    a problem naming the cell: it is never skipped without a word."""
    text = row.previous.get(ResultColumn.SCHEDULED_FOR, "").strip()
    if not text:
        return row
    day = parse_day(text, locale)
    if day is not None or row.status is not Status.DEFERRED:
        return replace(row, scheduled_for=day)
    column = dict(at.results)[ResultColumn.SCHEDULED_FOR]
    problem = (
        f"Scheduled For '{echo(text)}' (cell {column_letter(column)}{row.row}) is not a date; "
        "write the day as 2026-03-07 (year-month-day), or clear the Status to check the row again"
    )
    return replace(row, problems=(*row.problems, problem), request=None)


@dataclass(frozen=True)
class _Columns:
    """The input columns' indexes by name, and the result columns the sheet has."""

    inputs: dict[str, int]
    results: list[tuple[ResultColumn, int]]

    def cell(self, row: SheetRow, name: str) -> Cell:
        index = self.inputs.get(name)
        return row.cell(index) if index is not None else BLANK

    @functools.cached_property
    def by_value(self) -> tuple[str, ...]:
        """The `_BY_VALUE` columns the sheet has, in order (a column it lacks is blank on every
        row: it changes nothing from row to row)."""
        return tuple(name for name in _BY_VALUE if name in self.inputs)

    @functools.cached_property
    def pick(self) -> Callable[[tuple[Cell, ...]], tuple[Cell, ...]]:
        """A row's cells of the `by_value` columns, from a row long enough to hold them all."""
        indexes = [self.inputs[name] for name in self.by_value]
        if len(indexes) == 1:
            (only,) = indexes
            return lambda cells: (cells[only],)
        return operator.itemgetter(*indexes) if indexes else lambda cells: ()

    @functools.cached_property
    def width(self) -> int:
        """How many cells a row holds for `pick` to reach all of them."""
        return 1 + max((self.inputs[name] for name in self.by_value), default=-1)

    @functools.cached_property
    def scheduled(self) -> bool:
        """Whether the sheet has a Scheduled For column (`with_day` has a day to read)."""
        return any(name is ResultColumn.SCHEDULED_FOR for name, _ in self.results)


def _result_indexes(header: Header) -> list[tuple[ResultColumn, int]]:
    """The result columns the sheet has, with their indexes."""
    found = [(name, header.index(name)) for name in ResultColumn]
    return [(name, index) for name, index in found if index is not None]


@dataclass(frozen=True, slots=True)
class _Rules:
    """What every row is checked against: the sheet's settings, and the orders seen so far."""

    config: Config
    reasons: dict[str, Reason]  # reason_lookup
    labels: str  # the configured reasons, as a message lists them
    first_row_of: dict[str, int]  # each order id's first row (filled as the rows are checked)
    # What the `_BY_VALUE` checks found, by the values of their cells (`_found`).
    found: dict[tuple[tuple[str, CellKind, str], ...], _Found]


@dataclass(slots=True)
class _Draft:
    """What a row's checks found so far; a later column's check may read an earlier one's."""

    row: int
    notify: bool  # the configured default until the Notify cell says otherwise
    order_id: str = ""
    reason: Reason | None = None
    details: str = ""
    items: tuple[ItemRef, ...] = ()
    remedy: Remedy | None = None
    explicit: bool = False  # the Notify cell said Yes or No
    note: str = ""


def _order_id(cell: Cell, draft: _Draft, rules: _Rules) -> list[str]:
    draft.order_id, problems = _check_order_id(cell, draft.row, rules)
    return problems


def _check_order_id(cell: Cell, row: int, rules: _Rules) -> tuple[str, list[str]]:
    """The row's order id as typed (trimmed), and its problems."""
    if cell.kind is _TEXT and not cell.merged_into:
        order_id = cell.text.strip()
        if ORDER_ID_RE.match(order_id):  # the usual cell: digits and dashes only, well formed
            return order_id, _repeated(order_id, row, rules)
    problems: list[str] = []
    order_id = _text(cell, "Order ID", problems)
    if problems:
        # Not plain text: keep what the cell shows, so the result is written on this row.
        order_id = "" if cell.merged_into else cell.text.strip()
    elif not order_id:
        problems.append(
            "Order ID is missing; copy it from Seller Central, e.g. 112-1234567-1234567"
        )
    elif strange := _strange_character(order_id):
        problems.append(
            f"Order ID '{echo(order_id)}' holds {strange}; retype the id, or paste it as "
            "plain text (e.g. 112-1234567-1234567)"
        )
    elif not ORDER_ID_RE.match(order_id):
        problems.append(
            f"Order ID '{echo(order_id)}' is not an Amazon order id; it looks like "
            "112-1234567-1234567 (3, 7 and 7 digits)"
        )
    else:
        problems = _repeated(order_id, row, rules)
    return order_id, problems


def _repeated(order_id: str, row: int, rules: _Rules) -> list[str]:
    """The problem of an order id an earlier row holds; else it is this row's from now on."""
    first = rules.first_row_of.setdefault(order_id, row)
    if first == row:
        return []
    return [
        f"order {order_id} is already on row {first}; delete this row or merge its details "
        "into that one"
    ]


def _reason(cell: Cell, draft: _Draft, rules: _Rules) -> list[str]:
    problems: list[str] = []
    text = _text(cell, "Reason", problems)
    draft.reason = rules.reasons.get(header_key(text)) if text else None
    if problems:
        pass  # not plain text: that problem says it
    elif not text:
        problems.append(f"Reason is missing; pick one of: {rules.labels}")
    elif draft.reason is None:
        problems.append(f"Reason '{echo(text)}' is not in the list; pick one of: {rules.labels}")
    return problems


def _details(cell: Cell, draft: _Draft, rules: _Rules) -> list[str]:
    problems: list[str] = []
    details = draft.details = _text(cell, "Details", problems)
    minimum = rules.config.policy.min_details_chars
    if len(details) < minimum and not problems:
        got = f"is too short ({len(details)} characters)" if details else "is missing"
        problems.append(f"Details {got}; say why in at least {minimum} characters")
    elif len(details) > MAX_DETAILS_CHARS:
        problems.append(
            f"Details is {len(details):,} characters, more than Amazon allows for a whole buyer "
            f"message ({MAX_DETAILS_CHARS:,} characters); shorten it"
        )
    return problems


def _items(cell: Cell, draft: _Draft, rules: _Rules) -> list[str]:
    problems: list[str] = []
    # Excel stores a 14-digit order item id typed into a cell as a number: it is exact.
    text = _text(cell, "Items", problems, also=(CellKind.NUMBER,))
    draft.items, item_problems = parse_items(text)
    return problems + item_problems


def _remedy(cell: Cell, draft: _Draft, rules: _Rules) -> list[str]:
    """The Remedy, and whether it goes with the Reason (checked before it, in `_CHECKS`)."""
    problems: list[str] = []
    text = _text(cell, "Remedy", problems)
    remedy = draft.remedy = _REMEDIES.get(header_key(text))
    reason = draft.reason
    if remedy is None and not problems:
        problems.append(f"Remedy '{echo(text)}' is unknown; use Refund, Replacement or None")
    elif remedy is not None and reason is not None and (why := remedy_refused(reason.code, remedy)):
        others = " or ".join(r.value for r in allowed_remedies(reason.code))
        problems.append(
            f"Remedy {remedy.value} does not go with reason '{reason.label}': {why}; use {others}"
        )
    return problems


def _note(cell: Cell, draft: _Draft, rules: _Rules) -> list[str]:
    problems: list[str] = []
    note = draft.note = _text(cell, "Note to Buyer", problems)
    if len(note) > MAX_NOTE_CHARS and not problems:
        problems.append(
            f"Note to Buyer is {len(note):,} characters; the message quotes at most "
            f"{MAX_NOTE_CHARS} (shorten it, or leave it blank)"
        )
    return problems


def _notify(cell: Cell, draft: _Draft, rules: _Rules) -> list[str]:
    problems: list[str] = []
    # Excel turns a typed "true" or "1" into TRUE or a number: read them as Yes and No.
    text = _text(cell, "Notify", problems, also=(CellKind.BOOL, CellKind.NUMBER)).lower()
    draft.explicit = text in _YES or text in _NO
    if text in _YES:
        draft.notify = True
    elif text in _NO:
        draft.notify = False
    elif text:
        problems.append(
            f"Notify '{echo(cell.text.strip())}' is unknown; use Yes or No (blank: the default)"
        )
    return problems


# One check per input column, in the order a row's problems are listed: each reads its cell,
# notes what it found on the draft and returns its problems. A new column is one more entry.
_CHECKS: dict[str, Callable[[Cell, _Draft, _Rules], list[str]]] = {
    "Order ID": _order_id,
    "Reason": _reason,
    "Details": _details,
    "Items": _items,
    "Remedy": _remedy,  # after Reason: the remedy must go with the reason
    "Note to Buyer": _note,
    "Notify": _notify,
}


# The checks after Order ID read nothing but their own cells and the run's settings: not the
# row's number, not other rows. A sheet repeats the same few reasons, details, remedies and
# Notify words row after row, so what they find is remembered by the values of their cells
# (`_found`), and a row holding the same values gets the very same findings. Order ID is checked
# on every row: each row has its own, and a repeat names the row where it first appeared.
_PER_ROW = "Order ID"
_BY_VALUE = tuple(column for column in _CHECKS if column != _PER_ROW)
# Enough for the distinct rows of any real sheet; rows past it are checked without remembering.
MAX_REMEMBERED = 4096
# What a check reads of a cell: all that a row's findings are remembered by.
_CELL_VALUE = operator.attrgetter("text", "kind", "merged_into")


@dataclass(frozen=True, slots=True)
class _Found:
    """What the `_BY_VALUE` checks found in one set of cell values: the draft's fields they set,
    and their problems in `_CHECKS` order."""

    reason: Reason | None
    details: str
    items: tuple[ItemRef, ...]
    remedy: Remedy | None
    notify: bool
    explicit: bool
    note: str
    problems: tuple[str, ...]


def _found(row: SheetRow, at: _Columns, rules: _Rules) -> _Found:
    """The `_BY_VALUE` checks of one row's cells (in that order), remembered by their values."""
    cells = row.cells
    mine = at.pick(cells) if len(cells) >= at.width else tuple(at.cell(row, c) for c in at.by_value)
    key = tuple(map(_CELL_VALUE, mine))
    found = rules.found.get(key)
    if found is None:
        draft = _Draft(0, rules.config.messages.notify)
        problems: list[str] = []
        for column in _BY_VALUE:
            problems.extend(_CHECKS[column](at.cell(row, column), draft, rules))
        found = _Found(
            draft.reason,
            draft.details,
            draft.items,
            draft.remedy,
            draft.notify,
            draft.explicit,
            draft.note,
            tuple(problems),
        )
        if len(rules.found) < MAX_REMEMBERED:
            rules.found[key] = found
    return found


def _parse_row(row: SheetRow, id_cell: Cell, at: _Columns, rules: _Rules) -> ParsedRow:
    previous = {name: row.cell(index).text for name, index in at.results} if at.results else _NONE
    status = _STATUSES.get(previous.get(_STATUS, "").strip().upper(), _NEW) if previous else _NEW
    order_id, problems = _check_order_id(id_cell, row.number, rules)
    found = _found(row, at, rules)
    request = None
    if found.problems:
        problems = [*problems, *found.problems]
    elif not problems and found.reason is not None and found.remedy is not None:
        request = CancelRequest(
            row.number,
            order_id,
            found.reason,
            found.details,
            found.items,
            found.remedy,
            found.notify,
            found.explicit,
            found.note,
        )
    return ParsedRow(row.number, order_id, status, previous, request, tuple(problems), row.hidden)
