"""The only credentials the sandbox accepts (bulk.targets hands them to the clients)."""

from __future__ import annotations

REFRESH_TOKEN = "sandbox-refresh-token"
CLIENT_ID = "sandbox-app"
CLIENT_SECRET = "sandbox-secret"
