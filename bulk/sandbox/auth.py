"""Login with Amazon for the sandbox: dummy credentials, the token endpoint, token checks."""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qs

from bulk.sandbox.credentials import CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN
from bulk.sandbox.market import SandboxMarket
from bulk.sandbox.wire import ApiError, Reply, Request, json_reply

TOKEN_LIFETIME_SECONDS = 3600


def access_token(refresh_token: str) -> str:
    # Derived, not random: python-amazon-sp-api caches a token per refresh token for the whole
    # process, so a token from an earlier sandbox server must still be good after a restart.
    digest = hashlib.sha256(f"{CLIENT_ID}:{refresh_token}".encode()).hexdigest()
    return f"Atza|sandbox.{digest[:48]}"


def _lwa_error(status: int, error: str, description: str) -> Reply:
    # LWA's error shape: {"error", "error_description"} (Login with Amazon, "Access Token Errors").
    return json_reply({"error": error, "error_description": description}, status)


def token(market: SandboxMarket, request: Request) -> Reply:
    """POST /auth/o2/token: refresh_token (or client_credentials) grant, form-encoded."""
    form = {k: v[-1] for k, v in parse_qs(request.body.decode("utf-8", "replace")).items()}
    grant = form.get("grant_type", "")
    if grant not in ("refresh_token", "client_credentials"):
        if not grant:
            return _lwa_error(
                400, "invalid_request", "The request is missing a required parameter : grant_type"
            )
        return _lwa_error(400, "unsupported_grant_type", f"The grant type {grant} is not supported")
    if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
        return _lwa_error(401, "invalid_client", "Client authentication failed")
    if grant == "client_credentials":
        return json_reply(
            {
                "access_token": access_token("grantless:" + form.get("scope", "")),
                "token_type": "bearer",
                "expires_in": TOKEN_LIFETIME_SECONDS,
            }
        )
    refresh = form.get("refresh_token", "")
    if not refresh:
        return _lwa_error(
            400, "invalid_request", "The request is missing a required parameter : refresh_token"
        )
    if refresh != REFRESH_TOKEN:
        return _lwa_error(
            400, "invalid_grant", "The request has an invalid grant parameter : refresh_token"
        )
    return json_reply(
        {
            "access_token": access_token(refresh),
            "refresh_token": refresh,
            "token_type": "bearer",
            "expires_in": TOKEN_LIFETIME_SECONDS,
        }
    )


def check_access(request: Request) -> None:
    """Every SP-API call carries the LWA token in `x-amz-access-token`; without it, 403."""
    if request.header("x-amz-access-token") != access_token(REFRESH_TOKEN):
        raise ApiError(
            403,
            "Unauthorized",
            "Access to requested resource is denied.",
            "The access token you provided is revoked, malformed or invalid.",
        )
