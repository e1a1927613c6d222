"""Feeds API 2021-06-30 in the sandbox: documents, presigned URLs, feeds and their processing."""

from __future__ import annotations

# A feed shows IN_QUEUE, then IN_PROGRESS, and finishes (DONE or FATAL) after the book's
# `feed_polls` looks at it (getFeed, or getFeeds listing it); it is processed at that moment.
import gzip
from dataclasses import replace
from datetime import timedelta
from typing import Any

from bulk.models import buyers_cancellation
from bulk.sandbox import acknowledgement, clock
from bulk.sandbox.market import FINAL_STATUSES, SandboxMarket, progress
from bulk.sandbox.state import Cancellation, Document, Feed
from bulk.sandbox.wire import Reply, Request, invalid_input, json_reply, not_found, s3_error

PROCESSING_STATUSES = ("CANCELLED", "DONE", "FATAL", "IN_PROGRESS", "IN_QUEUE")
FEEDS_RETAINED = timedelta(days=90)  # getFeeds createdSince default (feeds_2021-06-30.json)
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024

_S3_MESSAGES = {
    "SignatureDoesNotMatch": "The request signature we calculated does not match the signature "
    "you provided. Check your key and signing method.",
    "AccessDenied": "Request has expired",
}


def create_feed_document(market: SandboxMarket, request: Request) -> Reply:
    """POST /feeds/2021-06-30/documents → 201 {feedDocumentId, url}."""
    body = request.json_body()
    content_type = body.get("contentType")
    if not isinstance(content_type, str) or not content_type.strip():
        raise invalid_input("contentType is required.")
    doc = market.new_document("feed", content_type)
    return json_reply({"feedDocumentId": doc.id, "url": market.signed_url("upload", doc)}, 201)


def _signed_document(market: SandboxMarket, request: Request, action: str) -> Document | Reply:
    doc = market.state.documents.get(request.params["documentId"])
    if doc is None:
        return s3_error(404, "NoSuchKey", "The specified key does not exist.")
    problem = market.check_url(
        action, doc, request.value("expires") or "", request.value("sig") or ""
    )
    if problem is not None:
        return s3_error(403, problem, _S3_MESSAGES[problem])
    return doc


def upload(market: SandboxMarket, request: Request) -> Reply:
    """PUT to a presigned upload URL: S3 checks the signed Content-Type exactly."""
    doc = _signed_document(market, request, "upload")
    if isinstance(doc, Reply):
        return doc
    if request.header("content-type") != doc.content_type:
        return s3_error(403, "SignatureDoesNotMatch", _S3_MESSAGES["SignatureDoesNotMatch"])
    if len(request.body) > MAX_DOCUMENT_BYTES:
        return s3_error(
            400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size"
        )
    market.state.documents[doc.id] = replace(
        doc, body=request.body.decode("latin-1"), uploaded=True
    )
    return Reply(200, b"", "text/plain", {"ETag": f'"{doc.id[-12:]}"'})


def download(market: SandboxMarket, request: Request) -> Reply:
    """GET a presigned download URL: the bytes, gzip-compressed when the document says GZIP."""
    doc = _signed_document(market, request, "download")
    if isinstance(doc, Reply):
        return doc
    if doc.compressed:
        return Reply(200, gzip.compress(doc.data, mtime=0), "application/octet-stream")
    return Reply(200, doc.data, doc.content_type)


def create_feed(market: SandboxMarket, request: Request) -> Reply:
    """POST /feeds/2021-06-30/feeds → 202 {feedId}."""
    body = request.json_body()
    feed_type = body.get("feedType")
    if not isinstance(feed_type, str) or not feed_type:
        raise invalid_input("feedType is required.")
    marketplaces = body.get("marketplaceIds")
    if (
        not isinstance(marketplaces, list)
        or not 1 <= len(marketplaces) <= 25
        or not all(isinstance(m, str) for m in marketplaces)
    ):
        raise invalid_input("marketplaceIds must list 1 to 25 marketplace ids.")
    for marketplace_id in marketplaces:
        if not market.sells_in(marketplace_id):
            raise invalid_input(
                f"Invalid marketplaceId {marketplace_id}: the seller's marketplaces are in "
                f"region {market.region}."
            )
    doc_id = body.get("inputFeedDocumentId")
    doc = market.state.documents.get(doc_id) if isinstance(doc_id, str) else None
    if doc is None or doc.kind != "feed":
        raise invalid_input(f"Invalid inputFeedDocumentId {doc_id!r}.")
    feed = Feed(
        id=str(50_000_000_000 + market.state.take_id()),
        feed_type=feed_type,
        marketplace_ids=tuple(marketplaces),
        created=clock.iso(clock.now()),
        input_document_id=doc.id,
        content=doc.body,
        content_type=doc.content_type,
    )
    market.state.feeds[feed.id] = feed
    return json_reply({"feedId": feed.id}, 202)


def feed_json(feed: Feed) -> dict[str, Any]:
    """A Feed object (feeds_2021-06-30.json, definitions/Feed)."""
    data: dict[str, Any] = {
        "feedId": feed.id,
        "feedType": feed.feed_type,
        "marketplaceIds": list(feed.marketplace_ids),
        "createdTime": feed.created,
        "processingStatus": feed.status,
    }
    if feed.started:
        data["processingStartTime"] = feed.started
    if feed.ended:
        data["processingEndTime"] = feed.ended
    if feed.result_document_id:
        data["resultFeedDocumentId"] = feed.result_document_id
    return data


def observe(market: SandboxMarket, feed: Feed) -> Feed:
    """Look at a feed once: it moves along, and is processed when its time has come."""
    if feed.status in FINAL_STATUSES:
        return feed
    seen = feed.observations + 1
    status = progress(seen, market.book.feed_polls)
    now = clock.iso(clock.now())
    feed = replace(
        feed, observations=seen, started=feed.started or ("" if status == "IN_QUEUE" else now)
    )
    feed = _finish(market, feed) if status == "DONE" else replace(feed, status=status)
    market.state.feeds[feed.id] = feed
    return feed


def _finish(market: SandboxMarket, feed: Feed) -> Feed:
    now = clock.now()
    processing = acknowledgement.process(
        feed.content.encode("latin-1"),
        feed.feed_type,
        feed.id,
        market.book,
        lambda order_id: set(market.cancelled(order_id)),
        marketplace_ids=feed.marketplace_ids,
    )
    for order_id, item_id, reason in processing.cancellations:
        order = market.book.order(order_id)
        item = order.item(item_id) if order else None
        assert order is not None and item is not None  # checked while processing
        market.state.cancel(
            Cancellation(
                order_id=order_id,
                item_id=item_id,
                reason=reason,
                feed_id=feed.id,
                time=clock.iso(now),
                counts=not buyers_cancellation(reason, item.buyer_requested_cancel),
                fingerprint=order.fingerprint,
            )
        )
    result = market.new_document(
        "result", "text/xml; charset=UTF-8", processing.report.encode("utf-8"), compressed=True
    )
    outcome: tuple[dict[str, Any], ...]
    if processing.fatal is not None:
        outcome = (
            {"messageId": 0, "outcome": "fatal", "description": processing.fatal.description},
        )
    else:
        outcome = tuple(o.to_json() for o in processing.outcomes)
    return replace(
        feed,
        status=processing.status,
        ended=clock.iso(now),
        result_document_id=result.id,
        outcome=outcome,
    )


def _feed(market: SandboxMarket, request: Request) -> Feed:
    feed = market.state.feeds.get(request.params["feedId"])
    if feed is None:
        raise not_found(f"Feed {request.params['feedId']} was not found.")
    return feed


def get_feed(market: SandboxMarket, request: Request) -> Reply:
    """GET /feeds/2021-06-30/feeds/{feedId}."""
    return json_reply(feed_json(observe(market, _feed(market, request))))


def cancel_feed(market: SandboxMarket, request: Request) -> Reply:
    """DELETE /feeds/2021-06-30/feeds/{feedId}: only a feed still IN_QUEUE can be cancelled."""
    feed = _feed(market, request)
    if feed.status != "IN_QUEUE":
        raise invalid_input(
            f"Feed {feed.id} cannot be cancelled: its processingStatus is {feed.status}; "
            "only IN_QUEUE feeds can be cancelled."
        )
    market.state.feeds[feed.id] = replace(feed, status="CANCELLED", ended=clock.iso(clock.now()))
    return Reply(200)


def _feeds_filters(request: Request) -> dict[str, Any]:
    feed_types = request.values("feedTypes")
    if not feed_types:
        raise invalid_input("Either feedTypes or nextToken is required.")
    if len(feed_types) > 10:
        raise invalid_input("feedTypes can hold at most 10 values.")
    statuses = request.values("processingStatuses")
    for status in statuses:
        if status not in PROCESSING_STATUSES:
            raise invalid_input(f"Invalid processingStatuses value: {status}.")
    size_raw = request.value("pageSize") or "10"
    if not size_raw.isdigit() or not 1 <= int(size_raw) <= 100:
        raise invalid_input("pageSize must be between 1 and 100.")
    now = clock.now()
    bounds = {}
    for name, default in (("createdSince", now - FEEDS_RETAINED), ("createdUntil", now)):
        raw = request.value(name)
        moment = clock.parse_iso(raw) if raw else default
        if moment is None:
            raise invalid_input(
                f"{name} is not a valid ISO 8601 date time with an offset: {raw!r}."
            )
        bounds[name] = clock.iso(moment)
    return {
        "feedTypes": feed_types,
        "statuses": statuses,
        "marketplaces": request.values("marketplaceIds"),
        "size": int(size_raw),
        "offset": 0,
        **bounds,
    }


def get_feeds(market: SandboxMarket, request: Request) -> Reply:
    """GET /feeds/2021-06-30/feeds: newest first, `pageSize` at a time."""
    token = request.value("nextToken")
    filters = market.read_token(token, "nextToken") if token else _feeds_filters(request)
    matches = [
        feed
        for feed in market.state.feeds.values()
        if feed.feed_type in filters["feedTypes"]
        and (not filters["statuses"] or feed.status in filters["statuses"])
        and (
            not filters["marketplaces"] or set(feed.marketplace_ids) & set(filters["marketplaces"])
        )
        and filters["createdSince"] <= feed.created <= filters["createdUntil"]
    ]
    matches.sort(key=lambda feed: (feed.created, int(feed.id)), reverse=True)
    start, size = int(filters["offset"]), int(filters["size"])
    data: dict[str, Any] = {
        "feeds": [feed_json(observe(market, feed)) for feed in matches[start : start + size]]
    }
    if start + size < len(matches):
        data["nextToken"] = market.next_token({**filters, "offset": start + size})
    return json_reply(data)


def get_feed_document(market: SandboxMarket, request: Request) -> Reply:
    """GET /feeds/2021-06-30/documents/{feedDocumentId}: a download URL, GZIP for results."""
    doc = market.state.documents.get(request.params["feedDocumentId"])
    if doc is None or doc.kind not in ("feed", "result"):
        raise not_found(f"Feed document {request.params['feedDocumentId']} was not found.")
    data = {"feedDocumentId": doc.id, "url": market.signed_url("download", doc)}
    if doc.compressed:
        data["compressionAlgorithm"] = "GZIP"
    return json_reply(data)
