"""AmazonAccount against the sandbox over HTTP: the look-up paths with Orders v2026-01-01."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from freezegun.api import FrozenDateTimeFactory

from bulk.amazon.account import AmazonAccount
from bulk.amazon.clients import connect
from bulk.sandbox import Sandbox, server
from bulk.sandbox.market import SandboxMarket
from bulk.sandbox.orders_v2026 import GET_ORDER
from bulk.sandbox.wire import Reply, Request
from bulk.targets import SANDBOX_CREDENTIALS

US = "ATVPDKIKX0DER"
CA = "A2EUQ1WTGCTBG2"
N = 150  # two pages of searchOrders


def book_order(i: int, purchased: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": f"114-{i:07d}-0000001",
        "status": "Unshipped",
        "channel": "MFN",
        "purchased": purchased,
        "items": [{"id": f"{i:014d}", "sku": f"SKU-{i}", "title": "Item", "qty": 1}],
        **extra,
    }


@pytest.fixture
def sandbox_orders(tmp_path: Path) -> Path:
    orders = [book_order(i, f"-{i + 5}m") for i in range(1, N + 1)]
    orders.append(book_order(N + 1, "-3d"))  # older than the policy's window
    orders.append(book_order(N + 2, "-2h", status="Shipped"))
    orders.append(book_order(N + 3, "-1h", marketplace_id=CA))
    book = {
        "seller_id": "A1SANDBOXSELLER",
        "marketplace_id": US,
        # 150 orders a day: the window of 24 hours holds two pages.
        "performance": {"orders_last_7_days": 7 * N, "seller_cancels_last_7_days": 0},
        "report_polls": 0,
        "orders": orders,
    }
    path = tmp_path / "book.json"
    path.write_text(json.dumps(book), encoding="utf-8")
    return path


@pytest.fixture
def market(sandbox: Sandbox) -> Iterator[AmazonAccount]:
    clients = connect(sandbox.url, sandbox.url, dict(SANDBOX_CREDENTIALS), US, [US, CA])
    yield AmazonAccount(clients, [US, CA], poll_sleep=lambda _s: None)
    clients.close()


def received(sandbox: Sandbox) -> dict[str, int]:
    return dict(requests.get(f"{sandbox.url}/_sandbox/calls", timeout=10).json())


def look_up(market: AmazonAccount, ids: list[str]) -> Any:
    now = datetime.now().astimezone()
    return market.look_up(ids, now, now - timedelta(hours=24), lambda _line: None)


def test_a_windowed_search_reads_every_page(market: AmazonAccount, sandbox: Sandbox) -> None:
    ids = [f"114-{i:07d}-0000001" for i in range(1, N + 1)]
    found = look_up(market, ids)
    assert set(found.orders) == set(ids)
    assert market.calls["searchOrders"] == 2
    assert market.calls["getOrder"] == 0
    # Expected pages: the sandbox reports the book's 7-day volume for each of US and CA.
    assert found.path.startswith(
        f"searchOrders over the recent open orders (3 pages expected) for {N} orders; "
    )
    assert found.seconds == 0  # two pages, inside the burst of 20
    calls = received(sandbox)
    assert calls["searchOrders"] == 2
    assert not {"getOrders", "getOrder", "getOrderItems"} & set(calls)


def test_rows_the_search_cannot_explain_are_read_one_by_one(market: AmazonAccount) -> None:
    ids = [f"114-{i:07d}-0000001" for i in range(1, N + 4)] + ["114-9999999-0000001"]
    found = look_up(market, ids)
    # One search covers both marketplaces of the run; the order older than the window, the
    # shipped one and an id Amazon does not know (answered 404, left out) are read one by one.
    assert market.calls["searchOrders"] == 2
    assert market.calls["getOrder"] == 3
    assert found.orders[f"114-{N + 1:07d}-0000001"].status == "Unshipped"
    assert found.orders[f"114-{N + 2:07d}-0000001"].status == "Shipped"
    assert found.orders[f"114-{N + 3:07d}-0000001"].marketplace_id == CA
    assert "114-9999999-0000001" not in found.orders
    assert f"for {N + 1} orders, getOrder for the other 3" in found.path


def test_a_few_orders_are_read_with_getorder(market: AmazonAccount) -> None:
    ids = [f"114-{i:07d}-0000001" for i in range(1, 11)]
    found = look_up(market, ids)
    assert set(found.orders) == set(ids)
    assert dict(market.calls) == {"getOrder": 10}  # no report: the volume is not needed
    assert found.path == "getOrder for 10 orders; 0s of Amazon rate-limited time"
    order = found.orders[ids[0]]
    assert (order.channel, order.marketplace_id, order.locale) == ("MFN", US, "en_US")
    assert order.items[0].sku == "SKU-1"


def test_the_time_spent_waiting_for_answers_is_counted_apart_from_bulks_own(
    market: AmazonAccount,
    sandbox_clock: FrozenDateTimeFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Amazon takes a second to answer each getOrder (the sandbox moves the frozen clock while
    it works): the market counts those seconds, and nothing of its own work."""

    def slow(route: server.Route) -> server.Route:
        def handler(sandbox_market: SandboxMarket, request: Request) -> Reply:
            sandbox_clock.tick(1)
            return route.handler(sandbox_market, request)

        return dataclasses.replace(route, handler=handler)

    routes = tuple(slow(r) if r.operation == GET_ORDER else r for r in server.ROUTES)
    monkeypatch.setattr(server, "ROUTES", routes)
    assert market.answer_seconds == 0.0
    look_up(market, [f"114-{i:07d}-0000001" for i in range(1, 11)])
    assert dict(market.calls) == {"getOrder": 10}
    assert market.answer_seconds == pytest.approx(10.0, abs=0.01)


def test_account_figures_are_per_marketplace_and_read_once(market: AmazonAccount) -> None:
    figures = market.account_figures(lambda _line: None)
    again = market.account_figures(lambda _line: None)
    assert figures is again
    assert market.calls["createReport"] == 1
    assert set(figures) == {US, CA}
    assert figures[US].order_count == 7 * N


def test_only_orders_read_one_by_one_are_announced_with_their_calls(
    market: AmazonAccount,
) -> None:
    # The progress bar and its estimate at Amazon's rates are for the path actually taken:
    # the search reads most orders at once and says nothing of them; the ones it cannot
    # explain are read one by one, and only they are announced.
    told: list[tuple[int, dict[str, int]]] = []
    ids = [f"114-{i:07d}-0000001" for i in range(1, N + 4)]
    now = datetime.now().astimezone()
    market.look_up(
        ids, now, now - timedelta(hours=24), lambda _l: None, lambda n, c: told.append((n, dict(c)))
    )
    assert told == [(2, {"getOrder": 1})]
    told.clear()
    few = ids[:10]
    market.look_up(
        few, now, now - timedelta(hours=24), lambda _l: None, lambda n, c: told.append((n, dict(c)))
    )
    assert told == [(10, {"getOrder": 1})]
