"""bulk.access: Amazon's roles per operation, and the sandbox holding the app to them."""

from __future__ import annotations

import pytest
import requests
from conftest import WITH_RESTRICTED, orders_v2026_client
from sp_api.base.exceptions import SellingApiForbiddenException

from bulk import access
from bulk.amazon.clients import Clients
from bulk.sandbox import Sandbox


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Inventory and Order Tracking", access.INVENTORY_AND_ORDER_TRACKING),
        ("inventory-and-order-tracking", access.INVENTORY_AND_ORDER_TRACKING),
        ("Direct-to-Consumer Shipping", access.DIRECT_TO_CONSUMER_SHIPPING),
        ("direct to consumer shipping (restricted)", access.DIRECT_TO_CONSUMER_SHIPPING),
        ("buyer communication", access.BUYER_COMMUNICATION),
        ("Buyer Comunication", None),
    ],
)
def test_role_names_are_read_loosely(text: str, name: str | None) -> None:
    assert access.role_name(text) == name


def test_sandbox_roles_come_from_the_environment_then_the_config_then_the_default() -> None:
    assert access.sandbox_roles((), None) == access.NEEDED_ROLES
    assert not any(r in access.RESTRICTED_ROLES for r in access.NEEDED_ROLES)
    assert access.sandbox_roles(("Buyer Communication",), None) == (access.BUYER_COMMUNICATION,)
    env = "Inventory and Order Tracking, Selling Partner Insights"
    assert access.sandbox_roles(("Buyer Communication",), env) == (
        access.INVENTORY_AND_ORDER_TRACKING,
        access.SELLING_PARTNER_INSIGHTS,
    )
    assert access.sandbox_roles((), "") == ()  # set but empty: no role at all
    with pytest.raises(ValueError, match="did you mean 'Buyer Communication'"):
        access.sandbox_roles((), "Buyer Comunication")


def test_every_operation_the_adapter_calls_is_in_the_table() -> None:
    from bulk.marketplaces import USAGE_PLANS

    names = {op.name.split("@")[0] for op in access.OPERATIONS}
    # getAttributes is GetAttributes in Amazon's model (messaging.json operationId).
    assert set(USAGE_PLANS) - names <= {"getAttributes"}


def _denied(call: object) -> str:
    with pytest.raises(SellingApiForbiddenException) as caught:
        call()  # type: ignore[operator]
    error = caught.value.error[0]
    assert (error["code"], error["message"]) == (
        "Unauthorized",
        "Access to requested resource is denied.",
    )
    return str(error.get("details", ""))


def test_personal_data_in_orders_v2026_needs_a_restricted_role(sandbox: Sandbox) -> None:
    client = orders_v2026_client(sandbox.url)
    order = "112-0000001-0000001"
    client.get_order(order, includedData=["FULFILLMENT", "CANCELLATION"])
    assert "restricted role" in _denied(lambda: client.get_order(order, includedData=["BUYER"]))
    assert "restricted role" in _denied(
        lambda: client.search_orders(
            createdAfter="2026-01-01T00:00:00Z", includedData=["RECIPIENT"]
        )
    )
    client.close()


@pytest.mark.parametrize("sandbox_roles", [WITH_RESTRICTED])
def test_a_restricted_role_opens_personal_data(sandbox: Sandbox) -> None:
    client = orders_v2026_client(sandbox.url)
    found = client.get_order("112-0000001-0000001", includedData=["BUYER"]).payload
    assert "buyer" in (found.get("order") or found)
    client.close()


@pytest.mark.parametrize("sandbox_roles", [(access.INVENTORY_AND_ORDER_TRACKING,)])
def test_an_operation_outside_the_apps_roles_is_refused(sandbox_clients: Clients) -> None:
    sandbox_clients.feeds.get_feeds(feedTypes=["POST_ORDER_ACKNOWLEDGEMENT_DATA"], pageSize=1)
    words = _denied(lambda: sandbox_clients.messaging.get_attributes("112-0000001-0000001"))
    assert "Buyer Communication" in words
    words = _denied(
        lambda: sandbox_clients.reports.create_report(reportType="GET_V2_SELLER_PERFORMANCE_REPORT")
    )
    assert "Selling Partner Insights" in words


def test_the_restricted_report_needs_a_token_the_default_app_cannot_get(
    sandbox_clients: Clients,
) -> None:
    c = sandbox_clients
    report_id = c.reports.create_report(
        reportType="GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL",
        dataStartTime="2026-01-01T00:00:00Z",
    ).payload["reportId"]
    c.reports.get_report(report_id)  # the All Orders report needs no restricted role
    _denied(
        lambda: c.reports.create_report(reportType="GET_FLAT_FILE_ACTIONABLE_ORDER_DATA_SHIPPING")
    )
    path = "/orders/v0/orders/112-0000001-0000001/address"
    assert "no restricted role" in _denied(
        lambda: c.tokens.create_restricted_data_token(
            restrictedResources=[{"method": "GET", "path": path}]
        )
    )


def test_roles_change_at_run_time_through_the_control_window(
    sandbox: Sandbox, sandbox_clients: Clients
) -> None:
    url = f"{sandbox.url}/_sandbox/roles"
    assert requests.get(url, timeout=10).json() == {"roles": list(access.NEEDED_ROLES)}
    sandbox_clients.feeds.get_feeds(feedTypes=["POST_ORDER_ACKNOWLEDGEMENT_DATA"], pageSize=1)
    answer = requests.put(url, json={"roles": ["Buyer Communication"]}, timeout=10)
    assert answer.json() == {"roles": ["Buyer Communication"]}
    _denied(
        lambda: sandbox_clients.feeds.get_feeds(
            feedTypes=["POST_ORDER_ACKNOWLEDGEMENT_DATA"], pageSize=1
        )
    )
    bad = requests.put(url, json={"roles": ["Buyer Comunication"]}, timeout=10)
    assert bad.status_code == 400 and "did you mean" in bad.text
