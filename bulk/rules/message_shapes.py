"""Customer messages for many rows at once: each message shape is rendered and linted once.

A sheet of thousands of rows to cancel holds few different messages: the same reason, remedy,
details and items, told to buyers whose orders differ only in their id and purchase date.
Rendering (in Jinja's sandbox) and linting every row costs more than everything else a check
does, so a message is rendered once per *shape* with stand-ins for the order id and the date,
and each row's text is that shape with its own id and date put in.

That is exact only when the template prints those two variables as they are: `{{ order_id }}`,
or tests them for being set (`{% if purchase_date %}`, `… if purchase_date else …`). Any other
use (a filter, a comparison, a method call, an include whose name is computed) could make the
text depend on the value, so such a template is rendered row by row, as before. The reading
of the template is static (Jinja's own parser), done once per template.
"""

from __future__ import annotations

import operator
import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from jinja2 import meta, nodes

from bulk.models import CancelRequest, Order
from bulk.rules.lint import MAX_MESSAGE_CHARS, lint_message
from bulk.rules.messages import (
    ITEM_FIELDS,
    Templates,
    message_context,
    message_inputs,
    message_items,
    message_locale,
    purchase_date,
    render_template,
)

# The variables a shape leaves open. Both are made by bulk, never typed by staff: an order id
# (digits and dashes, checked when the row is read) and a date written out for the buyer.
OPEN = ("order_id", "purchase_date")
# Enough shapes for any real sheet; a sheet with more distinct messages renders the rest
# row by row rather than holding them all.
MAX_SHAPES = 4096


@dataclass(frozen=True, slots=True)
class Message:
    """A customer message and what the lint found in it."""

    text: str
    problems: tuple[str, ...]


# Every variable `message_context` gives a template. Each comes from the open variables, the
# items (`message_items`), the row's other inputs (`message_inputs`), the locale or the seller's
# name, which is what a shape is known by; a context with any other variable is rendered row by
# row.
VARIABLES = frozenset(
    {
        "order_id",
        "purchase_date",
        "items",
        "whole_order",
        "reason",
        "reason_code",
        "note",
        "remedy",
        "seller_name",
        "buyer_locale",
        "buyer_requested",
    }
)


@dataclass(frozen=True, slots=True)
class _Shape:
    """A message rendered with stand-ins for the open variables: its text cut at each stand-in,
    with a blank piece where one stood, where those are with the open variable each stands for
    (its index in OPEN), and the rendered text's lint."""

    pieces: tuple[str, ...]
    gaps: tuple[tuple[int, int], ...]
    problems: tuple[str, ...]


@dataclass
class MessageShapes:
    """Renders customer messages for a run, one Jinja render per distinct shape."""

    templates: Templates
    seller_name: str
    # Per template: what a shape keeps of an item (`_item_fields`), or None when the template
    # cannot be rendered by shape.
    _reads: dict[tuple[str, str], Callable[[Mapping[str, Any]], Any] | None] = field(
        default_factory=dict
    )
    # Each shape by what the row gives its template: the context is built only to render one.
    _shapes: dict[tuple[Any, ...], _Shape] = field(default_factory=dict)
    # The same answers asked for row after row: the locale folder for a buyer's locale and
    # marketplace, and the template for a locale, reason and remedy.
    _locales: dict[tuple[str, str] | None, str] = field(default_factory=dict)
    _names: dict[tuple[str, str, str], str] = field(default_factory=dict)
    # Stand-ins no template text or sheet cell holds: private-use characters around a nonce.
    _marks: dict[str, str] = field(
        default_factory=lambda: {name: f"\ue000{name}{secrets.token_hex(4)}\ue001" for name in OPEN}
    )
    renders: int = 0  # Jinja renders done (for tests and benchmarks)

    def message(self, request: CancelRequest, order: Order | None) -> Message:
        """The message for one row, exactly as `render_message` and `lint_message` make it."""
        locale = self._locale(order)
        name = self._name(locale, request)
        fields = self._item_fields(locale, name)
        if fields is None:
            return self._render(locale, name, self._context(request, order, locale))
        opened = (request.order_id, purchase_date(order, locale))  # in OPEN's order
        items, whole_order = message_items(request, order)
        # What the template is given, with the order id and the date reduced to whether they
        # are set, and each item to the fields the template reads (an order item id differs
        # on every order).
        key = (
            locale,
            name,
            message_inputs(request, order),
            whole_order,
            tuple(map(fields, items)),
            bool(opened[0]),
            bool(opened[1]),
        )
        shape = self._shapes.get(key)
        if shape is None:
            context = self._context(request, order, locale)
            if context.keys() != VARIABLES:
                self._reads[(locale, name)] = None  # a variable the key does not know
                return self._render(locale, name, context)
            for open_name in OPEN:
                if context[open_name]:
                    context[open_name] = self._marks[open_name]
            shape = self._shape(self._render(locale, name, context))
            if len(self._shapes) < MAX_SHAPES:
                self._shapes[key] = shape
        pieces = list(shape.pieces)
        for at, slot in shape.gaps:
            pieces[at] = opened[slot]
        text = "".join(pieces)
        # A clean shape stays clean with an order id and a date in it (no markup, address, link
        # or marketing word can come from them); only its length changes. Anything else, and
        # any problem, is linted on the row's own text, so the message names what it found.
        if shape.problems or not _within_limit(text):
            return Message(text, tuple(lint_message(text)))
        return Message(text, ())

    def _shape(self, rendered: Message) -> _Shape:
        """A message rendered with stand-ins, cut where each stand-in stands."""
        marks = {mark: OPEN.index(name) for name, mark in self._marks.items()}
        cut = re.split(f"({'|'.join(map(re.escape, marks))})", rendered.text)
        gaps = tuple((at, marks[mark]) for at, mark in enumerate(cut) if at % 2)
        return _Shape(
            tuple("" if at % 2 else piece for at, piece in enumerate(cut)), gaps, rendered.problems
        )

    def _context(self, request: CancelRequest, order: Order | None, locale: str) -> dict[str, Any]:
        return message_context(request, order, self.seller_name, locale)

    def _locale(self, order: Order | None) -> str:
        """`message_locale`, asked once per buyer's locale and marketplace."""
        key = (order.locale, order.marketplace_id) if order is not None else None
        found = self._locales.get(key)
        if found is None:
            found = self._locales[key] = message_locale(self.templates, order)
        return found

    def _name(self, locale: str, request: CancelRequest) -> str:
        """`Templates.cancel_template`, asked once per locale, reason and remedy."""
        key = (locale, request.reason.code, request.remedy)
        found = self._names.get(key)
        if found is None:
            found = self.templates.cancel_template(locale, request.reason.code, request.remedy)
            self._names[key] = found
        return found

    def _render(self, locale: str, name: str, context: Mapping[str, Any]) -> Message:
        self.renders += 1
        text = render_template(self.templates, locale, name, context)
        return Message(text, tuple(lint_message(text)))

    def _item_fields(self, locale: str, name: str) -> Callable[[Mapping[str, Any]], Any] | None:
        """What a shape keeps of each item: the fields the template reads; None when the
        template cannot be rendered by shape."""
        if (locale, name) not in self._reads:
            env = self.templates.environments[locale]
            fields = _read_ahead(env, name)
            self._reads[(locale, name)] = None if fields is None else _fields_of(sorted(fields))
        return self._reads[(locale, name)]


def _fields_of(fields: Sequence[str]) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """An item's values of `fields` (None for a field it lacks), as a tuple."""
    if fields and set(fields) <= ITEM_FIELDS:
        getter = operator.itemgetter(*fields)  # every item has every field: a faster read
        return getter if len(fields) > 1 else lambda item: (getter(item),)
    return lambda item: tuple(item.get(f) for f in fields)


def _within_limit(text: str) -> bool:
    """0 < len(text.strip()) <= MAX_MESSAGE_CHARS, without a stripped copy of every message."""
    if len(text) <= MAX_MESSAGE_CHARS:
        return bool(text) and not text.isspace()
    return 0 < len(text.strip()) <= MAX_MESSAGE_CHARS


def _read_ahead(env: Any, name: str) -> frozenset[str] | None:
    """The item fields `name` (and the templates it extends or includes) reads, when every use
    of an open variable is a plain `{{ name }}` or a test of whether it is set and every item is
    read field by field; else None."""
    seen: set[str] = set()
    todo = [name]
    fields: set[str] = set()
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        source = env.loader.get_source(env, current)[0]
        tree = env.parse(source)
        for ref in meta.find_referenced_templates(tree):
            if ref is None:
                return None  # a template chosen at render time: cannot be read ahead
            todo.append(ref)
        parent: dict[int, nodes.Node] = {}
        for node in tree.find_all(nodes.Node):
            for sub in node.iter_child_nodes():
                parent[id(sub)] = node
        found = _item_reads(tree, parent)
        if found is None or not _plain_uses(tree, parent):
            return None
        fields |= found
    return frozenset(fields)


def _plain_uses(tree: nodes.Node, parent: Mapping[int, nodes.Node]) -> bool:
    """Every load of an open name in `tree` is printed as is or only tested for truth.

    Printed as is: an output's own expression, reached through nothing but `~` joins and the
    branches of `a if b else c` (`{{ "date: " ~ purchase_date if purchase_date else "" }}`).
    """
    for name in tree.find_all(nodes.Name):
        if name.name not in OPEN:
            continue
        if name.ctx != "load":
            return False  # assigned or looped into
        up = parent.get(id(name))
        if _truth_test(up, name):
            continue
        child: nodes.Node = name
        while isinstance(up, nodes.Concat) or (
            isinstance(up, nodes.CondExpr) and up.test is not child
        ):
            child, up = up, parent.get(id(up))
        if not isinstance(up, nodes.Output):
            return False  # filtered, compared, called, an argument, ...
    return True


def _truth_test(up: nodes.Node | None, name: nodes.Node) -> bool:
    return isinstance(up, nodes.If | nodes.CondExpr) and up.test is name


def _item_reads(tree: nodes.Node, parent: Mapping[int, nodes.Node]) -> set[str] | None:
    """The fields read from the `items` list's entries, when they are read only as
    `{% for item in items %}…{{ item.title }}…`, counted (`items|length`) or tested for
    being empty; else None."""
    loop_names: set[str] = set()
    for name in tree.find_all(nodes.Name):
        if name.name != "items" or name.ctx != "load":
            continue
        up = parent.get(id(name))
        if isinstance(up, nodes.For) and up.iter is name and isinstance(up.target, nodes.Name):
            loop_names.add(up.target.name)
        elif isinstance(up, nodes.Filter) and up.name == "length" and up.node is name:
            continue
        elif not _truth_test(up, name):
            return None
    fields: set[str] = set()
    for name in tree.find_all(nodes.Name):
        if name.name not in loop_names or name.ctx == "store":
            continue
        up = parent.get(id(name))
        if isinstance(up, nodes.Getattr) and up.node is name:
            fields.add(up.attr)
        elif (
            isinstance(up, nodes.Getitem)
            and up.node is name
            and isinstance(up.arg, nodes.Const)
            and isinstance(up.arg.value, str)
        ):
            fields.add(up.arg.value)
        else:
            return None  # the whole item printed, passed on or walked over
    return fields
