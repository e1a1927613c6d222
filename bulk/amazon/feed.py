"""The Order Acknowledgement feed document, and the processing report Amazon answers it with."""

from __future__ import annotations

import gzip
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape

from bulk.errors import AmazonError

FEED_TYPE = "POST_ORDER_ACKNOWLEDGEMENT_DATA"
CONTENT_TYPE = "text/xml; charset=UTF-8"
# Amazon's limit on one feed document; a run above it is split into several feeds.
MAX_FEED_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class FeedMessage:
    """One order in the feed: cancel these order lines (14-digit OrderItemIds) for this reason."""

    message_id: int
    order_id: str
    item_ids: tuple[str, ...]
    reason_code: str


def build_document(seller_id: str, messages: Sequence[FeedMessage]) -> bytes:
    """An AmazonEnvelope of OrderAcknowledgement messages with StatusCode Failure (a cancel).

    Element order follows bulk/sandbox/xsd/OrderAcknowledgement.xsd. Every item is
    listed with its CancelReason: a Failure with no Item has been reported to finish DONE
    without cancelling anything (docs/amazon.md, "Feed rules").
    """
    return _head(seller_id) + b"".join(_message(m) for m in messages) + _TAIL


def _head(seller_id: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<AmazonEnvelope xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:noNamespaceSchemaLocation="amzn-envelope.xsd">\n'
        "  <Header>\n"
        "    <DocumentVersion>1.01</DocumentVersion>\n"
        f"    <MerchantIdentifier>{escape(seller_id)}</MerchantIdentifier>\n"
        "  </Header>\n"
        "  <MessageType>OrderAcknowledgement</MessageType>\n"
    ).encode()


_TAIL = b"</AmazonEnvelope>\n"


def _message(m: FeedMessage) -> bytes:
    if not m.item_ids:
        raise ValueError(f"order {m.order_id}: a cancellation must list its items")
    items = "".join(
        "      <Item>\n"
        f"        <AmazonOrderItemCode>{escape(item_id)}</AmazonOrderItemCode>\n"
        f"        <CancelReason>{escape(m.reason_code)}</CancelReason>\n"
        "      </Item>\n"
        for item_id in m.item_ids
    )
    return (
        "  <Message>\n"
        f"    <MessageID>{m.message_id}</MessageID>\n"
        "    <OrderAcknowledgement>\n"
        f"      <AmazonOrderID>{escape(m.order_id)}</AmazonOrderID>\n"
        "      <StatusCode>Failure</StatusCode>\n"
        f"{items}"
        "    </OrderAcknowledgement>\n"
        "  </Message>\n"
    ).encode()


def feed_documents(
    seller_id: str, messages: Sequence[FeedMessage], limit: int = MAX_FEED_BYTES
) -> list[tuple[list[FeedMessage], bytes]]:
    """As few feed documents as fit under Amazon's size limit (almost always one), each with
    the messages it carries, in order. Each message's XML is made once."""
    head = _head(seller_id)
    room = limit - len(head) - len(_TAIL)
    groups: list[tuple[list[FeedMessage], list[bytes]]] = []
    size = 0
    for m in messages:
        xml = _message(m)
        if not groups or size + len(xml) > room:
            groups.append(([], []))
            size = 0
        groups[-1][0].append(m)
        groups[-1][1].append(xml)
        size += len(xml)
    return [(group, head + b"".join(parts) + _TAIL) for group, parts in groups]


@dataclass(frozen=True)
class ReportResult:
    message_id: int  # 0: the whole document
    code: str  # Error or Warning
    message_code: str
    description: str
    order_id: str = ""


@dataclass(frozen=True)
class ProcessingReport:
    processed: int
    successful: int
    with_error: int
    with_warning: int
    results: tuple[ReportResult, ...]

    def for_message(self, message_id: int) -> list[ReportResult]:
        """The results about one message and those about the whole document (message id 0),
        in report order. Found through an index built once: a feed of 25,000 orders with an
        error each would otherwise read all 25,000 results for each of its orders."""
        own = self._positions.get(message_id, [])
        whole = self._positions.get(0, [])
        return [self.results[i] for i in (sorted(own + whole) if own and whole else own or whole)]

    @cached_property
    def _positions(self) -> dict[int, list[int]]:
        """Message id -> positions of its results in `results`."""
        found: dict[int, list[int]] = {}
        for i, r in enumerate(self.results):
            found.setdefault(r.message_id, []).append(i)
        return found


def _text(element: ET.Element | None, path: str) -> str:
    if element is None:
        return ""
    found = element.find(path)
    return (found.text or "").strip() if found is not None else ""


def _int(element: ET.Element | None, path: str) -> int:
    text = _text(element, path)
    return int(text) if text.isdigit() else 0


def parse_report(data: bytes, compression: str | None = None) -> ProcessingReport:
    """Amazon's XML processing report: counts and one Result per message with an error or warning.

    A message with no Result succeeded; MessageID 0 is about the whole document
    (docs/amazon.md, "Processing reports").
    """
    if compression == "GZIP" or data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as e:
            raise AmazonError(f"Amazon's processing report is not valid gzip data: {e}") from e
    try:
        root = ET.fromstring(data)
    except ET.ParseError as e:
        raise AmazonError(f"Amazon's processing report is not XML: {e}") from e
    report = root.find("./Message/ProcessingReport")
    if report is None:
        report = root.find(".//ProcessingReport")
    if report is None:
        raise AmazonError("Amazon's processing report has no ProcessingReport element")
    summary = report.find("ProcessingSummary")
    results = tuple(
        ReportResult(
            message_id=_int(r, "MessageID"),
            code=_text(r, "ResultCode"),
            message_code=_text(r, "ResultMessageCode"),
            description=_text(r, "ResultDescription"),
            order_id=_text(r, "AdditionalInfo/AmazonOrderID"),
        )
        for r in report.findall("Result")
    )
    return ProcessingReport(
        processed=_int(summary, "MessagesProcessed"),
        successful=_int(summary, "MessagesSuccessful"),
        with_error=_int(summary, "MessagesWithError"),
        with_warning=_int(summary, "MessagesWithWarning"),
        results=results,
    )
