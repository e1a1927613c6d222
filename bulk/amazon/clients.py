"""python-amazon-sp-api clients pointed at an endpoint: Amazon, a proxy, or the sandbox."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sp_api.api import Messaging, OrdersV0, OrdersV20260101, Reports, Sellers, Tokens
from sp_api.api.feeds.feeds_2021_06_30 import FeedsV20210630
from sp_api.auth import AccessTokenClient
from sp_api.base import Marketplaces
from sp_api.base.credential_provider import MissingCredentials

from bulk.errors import AmazonError, ConfigError

LWA_TOKEN_PATH = "/auth/o2/token"


@dataclass(frozen=True)
class Clients:
    """One client per API bulk uses, all for the same seller and endpoint (one region)."""

    orders: OrdersV0  # Orders API v0: only with [amazon] orders_api = "v0"
    feeds: FeedsV20210630  # Feeds API 2021-06-30
    reports: Reports  # Reports API 2021-06-30
    messaging: Messaging  # Messaging API v1, for the main marketplace
    orders_2026: OrdersV20260101  # Orders API v2026-01-01
    tokens: Tokens  # Tokens API 2021-03-01: Restricted Data Tokens, with restricted_data only
    sellers: Sellers  # Sellers API v1: the account's marketplaces (`bulk doctor`)
    # Messaging clients for the run's other marketplaces: the library sends createUnexpectedProblem
    # with its client's own marketplace id, so each marketplace needs its own client.
    more_messaging: dict[str, Messaging] = field(default_factory=dict)

    def messaging_for(self, marketplace_id: str) -> Messaging:
        return self.more_messaging.get(marketplace_id, self.messaging)

    def all(self) -> Iterator[Any]:
        yield from (self.orders, self.orders_2026, self.feeds, self.reports, self.messaging)
        yield from (self.tokens, self.sellers)
        yield from self.more_messaging.values()

    def close(self) -> None:
        """Close every HTTP connection pool the clients (and their token clients) hold."""
        for client in self.all():
            client.close()
            # The library never closes its token client's transport itself.
            token_client = getattr(client, "_auth", None)
            transport = getattr(token_client, "_transport", None)
            if transport is not None:
                transport.close()


def marketplace_for(marketplace_id: str) -> Any:
    """The library's Marketplaces member for an Amazon marketplace id."""
    for member in Marketplaces:
        if member.marketplace_id == marketplace_id:
            return member
    raise ConfigError(
        f"marketplace id {marketplace_id!r} is unknown to python-amazon-sp-api; "
        "check [amazon] marketplace in bulk.toml"
    )


def amazon_endpoint(marketplace_id: str) -> str:
    """Amazon's own SP-API endpoint for the marketplace's region (e.g. the North America host)."""
    return str(marketplace_for(marketplace_id).endpoint)


class _TokenClient(AccessTokenClient):  # type: ignore[misc]
    """The library's Login with Amazon client, with one more failure worded: an answer that is
    not JSON (a proxy's or a gateway's HTML page) is one line, not a crash."""

    def _request(self, url: str, data: Any, headers: Any) -> Any:
        try:
            return super()._request(url, data, headers)
        except ValueError as e:  # the library reads every answer as JSON
            raise AmazonError(
                f"Login with Amazon ({self.host}) answered with something that is not JSON "
                f"({e}); a proxy or gateway may be in the way, or BULK_LWA_ENDPOINT points at "
                "the wrong server; run again, and check the network if it repeats"
            ) from None


def _token_client_class(lwa_endpoint: str | None) -> type[Any]:
    """An AccessTokenClient that asks `lwa_endpoint` instead of api.amazon.com.

    The library has no setting for the LWA host: its URL is scheme + host + path class
    attributes (sp_api/auth/access_token_client.py), so a subclass replaces them.
    """
    if lwa_endpoint is None:
        return _TokenClient
    parts = urlsplit(lwa_endpoint)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(
            f"LWA endpoint {lwa_endpoint!r} must be an http(s) URL such as https://api.amazon.com"
        )
    path = parts.path.rstrip("/")
    if not path.endswith(LWA_TOKEN_PATH):
        path += LWA_TOKEN_PATH
    return type(
        "RedirectedAccessTokenClient",
        (_TokenClient,),
        {"scheme": f"{parts.scheme}://", "host": parts.netloc, "path": path},
    )


def _plain_http(url: str) -> bool:
    return urlsplit(url).scheme == "http"


def connect(
    endpoint: str,
    lwa_endpoint: str | None,
    credentials: dict[str, str],
    marketplace_id: str,
    more_marketplaces: Sequence[str] = (),
    timeout: float = 120.0,
) -> Clients:
    """Build the library's clients for `marketplace_id` (and messaging clients for
    `more_marketplaces`, of the same region) and point them at `endpoint`.

    `lwa_endpoint` None asks Amazon's own Login with Amazon; empty `credentials` let the
    library find them itself (LWA_APP_ID, LWA_CLIENT_SECRET, SP_API_REFRESH_TOKEN or its
    credentials.yml).
    """
    marketplace = marketplace_for(marketplace_id)
    # httpx's default 5-second timeout is too short for large report downloads and for the
    # sandbox processing a feed of thousands of orders; a stuck connection still ends.
    kwargs: dict[str, Any] = {"credentials": dict(credentials) or None, "timeout": timeout}
    kwargs["auth_token_client_class"] = _token_client_class(lwa_endpoint)
    if lwa_endpoint is not None and _plain_http(endpoint) and _plain_http(lwa_endpoint):
        # No TLS on either side, so nothing to verify: this skips loading the CA bundle,
        # which costs each of the eight HTTP clients ~25 ms.
        kwargs["verify"] = False
    others = [m for m in dict.fromkeys(more_marketplaces) if m != marketplace_id]
    try:
        # Feeds(...) dispatches to FeedsV20210630 through a metaclass; build the concrete class.
        classes = (OrdersV0, FeedsV20210630, Reports, Messaging, OrdersV20260101, Tokens, Sellers)
        clients = [cls(marketplace, **kwargs) for cls in classes]
        extra = {m: Messaging(marketplace_for(m), **kwargs) for m in others}
    except MissingCredentials as e:
        raise ConfigError(
            f"Amazon credentials are missing ({e}); set LWA_APP_ID, LWA_CLIENT_SECRET and "
            "SP_API_REFRESH_TOKEN, or python-amazon-sp-api's credentials.yml"
        ) from None
    base = endpoint.rstrip("/")
    for client, mp in [
        *((c, marketplace_id) for c in clients),
        *((c, m) for m, c in extra.items()),
    ]:
        # No host setting exists: the library joins `endpoint` and the path.
        client.endpoint = base
        # SP_API_DEFAULT_MARKETPLACE overrides the constructor's marketplace; the caller's wins.
        client.marketplace_id = mp
    orders, feeds, reports, messaging, orders_2026, tokens, sellers = clients
    return Clients(
        orders=orders,
        feeds=feeds,
        reports=reports,
        messaging=messaging,
        orders_2026=orders_2026,
        tokens=tokens,
        sellers=sellers,
        more_messaging=extra,
    )
