"""The sandbox's own window under /_sandbox/: what it received and did (not Amazon's API)."""

from __future__ import annotations

from dataclasses import asdict

from bulk.sandbox import clock
from bulk.sandbox.market import SandboxMarket
from bulk.sandbox.orders import item_json, order_json
from bulk.sandbox.wire import Reply, Request, json_reply


def feeds(market: SandboxMarket, request: Request) -> Reply:
    """GET /_sandbox/feeds: every feed, oldest first, with its document and per-message outcome."""
    data = [
        {
            "feedId": feed.id,
            "feedType": feed.feed_type,
            "created": feed.created,
            "status": feed.status,
            "contentType": feed.content_type,
            "document": feed.content.encode("latin-1").decode("utf-8", "replace"),
            "resultFeedDocumentId": feed.result_document_id,
            "messages": list(feed.outcome),
        }
        for feed in sorted(market.state.feeds.values(), key=lambda feed: int(feed.id))
    ]
    return json_reply(data)


def messages(market: SandboxMarket, request: Request) -> Reply:
    """GET /_sandbox/messages: every buyer message accepted, oldest first."""
    return json_reply(
        [
            {"orderId": m.order_id, "kind": m.kind, "text": m.text, "time": m.time, "body": m.body}
            for m in market.state.messages
        ]
    )


def calls(market: SandboxMarket, request: Request) -> Reply:
    """GET /_sandbox/calls: requests received per operation (including refused ones)."""
    return json_reply(dict(sorted(market.state.calls.items())))


def orders(market: SandboxMarket, request: Request) -> Reply:
    """GET /_sandbox/orders: every order as getOrder shows it, its items and cancellations."""
    now = clock.now()
    data = []
    for order in market.book.orders:
        cancelled = market.cancelled(order.id)
        data.append(
            {
                **order_json(market, order, now),
                "OrderItems": [item_json(market, order, item, cancelled) for item in order.items],
                "cancellations": [asdict(c) for c in cancelled.values()],
            }
        )
    return json_reply(data)
