"""Reports through the sandbox: the seller performance report and the unshipped-orders report."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from conftest import WITH_RESTRICTED, restricted_document
from freezegun.api import FrozenDateTimeFactory
from sp_api.base.exceptions import SellingApiBadRequestException, SellingApiNotFoundException

from bulk.amazon.clients import Clients, connect
from bulk.sandbox import start_sandbox
from bulk.sandbox.reports import UNSHIPPED_COLUMNS, past_cancellations
from bulk.targets import SANDBOX_CREDENTIALS

PERFORMANCE = "GET_V2_SELLER_PERFORMANCE_REPORT"
UNSHIPPED = "GET_FLAT_FILE_ACTIONABLE_ORDER_DATA_SHIPPING"
AckFeed = Callable[..., bytes]
RunFeed = Callable[..., tuple[dict[str, Any], str]]


def _document(clients: Clients, report_type: str) -> tuple[list[str], str]:
    report_id = clients.reports.create_report(reportType=report_type).payload["reportId"]
    statuses = []
    for _ in range(5):
        report = clients.reports.get_report(report_id).payload
        statuses.append(report["processingStatus"])
        if report["processingStatus"] == "DONE":
            break
    if report_type == UNSHIPPED:
        return statuses, restricted_document(clients, report["reportDocumentId"])
    doc = clients.reports.get_report_document(report["reportDocumentId"], download=True)
    return statuses, str(doc.payload["document"])


def _cancel_rate(clients: Clients) -> dict[str, Any]:
    _, text = _document(clients, PERFORMANCE)
    metrics = json.loads(text)["performanceMetrics"][0]
    rate: dict[str, Any] = metrics["preFulfillmentCancellationRate"]
    return rate


def test_performance_report_counts_the_sandbox_cancellations(
    sandbox_clients: Clients,
    run_feed: RunFeed,
    ack_feed: AckFeed,
    sandbox_clock: FrozenDateTimeFactory,
) -> None:
    statuses, text = _document(sandbox_clients, PERFORMANCE)
    assert statuses == ["IN_PROGRESS", "DONE"]
    report = json.loads(text)
    assert report["accountStatuses"] == [{"marketplaceId": "ATVPDKIKX0DER", "status": "NORMAL"}]
    rate = report["performanceMetrics"][0]["preFulfillmentCancellationRate"]
    assert rate == {
        # Amazon's figures lag: the week ends the day before (the clock says 2026-03-02).
        "reportingDateRange": {
            "reportingDateFrom": "2026-02-23T00:00Z",
            "reportingDateTo": "2026-03-01T23:59Z",
        },
        "orderCount": 400,
        "cancellationCount": 3,
        "status": "GOOD",
        "rate": 0.0075,
        "targetValue": 0.025,
        "targetCondition": "LESS_THAN",
    }
    run_feed(
        ack_feed(
            [
                ("112-0000001-0000001", "Failure", [("00000000000101", "NoInventory")]),
                ("112-0000001-0000002", "Failure", [("00000000000201", "NoInventory")]),
                ("112-0000001-0000003", "Failure", [("00000000000301", "BuyerCanceled")]),
                # The buyer asked for this one: BuyerCanceled does not count against the seller.
                ("112-0000001-0000004", "Failure", [("00000000000401", "BuyerCanceled")]),
            ]
        )
    )
    # Amazon's figures end the day before the report: today's cancellations show tomorrow.
    assert _cancel_rate(sandbox_clients)["cancellationCount"] == 3
    sandbox_clock.tick(24 * 3600)
    after = _cancel_rate(sandbox_clients)
    assert (after["cancellationCount"], after["rate"]) == (6, 0.015)


def test_cancellation_rate_goes_bad_at_the_target(
    sandbox_clients: Clients,
    run_feed: RunFeed,
    ack_feed: AckFeed,
    tmp_path: Path,
    sandbox_clock: FrozenDateTimeFactory,
) -> None:
    lines = [
        ("112-0000001-0000001", "Failure", [("00000000000101", "NoInventory")]),
        ("112-0000001-0000002", "Failure", [("00000000000201", "NoInventory")]),
        ("112-0000001-0000003", "Failure", [("00000000000301", "NoInventory")]),
        ("112-0000001-0000010", "Failure", [("00000000001001", "NoInventory")]),
        ("112-0000001-0000011", "Failure", [("00000000001101", "NoInventory")]),
        ("112-0000001-0000012", "Failure", [("00000000001201", "NoInventory")]),
        ("112-0000001-0000008", "Failure", [("00000000000801", "NoInventory")]),
    ]
    run_feed(ack_feed(lines))
    sandbox_clock.tick(24 * 3600)
    _, text = _document(sandbox_clients, PERFORMANCE)
    report = json.loads(text)
    rate = report["performanceMetrics"][0]["preFulfillmentCancellationRate"]
    assert (rate["cancellationCount"], rate["rate"], rate["status"]) == (10, 0.025, "BAD")
    assert report["accountStatuses"][0]["status"] == "AT_RISK"


def test_cancellations_older_than_a_week_drop_out(
    sandbox_clients: Clients,
    run_feed: RunFeed,
    ack_feed: AckFeed,
    sandbox_clock: FrozenDateTimeFactory,
) -> None:
    run_feed(ack_feed([("112-0000001-0000001", "Failure", [("00000000000101", "NoInventory")])]))
    sandbox_clock.tick(24 * 3600)
    assert _cancel_rate(sandbox_clients)["cancellationCount"] == 4
    # The book's 3 past cancellations sit on the 3rd, 5th and 7th of the 7 days before the
    # sandbox began: four days on, the oldest has left the window; the sandbox's own stays.
    sandbox_clock.tick(3 * 24 * 3600)
    assert _cancel_rate(sandbox_clients)["cancellationCount"] == 3
    sandbox_clock.tick(4 * 24 * 3600)
    assert _cancel_rate(sandbox_clients)["cancellationCount"] == 0


@pytest.mark.parametrize("count", [0, 1, 3, 7, 10, 23])
def test_past_cancellations_age_out_a_day_at_a_time(count: int) -> None:
    started = date(2026, 3, 2)
    seen = []
    for ahead in range(9):
        last = started + timedelta(days=ahead - 1)
        seen.append(past_cancellations(count, started, last - timedelta(days=6), last))
    assert seen[0] == count and seen[-2:] == [0, 0]
    # What is left after k days is the newest 7 - k days' share: ceil(count * (7 - k) / 7),
    # the same share bulk's own projection of the coming days assumes.
    assert seen[:8] == [-(-count * (7 - k) // 7) for k in range(8)]


def _rows(text: str) -> list[dict[str, str]]:
    header, *lines = text.rstrip("\n").split("\n")
    columns = header.split("\t")
    return [dict(zip(columns, line.split("\t"), strict=True)) for line in lines]


@pytest.mark.parametrize("sandbox_roles", [WITH_RESTRICTED])
def test_unshipped_report_lists_lines_left_to_ship(
    sandbox_clients: Clients, run_feed: RunFeed, ack_feed: AckFeed
) -> None:
    _, text = _document(sandbox_clients, UNSHIPPED)
    assert text.split("\n", 1)[0].split("\t") == list(UNSHIPPED_COLUMNS)
    rows = _rows(text)
    lines = {(r["order-id"], r["order-item-id"]) for r in rows}
    assert ("112-0000001-0000003", "00000000000303") in lines  # multi-line order
    assert ("112-0000001-0000006", "00000000000602") in lines  # the unshipped half
    assert ("112-0000001-0000006", "00000000000601") not in lines  # shipped
    orders = {r["order-id"] for r in rows}
    for absent in ("112-0000001-0000005", "112-0000001-0000007", "112-0000001-0000008"):
        assert absent not in orders  # shipped, cancelled, pending
    assert "112-0000001-0000009" not in orders  # fulfilled by Amazon
    assert len(rows) == 11
    asked = next(r for r in rows if r["order-id"] == "112-0000001-0000004")
    assert asked["is-buyer-requested-cancellation"] == "true"
    assert asked["buyer-requested-cancel-reason"] == "Ordered by mistake"
    first = next(r for r in rows if r["order-id"] == "112-0000001-0000001")
    assert first["purchase-date"] == "2026-03-02T12:00:00+00:00"
    assert (first["quantity-purchased"], first["quantity-to-ship"]) == ("2", "2")
    german = next(r for r in rows if r["order-id"] == "112-0000001-0000011")
    assert german["ship-country"] == "DE"

    run_feed(ack_feed([("112-0000001-0000003", "Failure", [("00000000000303", "NoInventory")])]))
    _, text = _document(sandbox_clients, UNSHIPPED)
    lines = {(r["order-id"], r["order-item-id"]) for r in _rows(text)}
    assert ("112-0000001-0000003", "00000000000303") not in lines
    assert ("112-0000001-0000003", "00000000000301") in lines


@pytest.mark.parametrize("sandbox_roles", [WITH_RESTRICTED])
def test_unknown_report_types_and_ids(sandbox_clients: Clients) -> None:
    with pytest.raises(SellingApiBadRequestException, match="not available in the sandbox"):
        sandbox_clients.reports.create_report(reportType="GET_MERCHANT_LISTINGS_ALL_DATA")
    with pytest.raises(SellingApiBadRequestException, match="dataStartTime"):
        sandbox_clients.reports.create_report(reportType=UNSHIPPED, dataStartTime="yesterday")
    with pytest.raises(SellingApiNotFoundException):
        sandbox_clients.reports.get_report("123")
    with pytest.raises(SellingApiNotFoundException):
        sandbox_clients.reports.get_report_document("amzn1.spdoc.1.4.na.nothing")


def test_compressed_reports_come_with_gzip(
    sandbox_clock: FrozenDateTimeFactory, sandbox_state: Path, tmp_path: Path
) -> None:
    book = json.loads((Path(__file__).parent / "data" / "marketplace_basic.json").read_text())
    book.update(compress_reports=True, report_polls=0)
    path = tmp_path / "compressed.json"
    path.write_text(json.dumps(book), encoding="utf-8")
    with start_sandbox(path, sandbox_state, roles=WITH_RESTRICTED) as sandbox:
        clients = connect(sandbox.url, sandbox.url, SANDBOX_CREDENTIALS, "ATVPDKIKX0DER")
        statuses, text = _document(clients, UNSHIPPED)
        assert statuses == ["DONE"]
        assert text.startswith("order-id\torder-item-id")
        report_id = clients.reports.create_report(reportType=UNSHIPPED).payload["reportId"]
        doc_id = clients.reports.get_report(report_id).payload["reportDocumentId"]
        path = f"/reports/2021-06-30/documents/{doc_id}"
        rdt = clients.tokens.create_restricted_data_token(
            restrictedResources=[{"method": "GET", "path": path}]
        ).payload["restrictedDataToken"]
        clients.reports.restricted_data_token = rdt
        info = clients.reports.get_report_document(doc_id).payload
        assert info["compressionAlgorithm"] == "GZIP"
        assert requests.get(info["url"], timeout=10).content[:2] == b"\x1f\x8b"
        clients.close()


def test_report_documents_are_downloaded_by_the_library(sandbox_clients: Clients) -> None:
    report_id = sandbox_clients.reports.create_report(reportType=PERFORMANCE).payload["reportId"]
    sandbox_clients.reports.get_report(report_id)
    doc_id = sandbox_clients.reports.get_report(report_id).payload["reportDocumentId"]
    out = io.StringIO()
    sandbox_clients.reports.get_report_document(doc_id, file=out)
    assert json.loads(out.getvalue())["performanceMetrics"][0]["marketplaceId"] == "ATVPDKIKX0DER"
