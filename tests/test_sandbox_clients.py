"""bulk.amazon.clients.connect: the real library's clients, pointed at the sandbox or elsewhere."""

from __future__ import annotations

from pathlib import Path

import pytest
from sp_api.auth import AccessTokenClient

from bulk.amazon.clients import Clients, amazon_endpoint, connect
from bulk.errors import ConfigError
from bulk.sandbox import Sandbox
from bulk.targets import SANDBOX_CREDENTIALS

US = "ATVPDKIKX0DER"
DE = "A1PA6795UKMFR9"


def _all(clients: Clients) -> list[object]:
    return [clients.orders, clients.feeds, clients.reports, clients.messaging]


def test_clients_point_at_the_endpoint_and_its_login(sandbox: Sandbox) -> None:
    clients = connect(sandbox.url + "/", sandbox.url, SANDBOX_CREDENTIALS, US)
    try:
        assert type(clients.feeds).__name__ == "FeedsV20210630"
        for client in _all(clients):
            assert client.endpoint == sandbox.url
            token_client = client._auth
            assert (
                token_client.scheme + token_client.host + token_client.path
                == f"{sandbox.url}/auth/o2/token"
            )
        assert clients.orders.get_order("112-0000001-0000001").payload["OrderStatus"] == "Unshipped"
    finally:
        clients.close()
    assert all(client._transport._client.is_closed for client in _all(clients))


def test_login_path_may_be_given_in_full() -> None:
    clients = connect(
        "https://proxy.example",
        "https://login.example/auth/o2/token",
        {"lwa_app_id": "a", "lwa_client_secret": "b", "refresh_token": "c"},
        US,
    )
    try:
        token_client = clients.orders._auth
        assert (token_client.scheme, token_client.host, token_client.path) == (
            "https://",
            "login.example",
            "/auth/o2/token",
        )
        assert clients.orders.verify is True  # https: certificates are checked
    finally:
        clients.close()


def test_no_login_endpoint_means_amazons_own() -> None:
    credentials = {"lwa_app_id": "a", "lwa_client_secret": "b", "refresh_token": "c"}
    clients = connect(amazon_endpoint(US), None, credentials, US)
    try:
        # The library's client (bulk's subclass only words a non-JSON answer), on Amazon's host.
        assert isinstance(clients.orders._auth, AccessTokenClient)
        assert clients.orders._auth.host == "api.amazon.com"
        assert clients.orders.endpoint == "https://sellingpartnerapi-na.amazon.com"
    finally:
        clients.close()


def test_the_callers_marketplace_wins_over_the_environment(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SP_API_DEFAULT_MARKETPLACE", "DE")
    clients = connect(sandbox.url, sandbox.url, SANDBOX_CREDENTIALS, US)
    try:
        assert all(client.marketplace_id == US for client in _all(clients))
        orders = clients.orders.get_orders(CreatedAfter="2025-01-01T00:00:00Z").payload["Orders"]
        assert len(orders) == 12  # the sandbox sells in the US marketplace only
    finally:
        clients.close()


def test_unknown_marketplace_and_bad_login_url() -> None:
    with pytest.raises(ConfigError, match="marketplace id 'XX' is unknown"):
        connect("https://proxy.example", None, SANDBOX_CREDENTIALS, "XX")
    with pytest.raises(ConfigError, match="must be an http\\(s\\) URL"):
        connect("https://proxy.example", "api.amazon.com", SANDBOX_CREDENTIALS, DE)


def test_missing_credentials_say_what_to_set(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("LWA_APP_ID", "LWA_CLIENT_SECRET", "SP_API_REFRESH_TOKEN", "SP_API_AWS_SECRET_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    with pytest.raises(
        ConfigError, match="set LWA_APP_ID, LWA_CLIENT_SECRET and SP_API_REFRESH_TOKEN"
    ):
        connect("https://proxy.example", None, {}, US)


def test_sandbox_credentials_are_the_sandboxs() -> None:
    from bulk.sandbox import auth

    assert SANDBOX_CREDENTIALS == {
        "refresh_token": auth.REFRESH_TOKEN,
        "lwa_app_id": auth.CLIENT_ID,
        "lwa_client_secret": auth.CLIENT_SECRET,
    }
