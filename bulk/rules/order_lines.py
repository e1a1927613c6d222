"""A request's Items against an order's lines: which lines it names, whether their quantities
allow the cancellation, and whether it counts toward the rate. Pure, for bulk.rules.policy.decide.
"""

from __future__ import annotations

from bulk.models import CancelRequest, Decision, ItemRef, Order, OrderItem, Status


def open_quantity(item: OrderItem) -> int:
    return item.quantity_ordered - item.quantity_shipped


def matches(ref: ItemRef, item: OrderItem) -> bool:
    return ref.ref == item.order_item_id or ref.ref.casefold() == item.sku.casefold()


def resolve_items(
    request: CancelRequest, order: Order
) -> tuple[tuple[OrderItem, ...], Decision | None]:
    """The order lines the request names (all open lines when it names none), or a rejection."""
    if not order.items:
        return (), Decision(
            Status.HELD,
            f"Amazon listed no items for order {order.order_id}; run again later",
        )
    if not request.items:
        lines = order.items  # the order's own tuple while every line is open (the usual case)
        for item in lines:
            if item.quantity_ordered <= 0:
                lines = tuple([item for item in lines if item.quantity_ordered > 0])
                break
        if not lines:
            return (), Decision(
                Status.REJECTED,
                "every line of the order has quantity 0 on Amazon (already cancelled); "
                "nothing to cancel",
            )
        return lines, None

    unknown = [ref.ref for ref in request.items if not any(matches(ref, i) for i in order.items)]
    if unknown:
        listing = ", ".join(f"{i.sku} ({i.order_item_id})" for i in order.items)
        names = ", ".join(repr(ref) for ref in unknown)
        what = "item" if len(unknown) == 1 else "items"
        return (), Decision(
            Status.REJECTED,
            f"order {order.order_id} has no {what} {names}; its SKUs are {listing}; "
            "fix the Items column or leave it blank for the whole order",
        )
    chosen = {i.order_item_id for ref in request.items for i in order.items if matches(ref, i)}
    lines = tuple(i for i in order.items if i.order_item_id in chosen)  # order's own line order
    return lines, None


def quantity_problem(request: CancelRequest, order: Order) -> Decision | None:
    """A rejection when a named line has nothing to cancel or fewer units than asked for."""
    for ref in request.items:
        matched = [i for i in order.items if matches(ref, i)]
        open_qty = sum(open_quantity(i) for i in matched)
        if ref.quantity is not None and ref.quantity <= 0:
            return Decision(
                Status.REJECTED,
                f"quantity {ref.quantity} for {ref.ref} is not a number of units to cancel; "
                "give a positive quantity, or none for the whole line",
            )
        if open_qty <= 0:
            return Decision(
                Status.REJECTED,
                f"{ref.ref} has quantity 0 on Amazon (already cancelled); remove it from Items",
            )
        if ref.quantity is not None and ref.quantity > open_qty:
            return Decision(
                Status.REJECTED,
                f"asks to cancel {ref.quantity} of {ref.ref} but the order has {open_qty}; "
                "fix the quantity",
            )
    return None


def partial_quantity(request: CancelRequest, order: Order) -> str | None:
    """'partial quantity (1 of 3) of MUG-RED' when a request cancels part of a line, else None."""
    for ref in request.items:
        if ref.quantity is None:
            continue
        open_qty = sum(open_quantity(i) for i in order.items if matches(ref, i))
        if ref.quantity < open_qty:
            return f"partial quantity ({ref.quantity} of {open_qty}) of {ref.ref}"
    return None


def counting(request: CancelRequest, lines: tuple[OrderItem, ...]) -> tuple[bool, tuple[str, ...]]:
    """Whether cancelling `lines` counts toward the cancellation rate, and what staff should know.

    docs/amazon.md, "Cancellation rate": a cancellation the buyer requested through Amazon
    (item IsBuyerRequestedCancel = "true") cancelled with BuyerCanceled does not count;
    BuyerCanceled on any other order still counts. Item cancellations count, so one line the
    buyer did not ask about makes the whole cancellation count.
    """
    if not request.reason.buyer_requested:
        # The common case first: one line the buyer did not ask about settles it.
        for line in lines:
            if not line.buyer_requested_cancel:
                return True, ()
        if not lines:
            return True, ()
        return True, (
            "the buyer asked Amazon to cancel this order; the reason whose Amazon code is "
            "BuyerCanceled would keep it out of the cancellation rate",
        )
    requested = [i for i in lines if i.buyer_requested_cancel]
    if lines and len(requested) == len(lines):
        return False, ()
    if not requested:
        return True, (
            "Amazon has no buyer request for this order; this cancellation will count "
            "toward the cancellation rate",
        )
    others = ", ".join(i.sku for i in lines if not i.buyer_requested_cancel)
    return True, (
        f"Amazon has no buyer request for {others}; this cancellation will count toward "
        "the cancellation rate unless Items lists only the lines the buyer asked about",
    )
