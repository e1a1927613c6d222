"""The sandbox's HTTP server: routing, token checks, limits, faults, headers, start and stop."""

from __future__ import annotations

import os
import re
import signal
import socket
import struct
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO
from urllib.parse import parse_qs, unquote, urlsplit

from bulk.access import NEEDED_ROLES
from bulk.errors import ConfigError, closest
from bulk.sandbox import (
    access,
    auth,
    clock,
    feeds,
    introspect,
    messaging,
    orders,
    orders_v2026,
    reports,
)
from bulk.sandbox.book import LOST_ANSWERS, Book, load_book
from bulk.sandbox.limits import RATES, SLOW_SECONDS
from bulk.sandbox.market import SandboxMarket
from bulk.sandbox.state import State, open_state
from bulk.sandbox.wire import (
    HAL_JSON,
    JSON,
    ApiError,
    Reply,
    Request,
    error_reply,
    json_reply,
    not_found,
    s3_error,
)

Handler = Callable[[SandboxMarket, Request], Reply]
MAX_BODY_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class Route:
    """One endpoint: method, path pattern, operation name (for limits and counts), handler."""

    method: str
    pattern: re.Pattern[str]
    operation: str  # empty: the message kind in the path names it
    handler: Handler
    kind: str = "api"  # "api", "token", "upload", "download" or "sandbox"


def _route(method: str, path: str, operation: str, handler: Handler, kind: str = "api") -> Route:
    regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path)
    return Route(method, re.compile(f"^{regex}$"), operation, handler, kind)


# Paths as Amazon's models give them (the API models Amazon publishes).
ROUTES: tuple[Route, ...] = (
    _route("POST", "/auth/o2/token", "token", auth.token, "token"),
    _route("GET", "/orders/v0/orders", "getOrders", orders.get_orders),
    _route("GET", "/orders/v0/orders/{orderId}", "getOrder", orders.get_order),
    _route(
        "GET", "/orders/v0/orders/{orderId}/orderItems", "getOrderItems", orders.get_order_items
    ),
    _route(
        "GET", "/orders/v0/orders/{orderId}/address", "getOrderAddress", access.get_order_address
    ),
    _route(
        "GET",
        "/orders/v0/orders/{orderId}/buyerInfo",
        "getOrderBuyerInfo",
        access.get_order_buyer_info,
    ),
    _route(
        "GET",
        "/orders/v0/orders/{orderId}/orderItems/buyerInfo",
        "getOrderItemsBuyerInfo",
        access.get_order_items_buyer_info,
    ),
    _route(
        "GET", "/orders/2026-01-01/orders", orders_v2026.SEARCH_ORDERS, orders_v2026.search_orders
    ),
    _route(
        "GET", "/orders/2026-01-01/orders/{orderId}", orders_v2026.GET_ORDER, orders_v2026.get_order
    ),
    _route("POST", "/feeds/2021-06-30/documents", "createFeedDocument", feeds.create_feed_document),
    _route(
        "GET",
        "/feeds/2021-06-30/documents/{feedDocumentId}",
        "getFeedDocument",
        feeds.get_feed_document,
    ),
    _route("POST", "/feeds/2021-06-30/feeds", "createFeed", feeds.create_feed),
    _route("GET", "/feeds/2021-06-30/feeds", "getFeeds", feeds.get_feeds),
    _route("GET", "/feeds/2021-06-30/feeds/{feedId}", "getFeed", feeds.get_feed),
    _route("DELETE", "/feeds/2021-06-30/feeds/{feedId}", "cancelFeed", feeds.cancel_feed),
    _route("POST", "/reports/2021-06-30/reports", "createReport", reports.create_report),
    _route("GET", "/reports/2021-06-30/reports", "getReports", reports.get_reports),
    _route("GET", "/reports/2021-06-30/reports/{reportId}", "getReport", reports.get_report),
    _route(
        "GET",
        "/reports/2021-06-30/documents/{reportDocumentId}",
        "getReportDocument",
        reports.get_report_document,
    ),
    _route(
        "GET",
        "/messaging/v1/orders/{amazonOrderId}",
        "getMessagingActionsForOrder",
        messaging.get_actions,
    ),
    _route(
        "GET",
        "/messaging/v1/orders/{amazonOrderId}/attributes",
        "GetAttributes",
        messaging.get_attributes,
    ),
    _route(
        "POST", "/messaging/v1/orders/{amazonOrderId}/messages/{kind}", "", messaging.create_message
    ),
    _route(
        "POST",
        "/tokens/2021-03-01/restrictedDataToken",
        "createRestrictedDataToken",
        access.create_restricted_data_token,
    ),
    _route(
        "GET",
        "/sellers/v1/marketplaceParticipations",
        "getMarketplaceParticipations",
        access.get_marketplace_participations,
    ),
    _route("PUT", "/_sandbox/upload/{documentId}", "upload", feeds.upload, "upload"),
    _route("GET", "/_sandbox/download/{documentId}", "download", feeds.download, "download"),
    _route("GET", "/_sandbox/feeds", "_sandbox/feeds", introspect.feeds, "sandbox"),
    _route("GET", "/_sandbox/messages", "_sandbox/messages", introspect.messages, "sandbox"),
    _route("GET", "/_sandbox/calls", "_sandbox/calls", introspect.calls, "sandbox"),
    _route("GET", "/_sandbox/orders", "_sandbox/orders", introspect.orders, "sandbox"),
    _route("GET", "/_sandbox/roles", "_sandbox/roles", access.roles, "sandbox"),
    _route("PUT", "/_sandbox/roles", "_sandbox/roles", access.roles, "sandbox"),
)

# Amazon's answers when it is throttling or failing (SP-API "Usage Plans and Rate Limits",
# "Error responses").
_API_FAULTS: dict[str, tuple[int, str, str]] = {
    "429": (429, "QuotaExceeded", "You exceeded your quota for the requested resource."),
    "500": (500, "InternalFailure", "We encountered an internal error. Please try again."),
    "503": (503, "ServiceUnavailable", "Service temporarily unavailable. Please try again."),
}
_S3_FAULTS = {
    "429": (503, "SlowDown", "Please reduce your request rate."),
    "500": (500, "InternalError", "We encountered an internal error. Please try again."),
    "503": (503, "SlowDown", "Please reduce your request rate."),
}


# What a gateway in front of a server answers when the server behind it took too long.
_GATEWAY_TIMEOUT = (
    b"<html><head><title>504 Gateway Time-out</title></head>"
    b"<body><center><h1>504 Gateway Time-out</h1></center></body></html>"
)


class LostAnswer(Exception):
    """The request was carried out, and its answer is to be lost: "lost-reset" or "lost-hang"."""

    def __init__(self, how: str) -> None:
        super().__init__(how)
        self.how = how


def _match(method: str, path: str) -> tuple[Route, dict[str, str]] | Reply:
    allowed = False
    for route in ROUTES:
        found = route.pattern.match(path)
        if found is None:
            continue
        if route.method != method:
            allowed = True
            continue
        params = {k: unquote(v) for k, v in found.groupdict().items()}
        return route, params
    if allowed:
        return error_reply(ApiError(405, "MethodNotAllowed", f"{method} is not allowed on {path}."))
    return error_reply(not_found(f"There is no resource at {path}."))


def _fault_reply(kind: str, fault: str) -> Reply:
    if fault == "429-empty":
        return Reply(429, b"", JSON, {})
    if kind == "api":
        return error_reply(ApiError(*_API_FAULTS[fault]))
    if kind == "token":
        return json_reply(
            {"error": "server_error", "error_description": "Try again later."}, int(fault)
        )
    return s3_error(*_S3_FAULTS[fault])


def _run(route: Route, market: SandboxMarket, request: Request) -> Reply:
    try:
        return route.handler(market, request)
    except ApiError as e:
        if e.status == 403:
            market.count(f"refused {route.operation}")
        content_type = HAL_JSON if request.path.startswith("/messaging/") else JSON
        return error_reply(e, content_type)


def dispatch(
    market: SandboxMarket, method: str, target: str, headers: Mapping[str, str], body: bytes
) -> Reply:
    """Answer one request: route, count, check the token, throttle, inject faults, run."""
    url = urlsplit(target)
    matched = _match(method, url.path)
    if isinstance(matched, Reply):
        return _with_headers(matched, None, "")
    route, params = matched
    operation = route.operation or messaging.OPERATIONS.get(params.get("kind", ""), "")
    if not operation:
        return _with_headers(
            error_reply(not_found(f"There is no resource at {url.path}.")), None, ""
        )
    request = Request(
        method, url.path, parse_qs(url.query, keep_blank_values=True), headers, body, params
    )
    reply: Reply | None = None
    slow = False
    lost = ""
    with market.lock:
        market.count(operation)
        try:
            if route.kind == "api":
                access.check(market, request, operation)
                if market.throttled(operation, clock.now()):
                    raise ApiError(*_API_FAULTS["429"])
        except ApiError as e:
            if e.status in (403, 429):
                # Counted apart, so a test can see that no call was refused or throttled.
                market.count(f"{'refused' if e.status == 403 else 'throttled'} {operation}")
            reply = error_reply(e)
        if reply is None and route.kind != "sandbox":
            fault = market.faults.draw(route.kind, operation)
            if fault is not None:
                # Counted apart from the operations, so a test can see the faults happened.
                market.count(f"fault {fault}")
            slow = fault in ("slow", "interrupt")
            if fault == "interrupt":
                os.kill(os.getpid(), signal.SIGINT)
            if fault in LOST_ANSWERS:
                lost = fault
            elif fault is not None and not slow:
                reply = _fault_reply(route.kind, fault)
        if reply is None and not slow:
            reply = _run(route, market, request)
        market.state.save()
    if lost:
        # The work is done and saved; the answer never reaches the client intact.
        if lost == "lost-504":
            return Reply(504, _GATEWAY_TIMEOUT, "text/html", {})
        if lost == "lost-500":
            return _with_headers(_fault_reply(route.kind, "500"), route, operation)
        raise LostAnswer(lost)
    if reply is None:
        # A slow answer is held without the lock, so other requests go on meanwhile.
        time.sleep(SLOW_SECONDS / market.book.time_scale)
        with market.lock:
            reply = _run(route, market, request)
            market.state.save()
    return _with_headers(reply, route, operation)


def _with_headers(reply: Reply, route: Route | None, operation: str) -> Reply:
    headers = dict(reply.headers)
    kind = route.kind if route is not None else "api"
    if kind in ("api", "token"):
        headers["x-amzn-RequestId"] = str(uuid.uuid4())
    if kind == "api" and operation in RATES:
        headers["x-amzn-RateLimit-Limit"] = RATES[operation].header
    return Reply(reply.status, reply.body, reply.content_type, headers)


class _Server(ThreadingHTTPServer):
    # Handler threads are joined on close, so no request touches the state after stop().
    daemon_threads = False
    block_on_close = True

    def __init__(self, port: int, market: SandboxMarket, log: TextIO | None) -> None:
        self.market = market
        self.log = log
        self.stopping = threading.Event()  # set on stop: releases connections held by a hang
        super().__init__(("127.0.0.1", port), _RequestHandler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that went away mid-answer (Ctrl-C in the bulk run this sandbox serves) is
        # no error of the sandbox's: say nothing, rather than print a traceback over the run's
        # own one-line message.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class _RequestHandler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"  # one request per connection: nothing lingers after stop()
    timeout = 10
    server_version = "bulk-sandbox"

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def do_PUT(self) -> None:
        self._answer()

    def do_DELETE(self) -> None:
        self._answer()

    def do_PATCH(self) -> None:
        self._answer()

    def _answer(self) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY_BYTES:
            reply = error_reply(
                ApiError(413, "RequestEntityTooLarge", "The request body is too large.")
            )
        else:
            body = self.rfile.read(length) if length else b""
            headers = {key.lower(): value for key, value in self.headers.items()}
            try:
                reply = dispatch(self.server.market, self.command, self.path, headers, body)
            except LostAnswer as e:
                self._lose(e.how)
                return
            except Exception as e:  # a sandbox bug: say so loudly, answer like Amazon's 500
                traceback.print_exc(file=sys.stderr)
                reply = error_reply(
                    ApiError(
                        500, "InternalFailure", "The sandbox failed.", f"{type(e).__name__}: {e}"
                    )
                )
        self.send_response(reply.status)
        for key, value in reply.headers.items():
            self.send_header(key, value)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    def _lose(self, how: str) -> None:
        if how == "lost-hang":
            # Hold the connection, answering nothing, until the client gives up (it closes its
            # end) or the sandbox stops.
            self.server.stopping.wait(self.server.market.book.faults.hang_seconds)
        # Closing with SO_LINGER 0 sends a TCP reset instead of an orderly end.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        if self.server.log is not None:
            self.server.log.write(f"{self.address_string()} - {format % args}\n")


class Sandbox:
    """A running sandbox marketplace; `url` is both the SP-API endpoint and the LWA host."""

    url: str  # e.g. http://127.0.0.1:54321; the LWA token is at {url}/auth/o2/token

    def __init__(self, server: _Server, state: State) -> None:
        self._server = server
        self._state = state
        self._thread: threading.Thread | None = None
        self._stopped = False
        self.url = server.market.base_url

    def _start_thread(self) -> None:
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            # A short poll so stop() returns at once; serve_forever's default waits up to 0.5 s.
            kwargs={"poll_interval": 0.02},
            name=f"bulk-sandbox-{self.url}",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving, wait for requests in flight, save the state and free the state folder."""
        if self._stopped:
            return
        self._stopped = True
        self._server.stopping.set()
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()
        with self._server.market.lock:
            self._state.save(force=True)
            self._state.release()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _check_fault_operations(book: Book) -> None:
    known = {r.operation for r in ROUTES if r.operation} | set(messaging.OPERATIONS.values())
    for name in book.faults.operations:
        if name not in known:
            raise ConfigError(
                f"{book.path}: faults: 'operations' has unknown value '{name}'; "
                + (f"did you mean '{near}'?" if (near := closest(name, known)) else "")
            )


def _open(
    orders: Path, state_dir: Path, port: int, log: TextIO | None, roles: tuple[str, ...]
) -> Sandbox:
    book = load_book(orders)
    _check_fault_operations(book)
    state = open_state(state_dir, book)
    market = SandboxMarket(book, state, roles)
    try:
        server = _Server(port, market, log)
    except OSError as e:
        state.release()
        raise ConfigError(
            f"the sandbox cannot listen on 127.0.0.1:{port} ({e.strerror or e}); "
            "is it already running? pick another port with --port"
        ) from None
    market.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    return Sandbox(server, state)


def start_sandbox(
    orders: Path, state_dir: Path, port: int = 0, roles: tuple[str, ...] = NEEDED_ROLES
) -> Sandbox:
    """Serve the order book at `orders` on 127.0.0.1 from a background thread (port 0: any
    free), granting the app `roles` (Amazon's role names; default: those bulk needs)."""
    sandbox = _open(orders, state_dir, port, None, roles)
    sandbox._start_thread()
    return sandbox


def serve(orders: Path, state_dir: Path, port: int, roles: tuple[str, ...] = NEEDED_ROLES) -> None:
    """Serve in the foreground, logging each request to stderr, until Ctrl-C."""
    sandbox = _open(orders, state_dir, port, sys.stderr, roles)
    book = sandbox._server.market.book
    sys.stderr.write(
        f"bulk sandbox: {len(book.orders)} orders from {orders} at {sandbox.url} "
        f"(state in {state_dir}); Ctrl-C stops\n"
    )
    try:
        sandbox._server.serve_forever()
    except KeyboardInterrupt:
        sys.stderr.write("bulk sandbox: stopped\n")
    finally:
        sandbox.stop()
