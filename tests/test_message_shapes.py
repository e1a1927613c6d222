"""Tests for bulk/message_shapes.py: one render per message shape, the same text and lint."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bulk.config import DEFAULT_REASONS, REASON_LABELS
from bulk.models import CancelRequest, ItemRef, Order, OrderItem, Remedy
from bulk.rules.lint import MAX_MESSAGE_CHARS, lint_message
from bulk.rules.message_shapes import MessageShapes
from bulk.rules.messages import load_templates, render_message

SHIPPED = Path(__file__).resolve().parent.parent / "templates"
SELLER = "Example Store"


def order(n: int, locale: str = "en_US", purchased: datetime | None = None) -> Order:
    return Order(
        order_id=f"112-{n:07d}-{n:07d}",
        status="Unshipped",
        channel="MFN",
        purchased=purchased or datetime(2026, 3, 1 + n % 28, 9, 0, tzinfo=UTC),
        # Every order has item ids of its own, as on Amazon.
        items=(
            OrderItem(f"{n:010d}0101", "MUG-RED", "Red mug", 2),
            OrderItem("00000000000102" if n == 1 else f"{n:010d}0102", "CUP-BLUE", "Blue cup", 1),
        ),
        locale=locale,
    )


def request(
    n: int, code: str, remedy: Remedy, details: str, items: tuple[ItemRef, ...] = ()
) -> CancelRequest:
    reason = next(r for r in REASON_LABELS if r.code == code)
    return CancelRequest(
        n + 1, f"112-{n:07d}-{n:07d}", reason, details, items, remedy, note=details
    )


DETAILS = (
    "Our supplier cannot deliver before May.",
    "Write to shop@example.com or see www.example.com for a 10% off coupon.",  # lint problems
    "word " * ((MAX_MESSAGE_CHARS - 600) // 5),  # near the limit: the id's length decides
    "word " * (MAX_MESSAGE_CHARS // 5),  # over it
)
DATES = (None, datetime(2026, 3, 4, 9, 0, tzinfo=UTC))
ITEMS: tuple[tuple[ItemRef, ...], ...] = (
    (),
    (ItemRef("MUG-RED"),),
    (ItemRef("00000000000102", 1),),
)


def test_every_shipped_template_gives_the_same_text_and_lint_as_a_plain_render() -> None:
    templates = load_templates(None, "en_US")
    shapes = MessageShapes(templates, SELLER)
    codes = [r.code for r in DEFAULT_REASONS]
    # Every template with plain details, and every kind of details and items with one reason.
    cases = [
        *itertools.product(templates.locales, codes, list(Remedy), DETAILS[:1], ITEMS[:1], DATES),
        *itertools.product(templates.locales, codes[:1], [Remedy.REFUND], DETAILS, ITEMS, DATES),
    ]
    # The second pass has other order ids and dates: the same shapes, so no new render.
    for offset in (0, 5000):
        for n, (locale, code, remedy, details, items, purchased) in enumerate(cases, start=1):
            day = purchased and purchased.replace(day=1 + (n + offset) % 28)
            o = replace(order(n + offset, locale), purchased=day)
            r = request(n + offset, code, remedy, details, items)
            got = shapes.message(r, o)
            text = render_message(templates, r, o, SELLER)
            assert got.text == text, (locale, code, remedy, details[:20], items, purchased)
            assert list(got.problems) == lint_message(text), (locale, code, details[:20])
        if offset == 0:
            first = shapes.renders
    assert shapes.renders == first


def test_rows_that_differ_only_in_order_and_date_are_rendered_once() -> None:
    shapes = MessageShapes(load_templates(None, "en_US"), SELLER)
    texts = [
        shapes.message(request(n, "NoInventory", Remedy.REFUND, DETAILS[0]), order(n)).text
        for n in range(1, 501)
    ]
    assert shapes.renders == 1
    assert len(set(texts)) == 500
    assert "112-0000007-0000007" in texts[6]
    assert "March 8, 2026" in texts[6]  # the row's own purchase date


def write_template(folder: Path, body: str) -> None:
    target = folder / "en_US" / "cancel"
    target.mkdir(parents=True)
    (target / "NoInventory.j2").write_text(body, encoding="utf-8")


@pytest.mark.parametrize(
    "body",
    [
        "Order {{ order_id|upper }} is cancelled. {{ note }}",
        "{% if order_id.startswith('112') %}US order{% endif %} {{ order_id }} {{ note }}",
        "{% if purchase_date == '' %}no date{% endif %} {{ order_id }} {{ note }}",
        "{% set id = order_id %}Order {{ id }}. {{ note }}",
        "{% for c in order_id %}{{ c }}{% endfor %} {{ note }}",
        "{{ ('No. ' ~ order_id)|upper }} {{ note }}",
        "{{ 'x' if ('a' ~ purchase_date) else 'y' }} {{ order_id }} {{ note }}",
        "{% for item in items %}{{ item }}{% endfor %} {{ order_id }} {{ note }}",
        "{% for item in items %}{{ item|dictsort }}{% endfor %} {{ note }}",
        "{{ items[0].title if items else '' }} {{ order_id }} {{ note }}",
        "{{ items }} {{ note }}",
    ],
)
def test_a_template_that_does_more_than_print_the_id_is_rendered_row_by_row(
    tmp_path: Path, body: str
) -> None:
    write_template(tmp_path, body)
    templates = load_templates(tmp_path, "en_US")
    shapes = MessageShapes(templates, SELLER)
    for n in range(1, 6):
        r = request(n, "NoInventory", Remedy.REFUND, DETAILS[0])
        assert shapes.message(r, order(n)).text == render_message(templates, r, order(n), SELLER)
    assert shapes.renders == 5


def test_a_template_that_only_prints_and_tests_the_id_and_date_is_shaped(tmp_path: Path) -> None:
    write_template(
        tmp_path,
        "Order {{ order_id }}{% if purchase_date %} of {{ purchase_date }}{% endif %}"
        "{{ '!' if purchase_date else '.' }} {{ note }}",
    )
    templates = load_templates(tmp_path, "en_US")
    shapes = MessageShapes(templates, SELLER)
    for n in range(1, 6):
        r = request(n, "NoInventory", Remedy.REFUND, DETAILS[0])
        assert shapes.message(r, order(n)).text == render_message(templates, r, order(n), SELLER)
    assert shapes.renders == 1


def test_every_shipped_cancel_template_is_shaped() -> None:
    """The shipped set renders once per shape (a large sheet's speed depends on it)."""
    templates = load_templates(None, "en_US")
    for locale in templates.locales:
        shapes = MessageShapes(templates, SELLER)
        for n in range(1, 4):
            shapes.message(request(n, "NoInventory", Remedy.REFUND, DETAILS[0]), order(n, locale))
        assert shapes.renders == 1, locale


def test_an_item_field_the_template_prints_is_part_of_the_shape(tmp_path: Path) -> None:
    write_template(
        tmp_path,
        "{% for item in items if item['quantity_ordered'] %}{{ item.title }} "
        "({{ item.order_item_id }}){% endfor %} {{ order_id }} {{ note }}",
    )
    templates = load_templates(tmp_path, "en_US")
    shapes = MessageShapes(templates, SELLER)
    for n in range(1, 6):
        r = request(n, "NoInventory", Remedy.REFUND, DETAILS[0])
        assert shapes.message(r, order(n)).text == render_message(templates, r, order(n), SELLER)
    assert shapes.renders == 5  # each order's item ids are printed: a shape per order
