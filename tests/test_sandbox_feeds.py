"""Feeds through the sandbox: documents, upload, processing, the report, and state across restarts."""

from __future__ import annotations

import gzip
import io
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from freezegun.api import FrozenDateTimeFactory
from lxml import etree
from sp_api.base.exceptions import SellingApiBadRequestException

from bulk.amazon.clients import Clients, connect
from bulk.errors import LockError
from bulk.sandbox import Sandbox, start_sandbox
from bulk.sandbox.acknowledgement import envelope_schema
from bulk.sandbox.state import STATE_FILE
from bulk.targets import SANDBOX_CREDENTIALS

ACK = "POST_ORDER_ACKNOWLEDGEMENT_DATA"
FEED_CONTENT_TYPE = "text/xml; charset=UTF-8"
US = "ATVPDKIKX0DER"
AckFeed = Callable[..., bytes]
RunFeed = Callable[..., tuple[dict[str, Any], str]]


def _report(text: str) -> etree._Element:
    root = etree.fromstring(text.encode("utf-8"))
    assert envelope_schema().validate(root.getroottree()), envelope_schema().error_log
    report = root.find("Message/ProcessingReport")
    assert report is not None
    return report


def _summary(report: etree._Element) -> tuple[int, ...]:
    names = ("MessagesProcessed", "MessagesSuccessful", "MessagesWithError", "MessagesWithWarning")
    return tuple(int(report.findtext(f"ProcessingSummary/{name}") or -1) for name in names)


def _results(report: etree._Element) -> dict[int, list[dict[str, str]]]:
    found: dict[int, list[dict[str, str]]] = {}
    for result in report.iterfind("Result"):
        found.setdefault(int(result.findtext("MessageID") or -1), []).append(
            {
                "code": result.findtext("ResultCode") or "",
                "number": result.findtext("ResultMessageCode") or "",
                "text": result.findtext("ResultDescription") or "",
                "order": result.findtext("AdditionalInfo/AmazonOrderID") or "",
                "item": result.findtext("AdditionalInfo/AmazonOrderItemCode") or "",
            }
        )
    return found


FULL_FEED = [
    ("112-0000001-0000001", "Failure", [("00000000000101", "NoInventory")]),  # 1 whole order
    ("112-0000001-0000002", "Failure", [("00000000000201", "NoInventory")]),  # 2 one line of two
    ("112-0000001-0000005", "Failure", [("00000000000501", "NoInventory")]),  # 3 shipped
    ("112-0000001-0000006", "Failure", [("00000000000602", "NoInventory")]),  # 4 partly shipped
    ("999-0000000-0000000", "Failure", [("00000000009901", "NoInventory")]),  # 5 unknown order
    ("112-0000001-0000009", "Failure", [("00000000000901", "NoInventory")]),  # 6 FBA
    ("112-0000001-0000007", "Failure", [("00000000000701", "NoInventory")]),  # 7 already cancelled
    (
        "112-0000001-0000003",
        "Failure",
        [("00000000000301", "NoInventory"), ("00000000009999", "NoInventory")],
    ),  # 8 one item is not in the order
    ("112-0000001-0000011", "Failure", []),  # 9 no Item: Amazon cancels nothing
    ("112-0000001-0000012", "Success", []),  # 10 acknowledged
    ("112-0000001-0000004", "Failure", [("00000000000401", "BuyerCanceled")]),  # 11 buyer asked
    ("112-0000001-0000008", "Failure", [("00000000000801", "")]),  # 12 no CancelReason
]


def test_full_feed_cycle(ack_feed: AckFeed, sandbox: Sandbox, sandbox_clients: Clients) -> None:
    feeds = sandbox_clients.feeds
    document = ack_feed(FULL_FEED)
    doc = feeds.create_feed_document(io.BytesIO(document), FEED_CONTENT_TYPE).payload
    assert doc["url"].startswith(f"{sandbox.url}/_sandbox/upload/")
    created = feeds.create_feed(ACK, doc["feedDocumentId"], marketplaceIds=[US])
    feed_id = created.payload["feedId"]
    statuses = []
    for _ in range(5):
        feed = feeds.get_feed(feed_id).payload
        statuses.append(feed["processingStatus"])
        if feed["processingStatus"] == "DONE":
            break
    assert statuses == ["IN_QUEUE", "IN_PROGRESS", "DONE"]
    assert feed["processingStartTime"] and feed["processingEndTime"]

    info = feeds._request(  # getFeedDocument as the wire has it, before the library downloads
        f"/feeds/2021-06-30/documents/{feed['resultFeedDocumentId']}", add_marketplace=False
    ).payload
    assert info["compressionAlgorithm"] == "GZIP"
    raw = requests.get(info["url"], timeout=10)
    assert raw.status_code == 200
    text = gzip.decompress(raw.content).decode("utf-8")
    assert feeds.get_feed_result_document(feed["resultFeedDocumentId"]) == text

    report = _report(text)
    assert report.findtext("DocumentTransactionID") == feed_id
    assert report.findtext("StatusCode") == "Complete"
    assert _summary(report) == (12, 5, 7, 0)
    results = _results(report)
    assert sorted(results) == [3, 4, 5, 6, 7, 8, 12]
    assert all(r["code"] == "Error" for rs in results.values() for r in rs)
    assert results[5][0]["number"] == "18028"
    assert "cannot be found" in results[5][0]["text"]
    assert results[5][0]["order"] == "999-0000000-0000000"
    assert "shipped" in results[3][0]["text"] and "shipped" in results[4][0]["text"]
    assert "fulfilled by Amazon" in results[6][0]["text"]
    assert "already cancelled" in results[7][0]["text"]
    assert results[8] == [
        {
            "code": "Error",
            "number": results[8][0]["number"],
            "text": "The AmazonOrderItemCode 00000000009999 is not an item of order 112-0000001-0000003.",
            "order": "112-0000001-0000003",
            "item": "00000000009999",
        }
    ]
    assert "CancelReason" in results[12][0]["text"]

    orders = sandbox_clients.orders
    status = {
        order_id: orders.get_order(order_id).payload["OrderStatus"]
        for order_id in {m[0] for m in FULL_FEED if not m[0].startswith("999")}
    }
    assert status == {
        "112-0000001-0000001": "Canceled",
        "112-0000001-0000002": "Unshipped",  # partly cancelled
        "112-0000001-0000003": "Unshipped",  # the message failed as a whole
        "112-0000001-0000004": "Canceled",
        "112-0000001-0000005": "Shipped",
        "112-0000001-0000006": "PartiallyShipped",
        "112-0000001-0000007": "Canceled",
        "112-0000001-0000008": "Pending",
        "112-0000001-0000009": "Unshipped",
        "112-0000001-0000011": "Unshipped",
        "112-0000001-0000012": "Unshipped",
    }
    lines = orders.get_order_items("112-0000001-0000002").payload["OrderItems"]
    assert [(i["OrderItemId"], i["QuantityOrdered"]) for i in lines] == [
        ("00000000000201", 0),
        ("00000000000202", 1),
    ]
    partial = orders.get_order("112-0000001-0000002").payload
    assert partial["NumberOfItemsUnshipped"] == 1
    assert partial["OrderTotal"]["Amount"] == "24.00"
    assert partial["LastUpdateDate"] == "2026-03-02T15:00:00Z"

    seen = requests.get(f"{sandbox.url}/_sandbox/feeds", timeout=10).json()
    assert [f["feedId"] for f in seen] == [feed_id]
    assert seen[0]["document"] == document.decode("utf-8")
    outcomes = {m["messageId"]: m["outcome"] for m in seen[0]["messages"]}
    assert outcomes[1] == outcomes[2] == outcomes[11] == "cancelled"
    assert outcomes[9] == "ignored" and outcomes[10] == "acknowledged" and outcomes[3] == "error"


def test_sending_the_same_cancellation_twice(ack_feed: AckFeed, run_feed: RunFeed) -> None:
    document = ack_feed([FULL_FEED[0]])
    _, first_report = run_feed(document)
    assert _summary(_report(first_report)) == (1, 1, 0, 0)
    second, second_report = run_feed(document)
    assert second["processingStatus"] == "DONE"
    results = _results(_report(second_report))
    assert "already cancelled" in results[1][0]["text"]


@pytest.mark.parametrize(
    ("document", "words"),
    [
        (
            lambda feed: feed(
                [("112-0000001-0000001", "Failure", [("00000000000101", "PricingError")])]
            ),
            "CancelReason",
        ),
        (lambda feed: feed([("112-0000001-0000001", "Cancel", [])]), "StatusCode"),
        (
            lambda feed: b"order-id\torder-item-id\n112-0000001-0000001\t00000000000101\n",
            "XML Parsing Error at Line 1",
        ),
        (lambda feed: b"<AmazonEnvelope><Header>", "XML Parsing Error at Line 1"),
        (
            lambda feed: feed([("112-0000001-0000001", "Failure", [])], seller_id="A9OTHERSELLER"),
            "MerchantIdentifier A9OTHERSELLER",
        ),
    ],
)
def test_an_invalid_document_ends_fatal(
    run_feed: RunFeed,
    ack_feed: AckFeed,
    sandbox_clients: Clients,
    document: Callable[[AckFeed], bytes],
    words: str,
) -> None:
    feed, text = run_feed(document(ack_feed))
    assert feed["processingStatus"] == "FATAL"
    report = _report(text)
    assert _summary(report) == (0, 0, 1, 0)
    (result,) = _results(report)[0]
    assert result["code"] == "Error"
    assert words in result["text"]
    order = sandbox_clients.orders.get_order("112-0000001-0000001").payload
    assert order["OrderStatus"] == "Unshipped"


def test_other_feed_types_are_not_processed(ack_feed: AckFeed, run_feed: RunFeed) -> None:
    feed, text = run_feed(ack_feed([FULL_FEED[0]]), feed_type="POST_PRODUCT_DATA")
    assert feed["processingStatus"] == "FATAL"
    assert "processes only POST_ORDER_ACKNOWLEDGEMENT_DATA" in _results(_report(text))[0][0]["text"]


def test_a_feed_whose_document_was_never_uploaded_ends_fatal(sandbox_clients: Clients) -> None:
    feeds = sandbox_clients.feeds
    doc = feeds.create_feed_document(None, FEED_CONTENT_TYPE).payload
    feed_id = feeds.create_feed(ACK, doc["feedDocumentId"]).payload["feedId"]
    for _ in range(3):
        feed = feeds.get_feed(feed_id).payload
    assert feed["processingStatus"] == "FATAL"
    text = feeds.get_feed_result_document(feed["resultFeedDocumentId"])
    assert "Premature end of file" in text


def test_upload_url_is_signed_for_the_content_type_and_five_minutes(
    ack_feed: AckFeed,
    sandbox_clients: Clients,
    sandbox: Sandbox,
    sandbox_clock: FrozenDateTimeFactory,
) -> None:
    url = sandbox_clients.feeds.create_feed_document(None, FEED_CONTENT_TYPE).payload["url"]
    body = ack_feed([FULL_FEED[0]])
    wrong_type = requests.put(url, data=body, headers={"Content-Type": "text/xml"}, timeout=10)
    assert wrong_type.status_code == 403
    assert b"<Code>SignatureDoesNotMatch</Code>" in wrong_type.content
    tampered = requests.put(
        url[:-4] + "0000", data=body, headers={"Content-Type": FEED_CONTENT_TYPE}, timeout=10
    )
    assert tampered.status_code == 403
    unknown = requests.put(
        f"{sandbox.url}/_sandbox/upload/amzn1.tortuga.4.na.nothing?expires=1&sig=0",
        data=body,
        timeout=10,
    )
    assert unknown.status_code == 404
    good = requests.put(url, data=body, headers={"Content-Type": FEED_CONTENT_TYPE}, timeout=10)
    assert good.status_code == 200
    sandbox_clock.tick(301)
    late = requests.put(url, data=body, headers={"Content-Type": FEED_CONTENT_TYPE}, timeout=10)
    assert late.status_code == 403
    assert b"<Code>AccessDenied</Code>" in late.content


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"inputFeedDocumentId": "amzn1.tortuga.4.na.nothing"}, "Invalid inputFeedDocumentId"),
        ({"marketplaceIds": ["A1PA6795UKMFR9"]}, "Invalid marketplaceId A1PA6795UKMFR9"),
        ({"feedType": ""}, "feedType is required"),
    ],
)
def test_create_feed_rules(sandbox_clients: Clients, body: dict[str, Any], message: str) -> None:
    feeds = sandbox_clients.feeds
    doc_id = feeds.create_feed_document(None, FEED_CONTENT_TYPE).payload["feedDocumentId"]
    request = {"feedType": ACK, "inputFeedDocumentId": doc_id, "marketplaceIds": [US], **body}
    with pytest.raises(SellingApiBadRequestException) as caught:
        feeds.create_feed(request.pop("feedType"), request.pop("inputFeedDocumentId"), **request)
    assert message in caught.value.message


def test_only_feeds_in_queue_can_be_cancelled(ack_feed: AckFeed, sandbox_clients: Clients) -> None:
    feeds = sandbox_clients.feeds
    doc_id = feeds.create_feed_document(io.BytesIO(ack_feed([FULL_FEED[0]])), FEED_CONTENT_TYPE)
    waiting = feeds.create_feed(ACK, doc_id.payload["feedDocumentId"]).payload["feedId"]
    feeds.cancel_feed(waiting)
    assert feeds.get_feed(waiting).payload["processingStatus"] == "CANCELLED"
    assert feeds.get_feed(waiting).payload["processingStatus"] == "CANCELLED"
    running = feeds.create_feed(ACK, doc_id.payload["feedDocumentId"]).payload["feedId"]
    feeds.get_feed(running)
    feeds.get_feed(running)  # IN_PROGRESS now
    with pytest.raises(SellingApiBadRequestException, match="only IN_QUEUE feeds can be cancelled"):
        feeds.cancel_feed(running)
    order = sandbox_clients.orders.get_order("112-0000001-0000001").payload
    assert order["OrderStatus"] == "Unshipped"  # the cancelled feed never ran


def test_get_feeds_filters_and_pages(
    sandbox_clients: Clients, sandbox_clock: FrozenDateTimeFactory
) -> None:
    feeds = sandbox_clients.feeds
    doc_id = feeds.create_feed_document(None, FEED_CONTENT_TYPE).payload["feedDocumentId"]
    made = []
    for _ in range(3):
        made.append(feeds.create_feed(ACK, doc_id).payload["feedId"])
        sandbox_clock.tick(60)
    feeds.cancel_feed(made[0])
    first = feeds.get_feeds(feedTypes=[ACK], pageSize=2)
    assert [f["feedId"] for f in first.payload["feeds"]] == [made[2], made[1]]  # newest first
    rest = feeds.get_feeds(nextToken=first.next_token)
    assert [f["feedId"] for f in rest.payload["feeds"]] == [made[0]]
    assert "nextToken" not in rest.payload
    cancelled = feeds.get_feeds(feedTypes=[ACK], processingStatuses=["CANCELLED"])
    assert [f["feedId"] for f in cancelled.payload["feeds"]] == [made[0]]
    assert feeds.get_feeds(feedTypes=["POST_PRODUCT_DATA"]).payload["feeds"] == []
    with pytest.raises(SellingApiBadRequestException, match="feedTypes or nextToken"):
        feeds.get_feeds()


def test_state_survives_a_restart(
    ack_feed: AckFeed,
    sandbox_clock: FrozenDateTimeFactory,
    sandbox_orders: Path,
    sandbox_state: Path,
) -> None:
    with start_sandbox(sandbox_orders, sandbox_state) as first:
        clients = connect(first.url, first.url, SANDBOX_CREDENTIALS, US)
        doc = clients.feeds.create_feed_document(
            io.BytesIO(ack_feed([FULL_FEED[0]])), FEED_CONTENT_TYPE
        )
        feed_id = clients.feeds.create_feed(ACK, doc.payload["feedDocumentId"]).payload["feedId"]
        for _ in range(3):
            result_id = clients.feeds.get_feed(feed_id).payload.get("resultFeedDocumentId")
        clients.close()
    with start_sandbox(sandbox_orders, sandbox_state) as second:
        clients = connect(second.url, second.url, SANDBOX_CREDENTIALS, US)
        assert clients.orders.get_order("112-0000001-0000001").payload["OrderStatus"] == "Canceled"
        feed = clients.feeds.get_feed(feed_id).payload
        assert feed["processingStatus"] == "DONE"
        assert feed["resultFeedDocumentId"] == result_id
        assert (
            "<MessagesSuccessful>1</MessagesSuccessful>"
            in clients.feeds.get_feed_result_document(result_id)
        )
        next_doc = clients.feeds.create_feed_document(None, FEED_CONTENT_TYPE).payload[
            "feedDocumentId"
        ]
        assert int(clients.feeds.create_feed(ACK, next_doc).payload["feedId"]) > int(feed_id)
        clients.close()
        calls = requests.get(f"{second.url}/_sandbox/calls", timeout=10).json()
    assert calls["getFeed"] == 4
    assert calls["createFeed"] == 2


def test_a_changed_order_in_the_book_is_reset(
    ack_feed: AckFeed,
    sandbox_clock: FrozenDateTimeFactory,
    sandbox_orders: Path,
    sandbox_state: Path,
    tmp_path: Path,
) -> None:
    book_path = tmp_path / "book.json"
    shutil.copy(sandbox_orders, book_path)
    messages = [FULL_FEED[0], FULL_FEED[1]]
    with start_sandbox(book_path, sandbox_state) as first:
        clients = connect(first.url, first.url, SANDBOX_CREDENTIALS, US)
        doc = clients.feeds.create_feed_document(io.BytesIO(ack_feed(messages)), FEED_CONTENT_TYPE)
        feed_id = clients.feeds.create_feed(ACK, doc.payload["feedDocumentId"]).payload["feedId"]
        for _ in range(3):
            clients.feeds.get_feed(feed_id)
        clients.close()
    book = json.loads(book_path.read_text(encoding="utf-8"))
    book["orders"][0]["items"][0]["title"] = "Ceramic Coffee Mug, Red, 12 oz (new photo)"
    book_path.write_text(json.dumps(book), encoding="utf-8")
    with start_sandbox(book_path, sandbox_state) as second:
        clients = connect(second.url, second.url, SANDBOX_CREDENTIALS, US)
        assert clients.orders.get_order("112-0000001-0000001").payload["OrderStatus"] == "Unshipped"
        items = clients.orders.get_order_items("112-0000001-0000002").payload["OrderItems"]
        assert items[0]["QuantityOrdered"] == 0  # untouched order keeps its cancellation
        assert clients.feeds.get_feed(feed_id).payload["processingStatus"] == "DONE"
        clients.close()


def test_one_state_folder_serves_one_sandbox(
    sandbox: Sandbox, sandbox_orders: Path, sandbox_state: Path
) -> None:
    with pytest.raises(LockError, match="another sandbox is running on state folder"):
        start_sandbox(sandbox_orders, sandbox_state)


def test_an_unreadable_state_file_is_moved_aside(
    sandbox_clock: FrozenDateTimeFactory, sandbox_orders: Path, sandbox_state: Path
) -> None:
    sandbox_state.mkdir()
    (sandbox_state / STATE_FILE).write_text("{not json", encoding="utf-8")
    with start_sandbox(sandbox_orders, sandbox_state) as running:
        assert requests.get(f"{running.url}/_sandbox/feeds", timeout=10).json() == []
    assert (sandbox_state / (STATE_FILE + ".unreadable")).read_text(encoding="utf-8") == "{not json"
    assert json.loads((sandbox_state / STATE_FILE).read_text(encoding="utf-8"))["version"] == 1
