"""bulk.rules.message_shapes knows a shape by what the row gives its template, without building
the row's context: every row must still get the very text a plain render gives it."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bulk.config import REASON_LABELS
from bulk.models import CancelRequest, ItemRef, Order, OrderItem, Remedy
from bulk.rules import message_shapes
from bulk.rules.lint import lint_message
from bulk.rules.message_shapes import VARIABLES, MessageShapes
from bulk.rules.messages import (
    ITEM_FIELDS,
    load_templates,
    message_context,
    message_items,
    render_message,
)

SELLER = "Example Store"
REASONS = {r.code: r for r in REASON_LABELS}


def order(n: int, **changes: Any) -> Order:
    base = Order(
        order_id=f"112-{n:07d}-{n:07d}",
        status="Unshipped",
        channel="MFN",
        purchased=datetime(2026, 3, 1 + n % 28, 9, 0, tzinfo=UTC),
        marketplace_id="ATVPDKIKX0DER",
        items=(
            OrderItem(f"{n:010d}0101", "MUG-RED", "Red mug", 2),
            OrderItem(f"{n:010d}0102", "CUP-BLUE", "Blue cup", 1),
        ),
        locale="en_US",
    )
    return replace(base, **changes)


def request(n: int, **changes: Any) -> CancelRequest:
    base = CancelRequest(
        n + 1, f"112-{n:07d}-{n:07d}", REASONS["NoInventory"], "Supplier is out until May."
    )
    return replace(base, **changes)


def requested(n: int) -> Order:
    """An order whose buyer asked Amazon to cancel it."""
    o = order(n)
    return replace(o, items=(replace(o.items[0], buyer_requested_cancel=True), *o.items[1:]))


# Rows that differ from the first in one thing each a template can see (twice each, so that a
# row meets a remembered shape of its own and of the others).
VARIANTS: list[tuple[str, Any, Any]] = [
    ("plain", lambda n: request(n), order),
    ("note", lambda n: request(n, note="We are sorry."), order),
    ("note case", lambda n: request(n, note="we are sorry."), order),
    ("note space", lambda n: request(n, note="We are  sorry."), order),
    ("remedy", lambda n: request(n, remedy=Remedy.REPLACEMENT), order),
    ("reason", lambda n: request(n, reason=REASONS["BuyerCanceled"]), order),
    ("reason asked", lambda n: request(n, reason=REASONS["BuyerCanceled"]), requested),
    ("one line", lambda n: request(n, items=(ItemRef("MUG-RED"),)), order),
    ("one of two", lambda n: request(n, items=(ItemRef("MUG-RED", 1),)), order),
    ("unknown sku", lambda n: request(n, items=(ItemRef("PLATE", 3),)), order),
    ("no order", lambda n: request(n), lambda n: None),
    ("no order, items", lambda n: request(n, items=(ItemRef("MUG-RED", 2),)), lambda n: None),
    ("no date", lambda n: request(n), lambda n: order(n, purchased=None)),
    ("other title", lambda n: request(n), lambda n: order(n, items=order(n).items[:1])),
    ("buyer de", lambda n: request(n), lambda n: order(n, locale="de_DE")),
    ("buyer en_GB", lambda n: request(n), lambda n: order(n, locale="en_GB")),
    (
        "market de",
        lambda n: request(n),
        lambda n: order(n, locale="", marketplace_id="A1PA6795UKMFR9"),
    ),
    ("tokyo", lambda n: request(n), lambda n: order(n, marketplace_id="A1VC38T7YXB528", locale="")),
]


def test_rows_that_differ_in_one_input_each_get_their_own_text() -> None:
    templates = load_templates(None, "en_US")
    shapes = MessageShapes(templates, SELLER)
    rows = itertools.product(range(2), VARIANTS)
    for n, (_, (label, make_request, make_order)) in enumerate(rows, start=1):
        r, o = make_request(n), make_order(n)
        got = shapes.message(r, o)
        text = render_message(templates, r, o, SELLER)
        assert got.text == text, label
        assert list(got.problems) == lint_message(text), label
    # The second round met only remembered shapes.
    assert shapes.renders <= len(VARIANTS)


def test_the_shape_key_knows_every_variable_a_message_is_given() -> None:
    for r, o in [(request(1), order(1)), (request(2), None)]:
        assert message_context(r, o, SELLER, "en_US").keys() == VARIABLES


def test_a_variable_the_shape_key_does_not_know_is_rendered_row_by_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def with_details(
        request: CancelRequest, order: Order | None, seller_name: str, locale: str
    ) -> dict[str, Any]:
        return message_context(request, order, seller_name, locale) | {"extra": request.details}

    folder = tmp_path / "en_US" / "cancel"
    folder.mkdir(parents=True)
    (folder / "NoInventory.j2").write_text("{{ order_id }}: {{ extra | default('') }}")
    templates = load_templates(tmp_path, "en_US")
    monkeypatch.setattr(message_shapes, "message_context", with_details)
    shapes = MessageShapes(templates, SELLER)
    texts = [shapes.message(request(n, details=f"reason {n}"), order(n)).text for n in (1, 2, 3)]
    assert texts == [f"112-000000{n}-000000{n}: reason {n}" for n in (1, 2, 3)]
    assert shapes.renders == 3


def test_every_item_a_template_sees_has_the_fields_a_shape_reads_by_name() -> None:
    for r, o in [
        (request(1), order(1)),  # the whole order
        (request(2, items=(ItemRef("MUG-RED", 1), ItemRef("PLATE"))), order(2)),  # one unknown
        (request(3, items=(ItemRef("12345678901234"),)), None),
    ]:
        items, _ = message_items(r, o)
        assert items and all(item.keys() == ITEM_FIELDS for item in items)
