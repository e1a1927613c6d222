"""Order Acknowledgement feeds: XSD validation, cancellation rules, the processing report."""

from __future__ import annotations

# Schemas are Amazon's (bulk/sandbox/xsd/amzn-envelope.xsd includes the rest); the report has the
# shape of real ones (docs/amazon.md, "Processing reports"). Amazon publishes no list of result codes:
# 5001 (XML error) and 18028 (order not found) are codes seen in real
# reports, the others below are the sandbox's own, just as opaque.
import functools
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from lxml import etree

from bulk.sandbox.book import Book, BookOrder

XSD_DIR = Path(__file__).parent / "xsd"
FEED_TYPE = "POST_ORDER_ACKNOWLEDGEMENT_DATA"
XSI = "http://www.w3.org/2001/XMLSchema-instance"

XML_ERROR = 5001  # document level: not XML, not valid against the XSD
ENVELOPE_ERROR = 5000  # document level: wrong seller, wrong message type, wrong feed type
ORDER_NOT_FOUND = 18028
ITEM_NOT_IN_ORDER = 18040
ORDER_SHIPPED = 18041
ORDER_FULFILLED_BY_AMAZON = 18042
ALREADY_CANCELLED = 18043
STATUS_NOT_CANCELLABLE = 18044
CANCEL_REASON_MISSING = 18045
DUPLICATE_MESSAGE = 18046

# Order statuses in which a seller may still cancel (Seller Central "Cancel an order").
CANCELLABLE = ("Pending", "PendingAvailability", "Unshipped")

_schema_lock = threading.Lock()


@functools.cache
def _envelope_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD_DIR / "amzn-envelope.xsd")))


def envelope_schema() -> etree.XMLSchema:
    """Amazon's envelope schema, loaded once (it takes most of a second)."""
    with _schema_lock:
        return _envelope_schema()


@dataclass(frozen=True)
class Result:
    """One `Result` of a processing report."""

    message_id: int
    message_code: int
    description: str
    order_id: str = ""
    item_id: str = ""
    code: str = "Error"


@dataclass(frozen=True)
class Outcome:
    """What one Message did, for the state and for /_sandbox/feeds."""

    message_id: int
    order_id: str
    status_code: str
    items: tuple[tuple[str, str], ...]  # (AmazonOrderItemCode, CancelReason or "")
    outcome: str  # "cancelled", "acknowledged", "ignored" or "error"
    results: tuple[Result, ...] = ()
    note: str = ""

    def to_json(self) -> dict[str, object]:
        return {
            "messageId": self.message_id,
            "orderId": self.order_id,
            "statusCode": self.status_code,
            "items": [{"itemId": i, "cancelReason": r} for i, r in self.items],
            "outcome": self.outcome,
            "results": [
                {
                    "resultCode": r.code,
                    "resultMessageCode": r.message_code,
                    "description": r.description,
                }
                for r in self.results
            ],
            "note": self.note,
        }


@dataclass(frozen=True)
class Processing:
    """The result of processing a whole feed."""

    status: str  # "DONE" or "FATAL"
    report: str  # the processing report XML
    outcomes: tuple[Outcome, ...] = ()
    cancellations: tuple[tuple[str, str, str], ...] = ()  # (order id, item id, reason)
    fatal: Result | None = None


def _parser() -> etree.XMLParser:
    # No DTDs, entities or network: feed documents are untrusted input.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def _text(element: etree._Element, name: str) -> str:
    found = element.find(name)
    return (found.text or "").strip() if found is not None else ""


def process(
    content: bytes,
    feed_type: str,
    transaction_id: str,
    book: Book,
    cancelled: Callable[[str], set[str]],
    marketplace_ids: Collection[str] | None = None,
) -> Processing:
    """Validate and apply an acknowledgement feed; `cancelled` gives the lines already cancelled.

    A feed acts only on orders of the marketplaces it was sent for (`marketplace_ids`; None:
    every marketplace): Amazon looks an order up in the feed's marketplace, so an order of
    another one is not found there.
    """

    def fatal(code: int, description: str) -> Processing:
        result = Result(0, code, description)
        return Processing(
            "FATAL", processing_report(book.seller_id, transaction_id, 0, [result]), fatal=result
        )

    if feed_type != FEED_TYPE:
        return fatal(
            ENVELOPE_ERROR,
            f"The sandbox processes only {FEED_TYPE} feeds; {feed_type} was not processed.",
        )
    if not content.strip():
        return fatal(XML_ERROR, "XML Parsing Error at Line 1, Column 1: Premature end of file.")
    try:
        doc = etree.fromstring(content, _parser()).getroottree()
    except etree.XMLSyntaxError as e:
        line, column = e.position
        return fatal(XML_ERROR, f"XML Parsing Error at Line {line}, Column {column}: {e.msg}")
    schema = envelope_schema()
    if not schema.validate(doc):
        log: Any = schema.error_log  # lxml-stubs do not describe its entries
        error = log[0]
        return fatal(
            XML_ERROR,
            f"XML Parsing Error at Line {error.line}, Column {error.column}: {error.message}",
        )
    root = doc.getroot()
    merchant = (root.findtext("Header/MerchantIdentifier") or "").strip()
    if merchant != book.seller_id:
        return fatal(
            ENVELOPE_ERROR,
            f"The MerchantIdentifier {merchant} in the Header does not match the seller "
            f"{book.seller_id} that submitted the feed.",
        )
    message_type = _text(root, "MessageType")
    if message_type != "OrderAcknowledgement":
        return fatal(
            ENVELOPE_ERROR,
            f"A {FEED_TYPE} feed must hold OrderAcknowledgement messages, not {message_type}.",
        )
    return _apply(root, transaction_id, book, cancelled, marketplace_ids)


def _apply(
    root: etree._Element,
    transaction_id: str,
    book: Book,
    cancelled: Callable[[str], set[str]],
    marketplace_ids: Collection[str] | None,
) -> Processing:
    done: dict[str, set[str]] = {}  # lines cancelled by earlier messages of this feed
    seen: set[int] = set()
    outcomes: list[Outcome] = []
    cancellations: list[tuple[str, str, str]] = []
    for message in root.iterfind("Message"):
        message_id = int(_text(message, "MessageID"))
        ack = message.find("OrderAcknowledgement")
        assert ack is not None  # the XSD and the MessageType check guarantee it
        order_id = _text(ack, "AmazonOrderID")
        status_code = _text(ack, "StatusCode")
        items = tuple(
            (_text(item, "AmazonOrderItemCode"), _text(item, "CancelReason"))
            for item in ack.iterfind("Item")
        )
        if message_id in seen:
            result = Result(
                message_id,
                DUPLICATE_MESSAGE,
                f"MessageID {message_id} is used by more than one message in this feed.",
                order_id,
            )
            outcomes.append(Outcome(message_id, order_id, status_code, items, "error", (result,)))
            continue
        seen.add(message_id)
        order = book.order(order_id)
        elsewhere = (
            order is not None
            and marketplace_ids is not None
            and order.marketplace_id not in marketplace_ids
        )
        already = cancelled(order_id) | done.get(order_id, set())
        outcome = _decide(
            message_id,
            order_id,
            None if elsewhere else order,
            status_code,
            items,
            already,
            book.seller_id,
        )
        if elsewhere and order is not None:
            outcome = replace(
                outcome,
                note=f"order {order_id} is in marketplace {order.marketplace_id}; this feed was "
                f"for {', '.join(marketplace_ids or ())}",
            )
        outcomes.append(outcome)
        if outcome.outcome == "cancelled":
            for item_id, reason in dict(items).items():
                cancellations.append((order_id, item_id, reason))
                done.setdefault(order_id, set()).add(item_id)
    results = [result for outcome in outcomes for result in outcome.results]
    report = processing_report(book.seller_id, transaction_id, len(outcomes), results)
    return Processing("DONE", report, tuple(outcomes), tuple(cancellations))


def _decide(
    message_id: int,
    order_id: str,
    order: BookOrder | None,
    status_code: str,
    items: tuple[tuple[str, str], ...],
    already: set[str],
    seller_id: str,
) -> Outcome:
    def error(code: int, description: str, item_id: str = "") -> Result:
        return Result(message_id, code, description, order_id, item_id)

    def refused(*results: Result) -> Outcome:
        return Outcome(message_id, order_id, status_code, items, "error", results)

    if order is None:
        # Wording of a real report (docs/amazon.md, "Processing reports").
        return refused(
            error(
                ORDER_NOT_FOUND,
                f"Your order cannot be found using Merchant ID {seller_id} and Amazon Order ID "
                f"{order_id}. Enter the correct order ID and then resubmit your feed.",
            )
        )
    if status_code == "Success":
        return Outcome(message_id, order_id, status_code, items, "acknowledged")
    if not items:
        # Amazon finishes such a message without an error and cancels nothing (docs/amazon.md,
        # "Feed rules"); the sandbox does the same and says so only in /_sandbox/feeds.
        return Outcome(
            message_id,
            order_id,
            status_code,
            items,
            "ignored",
            note="StatusCode Failure without Item: nothing was cancelled, as on Amazon",
        )
    status = order.status_with(already)
    if order.channel == "AFN":
        return refused(
            error(
                ORDER_FULFILLED_BY_AMAZON,
                f"Order {order_id} is fulfilled by Amazon; only Amazon can cancel it. "
                "Contact Seller Support.",
            )
        )
    if status == "Canceled":
        return refused(error(ALREADY_CANCELLED, f"Order {order_id} is already cancelled."))
    if status in ("Shipped", "PartiallyShipped") or any(item.shipped for item in order.items):
        return refused(
            error(
                ORDER_SHIPPED,
                f"Order {order_id} has shipped items and can no longer be cancelled "
                "with this feed.",
            )
        )
    if status not in CANCELLABLE:
        return refused(
            error(
                STATUS_NOT_CANCELLABLE, f"Order {order_id} cannot be cancelled in status {status}."
            )
        )
    problems: list[Result] = []
    for item_id, reason in dict(items).items():
        if order.item(item_id) is None:
            problems.append(
                error(
                    ITEM_NOT_IN_ORDER,
                    f"The AmazonOrderItemCode {item_id} is not an item of order {order_id}.",
                    item_id,
                )
            )
        elif item_id in already:
            problems.append(
                error(
                    ALREADY_CANCELLED,
                    f"Item {item_id} of order {order_id} is already cancelled.",
                    item_id,
                )
            )
        elif not reason:
            problems.append(
                error(
                    CANCEL_REASON_MISSING,
                    f"Item {item_id} of order {order_id} has no CancelReason; "
                    "a cancelled item needs one.",
                    item_id,
                )
            )
    if problems:
        return refused(*problems)
    return Outcome(message_id, order_id, status_code, items, "cancelled")


def processing_report(
    seller_id: str, transaction_id: str, processed: int, results: list[Result]
) -> str:
    """A ProcessingReport envelope (ProcessingReport.xsd), one Result per error or warning."""
    with_error = {r.message_id for r in results if r.code == "Error"}
    with_warning = {r.message_id for r in results if r.code == "Warning"} - with_error
    root = etree.Element("AmazonEnvelope", nsmap={"xsi": XSI})
    root.set(f"{{{XSI}}}noNamespaceSchemaLocation", "amzn-envelope.xsd")
    header = etree.SubElement(root, "Header")
    etree.SubElement(header, "DocumentVersion").text = "1.02"
    etree.SubElement(header, "MerchantIdentifier").text = seller_id
    etree.SubElement(root, "MessageType").text = "ProcessingReport"
    message = etree.SubElement(root, "Message")
    etree.SubElement(message, "MessageID").text = "1"
    report = etree.SubElement(message, "ProcessingReport")
    etree.SubElement(report, "DocumentTransactionID").text = transaction_id
    etree.SubElement(report, "StatusCode").text = "Complete"
    summary = etree.SubElement(report, "ProcessingSummary")
    errors = len(with_error)
    etree.SubElement(summary, "MessagesProcessed").text = str(processed)
    etree.SubElement(summary, "MessagesSuccessful").text = str(max(processed - errors, 0))
    etree.SubElement(summary, "MessagesWithError").text = str(errors)
    etree.SubElement(summary, "MessagesWithWarning").text = str(len(with_warning))
    for result in sorted(results, key=lambda r: r.message_id):
        node = etree.SubElement(report, "Result")
        etree.SubElement(node, "MessageID").text = str(result.message_id)
        etree.SubElement(node, "ResultCode").text = result.code
        etree.SubElement(node, "ResultMessageCode").text = str(result.message_code)
        etree.SubElement(node, "ResultDescription").text = result.description
        if result.order_id or result.item_id:
            info = etree.SubElement(node, "AdditionalInfo")
            if result.order_id:
                etree.SubElement(info, "AmazonOrderID").text = result.order_id
            if result.item_id:
                etree.SubElement(info, "AmazonOrderItemCode").text = result.item_id
    text: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return text.decode("utf-8")
