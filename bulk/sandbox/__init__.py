"""The local marketplace: an HTTP server on 127.0.0.1 speaking the Selling Partner API."""

from __future__ import annotations

from bulk.sandbox.server import Sandbox, serve, start_sandbox

__all__ = ["Sandbox", "serve", "start_sandbox"]
