"""Every JSON answer the real client receives from the sandbox matches Amazon's published models."""

from __future__ import annotations

# Models: reference/amazon/models/ in the shared folder beside the repository (Amazon's swagger
# files), and for Reports 2021-06-30, which is not there, the definitions transcribed below from
# amzn/selling-partner-api-models, models/reports-api-model/reports_2021-06-30.json. Objects are
# checked strictly: a property the model does not declare is an error, so a misspelt field fails.
import copy
import io
import json
import os
import re
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import WITH_RESTRICTED, restricted_document
from freezegun.api import FrozenDateTimeFactory
from jsonschema import Draft4Validator, Draft7Validator, FormatChecker
from sp_api.base.exceptions import SellingApiException

from bulk.amazon.clients import Clients, connect
from bulk.sandbox import start_sandbox
from bulk.targets import SANDBOX_CREDENTIALS

DATA = Path(__file__).parent / "data"
# Amazon's published API models (github.com/amzn/selling-partner-api-models), kept unchanged in
# tests/data/models; BULK_AMAZON_MODELS points at another copy (a newer release, say).
MODELS = Path(os.environ.get("BULK_AMAZON_MODELS") or DATA / "models")
FEED_CONTENT_TYPE = "text/xml; charset=UTF-8"
AckFeed = Callable[..., bytes]

_ERROR = {
    "type": "object",
    "required": ["code", "message"],
    "properties": {
        "code": {"type": "string"},
        "message": {"type": "string"},
        "details": {"type": "string"},
    },
}
_ERROR_LIST = {
    "type": "object",
    "required": ["errors"],
    "properties": {"errors": {"type": "array", "items": {"$ref": "#/definitions/Error"}}},
}
_STATUS = {"type": "string", "enum": ["CANCELLED", "DONE", "FATAL", "IN_PROGRESS", "IN_QUEUE"]}
_TIME = {"type": "string", "format": "date-time"}
REPORTS_MODEL: dict[str, Any] = {
    "definitions": {
        "Error": _ERROR,
        "ErrorList": _ERROR_LIST,
        "CreateReportResponse": {
            "type": "object",
            "required": ["reportId"],
            "properties": {"reportId": {"type": "string"}},
        },
        "Report": {
            "type": "object",
            "required": ["processingStatus", "reportId", "reportType", "createdTime"],
            "properties": {
                "marketplaceIds": {"type": "array", "items": {"type": "string"}},
                "reportId": {"type": "string"},
                "reportType": {"type": "string"},
                "dataStartTime": _TIME,
                "dataEndTime": _TIME,
                "reportScheduleId": {"type": "string"},
                "createdTime": _TIME,
                "processingStatus": _STATUS,
                "processingStartTime": _TIME,
                "processingEndTime": _TIME,
                "reportDocumentId": {"type": "string"},
            },
        },
        "GetReportsResponse": {
            "type": "object",
            "required": ["reports"],
            "properties": {
                "reports": {"type": "array", "items": {"$ref": "#/definitions/Report"}},
                "nextToken": {"type": "string"},
            },
        },
        "ReportDocument": {
            "type": "object",
            "required": ["reportDocumentId", "url"],
            "properties": {
                "reportDocumentId": {"type": "string"},
                "url": {"type": "string"},
                "compressionAlgorithm": {"type": "string", "enum": ["GZIP"]},
            },
        },
    },
    "paths": {
        "/reports/2021-06-30/reports": {
            "post": {"operationId": "createReport", "responses": {"202": "CreateReportResponse"}},
            "get": {"operationId": "getReports", "responses": {"200": "GetReportsResponse"}},
        },
        "/reports/2021-06-30/reports/{reportId}": {
            "get": {"operationId": "getReport", "responses": {"200": "Report"}}
        },
        "/reports/2021-06-30/documents/{reportDocumentId}": {
            "get": {"operationId": "getReportDocument", "responses": {"200": "ReportDocument"}}
        },
    },
}
for _operations in REPORTS_MODEL["paths"].values():
    for _operation in _operations.values():
        _operation["responses"] = {
            status: {"schema": {"$ref": f"#/definitions/{name}"}}
            for status, name in {
                **_operation["responses"],
                **dict.fromkeys(("400", "403", "404", "429", "500", "503"), "ErrorList"),
            }.items()
        }


def _strict(node: Any) -> Any:
    """The schema with every object closed: only the properties (and required names) it declares."""
    if isinstance(node, list):
        return [_strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    result = {key: _strict(value) for key, value in node.items()}
    if isinstance(result.get("properties"), dict) and "additionalProperties" not in result:
        for name in result.get("required", []):
            result["properties"].setdefault(name, {})
        result["additionalProperties"] = False
    return result


def _date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        return datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


FORMATS = FormatChecker(formats=())
FORMATS.checks("date-time")(_date_time)


class Model:
    """One API's model: finds the operation for a request and validates its answer."""

    def __init__(self, model: dict[str, Any]) -> None:
        self.definitions = _strict(model["definitions"])
        self.operations: list[tuple[str, re.Pattern[str], dict[str, Any]]] = []
        for template, operations in model["paths"].items():
            regex = re.compile("^" + re.sub(r"\{\w+\}", "[^/]+", template) + "$")
            for method, operation in operations.items():
                if method != "parameters":
                    self.operations.append((method.upper(), regex, operation))

    def operation(self, method: str, path: str) -> dict[str, Any] | None:
        for verb, regex, operation in self.operations:
            if verb == method and regex.match(path):
                return operation
        return None

    def check(self, operation: dict[str, Any], status: int, body: bytes) -> None:
        response = operation["responses"].get(str(status))
        assert response is not None, (
            f"{operation['operationId']} has no {status} answer in the model"
        )
        if "schema" not in response:
            assert body in (b"", b"{}"), f"{operation['operationId']} {status} must have no body"
            return
        data = json.loads(body)
        schema = {"definitions": self.definitions, **response["schema"]}
        errors = sorted(Draft4Validator(schema, format_checker=FORMATS).iter_errors(data), key=str)
        assert not errors, f"{operation['operationId']} {status}: " + "; ".join(
            f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:5]
        )


@pytest.fixture(scope="module")
def models() -> list[Model]:
    files = ["ordersV0.json", "feeds_2021-06-30.json", "messaging.json"]
    return [Model(json.loads((MODELS / name).read_text(encoding="utf-8"))) for name in files] + [
        Model(REPORTS_MODEL)
    ]


Exchange = tuple[str, str, int, bytes]  # method, path, status, body


def _record(clients: Clients) -> list[Exchange]:
    """Every answer the library's own HTTP clients receive, as they receive it."""
    seen: list[Exchange] = []

    def hook(response: httpx.Response) -> None:
        response.read()
        seen.append(
            (
                response.request.method,
                response.request.url.path,
                response.status_code,
                response.content,
            )
        )

    for client in (
        clients.orders,
        clients.orders_2026,
        clients.feeds,
        clients.reports,
        clients.messaging,
        clients.tokens,
        clients.sellers,
    ):
        client._transport._client.event_hooks = {"request": [], "response": [hook]}
    return seen


@pytest.fixture
def recorded(sandbox_clients: Clients) -> Iterator[list[Exchange]]:
    yield _record(sandbox_clients)


def _failing(call: Callable[[], object]) -> None:
    with pytest.raises(SellingApiException):
        call()


def _check_all(models: list[Model], seen: list[Exchange]) -> set[str]:
    covered = set()
    for method, path, status, body in seen:
        found = [(m, op) for m in models if (op := m.operation(method, path)) is not None]
        assert found, f"{method} {path} is in no model"
        model, operation = found[0]
        model.check(operation, status, body)
        covered.add(f"{operation['operationId']} {status}")
    return covered


def test_every_answer_matches_amazons_models(
    models: list[Model], recorded: list[Exchange], sandbox_clients: Clients, ack_feed: AckFeed
) -> None:
    c = sandbox_clients
    # Orders
    ids = [f"112-0000001-{n:07d}" for n in range(1, 13)]
    c.orders.get_orders(AmazonOrderIds=ids, CreatedAfter="2025-01-01T00:00:00Z")
    page = c.orders.get_orders(LastUpdatedAfter="2025-01-01T00:00:00Z", MaxResultsPerPage=5)
    c.orders.get_orders(NextToken=page.next_token)
    for order_id in ids:
        c.orders.get_order(order_id)
        c.orders.get_order_items(order_id)
    _failing(lambda: c.orders.get_order("999-0000000-0000000"))
    _failing(lambda: c.orders.get_order_items("999-0000000-0000000"))
    _failing(lambda: c.orders.get_orders(AmazonOrderIds=ids))
    # Feeds, with a processing run that cancels, then the orders again
    document = ack_feed(
        [
            ("112-0000001-0000001", "Failure", [("00000000000101", "NoInventory")]),
            ("112-0000001-0000002", "Failure", [("00000000000201", "NoInventory")]),
            ("112-0000001-0000005", "Failure", [("00000000000501", "NoInventory")]),
        ]
    )
    doc = c.feeds.create_feed_document(io.BytesIO(document), FEED_CONTENT_TYPE)
    feed_id = c.feeds.create_feed(
        "POST_ORDER_ACKNOWLEDGEMENT_DATA", doc.payload["feedDocumentId"]
    ).payload["feedId"]
    for _ in range(3):
        feed = c.feeds.get_feed(feed_id).payload
    c.feeds.get_feed_result_document(feed["resultFeedDocumentId"])
    c.feeds._request(
        f"/feeds/2021-06-30/documents/{doc.payload['feedDocumentId']}", add_marketplace=False
    )
    spare = c.feeds.create_feed(
        "POST_ORDER_ACKNOWLEDGEMENT_DATA", doc.payload["feedDocumentId"]
    ).payload["feedId"]
    c.feeds.cancel_feed(spare)
    c.feeds.get_feeds(feedTypes=["POST_ORDER_ACKNOWLEDGEMENT_DATA"], pageSize=1)
    _failing(lambda: c.feeds.get_feed("1"))
    _failing(lambda: c.feeds.cancel_feed(feed_id))
    _failing(lambda: c.feeds.get_feeds())
    _failing(lambda: c.feeds.create_feed("POST_ORDER_ACKNOWLEDGEMENT_DATA", "nothing"))
    for order_id in ids[:2]:
        c.orders.get_order(order_id)
        c.orders.get_order_items(order_id)
    # Reports
    for report_type in (
        "GET_V2_SELLER_PERFORMANCE_REPORT",
        "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL",
    ):
        report_id = c.reports.create_report(reportType=report_type).payload["reportId"]
        for _ in range(2):
            report = c.reports.get_report(report_id).payload
        c.reports.get_report_document(report["reportDocumentId"], download=True)
    _failing(lambda: c.reports.create_report(reportType="GET_MERCHANT_LISTINGS_ALL_DATA"))
    _failing(lambda: c.reports.get_report("1"))
    # Messaging
    c.messaging.get_messaging_actions_for_order("112-0000001-0000003")
    c.messaging.get_messaging_actions_for_order("112-0000001-0000012")
    c.messaging.get_attributes("112-0000001-0000011")
    c.messaging.create_unexpected_problem("112-0000001-0000003", body={"text": "We are sorry."})
    _failing(
        lambda: c.messaging.create_unexpected_problem("112-0000001-0000003", body={"text": ""})
    )
    _failing(
        lambda: c.messaging.create_unexpected_problem("112-0000001-0000012", body={"text": "Hi"})
    )
    _failing(lambda: c.messaging.get_attributes("999-0000000-0000000"))

    covered = _check_all(models, recorded)
    assert covered >= {
        "getOrders 200",
        "getOrders 400",
        "getOrder 200",
        "getOrder 404",
        "getOrderItems 200",
        "getOrderItems 404",
        "createFeedDocument 201",
        "createFeed 202",
        "createFeed 400",
        "getFeed 200",
        "getFeed 404",
        "getFeeds 200",
        "getFeeds 400",
        "cancelFeed 200",
        "cancelFeed 400",
        "getFeedDocument 200",
        "createReport 202",
        "createReport 400",
        "getReport 200",
        "getReport 404",
        "getReportDocument 200",
        "getMessagingActionsForOrder 200",
        "GetAttributes 200",
        "GetAttributes 404",
        "createUnexpectedProblem 201",
        "createUnexpectedProblem 400",
        "createUnexpectedProblem 403",
    }


def test_throttling_and_failures_match_the_models(
    models: list[Model], sandbox_clock: FrozenDateTimeFactory, sandbox_state: Path, tmp_path: Path
) -> None:
    book = json.loads((DATA / "marketplace_faults.json").read_text(encoding="utf-8"))
    book["faults"] = {"rate": 1.0, "kinds": ["429", "500", "503"], "seed": 5}
    path = tmp_path / "faults.json"
    path.write_text(json.dumps(book), encoding="utf-8")
    with start_sandbox(path, sandbox_state) as running:
        clients = connect(running.url, running.url, SANDBOX_CREDENTIALS, "ATVPDKIKX0DER")
        seen = _record(clients)
        for _ in range(12):
            _failing(lambda: clients.orders.get_order("113-0000001-0000001"))
            _failing(lambda: clients.feeds.get_feed("1"))
            _failing(lambda: clients.messaging.get_attributes("113-0000001-0000001"))
        clients.close()
    covered = _check_all(models, seen)
    assert {f"getOrder {s}" for s in (429, 500, 503)} <= covered
    assert {f"getFeed {s}" for s in (429, 500, 503)} <= covered


def test_performance_report_matches_the_account_health_schema(sandbox_clients: Clients) -> None:
    schema = _strict(
        json.loads((MODELS / "accountHealthReport-2020-11-18.json").read_text(encoding="utf-8"))
    )
    report_id = sandbox_clients.reports.create_report(
        reportType="GET_V2_SELLER_PERFORMANCE_REPORT"
    ).payload["reportId"]
    sandbox_clients.reports.get_report(report_id)
    doc_id = sandbox_clients.reports.get_report(report_id).payload["reportDocumentId"]
    text = sandbox_clients.reports.get_report_document(doc_id, download=True).payload["document"]
    errors = list(Draft7Validator(schema, format_checker=FORMATS).iter_errors(json.loads(text)))
    assert not errors, [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:5]]


def test_strict_checking_catches_a_misspelt_field(models: list[Model]) -> None:
    orders = models[0]
    operation = orders.operation("GET", "/orders/v0/orders/112-0000001-0000001")
    assert operation is not None
    good = {
        "payload": {
            "AmazonOrderId": "1",
            "PurchaseDate": "x",
            "LastUpdateDate": "x",
            "OrderStatus": "Pending",
        }
    }
    orders.check(operation, 200, json.dumps(good).encode())
    bad = copy.deepcopy(good)
    bad["payload"]["OrderStaus"] = "Pending"
    with pytest.raises(AssertionError, match="OrderStaus"):
        orders.check(operation, 200, json.dumps(bad).encode())


# The access model: Tokens API 2021-03-01 and Sellers API v1 (Amazon's models, copied from
# amzn/selling-partner-api-models into tests/data/models), and the 403 answers of each API.
ACCESS_MODELS = DATA / "models"


@pytest.fixture(scope="module")
def access_models(models: list[Model]) -> list[Model]:
    files = ["tokens_2021-03-01.json", "sellers.json"]
    found = [Model(json.loads((ACCESS_MODELS / n).read_text(encoding="utf-8"))) for n in files]
    v2026 = Model(json.loads((MODELS / "orders_2026-01-01.json").read_text(encoding="utf-8")))
    return [*models, *found, v2026]


@pytest.mark.parametrize("sandbox_roles", [WITH_RESTRICTED])
def test_tokens_sellers_and_restricted_answers_match_amazons_models(
    access_models: list[Model], recorded: list[Exchange], sandbox_clients: Clients
) -> None:
    c = sandbox_clients
    c.sellers.get_marketplace_participation()
    c.reports.get_reports(reportTypes=["GET_V2_SELLER_PERFORMANCE_REPORT"])
    address = "/orders/v0/orders/112-0000001-0000001/address"
    rdt = c.tokens.create_restricted_data_token(
        restrictedResources=[{"method": "GET", "path": address}]
    ).payload["restrictedDataToken"]
    _failing(lambda: c.orders.get_order_address("112-0000001-0000001"))  # no token: 403
    c.orders.restricted_data_token = rdt
    c.orders.get_order_address("112-0000001-0000001")
    c.orders.restricted_data_token = None
    for path in (
        "/orders/v0/orders/112-0000001-0000001/buyerInfo",
        "/orders/v0/orders/112-0000001-0000001/orderItems/buyerInfo",
    ):
        token = c.tokens.create_restricted_data_token(
            restrictedResources=[{"method": "GET", "path": path}]
        ).payload["restrictedDataToken"]
        c.orders.restricted_data_token = token
        c.orders._request(path, params={})
        c.orders.restricted_data_token = None
    _failing(
        lambda: c.tokens.create_restricted_data_token(
            restrictedResources=[{"method": "GET", "path": "/orders/v0/orders"}]
        )
    )
    c.orders_2026.get_order("112-0000001-0000001", includedData=["BUYER", "RECIPIENT"])
    # The restricted report's document, with a token for its path.
    report_id = c.reports.create_report(
        reportType="GET_FLAT_FILE_ACTIONABLE_ORDER_DATA_SHIPPING"
    ).payload["reportId"]
    c.reports.get_report(report_id)
    document_id = c.reports.get_report(report_id).payload["reportDocumentId"]
    _failing(lambda: c.reports.get_report_document(document_id))
    restricted_document(c, document_id)
    covered = _check_all(access_models, recorded)
    assert covered >= {
        "getMarketplaceParticipations 200",
        "getReports 200",
        "createRestrictedDataToken 200",
        "createRestrictedDataToken 400",
        "getOrderAddress 200",
        "getOrderAddress 403",
        "getOrderBuyerInfo 200",
        "getOrderItemsBuyerInfo 200",
        "getOrder 200",
        "getReportDocument 200",
        "getReportDocument 403",
    }


def test_answers_outside_the_apps_roles_match_amazons_models(
    access_models: list[Model], sandbox_clock: FrozenDateTimeFactory, sandbox_state: Path
) -> None:
    """An app with no role at all: every operation answers Amazon's 403 Unauthorized."""
    with start_sandbox(DATA / "marketplace_basic.json", sandbox_state, roles=()) as running:
        c = connect(running.url, running.url, SANDBOX_CREDENTIALS, "ATVPDKIKX0DER")
        seen = _record(c)
        _failing(lambda: c.sellers.get_marketplace_participation())
        _failing(lambda: c.orders_2026.get_order("112-0000001-0000001"))
        _failing(lambda: c.feeds.get_feeds(feedTypes=["POST_ORDER_ACKNOWLEDGEMENT_DATA"]))
        _failing(lambda: c.reports.create_report(reportType="GET_V2_SELLER_PERFORMANCE_REPORT"))
        _failing(lambda: c.messaging.get_messaging_actions_for_order("112-0000001-0000003"))
        _failing(
            lambda: c.tokens.create_restricted_data_token(
                restrictedResources=[
                    {"method": "GET", "path": "/orders/v0/orders/112-0000001-0000001/address"}
                ]
            )
        )
        c.close()
    covered = _check_all(access_models, seen)
    assert {s for s in covered if s.endswith(" 403")} == {
        "getMarketplaceParticipations 403",
        "getOrder 403",
        "getFeeds 403",
        "createReport 403",
        "getMessagingActionsForOrder 403",
        "createRestrictedDataToken 403",
    }
    for _method, _path, status, body in seen:
        assert status == 403
        error = json.loads(body)["errors"][0]
        assert (error["code"], error["message"]) == (
            "Unauthorized",
            "Access to requested resource is denied.",
        )
