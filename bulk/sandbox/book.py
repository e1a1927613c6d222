"""The sandbox's order book: loading the JSON file, validating it, resolving `-3h` offsets."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

from bulk import marketplaces
from bulk.errors import ConfigError, closest
from bulk.infra.heap import long_lived
from bulk.models import ORDER_ID_RE, ORDER_ITEM_ID_RE
from bulk.sandbox import clock

_T = TypeVar("_T")

# OrderStatus enum of the Orders API v0 (docs/amazon.md, "Orders API").
ORDER_STATUSES: tuple[str, ...] = (
    "Pending",
    "Unshipped",
    "PartiallyShipped",
    "Shipped",
    "Canceled",
    "Unfulfillable",
    "InvoiceUnconfirmed",
    "PendingAvailability",
)
CHANNELS: tuple[str, ...] = ("MFN", "AFN")

# Message kinds a seller can send (the POST operations of Amazon's Messaging API).
MESSAGE_KINDS: tuple[str, ...] = (
    "confirmCustomizationDetails",
    "confirmDeliveryDetails",
    "legalDisclosure",
    "confirmOrderDetails",
    "confirmServiceDetails",
    "warranty",
    "digitalAccessKey",
    "unexpectedProblem",
    "invoice",
)

# What a fault may answer, and the non-API endpoints it may also hit when listed.
# "429-empty": a throttled answer with no body, which python-amazon-sp-api would take for an
# empty success (docs/amazon.md, "Rate limits"); clients must look at the status code.
# The "lost-" answers come *after* the sandbox did the work, as when a network or a gateway
# fails on the way back: the connection is reset, a gateway answers 504, the server 500, or
# no answer comes until the client gives up ("lost-hang").
# "interrupt": a Ctrl-C while the call is on its way. The sandbox, serving in the client's own
# process (`bulk` with target sandbox), sends that process SIGINT once the request has arrived,
# then answers late: the interruption always lands while the client waits for the answer.
LOST_ANSWERS: tuple[str, ...] = ("lost-reset", "lost-504", "lost-500", "lost-hang")
_PLAIN_FAULTS = ("429", "429-empty", "500", "503", "slow", "interrupt")
FAULT_ANSWERS: tuple[str, ...] = (*_PLAIN_FAULTS, *LOST_ANSWERS)
FAULT_TARGETS: tuple[str, ...] = ("token", "upload", "download")

DEFAULT_PRICE = Decimal("19.99")
# Amazon's default handling time: an order is due to ship within two days of purchase.
DEFAULT_HANDLING = timedelta(days=2)
_LOCALE_RE = re.compile(r"^[a-z]{2,3}[_-][A-Z]{2}$")


@dataclass(frozen=True)
class BookItem:
    """One order line as the book describes it."""

    id: str
    sku: str
    title: str
    qty: int
    shipped: int = 0
    buyer_requested_cancel: bool = False
    buyer_cancel_reason: str = ""
    price: Decimal = DEFAULT_PRICE  # per unit, in the marketplace's currency
    asin: str = ""


@dataclass(frozen=True)
class BookOrder:
    """One order as the book describes it, before anything the sandbox did to it."""

    id: str
    status: str
    channel: str
    purchased: datetime
    locale: str
    items: tuple[BookItem, ...]
    messaging: tuple[str, ...] = MESSAGE_KINDS
    # The marketplace the order was placed in: the book's unless the entry names another of
    # the same region.
    marketplace_id: str = ""
    # The latest ship date (v0 LatestShipDate, v2026 fulfillment.shipByWindow.latestDateTime);
    # None: the default, purchase + DEFAULT_HANDLING.
    ship_by: datetime | None = None
    # The order's JSON entry, kept to compute `fingerprint` only when a cancellation needs it.
    raw: Any = field(default=None, compare=False, repr=False)

    @cached_property
    def fingerprint(self) -> str:
        """Hash of the order's JSON entry: a cancellation made on another version is dropped."""
        return hashlib.sha256(
            json.dumps(self.raw, sort_keys=True, separators=(",", ":")).encode("utf-8")
        ).hexdigest()

    @property
    def latest_ship(self) -> datetime:
        """The latest ship date Amazon gives the order."""
        return self.ship_by if self.ship_by is not None else self.purchased + DEFAULT_HANDLING

    def item(self, item_id: str) -> BookItem | None:
        return next((item for item in self.items if item.id == item_id), None)

    def status_with(self, cancelled: Collection[str]) -> str:
        """The OrderStatus once the sandbox cancelled the lines in `cancelled`.

        Every line cancelled makes the order Canceled; a partly cancelled order keeps its status.
        """
        if cancelled and all(item.id in cancelled for item in self.items):
            return "Canceled"
        return self.status


@dataclass(frozen=True)
class Performance:
    """The account's figures before the sandbox started cancelling (seller performance report)."""

    orders_last_7_days: int = 0
    seller_cancels_last_7_days: int = 0


@dataclass(frozen=True)
class Faults:
    """Random failures to inject, seeded so a run can be repeated."""

    rate: float = 0.0
    kinds: tuple[str, ...] = ("429", "500", "503")
    seed: int = 0
    # Only these operations fail (e.g. ["createFeed"]); empty: every API operation, and the
    # token, upload and download endpoints named in `kinds`.
    operations: tuple[str, ...] = ()
    limit: int = 0  # at most this many faults in all; 0: no limit
    hang_seconds: float = 300.0  # how long "lost-hang" holds the connection (until stop)

    @property
    def answers(self) -> tuple[str, ...]:
        return tuple(kind for kind in self.kinds if kind in FAULT_ANSWERS)

    @property
    def targets(self) -> tuple[str, ...]:
        return ("api", *(kind for kind in self.kinds if kind in FAULT_TARGETS))


@dataclass(frozen=True)
class Book:
    """A whole order book: the seller, the orders and how the marketplace behaves."""

    path: Path
    sha256: str
    seller_id: str
    marketplace_id: str
    orders: tuple[BookOrder, ...]
    performance: Performance = field(default_factory=Performance)
    feed_polls: int = 2
    report_polls: int = 1
    enforce_rate_limits: bool = False
    time_scale: float = 1.0
    faults: Faults = field(default_factory=Faults)
    compress_reports: bool = False

    @cached_property
    def _by_id(self) -> dict[str, BookOrder]:
        return {order.id: order for order in self.orders}

    def order(self, order_id: str) -> BookOrder | None:
        return self._by_id.get(order_id)


_TOP_KEYS = (
    "seller_id",
    "marketplace_id",
    "performance",
    "orders",
    "feed_polls",
    "report_polls",
    "enforce_rate_limits",
    "time_scale",
    "faults",
    "compress_reports",
)
_ORDER_KEYS = (
    "id",
    "status",
    "channel",
    "purchased",
    "locale",
    "items",
    "messaging",
    "marketplace_id",
    "ship_by",
)
_ITEM_KEYS = (
    "id",
    "sku",
    "title",
    "qty",
    "shipped",
    "buyer_requested_cancel",
    "buyer_cancel_reason",
    "price",
    "asin",
)


def _hint(key: str, known: tuple[str, ...]) -> str:
    close = closest(key, known)
    if close:
        return f"did you mean '{close}'?"
    return "known keys: " + ", ".join(known)


class _Reader:
    """Reads typed fields out of one JSON object and names the spot in every error."""

    def __init__(self, raw: Any, where: str, known: tuple[str, ...]) -> None:
        if not isinstance(raw, Mapping):
            raise ConfigError(f"{where} must be a JSON object")
        for key in raw:
            if key not in known:
                raise ConfigError(f"{where}: unknown key '{key}'; {_hint(str(key), known)}")
        self.raw = raw
        self.where = where

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.where}: '{key}' {problem}")

    def text(self, key: str, default: str | None = None) -> str:
        value = self.raw.get(key, default)
        if value is None:
            raise self.fail(key, "is missing")
        if not isinstance(value, str):
            raise self.fail(key, f"must be a string, not {value!r}")
        return value

    def integer(self, key: str, default: int, minimum: int = 0) -> int:
        value = self.raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, f"must be a whole number, not {value!r}")
        if value < minimum:
            raise self.fail(key, f"must be at least {minimum}, not {value}")
        return value

    def number(self, key: str, default: float) -> float:
        value = self.raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(key, f"must be a number, not {value!r}")
        return float(value)

    def flag(self, key: str, default: bool) -> bool:
        value = self.raw.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(key, f"must be true or false, not {value!r}")
        return value

    def names(self, key: str) -> tuple[str, ...]:
        value = self.raw.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(key, f"must be a list of strings, not {value!r}")
        return tuple(value)

    def strings(
        self, key: str, default: tuple[str, ...], allowed: tuple[str, ...]
    ) -> tuple[str, ...]:
        value = self.raw.get(key, list(default))
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(key, f"must be a list of strings, not {value!r}")
        for v in value:
            if v not in allowed:
                raise self.fail(key, f"has unknown value '{v}'; {_hint(v, allowed)}")
        return tuple(value)


def resolve_purchased(value: str, now: datetime) -> datetime | None:
    """`-3h`, `-2d`, `-90m` from `now`, or an ISO-8601 timestamp with an offset."""
    return clock.resolve(value, now)


def _ship_by(r: _Reader, now: datetime, purchased: datetime) -> datetime | None:
    if "ship_by" not in r.raw:
        return None
    ship_by = clock.resolve(raw := r.text("ship_by"), now, ahead=True)
    if ship_by is None or ship_by < purchased:
        raise r.fail(
            "ship_by",
            f"{raw!r} is not a time after the purchase: an offset like +2d, -3h, +90m or an "
            "ISO-8601 time with a UTC offset (e.g. 2026-03-03T09:30:00Z)",
        )
    return ship_by


def _asin(sku: str) -> str:
    # A stable made-up ASIN (B0 + 8 characters), so the same SKU always shows the same ASIN.
    digest = hashlib.sha256(sku.encode("utf-8")).hexdigest().upper()
    return "B0" + digest[:8]


def _item(raw: Any, where: str) -> BookItem:
    r = _Reader(raw, where, _ITEM_KEYS)
    item_id = r.text("id")
    if not ORDER_ITEM_ID_RE.match(item_id):
        raise r.fail("id", f"must be a 14-digit order item id, not {item_id!r}")
    qty = r.integer("qty", 1, minimum=1)
    shipped = r.integer("shipped", 0)
    if shipped > qty:
        raise r.fail("shipped", f"is {shipped}, more than qty {qty}")
    price_raw = r.raw.get("price", str(DEFAULT_PRICE))
    try:
        price = Decimal(str(price_raw))
    except InvalidOperation:
        raise r.fail("price", f"must be a number, not {price_raw!r}") from None
    if isinstance(price_raw, bool) or not price.is_finite() or price < 0:
        raise r.fail("price", f"must be a number of at least 0, not {price_raw!r}")
    sku = r.text("sku")
    return BookItem(
        id=item_id,
        sku=sku,
        title=r.text("title"),
        qty=qty,
        shipped=shipped,
        buyer_requested_cancel=r.flag("buyer_requested_cancel", False),
        buyer_cancel_reason=r.text("buyer_cancel_reason", ""),
        price=price.quantize(Decimal("0.01")),
        asin=r.text("asin", "") or _asin(sku),
    )


def _marketplace(r: _Reader, home: str | None) -> str:
    """The `marketplace_id` of the book (`home` None; US when left out) or of an order (`home`:
    the book's, whose region the order's must share)."""
    value = r.text("marketplace_id", marketplaces.BY_CODE["US"].marketplace_id)
    found = marketplaces.by_id(value)
    if found is None:
        by_code = marketplaces.by_code(value)
        hint = (
            f"{by_code.code} is {by_code.marketplace_id}"
            if by_code is not None
            else "e.g. ATVPDKIKX0DER for US, A1PA6795UKMFR9 for DE"
        )
        raise r.fail("marketplace_id", f"{value!r} is not an Amazon marketplace id ({hint})")
    if home is not None:
        book = marketplaces.by_id(home)
        assert book is not None  # the book's own id was checked first
        if found.region != book.region:
            raise r.fail(
                "marketplace_id",
                f"{value!r} is {found.code}, in region {found.region}; the book's marketplace "
                f"{book.code} is in {book.region}, and one seller account serves one region",
            )
    return value


def _order(raw: Any, where: str, now: datetime, home: str) -> BookOrder:
    r = _Reader(raw, where, _ORDER_KEYS)
    order_id = r.text("id")
    if not ORDER_ID_RE.match(order_id):
        raise r.fail("id", f"must be an Amazon order id like 112-0000001-0000001, not {order_id!r}")
    where = f"{where} ({order_id})"
    r.where = where
    status = r.text("status")
    if status not in ORDER_STATUSES:
        raise r.fail(
            "status",
            f"'{status}' is not an Orders API OrderStatus; {_hint(status, ORDER_STATUSES)}",
        )
    channel = r.text("channel", "MFN")
    if channel not in CHANNELS:
        raise r.fail("channel", f"must be MFN or AFN, not {channel!r}")
    purchased_raw = r.text("purchased")
    purchased = resolve_purchased(purchased_raw, now)
    if purchased is None:
        raise r.fail(
            "purchased",
            f"{purchased_raw!r} is neither an offset like -3h, -2d, -90m nor an ISO-8601 time "
            "with a UTC offset (e.g. 2026-03-01T09:30:00Z)",
        )
    locale = r.text("locale", "en_US")
    if not _LOCALE_RE.match(locale):
        raise r.fail("locale", f"must look like en_US or de_DE, not {locale!r}")
    raw_items = r.raw.get("items")
    if not isinstance(raw_items, list) or not raw_items:
        raise r.fail("items", "must be a non-empty list of order lines")
    items = tuple(_item(item, f"{where} items[{i}]") for i, item in enumerate(raw_items))
    _check_shipping(status, items, r)
    if status == "Shipped":
        # A shipped order shipped every unit unless the book says otherwise.
        items = tuple(
            item if "shipped" in raw_items[i] else replace(item, shipped=item.qty)
            for i, item in enumerate(items)
        )
    return BookOrder(
        id=order_id,
        status=status,
        channel=channel,
        purchased=purchased,
        locale=locale,
        items=items,
        messaging=r.strings("messaging", MESSAGE_KINDS, MESSAGE_KINDS),
        # Most entries name no marketplace: skip the call for them.
        marketplace_id=_marketplace(r, home) if "marketplace_id" in r.raw else home,
        ship_by=_ship_by(r, now, purchased),
        raw=raw,
    )


def _check_shipping(status: str, items: tuple[BookItem, ...], r: _Reader) -> None:
    shipped = [item for item in items if item.shipped]
    if shipped and status not in ("PartiallyShipped", "Shipped"):
        raise r.fail(
            "status",
            f"is {status} but item {shipped[0].id} has shipped units; "
            "use PartiallyShipped or Shipped, or remove 'shipped'",
        )
    if status == "PartiallyShipped" and not shipped:
        raise r.fail("status", "is PartiallyShipped but no item has 'shipped' units; add them")


def parse_book(data: Any, path: Path, sha256: str, now: datetime) -> Book:
    """Validate a decoded order book; `now` resolves the `-3h` style purchase times."""
    where = str(path)
    r = _Reader(data, where, _TOP_KEYS)
    marketplace_id = _marketplace(r, None)
    raw_orders = r.raw.get("orders")
    if not isinstance(raw_orders, list):
        raise r.fail("orders", "must be a list of orders")
    quick = _QuickOrders(now, marketplace_id)
    orders = tuple(
        quick.order(raw) or _order(raw, f"{where}: orders[{i}]", now, marketplace_id)
        for i, raw in enumerate(raw_orders)
    )
    _check_unique(orders, where)
    perf = _Reader(
        r.raw.get("performance", {}),
        f"{where}: performance",
        tuple(f.name for f in fields(Performance)),
    )
    faults = _Reader(
        r.raw.get("faults", {}), f"{where}: faults", tuple(f.name for f in fields(Faults))
    )
    rate = faults.number("rate", 0.0)
    if not 0 <= rate <= 1:
        raise faults.fail("rate", f"must be between 0 and 1, not {rate}")
    time_scale = r.number("time_scale", 1.0)
    if time_scale <= 0:
        raise r.fail("time_scale", f"must be above 0, not {time_scale}")
    return Book(
        path=path,
        sha256=sha256,
        seller_id=r.text("seller_id", "A1SANDBOXSELLER"),
        marketplace_id=marketplace_id,
        orders=orders,
        performance=Performance(
            orders_last_7_days=perf.integer("orders_last_7_days", 0),
            seller_cancels_last_7_days=perf.integer("seller_cancels_last_7_days", 0),
        ),
        feed_polls=r.integer("feed_polls", 2),
        report_polls=r.integer("report_polls", 1),
        enforce_rate_limits=r.flag("enforce_rate_limits", False),
        time_scale=time_scale,
        faults=Faults(
            rate=rate,
            kinds=faults.strings("kinds", Faults.kinds, FAULT_ANSWERS + FAULT_TARGETS),
            seed=faults.integer("seed", 0),
            # Checked against the server's routes when the sandbox starts.
            operations=faults.names("operations"),
            limit=faults.integer("limit", 0),
            hang_seconds=faults.number("hang_seconds", 300.0),
        ),
        compress_reports=r.flag("compress_reports", False),
    )


_ORDER_KEY_SET = frozenset(_ORDER_KEYS)
_ITEM_KEY_SET = frozenset(_ITEM_KEYS)
_ORDER_STATUS_SET = frozenset(ORDER_STATUSES)
_MESSAGE_KIND_SET = frozenset(MESSAGE_KINDS)


def _built(cls: type[_T], values: dict[str, Any]) -> _T:
    """A frozen dataclass instance holding `values` (every field), made in half the time of its
    __init__, which sets each field through object.__setattr__. For the fast path's checked
    values; tests/test_sandbox_book.py compares the result with the dataclass's own."""
    made = object.__new__(cls)
    object.__setattr__(made, "__dict__", values)
    return made


class _QuickOrders:
    """The common case of an order entry, read without the field-by-field reader.

    A book of 100,000 orders must load in about a second. `order` accepts only entries that
    plainly pass every check `_order` makes (an order of a marketplace of the book's region); for
    anything else it answers None and `_order` reads the entry, naming the field at fault.
    Both paths build the same BookOrder (tests/test_sandbox_book.py compares them).
    """

    def __init__(self, now: datetime, home: str) -> None:
        self.now = now
        self.home = home
        region = marketplaces.by_id(home)
        assert region is not None  # the book's own id was checked first
        self.region_ids = frozenset(
            m.marketplace_id for m in marketplaces.MARKETPLACES if m.region == region.region
        )
        self.purchased: dict[str, datetime | None] = {}
        self.locales: set[str] = set()
        self.asins: dict[str, str] = {}
        self.prices: dict[tuple[type, Any], Decimal | None] = {}

    def order(self, raw: Any) -> BookOrder | None:
        if type(raw) is not dict or not raw.keys() <= _ORDER_KEY_SET:
            return None
        order_id = raw.get("id")
        status = raw.get("status")
        channel = raw.get("channel", "MFN")
        locale = raw.get("locale", "en_US")
        purchased_raw = raw.get("purchased")
        raw_items = raw.get("items")
        messaging = raw.get("messaging")
        marketplace_id = raw.get("marketplace_id", self.home)
        if (
            type(order_id) is not str
            or not ORDER_ID_RE.match(order_id)
            or status not in _ORDER_STATUS_SET
            or channel not in CHANNELS
            or type(purchased_raw) is not str
            or type(locale) is not str
            or type(raw_items) is not list
            or not raw_items
            or type(marketplace_id) is not str
            or marketplace_id not in self.region_ids
        ):
            return None
        if messaging is None:
            kinds = MESSAGE_KINDS
        elif type(messaging) is list and all(kind in _MESSAGE_KIND_SET for kind in messaging):
            kinds = tuple(messaging)
        else:
            return None
        if locale not in self.locales:
            if not _LOCALE_RE.match(locale):
                return None
            self.locales.add(locale)
        if purchased_raw not in self.purchased:
            self.purchased[purchased_raw] = resolve_purchased(purchased_raw, self.now)
        purchased = self.purchased[purchased_raw]
        if purchased is None:
            return None
        ship_by: datetime | None = None
        if "ship_by" in raw:  # rare: resolved each time
            text = raw["ship_by"]
            ship_by = clock.resolve(text, self.now, True) if type(text) is str else None
            if ship_by is None or ship_by < purchased:
                return None
        items = []
        any_shipped = False
        for raw_item in raw_items:
            item = self.item(raw_item, status)
            if item is None:
                return None
            any_shipped = any_shipped or ("shipped" in raw_item and item.shipped > 0)
            items.append(item)
        # The rules of `_check_shipping`, on the units the entry itself gives.
        if any_shipped and status not in ("PartiallyShipped", "Shipped"):
            return None
        if status == "PartiallyShipped" and not any_shipped:
            return None
        fields = {
            "id": order_id,
            "status": status,
            "channel": channel,
            "purchased": purchased,
            "locale": locale,
            "items": tuple(items),
            "messaging": kinds,
            "marketplace_id": marketplace_id,
            "ship_by": ship_by,
            "raw": raw,
        }
        return _built(BookOrder, fields)

    def item(self, raw: Any, status: str) -> BookItem | None:
        if type(raw) is not dict or not raw.keys() <= _ITEM_KEY_SET:
            return None
        item_id = raw.get("id")
        sku = raw.get("sku")
        title = raw.get("title")
        qty = raw.get("qty", 1)
        requested = raw.get("buyer_requested_cancel", False)
        reason = raw.get("buyer_cancel_reason", "")
        asin = raw.get("asin", "")
        # A shipped order shipped every unit unless the book says otherwise.
        shipped = raw.get("shipped", qty if status == "Shipped" else 0)
        if (
            type(item_id) is not str
            or not ORDER_ITEM_ID_RE.match(item_id)
            or type(sku) is not str
            or type(title) is not str
            or type(qty) is not int
            or qty < 1
            or type(shipped) is not int
            or not 0 <= shipped <= qty
            or type(requested) is not bool
            or type(reason) is not str
            or type(asin) is not str
        ):
            return None
        price = self.price(raw.get("price"))
        if price is None:
            return None
        if not asin:
            asin = self.asins.get(sku) or self.asins.setdefault(sku, _asin(sku))
        fields = {
            "id": item_id,
            "sku": sku,
            "title": title,
            "qty": qty,
            "shipped": shipped,
            "buyer_requested_cancel": requested,
            "buyer_cancel_reason": reason,
            "price": price,
            "asin": asin,
        }
        return _built(BookItem, fields)

    def price(self, raw: Any) -> Decimal | None:
        """A plain price (a number or numeric text of at least 0), as `_item` reads it."""
        if raw is None:
            return DEFAULT_PRICE
        if type(raw) not in (int, float, str):
            return None
        key = (type(raw), raw)
        if key not in self.prices:
            try:
                value: Decimal | None = Decimal(str(raw))
            except InvalidOperation:
                value = None
            if value is not None and (not value.is_finite() or value < 0):
                value = None
            self.prices[key] = None if value is None else value.quantize(Decimal("0.01"))
        return self.prices[key]


def _check_unique(orders: tuple[BookOrder, ...], where: str) -> None:
    seen_orders: set[str] = set()
    seen_items: dict[str, str] = {}
    for order in orders:
        if order.id in seen_orders:
            raise ConfigError(f"{where}: order {order.id} appears twice; order ids must be unique")
        seen_orders.add(order.id)
        for item in order.items:
            if item.id in seen_items:
                raise ConfigError(
                    f"{where}: item id {item.id} is used by {seen_items[item.id]} and {order.id}; "
                    "order item ids must be unique"
                )
            seen_items[item.id] = order.id


def load_book(path: Path) -> Book:
    """Read and validate the order book at `path`; raises ConfigError naming the bad field."""
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            f"sandbox order book {path} does not exist; set [sandbox] orders in bulk.toml "
            "or BULK_SANDBOX_ORDERS (samples/marketplace.json is an example)"
        ) from None
    except OSError as e:
        raise ConfigError(f"cannot read sandbox order book {path}: {e.strerror or e}") from None
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"sandbox order book {path} is not UTF-8 text") from None
    # A large book is a few objects per order, all of them kept: see bulk.infra.heap.
    with long_lived():
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise ConfigError(
                f"sandbox order book {path} is not valid JSON: {e.msg} "
                f"at line {e.lineno} column {e.colno}"
            ) from None
        return parse_book(data, path, hashlib.sha256(content).hexdigest(), clock.now())
