"""Amazon's access model in the sandbox: the app's roles, Restricted Data Tokens, 403 answers.

The roles each operation needs are the product's own table (bulk.access); the sandbox holds
the app to it as Amazon does: an operation outside the app's roles, or a restricted resource
asked without a Restricted Data Token for it, answers 403 Unauthorized. The Tokens API
(tokens_2021-03-01.json, createRestrictedDataToken) grants a token only for resources a
restricted role of the app covers. The Sellers API (sellers.json) lists the account's
marketplaces.
"""

from __future__ import annotations

import re
import secrets
from datetime import timedelta
from typing import Any

from bulk import access, marketplaces
from bulk.sandbox import auth, clock
from bulk.sandbox.market import SandboxMarket
from bulk.sandbox.orders import _order, buyer_alias, market_of, ship_to
from bulk.sandbox.wire import ApiError, Reply, Request, invalid_input, json_reply

RDT_LIFETIME_SECONDS = 3600

# Amazon's body for an operation outside the app's roles (SP-API "Error responses"; the
# same words whatever the cause).
DENIED = "Access to requested resource is denied."

# Restricted paths: v0 buyer data, and a restricted report's document (a specific path only,
# Tokens API guide: "the specified restricted resource can contain only a specific path").
_RESTRICTED_V0 = re.compile(r"^/orders/v0/orders/[^/]+/(address|buyerInfo|orderItems/buyerInfo)$")
_REPORT_DOCUMENT = re.compile(r"^/reports/2021-06-30/documents/([^/]+)$")


def _denied(details: str) -> ApiError:
    return ApiError(403, "Unauthorized", DENIED, details)


def _report_type_of_document(market: SandboxMarket, document_id: str) -> str | None:
    for report in market.state.reports.values():
        if report.document_id == document_id:
            return report.report_type
    return None


def _by_type(table: dict[str, tuple[str, ...]], types: list[str]) -> tuple[str, ...]:
    """The roles for these report or feed types; any role for a type the sandbox does not
    make (its handler answers that)."""
    return tuple(r for t in types for r in table.get(t, access.ROLE_NAMES))


def _needed(market: SandboxMarket, request: Request, operation: str) -> tuple[str, ...]:
    """The roles of which one grants this request: by report or feed type where that decides."""
    if operation == "createReport":
        return _by_type(access.REPORT_ROLES, [str(request.json_body().get("reportType", ""))])
    if operation == "getReports":
        return _by_type(access.REPORT_ROLES, request.values("reportTypes") or [""])
    if operation == "getReport":
        report = market.state.reports.get(request.params.get("reportId", ""))
        if report is not None:
            return _by_type(access.REPORT_ROLES, [report.report_type])
    if operation == "getReportDocument":
        kind = _report_type_of_document(market, request.params.get("reportDocumentId", ""))
        if kind is not None:
            return _by_type(access.REPORT_ROLES, [kind])
    if operation == "createFeed":
        return _by_type(access.FEED_ROLES, [str(request.json_body().get("feedType", ""))])
    if operation == "getFeeds" and request.values("feedTypes"):
        return _by_type(access.FEED_ROLES, request.values("feedTypes"))
    if request.path.startswith("/messaging/"):
        return (
            access.BUYER_COMMUNICATION,
        )  # every Messaging operation ("Buyer Communication Role")
    found = access.BY_NAME.get(operation)
    return found.roles if found is not None else access.ROLE_NAMES


def _restricted(market: SandboxMarket, request: Request, operation: str) -> bool:
    """Whether the request needs a Restricted Data Token (Tokens API guide)."""
    if operation == "getReportDocument":
        kind = _report_type_of_document(market, request.params.get("reportDocumentId", ""))
        return kind in access.RESTRICTED_REPORTS
    found = access.BY_NAME.get(operation)
    return found is not None and found.restricted


def check(market: SandboxMarket, request: Request, operation: str) -> None:
    """Refuse (403) a request whose token, roles or Restricted Data Token do not allow it."""
    token = request.header("x-amz-access-token")
    roles = market.roles
    if _restricted(market, request, operation):
        grant = market.rdts.get(token)
        if grant is None or grant[1] < clock.now():
            raise _denied(
                "This restricted resource needs a Restricted Data Token from the Tokens API "
                "(createRestrictedDataToken) in x-amz-access-token."
            )
        if (request.method, request.path) not in grant[0]:
            raise _denied("The Restricted Data Token was not issued for this resource.")
    else:
        auth.check_access(request)
    needed = _needed(market, request, operation)
    if not access.grants(roles, needed):
        raise _denied(
            f"The application has none of the roles this operation needs ({' or '.join(needed)})."
        )
    if operation in ("searchOrders", "getOrder@2026-01-01"):
        personal = access.PERSONAL_DATA.intersection(request.values("includedData"))
        if personal and not access.grants(roles, access.PERSONAL_DATA_ROLES):
            raise _denied(
                f"includedData {', '.join(sorted(personal))} is personal data: the application "
                "needs a restricted role for it."
            )


# Tokens API -------------------------------------------------------------------------------


def _resource_role(market: SandboxMarket, method: str, path: str) -> tuple[str, ...] | None:
    """The roles that may hold a token for this resource; None when it is not restricted."""
    if method == "GET" and _RESTRICTED_V0.match(path):
        return access.RESTRICTED_ROLES
    found = _REPORT_DOCUMENT.match(path)
    if method == "GET" and found:
        kind = _report_type_of_document(market, found.group(1))
        if kind in access.RESTRICTED_REPORTS:
            return access.REPORT_ROLES[kind]
    return None


def create_restricted_data_token(market: SandboxMarket, request: Request) -> Reply:
    """POST /tokens/2021-03-01/restrictedDataToken (tokens_2021-03-01.json)."""
    body = request.json_body()
    resources = body.get("restrictedResources")
    if not isinstance(resources, list) or not resources or len(resources) > 50:
        raise invalid_input("restrictedResources must list 1 to 50 restricted resources.")
    granted: set[tuple[str, str]] = set()
    for resource in resources:
        if not isinstance(resource, dict):
            raise invalid_input("Each restricted resource must be an object.")
        method, path = resource.get("method"), resource.get("path")
        if method not in ("GET", "PUT", "POST", "DELETE") or not isinstance(path, str):
            raise invalid_input("Each restricted resource needs a method and a path.")
        roles = _resource_role(market, method, path)
        if roles is None:
            raise invalid_input(
                f"Resource {method} {path} is not a restricted resource.",
                "Only restricted operations and restricted report documents take a token.",
            )
        if not access.grants(market.roles, roles):
            raise _denied(
                f"The application has no restricted role for {method} {path} "
                f"({' or '.join(roles)})."
            )
        granted.add((method, path))
    token = "Atz.sprdt|" + secrets.token_urlsafe(24)
    market.rdts[token] = (frozenset(granted), clock.now() + timedelta(seconds=RDT_LIFETIME_SECONDS))
    return json_reply({"restrictedDataToken": token, "expiresIn": RDT_LIFETIME_SECONDS})


# Sellers API ------------------------------------------------------------------------------


def _participation(marketplace_id: str) -> dict[str, Any]:
    info = marketplaces.by_id(marketplace_id)
    currency, domain, country = market_of(marketplace_id)
    language = (info.locale if info else "en_US").replace("_", "-")
    return {
        "marketplace": {
            "id": marketplace_id,
            "name": domain,
            "countryCode": country,
            "defaultCurrencyCode": currency,
            "defaultLanguageCode": language,
            "domainName": f"www.{domain.lower()}",
        },
        "participation": {"isParticipating": True, "hasSuspendedListings": False},
        "storeName": "Sandbox Store",
    }


def get_marketplace_participations(market: SandboxMarket, request: Request) -> Reply:
    """GET /sellers/v1/marketplaceParticipations: the book's marketplace and those its orders
    were placed in (sellers.json, GetMarketplaceParticipationsResponse)."""
    ids = dict.fromkeys(
        [market.book.marketplace_id, *(o.marketplace_id for o in market.book.orders)]
    )
    return json_reply({"payload": [_participation(m) for m in ids if m]})


# Orders v0 restricted operations ------------------------------------------------------------


def get_order_address(market: SandboxMarket, request: Request) -> Reply:
    """GET /orders/v0/orders/{orderId}/address (restricted; ordersV0.json, OrderAddress)."""
    order = _order(market, request)
    city, state, postal, country = ship_to(order, order.marketplace_id)
    address = {
        "Name": "Sandbox Buyer",
        "AddressLine1": "1 Sandbox Way",
        "City": city,
        "StateOrRegion": state,
        "PostalCode": postal,
        "CountryCode": country,
    }
    return json_reply({"payload": {"AmazonOrderId": order.id, "ShippingAddress": address}})


def get_order_buyer_info(market: SandboxMarket, request: Request) -> Reply:
    """GET /orders/v0/orders/{orderId}/buyerInfo (restricted; ordersV0.json, OrderBuyerInfo)."""
    order = _order(market, request)
    email = f"{buyer_alias(order)}@marketplace.amazon.com"
    return json_reply(
        {"payload": {"AmazonOrderId": order.id, "BuyerEmail": email, "BuyerName": "Sandbox Buyer"}}
    )


def get_order_items_buyer_info(market: SandboxMarket, request: Request) -> Reply:
    """GET /orders/v0/orders/{orderId}/orderItems/buyerInfo (restricted)."""
    order = _order(market, request)
    items = [{"OrderItemId": item.id} for item in order.items]
    return json_reply({"payload": {"AmazonOrderId": order.id, "OrderItems": items}})


# The sandbox's control window -------------------------------------------------------------


def roles(market: SandboxMarket, request: Request) -> Reply:
    """GET /_sandbox/roles: the app's roles; PUT {"roles": [...]} changes them at run time
    (as when a seller removes a role or revokes the app); tokens issued before are dropped."""
    if request.method == "PUT":
        body = request.json_body()
        given = body.get("roles")
        if not isinstance(given, list) or not all(isinstance(r, str) for r in given):
            raise invalid_input('PUT /_sandbox/roles takes {"roles": ["Role name", ...]}.')
        found, unknown = access.parse_roles(given)
        if unknown:
            raise invalid_input(access.unknown_roles(unknown))
        market.roles = found
        market.rdts.clear()
    return json_reply({"roles": list(market.roles)})
