"""The Order Acknowledgement document against Amazon's XSD, and parsing real processing reports."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from lxml import etree

from bulk.amazon.feed import (
    FeedMessage,
    build_document,
    feed_documents,
    parse_report,
)
from bulk.errors import AmazonError

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "amazon"
# Real processing reports (an order feed with errors, an order not found), kept in tests/data.
PROCESSING_REPORTS = Path(__file__).resolve().parent / "data" / "processing-reports"
BUNDLED_XSD = Path(__file__).resolve().parents[1] / "bulk" / "sandbox" / "xsd" / "amzn-envelope.xsd"


def _schema() -> etree.XMLSchema:
    path = REFERENCE / "xsd" / "amzn-envelope.xsd"
    if not path.exists():
        path = BUNDLED_XSD
    if not path.exists():
        pytest.skip("Amazon's XSDs are not available")
    return etree.XMLSchema(etree.parse(str(path)))


MESSAGES = [
    FeedMessage(1, "112-0000001-0000001", ("00000000000101", "00000000000102"), "NoInventory"),
    FeedMessage(2, "112-0000002-0000002", ("00000000000201",), "BuyerCanceled"),
]


def test_document_validates_against_amazons_xsd() -> None:
    document = build_document("A1SELLER&<>", MESSAGES)
    root = etree.fromstring(document)
    schema = _schema()
    assert schema.validate(root), schema.error_log
    assert root.findtext("Header/MerchantIdentifier") == "A1SELLER&<>"
    assert root.findtext("MessageType") == "OrderAcknowledgement"
    first = root.find("Message")
    assert first is not None
    assert first.findtext("MessageID") == "1"
    assert first.findtext("OrderAcknowledgement/StatusCode") == "Failure"
    items = first.findall("OrderAcknowledgement/Item")
    assert [i.findtext("AmazonOrderItemCode") for i in items] == [
        "00000000000101",
        "00000000000102",
    ]
    assert {i.findtext("CancelReason") for i in items} == {"NoInventory"}


def test_every_message_lists_its_items() -> None:
    # A Failure with no Item has been reported to finish DONE without cancelling anything.
    with pytest.raises(ValueError, match="must list its items"):
        build_document("S", [FeedMessage(1, "112-0000001-0000001", (), "NoInventory")])


def test_split_keeps_one_feed_under_the_limit_and_splits_above() -> None:
    assert [group for group, _ in feed_documents("S", MESSAGES)] == [MESSAGES]
    many = [
        FeedMessage(i, f"112-{i:07d}-0000001", ("00000000000101",), "NoInventory")
        for i in range(1, 41)
    ]
    size_of_all = len(build_document("S", many))
    parts = [group for group, _ in feed_documents("S", many, limit=size_of_all // 3)]
    assert len(parts) > 1
    assert [m for part in parts for m in part] == many
    documents = feed_documents("S", many, limit=size_of_all // 3)
    assert [group for group, _ in documents] == parts
    assert all(doc == build_document("S", group) for group, doc in documents)
    assert all(len(build_document("S", part)) <= size_of_all // 3 for part in parts)
    assert feed_documents("S", []) == []


@pytest.mark.parametrize(
    ("name", "processed", "errors", "error_ids"),
    [
        ("processing_report_order_errors_18028.xml", 4, 3, [1, 2, 4]),
        ("processing_report_order_not_found_18028.xml", None, None, None),
    ],
)
def test_real_processing_reports_parse(
    name: str, processed: int | None, errors: int | None, error_ids: list[int] | None
) -> None:
    data = (PROCESSING_REPORTS / name).read_bytes()
    for raw in (data, gzip.compress(data)):
        report = parse_report(raw)
        assert report.results, "every reference report has error results"
        for r in report.results:
            assert r.code in ("Error", "Warning")
            assert r.message_code
            assert r.description
        if processed is not None:
            assert report.processed == processed
            assert report.with_error == errors
            assert [r.message_id for r in report.results] == error_ids
            assert report.results[0].order_id == "302-6666666-6666666"
            assert report.for_message(3) == []
            assert [r.message_id for r in report.for_message(2)] == [2]


def test_document_level_result_applies_to_every_message() -> None:
    xml = b"""<AmazonEnvelope><Header><DocumentVersion>1.02</DocumentVersion>
    <MerchantIdentifier>S</MerchantIdentifier></Header><MessageType>ProcessingReport</MessageType>
    <Message><MessageID>1</MessageID><ProcessingReport><DocumentTransactionID>1</DocumentTransactionID>
    <StatusCode>Complete</StatusCode><ProcessingSummary><MessagesProcessed>0</MessagesProcessed>
    <MessagesSuccessful>0</MessagesSuccessful><MessagesWithError>1</MessagesWithError>
    <MessagesWithWarning>0</MessagesWithWarning></ProcessingSummary>
    <Result><MessageID>0</MessageID><ResultCode>Error</ResultCode><ResultMessageCode>5000</ResultMessageCode>
    <ResultDescription>XML parsing error</ResultDescription></Result></ProcessingReport></Message>
    </AmazonEnvelope>"""
    report = parse_report(xml)
    assert [r.message_code for r in report.for_message(7)] == ["5000"]


@pytest.mark.parametrize(
    "data", [b"not xml", b"\x1f\x8b broken gzip", b"<AmazonEnvelope></AmazonEnvelope>"]
)
def test_broken_reports_raise_a_clear_error(data: bytes) -> None:
    with pytest.raises(AmazonError, match="processing report"):
        parse_report(data)
