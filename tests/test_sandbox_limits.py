"""Rate limits and faults in the sandbox: published limits in headers, 429 when over, seeded faults."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from freezegun.api import FrozenDateTimeFactory
from sp_api.base.exceptions import (
    SellingApiRequestThrottledException,
    SellingApiTemporarilyUnavailableException,
)

from bulk.amazon.clients import Clients, connect
from bulk.sandbox import Sandbox, start_sandbox
from bulk.targets import SANDBOX_CREDENTIALS

DATA = Path(__file__).parent / "data"
US = "ATVPDKIKX0DER"
FEED_CONTENT_TYPE = "text/xml; charset=UTF-8"
ORDER = "113-0000001-0000001"


def _token(url: str) -> str:
    form = {
        "grant_type": "refresh_token",
        "refresh_token": SANDBOX_CREDENTIALS["refresh_token"],
        "client_id": SANDBOX_CREDENTIALS["lwa_app_id"],
        "client_secret": SANDBOX_CREDENTIALS["lwa_client_secret"],
    }
    res = requests.post(f"{url}/auth/o2/token", data=form, timeout=10)
    res.raise_for_status()
    return str(res.json()["access_token"])


def _book(tmp_path: Path, base: str, **changes: Any) -> Path:
    book = json.loads((DATA / base).read_text(encoding="utf-8"))
    book.update(changes)
    path = tmp_path / f"book-{len(list(tmp_path.glob('book-*')))}.json"
    path.write_text(json.dumps(book), encoding="utf-8")
    return path


def test_every_api_answer_carries_the_published_rate(sandbox_clients: Clients) -> None:
    c = sandbox_clients
    doc = c.feeds.create_feed_document(None, FEED_CONTENT_TYPE)
    feed = c.feeds.create_feed("POST_ORDER_ACKNOWLEDGEMENT_DATA", doc.payload["feedDocumentId"])
    report = c.reports.create_report(reportType="GET_V2_SELLER_PERFORMANCE_REPORT")
    answers = {
        "getOrders": c.orders.get_orders(CreatedAfter="2026-01-01T00:00:00Z"),
        "getOrder": c.orders.get_order("112-0000001-0000001"),
        "getOrderItems": c.orders.get_order_items("112-0000001-0000001"),
        "createFeedDocument": doc,
        "createFeed": feed,
        "getFeed": c.feeds.get_feed(feed.payload["feedId"]),
        "getFeeds": c.feeds.get_feeds(feedTypes=["POST_ORDER_ACKNOWLEDGEMENT_DATA"]),
        "createReport": report,
        "getReport": c.reports.get_report(report.payload["reportId"]),
        "getMessagingActionsForOrder": c.messaging.get_messaging_actions_for_order(
            "112-0000001-0000001"
        ),
        "GetAttributes": c.messaging.get_attributes("112-0000001-0000001"),
    }
    rates = {operation: answer.rate_limit for operation, answer in answers.items()}
    assert rates == {
        "getOrders": "0.0167",
        "getOrder": "0.5",
        "getOrderItems": "0.5",
        "createFeedDocument": "0.5",
        "createFeed": "0.0083",
        "getFeed": "2.0",
        "getFeeds": "0.0222",
        "createReport": "0.0167",
        "getReport": "2.0",
        "getMessagingActionsForOrder": "1.0",
        "GetAttributes": "1.0",
    }
    assert all(answer.headers["x-amzn-RequestId"] for answer in answers.values())


@pytest.fixture
def limited(sandbox_clock: FrozenDateTimeFactory, sandbox_state: Path) -> Iterator[Sandbox]:
    with start_sandbox(DATA / "marketplace_limits.json", sandbox_state) as running:
        yield running


def test_over_the_burst_answers_429_until_the_bucket_refills(
    limited: Sandbox, sandbox_clock: FrozenDateTimeFactory
) -> None:
    clients = connect(limited.url, limited.url, SANDBOX_CREDENTIALS, US)
    for _ in range(30):  # getOrder: burst 30
        clients.orders.get_order(ORDER)
    with pytest.raises(SellingApiRequestThrottledException) as caught:
        clients.orders.get_order(ORDER)
    assert caught.value.amzn_code == "QuotaExceeded"
    assert caught.value.headers["x-amzn-RateLimit-Limit"] == "0.5"
    # 0.5 a second, ten times faster here (time_scale 10): one more every 0.2 s.
    sandbox_clock.tick(0.2)
    clients.orders.get_order(ORDER)
    with pytest.raises(SellingApiRequestThrottledException):
        clients.orders.get_order(ORDER)
    clients.orders.get_order_items(ORDER)  # every operation has its own bucket
    clients.close()
    calls = requests.get(f"{limited.url}/_sandbox/calls", timeout=10).json()
    assert calls["getOrder"] == 33


def test_without_enforcement_there_is_no_limit(sandbox: Sandbox) -> None:
    # Plain HTTP, so an empty 429 could not pass for a success: 25 getOrder calls, burst 30 is
    # not the point; getOrders' burst is 20.
    headers = {"x-amz-access-token": _token(sandbox.url)}
    answers = [
        requests.get(
            f"{sandbox.url}/orders/v0/orders",
            params={"CreatedAfter": "2026-01-01T00:00:00Z", "MarketplaceIds": US},
            headers=headers,
            timeout=10,
        )
        for _ in range(25)
    ]
    assert [a.status_code for a in answers] == [200] * 25
    assert all(a.json()["payload"]["Orders"] for a in answers)
    assert requests.get(f"{sandbox.url}/_sandbox/calls", timeout=10).json()["getOrders"] == 25


def _statuses(url: str, count: int) -> list[int]:
    headers = {"x-amz-access-token": _token(url)}
    return [
        requests.get(f"{url}/orders/v0/orders/{ORDER}", headers=headers, timeout=10).status_code
        for _ in range(count)
    ]


def test_seeded_faults_repeat_exactly(sandbox_clock: FrozenDateTimeFactory, tmp_path: Path) -> None:
    runs = []
    for attempt in range(2):
        with start_sandbox(
            DATA / "marketplace_faults.json", tmp_path / f"state-{attempt}"
        ) as running:
            runs.append(_statuses(running.url, 30))
            assert (
                requests.get(f"{running.url}/_sandbox/calls", timeout=10).json()["getOrder"] == 30
            )
    assert runs[0] == runs[1]
    assert set(runs[0]) == {200, 429, 500, 503}


def test_faults_answer_like_amazon_and_spare_the_rest(
    sandbox_clock: FrozenDateTimeFactory, sandbox_state: Path, tmp_path: Path
) -> None:
    book = _book(tmp_path, "marketplace_faults.json", faults={"rate": 1.0, "kinds": ["503"]})
    with start_sandbox(book, sandbox_state) as running:
        clients = connect(running.url, running.url, SANDBOX_CREDENTIALS, US)
        with pytest.raises(SellingApiTemporarilyUnavailableException) as caught:
            clients.orders.get_order(ORDER)
        assert caught.value.amzn_code == "ServiceUnavailable"
        clients.close()
        assert requests.get(f"{running.url}/_sandbox/calls", timeout=10).status_code == 200
        _token(running.url)  # Login with Amazon is spared unless "token" is listed


def test_uploads_fail_only_when_listed(
    sandbox_clock: FrozenDateTimeFactory, sandbox_state: Path, tmp_path: Path
) -> None:
    with start_sandbox(DATA / "marketplace_faults.json", sandbox_state) as calm:
        headers = {"x-amz-access-token": _token(calm.url), "content-type": "application/json"}
        answer = requests.post(
            f"{calm.url}/feeds/2021-06-30/documents",
            data=json.dumps({"contentType": FEED_CONTENT_TYPE}),
            headers=headers,
            timeout=10,
        )
        while answer.status_code != 201:  # the faults book fails half the calls
            answer = requests.post(
                f"{calm.url}/feeds/2021-06-30/documents",
                data=json.dumps({"contentType": FEED_CONTENT_TYPE}),
                headers=headers,
                timeout=10,
            )
        url = answer.json()["url"]
    book = _book(
        tmp_path,
        "marketplace_faults.json",
        faults={"rate": 1.0, "kinds": ["503", "upload", "token"]},
    )
    # The same state on a new port: the signed path and query stay good (the signature covers
    # the document, not the host), and no just-freed port is reused.
    signed = url.split("/_sandbox", 1)[1]
    with start_sandbox(book, sandbox_state) as faulty:
        res = requests.put(
            f"{faulty.url}/_sandbox{signed}",
            data=b"<x/>",
            headers={"Content-Type": FEED_CONTENT_TYPE},
            timeout=10,
        )
        assert res.status_code == 503
        assert b"<Code>SlowDown</Code>" in res.content
        token = requests.post(f"{faulty.url}/auth/o2/token", data={}, timeout=10)
        assert token.status_code == 503
        assert token.json()["error"] == "server_error"


def test_slow_answers_still_answer(
    sandbox_clock: FrozenDateTimeFactory, sandbox_state: Path, tmp_path: Path
) -> None:
    # time_scale 1000 turns the 3 s stall into 3 ms.
    book = _book(
        tmp_path,
        "marketplace_faults.json",
        time_scale=1000,
        faults={"rate": 1.0, "kinds": ["slow"]},
    )
    with start_sandbox(book, sandbox_state) as running:
        clients = connect(running.url, running.url, SANDBOX_CREDENTIALS, US)
        assert clients.orders.get_order(ORDER).payload["OrderStatus"] == "Unshipped"
        doc = clients.feeds.create_feed_document(io.BytesIO(b"<x/>"), FEED_CONTENT_TYPE)
        assert doc.payload["feedDocumentId"]
        clients.close()
