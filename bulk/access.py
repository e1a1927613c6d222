"""Amazon's access model as bulk meets it: which role each operation bulk calls needs.

One table, one place (docs/amazon.md, "Roles and restricted data"): the sandbox enforces it,
`bulk doctor` checks each role with one harmless read, and `bulk submit` refuses to start
when the rows at hand need a role the app lacks. From Amazon's "Role Mappings for SP-API
Operations" and "Role Mappings for SP-API Types" pages, each role's own page ("Inventory and
Order Tracking Role", "Buyer Communication Role", "Selling Partner Insights Role"), the
"Order Reports" page and the Tokens API guide.

An operation lists the roles of which any one grants it. A restricted operation (or a
restricted report type's document) also needs a Restricted Data Token from the Tokens API,
which Amazon grants only to an app approved for a restricted role.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from bulk.errors import closest

# Amazon's names for the roles (the role pages' titles).
INVENTORY_AND_ORDER_TRACKING = "Inventory and Order Tracking"
BUYER_COMMUNICATION = "Buyer Communication"
SELLING_PARTNER_INSIGHTS = "Selling Partner Insights"
DIRECT_TO_CONSUMER_SHIPPING = "Direct to Consumer Shipping (Restricted)"
TAX_INVOICING = "Tax Invoicing (Restricted)"
TAX_REMITTANCE = "Tax Remittance (Restricted)"

# The restricted roles: personal data, granted after a security review.
RESTRICTED_ROLES: tuple[str, ...] = (DIRECT_TO_CONSUMER_SHIPPING, TAX_INVOICING, TAX_REMITTANCE)

# Every role name Amazon uses for sellers, so a misspelt setting is caught.
ROLE_NAMES: tuple[str, ...] = (
    INVENTORY_AND_ORDER_TRACKING,
    BUYER_COMMUNICATION,
    SELLING_PARTNER_INSIGHTS,
    "Amazon Fulfillment",
    "Buyer Solicitation",
    "Finance and Accounting",
    "Pricing",
    "Product Listing",
    "Brand Analytics",
    "Account Information Service Provider",
    "Payment Initiation Service Provider",
    *RESTRICTED_ROLES,
)

# The roles bulk needs, none of them restricted. Buyer Communication only for customer
# messages (rows with Notify = Yes).
NEEDED_ROLES: tuple[str, ...] = (
    INVENTORY_AND_ORDER_TRACKING,
    SELLING_PARTNER_INSIGHTS,
    BUYER_COMMUNICATION,
)

# Report and feed types bulk uses (the Reports and Feeds type value pages).
ALL_ORDERS_REPORT = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL"
UNSHIPPED_REPORT = "GET_FLAT_FILE_ACTIONABLE_ORDER_DATA_SHIPPING"
PERFORMANCE_REPORT = "GET_V2_SELLER_PERFORMANCE_REPORT"
ACKNOWLEDGEMENT_FEED = "POST_ORDER_ACKNOWLEDGEMENT_DATA"

# Roles of which any one grants a report type (createReport, getReports, getReport and,
# for types that are not restricted, getReportDocument).
REPORT_ROLES: dict[str, tuple[str, ...]] = {
    # "Order Tracking reports": Inventory and Order Tracking (Amazon Fulfillment for FBA).
    ALL_ORDERS_REPORT: (INVENTORY_AND_ORDER_TRACKING, "Amazon Fulfillment"),
    # "Order Reports", Unshipped Orders Report: "Role: Direct to Consumer Shipping (Restricted)".
    UNSHIPPED_REPORT: (DIRECT_TO_CONSUMER_SHIPPING,),
    # "Performance Report Type Values": available to every seller; bulk asks it under the
    # account-performance role.
    PERFORMANCE_REPORT: (SELLING_PARTNER_INSIGHTS,),
}
# Report types whose document needs a Restricted Data Token (Tokens API guide, "Restricted
# report types"): those with buyers' personal data.
RESTRICTED_REPORTS: frozenset[str] = frozenset({UNSHIPPED_REPORT})

# "Order Feed Type Values": the order feeds need Inventory and Order Tracking (or Direct to
# Consumer Shipping).
FEED_ROLES: dict[str, tuple[str, ...]] = {
    ACKNOWLEDGEMENT_FEED: (INVENTORY_AND_ORDER_TRACKING, DIRECT_TO_CONSUMER_SHIPPING),
}

# Orders API v2026-01-01 `includedData` values with personal data: the app needs a
# restricted role for them ("Access Orders PII"); no Restricted Data Token in this version.
PERSONAL_DATA = frozenset({"BUYER", "RECIPIENT"})
PERSONAL_DATA_ROLES: tuple[str, ...] = RESTRICTED_ROLES

# The orders operations grant to many roles; bulk asks for them under this one.
_ORDERS = (
    INVENTORY_AND_ORDER_TRACKING,
    "Amazon Fulfillment",
    BUYER_COMMUNICATION,
    "Buyer Solicitation",
    "Finance and Accounting",
    "Pricing",
    "Product Listing",
    SELLING_PARTNER_INSIGHTS,
    *RESTRICTED_ROLES,
)
_FEEDS = FEED_ROLES[ACKNOWLEDGEMENT_FEED]
_REPORTS = tuple(dict.fromkeys(r for roles in REPORT_ROLES.values() for r in roles))


@dataclass(frozen=True)
class Operation:
    """One operation bulk calls: the roles of which any one grants it, and whether it is
    restricted (a Restricted Data Token in `x-amz-access-token`)."""

    name: str  # Amazon's operationId (v2026 getOrder carries its version)
    api: str
    roles: tuple[str, ...]
    restricted: bool = False
    purpose: str = ""


OPERATIONS: tuple[Operation, ...] = (
    Operation("searchOrders", "Orders 2026-01-01", _ORDERS, purpose="look-ups of recent orders"),
    Operation("getOrder@2026-01-01", "Orders 2026-01-01", _ORDERS, purpose="look-ups by id"),
    Operation("getOrders", "Orders v0", _ORDERS, purpose='look-ups with orders_api = "v0"'),
    Operation("getOrder", "Orders v0", _ORDERS, purpose='look-ups with orders_api = "v0"'),
    Operation("getOrderItems", "Orders v0", _ORDERS, purpose='order lines with orders_api = "v0"'),
    Operation("getOrderAddress", "Orders v0", RESTRICTED_ROLES, restricted=True),
    Operation("getOrderBuyerInfo", "Orders v0", RESTRICTED_ROLES, restricted=True),
    Operation("getOrderItemsBuyerInfo", "Orders v0", RESTRICTED_ROLES, restricted=True),
    Operation("createFeedDocument", "Feeds 2021-06-30", _FEEDS, purpose="the cancellation feed"),
    Operation("createFeed", "Feeds 2021-06-30", _FEEDS, purpose="the cancellation feed"),
    Operation("getFeed", "Feeds 2021-06-30", _FEEDS, purpose="the feed's progress"),
    Operation("getFeeds", "Feeds 2021-06-30", _FEEDS, purpose="feeds of an interrupted run"),
    Operation("cancelFeed", "Feeds 2021-06-30", _FEEDS),
    Operation("getFeedDocument", "Feeds 2021-06-30", _FEEDS, purpose="the processing report"),
    # Reports: the report type decides (REPORT_ROLES); these are the union.
    Operation("createReport", "Reports 2021-06-30", _REPORTS, purpose="order and account reports"),
    Operation("getReport", "Reports 2021-06-30", _REPORTS),
    Operation("getReports", "Reports 2021-06-30", _REPORTS),
    Operation("getReportDocument", "Reports 2021-06-30", _REPORTS),
    Operation(
        "getMessagingActionsForOrder",
        "Messaging v1",
        (BUYER_COMMUNICATION,),
        purpose="customer messages",
    ),
    Operation("GetAttributes", "Messaging v1", (BUYER_COMMUNICATION,), purpose="buyer's language"),
    Operation(
        "createUnexpectedProblem", "Messaging v1", (BUYER_COMMUNICATION,), purpose="messages"
    ),
    Operation(
        "getMarketplaceParticipations",
        "Sellers v1",
        (SELLING_PARTNER_INSIGHTS, "Finance and Accounting", INVENTORY_AND_ORDER_TRACKING),
        purpose="`bulk doctor`: the account's marketplaces",
    ),
    # Any authorised app may ask; Amazon grants a token only for resources its roles cover.
    Operation("createRestrictedDataToken", "Tokens 2021-03-01", ROLE_NAMES),
)
BY_NAME: dict[str, Operation] = {op.name: op for op in OPERATIONS}


def _key(name: str) -> str:
    return re.sub(r"[^a-z]", "", name.lower().replace("(restricted)", ""))


_KEYS = {_key(name): name for name in ROLE_NAMES}


def role_name(text: str) -> str | None:
    """Amazon's name for a role written loosely ("direct-to-consumer shipping"), or None."""
    return _KEYS.get(_key(text))


def parse_roles(items: Iterable[str]) -> tuple[tuple[str, ...], list[str]]:
    """Role names from a setting: (Amazon's names, the items that name no role)."""
    found: list[str] = []
    unknown: list[str] = []
    for item in items:
        text = item.strip()
        if not text:
            continue
        name = role_name(text)
        if name is None:
            unknown.append(text)
        elif name not in found:
            found.append(name)
    return tuple(found), unknown


def grants(roles: Iterable[str], needed: Iterable[str]) -> bool:
    """True when any of `needed` is among `roles`."""
    have = set(roles)
    return any(r in have for r in needed)


def has_restricted(roles: Iterable[str]) -> bool:
    return any(r in RESTRICTED_ROLES for r in roles)


def unknown_roles(unknown: Iterable[str]) -> str:
    """One line for role names that name no role, with the nearest real name."""
    parts = []
    for text in unknown:
        near = closest(text, list(ROLE_NAMES))
        parts.append(
            f"{text!r} is not one of Amazon's roles"
            + (f" (did you mean {near!r}?)" if near else "")
        )
    return "; ".join(parts) + "; Amazon's role names: " + ", ".join(ROLE_NAMES)


def sandbox_roles(setting: Iterable[str], env_value: str | None) -> tuple[str, ...]:
    """The roles the sandbox grants: BULK_SANDBOX_ROLES (comma-separated), else `[sandbox]
    roles`, else every role bulk needs (none restricted). Unknown names raise ValueError."""
    items = list(setting) if env_value is None else env_value.split(",")
    roles, unknown = parse_roles(items)
    if unknown:
        raise ValueError(unknown_roles(unknown))
    if env_value is None and not roles:
        return NEEDED_ROLES
    return roles
