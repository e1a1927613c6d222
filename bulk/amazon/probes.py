"""One harmless read per role: does the app have it? And the account's marketplaces.

Each probe is a read that only the role grants among the operations bulk uses (bulk.access):
an answer other than 403 (a page of feeds, a 404 for an order that does not exist) means the
role is there. Nothing is created or sent.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from sp_api.auth.exceptions import AuthorizationError
from sp_api.base.exceptions import SellingApiNotFoundException

from bulk import access
from bulk.amazon.clients import Clients
from bulk.amazon.protocol import AccessDeniedError
from bulk.amazon.reports import Door
from bulk.errors import AmazonError

# An order id no seller has: Messaging answers 404 for it when the role is there.
NO_ORDER = "000-0000000-0000000"
# A restricted path a token may be asked for (Tokens API guide): granted only with a
# restricted role.
RESTRICTED_PROBE = f"/orders/v0/orders/{NO_ORDER}/address"


def _probes(clients: Clients) -> dict[str, tuple[str, Callable[[], Any]]]:
    """Role -> (operation, the harmless read that needs it)."""
    return {
        access.INVENTORY_AND_ORDER_TRACKING: (
            "getFeeds",
            lambda: clients.feeds.get_feeds(feedTypes=[access.ACKNOWLEDGEMENT_FEED], pageSize=1),
        ),
        access.SELLING_PARTNER_INSIGHTS: (
            "getReports",
            lambda: clients.reports.get_reports(
                reportTypes=[access.PERFORMANCE_REPORT], pageSize=1
            ),
        ),
        access.BUYER_COMMUNICATION: (
            "getMessagingActionsForOrder",
            lambda: clients.messaging.get_messaging_actions_for_order(
                NO_ORDER, marketplaceIds=[clients.messaging.marketplace_id]
            ),
        ),
        access.DIRECT_TO_CONSUMER_SHIPPING: (
            "createRestrictedDataToken",
            lambda: clients.tokens.create_restricted_data_token(
                restrictedResources=[{"method": "GET", "path": RESTRICTED_PROBE}]
            ),
        ),
    }


def has_role(call: Door, clients: Clients, role: str) -> bool:
    """Whether the app has `role`, by its one harmless read; AmazonError when the read fails
    for another reason (the login, the network)."""
    found = _probes(clients).get(role)
    if found is None:
        raise AmazonError(f"bulk has no check for the role {role!r}")
    operation, read = found

    def ask() -> bool:
        # A 404: the role let the call through to a resource that does not exist.
        with contextlib.suppress(SellingApiNotFoundException):
            read()
        return True

    try:
        return call(operation, ask)
    except AccessDeniedError:
        return False


def participations(call: Door, clients: Clients) -> tuple[str, ...]:
    """The marketplace ids the seller takes part in (Sellers API getMarketplaceParticipations)."""
    res = call("getMarketplaceParticipations", clients.sellers.get_marketplace_participation)
    found = []
    for entry in res.payload or []:
        if (entry.get("participation") or {}).get("isParticipating"):
            found.append(str((entry.get("marketplace") or {}).get("id", "")))
    return tuple(found)


def login(clients: Clients) -> None:
    """The login-token exchange (Login with Amazon): raises AmazonError when refused."""
    try:
        _ = clients.sellers.auth.access_token
    except AuthorizationError as e:
        raise AmazonError(
            f"Login with Amazon refused the credentials ({e.error_code}: {e.message}); check "
            "LWA_APP_ID, LWA_CLIENT_SECRET and SP_API_REFRESH_TOKEN (or credentials.yml)"
        ) from None
