"""The local marketplace: an HTTP server on 127.0.0.1 speaking the Selling Partner API.

This face is light on purpose: a production run imports it (for the dummy credentials below)
without loading the server, the order book or lxml. `Sandbox`, `serve` and `start_sandbox`
load `bulk.sandbox.server` when first asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bulk.sandbox.credentials import CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN

if TYPE_CHECKING:
    from bulk.sandbox.server import Sandbox, serve, start_sandbox

__all__ = ["CLIENT_ID", "CLIENT_SECRET", "REFRESH_TOKEN", "Sandbox", "serve", "start_sandbox"]

_LAZY = ("Sandbox", "serve", "start_sandbox")


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from bulk.sandbox import server

        return getattr(server, name)
    raise AttributeError(f"module 'bulk.sandbox' has no attribute {name!r}")
