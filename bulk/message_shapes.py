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

import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from jinja2 import meta, nodes

from bulk.lint import MAX_MESSAGE_CHARS, lint_message
from bulk.messages import Templates, message_context, render_template
from bulk.models import CancelRequest, Order

# The variables a shape leaves open. Both are made by bulk, never typed by staff: an order id
# (digits and dashes, checked when the row is read) and a date written out for the buyer.
OPEN = ("order_id", "purchase_date")
# Enough shapes for any real sheet; a sheet with more distinct messages renders the rest
# row by row rather than holding them all.
MAX_SHAPES = 4096


@dataclass(frozen=True)
class Message:
    """A customer message and what the lint found in it."""

    text: str
    problems: tuple[str, ...]


@dataclass
class MessageShapes:
    """Renders customer messages for a run, one Jinja render per distinct shape."""

    templates: Templates
    seller_name: str
    _safe: dict[tuple[str, str], bool] = field(default_factory=dict)
    _shapes: dict[tuple[Any, ...], Message] = field(default_factory=dict)
    # Stand-ins no template text or sheet cell holds: private-use characters around a nonce.
    _marks: dict[str, str] = field(
        default_factory=lambda: {name: f"\ue000{name}{secrets.token_hex(4)}\ue001" for name in OPEN}
    )
    renders: int = 0  # Jinja renders done (for tests and benchmarks)

    def message(self, request: CancelRequest, order: Order | None) -> Message:
        """The message for one row, exactly as `render_message` and `lint_message` make it."""
        templates = self.templates
        locale = templates.locale_for(order.locale if order else "")
        name = templates.cancel_template(locale, request.reason.code, request.remedy)
        context = message_context(request, order, self.seller_name, locale)
        if not self._shaped(locale, name):
            return self._render(locale, name, context)
        values = {key: context[key] for key in OPEN if context[key]}
        key = (locale, name, *_frozen(context, values))
        shape = self._shapes.get(key)
        if shape is None:
            shape = self._render(locale, name, {**context, **{k: self._marks[k] for k in values}})
            if len(self._shapes) < MAX_SHAPES:
                self._shapes[key] = shape
        text = shape.text
        for open_name, value in values.items():
            text = text.replace(self._marks[open_name], str(value))
        # A clean shape stays clean with an order id and a date in it (no markup, address, link
        # or marketing word can come from them); only its length changes. Anything else, and
        # any problem, is linted on the row's own text, so the message names what it found.
        if shape.problems or not 0 < len(text.strip()) <= MAX_MESSAGE_CHARS:
            return Message(text, tuple(lint_message(text)))
        return Message(text, ())

    def _render(self, locale: str, name: str, context: Mapping[str, Any]) -> Message:
        self.renders += 1
        text = render_template(self.templates, locale, name, context)
        return Message(text, tuple(lint_message(text)))

    def _shaped(self, locale: str, name: str) -> bool:
        found = self._safe.get((locale, name))
        if found is None:
            env = self.templates.environments[locale]
            found = _prints_open_names_plainly(env, name)
            self._safe[(locale, name)] = found
        return found


def _frozen(context: Mapping[str, Any], values: Mapping[str, Any]) -> Iterator[Any]:
    """The context as a hashable key, with the open variables reduced to whether they are set."""
    for key in sorted(context):
        value = context[key]
        if key in OPEN:
            yield key, key in values
        elif isinstance(value, list):
            yield key, tuple(tuple(sorted(v.items())) if isinstance(v, dict) else v for v in value)
        else:
            yield key, value


def _prints_open_names_plainly(env: Any, name: str) -> bool:
    """True when every use of an open variable, in `name` and the templates it extends or
    includes, is a plain `{{ name }}` or a test of whether it is set."""
    seen: set[str] = set()
    todo = [name]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        source = env.loader.get_source(env, current)[0]
        tree = env.parse(source)
        for ref in meta.find_referenced_templates(tree):
            if ref is None:
                return False  # a template chosen at render time: cannot be read ahead
            todo.append(ref)
        if not _plain_uses(tree):
            return False
    return True


def _plain_uses(tree: nodes.Node) -> bool:
    """Every load of an open name in `tree` is printed as is or only tested for truth.

    Printed as is: an output's own expression, reached through nothing but `~` joins and the
    branches of `a if b else c` (`{{ "date: " ~ purchase_date if purchase_date else "" }}`).
    """
    parent: dict[int, nodes.Node] = {}
    for node in tree.find_all(nodes.Node):
        for sub in node.iter_child_nodes():
            parent[id(sub)] = node
    for name in tree.find_all(nodes.Name):
        if name.name not in OPEN:
            continue
        if name.ctx != "load":
            return False  # assigned or looped into
        up = parent.get(id(name))
        if isinstance(up, nodes.If | nodes.CondExpr) and up.test is name:
            continue  # tested for being set
        child: nodes.Node = name
        while isinstance(up, nodes.Concat) or (
            isinstance(up, nodes.CondExpr) and up.test is not child
        ):
            child, up = up, parent.get(id(up))
        if not isinstance(up, nodes.Output):
            return False  # filtered, compared, called, an argument, ...
    return True
