"""Shared fixtures: the sandbox marketplace on a frozen clock, and sp_api clients pointed at it."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import freezegun
import pytest
from freezegun import freeze_time
from freezegun.api import FrozenDateTimeFactory
from sp_api.api import OrdersV20260101
from sp_api.auth import AccessTokenClient
from sp_api.base import Marketplaces

from bulk.access import DIRECT_TO_CONSUMER_SHIPPING, NEEDED_ROLES
from bulk.amazon.clients import Clients, connect
from bulk.sandbox import Sandbox, start_sandbox
from bulk.targets import SANDBOX_CREDENTIALS

# pytest's own clock keeps real time under freeze_time, so `--durations` and the per-test
# timeout measure what really happened.
freezegun.configure(extend_ignore_list=["_pytest.timing"])

DATA = Path(__file__).parent / "data"
# The developers' reference files (Excel-saved workbooks and the like), beside the checkout when
# they are there at all. Tests marked `reference("workbooks/NAME")` are extra cases about one of
# them: without it they are left out (deselected), never counted as skipped; the repository's
# own workbooks (tests/workbooks.py) cover the same features either way.
REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "reference(path): an extra case about one reference file under shared/reference"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    absent = [
        item
        for item in items
        if (mark := item.get_closest_marker("reference")) is not None
        and not (REFERENCE / mark.args[0]).exists()
    ]
    if absent:
        config.hook.pytest_deselected(items=absent)
        items[:] = [item for item in items if item not in absent]


SANDBOX_NOW = "2026-03-02T15:00:00+00:00"  # a Monday afternoon, UTC
US = "ATVPDKIKX0DER"
FEED_CONTENT_TYPE = "text/xml; charset=UTF-8"


@pytest.fixture(autouse=True)
def no_outside_config(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No test reads the machine's configuration: BULK_CONFIG is unset and the user's config
    folder is an empty one of the test's own."""
    monkeypatch.delenv("BULK_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("xdg-config")))
    # Nor its cache: each test proves its templates afresh (bulk.infra.cache).
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))


@pytest.fixture
def sandbox_clock() -> Iterator[FrozenDateTimeFactory]:
    """The frozen clock the sandbox runs on; `.tick(seconds)` moves it."""
    with freeze_time(SANDBOX_NOW) as frozen:
        yield frozen


@pytest.fixture
def sandbox_orders() -> Path:
    """The order book the `sandbox` fixture serves; override it to serve another."""
    return DATA / "marketplace_basic.json"


@pytest.fixture
def sandbox_state(tmp_path: Path) -> Path:
    return tmp_path / "sandbox-state"


@pytest.fixture
def sandbox_roles() -> tuple[str, ...]:
    """The roles the `sandbox` fixture grants the app; override (or parametrize) for others."""
    return NEEDED_ROLES


# The roles of an app approved for restricted data (the unshipped-orders report).
WITH_RESTRICTED = (*NEEDED_ROLES, DIRECT_TO_CONSUMER_SHIPPING)


@pytest.fixture
def sandbox(
    sandbox_clock: FrozenDateTimeFactory,
    sandbox_orders: Path,
    sandbox_state: Path,
    sandbox_roles: tuple[str, ...],
) -> Iterator[Sandbox]:
    """A running sandbox marketplace on 127.0.0.1, its clock frozen at SANDBOX_NOW."""
    with start_sandbox(sandbox_orders, sandbox_state, roles=sandbox_roles) as running:
        yield running


def restricted_document(clients: Clients, document_id: str) -> str:
    """A restricted report's document, downloaded with a Restricted Data Token for its path."""
    path = f"/reports/2021-06-30/documents/{document_id}"
    res = clients.tokens.create_restricted_data_token(
        restrictedResources=[{"method": "GET", "path": path}]
    )
    clients.reports.restricted_data_token = res.payload["restrictedDataToken"]
    try:
        return str(
            clients.reports.get_report_document(document_id, download=True).payload["document"]
        )
    finally:
        clients.reports.restricted_data_token = None


@pytest.fixture
def sandbox_clients(sandbox: Sandbox) -> Iterator[Clients]:
    """python-amazon-sp-api clients talking to the `sandbox` fixture (US marketplace)."""
    clients = connect(sandbox.url, sandbox.url, SANDBOX_CREDENTIALS, US)
    yield clients
    clients.close()


AckMessage = tuple[str, str, list[tuple[str, str]]]  # (order id, StatusCode, [(item id, reason)])


def acknowledgement_feed(messages: list[AckMessage], seller_id: str = "A1SANDBOXSELLER") -> bytes:
    """An Order Acknowledgement feed (docs/amazon.md, "Feed rules")."""
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<AmazonEnvelope xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:noNamespaceSchemaLocation="amzn-envelope.xsd">',
        f"<Header><DocumentVersion>1.01</DocumentVersion>"
        f"<MerchantIdentifier>{seller_id}</MerchantIdentifier></Header>",
        "<MessageType>OrderAcknowledgement</MessageType>",
    ]
    for number, (order_id, status, items) in enumerate(messages, start=1):
        lines = "".join(
            f"<Item><AmazonOrderItemCode>{item}</AmazonOrderItemCode>"
            + (f"<CancelReason>{reason}</CancelReason>" if reason else "")
            + "</Item>"
            for item, reason in items
        )
        parts.append(
            f"<Message><MessageID>{number}</MessageID><OrderAcknowledgement>"
            f"<AmazonOrderID>{order_id}</AmazonOrderID><StatusCode>{status}</StatusCode>"
            f"{lines}</OrderAcknowledgement></Message>"
        )
    parts.append("</AmazonEnvelope>")
    return "\n".join(parts).encode("utf-8")


@pytest.fixture
def ack_feed() -> Callable[..., bytes]:
    """Builds an Order Acknowledgement feed document from (order, StatusCode, items) triples."""
    return acknowledgement_feed


FeedRun = tuple[dict[str, Any], str]  # the last getFeed payload, the processing report text


@pytest.fixture
def run_feed(sandbox_clients: Clients) -> Callable[..., FeedRun]:
    """Sends a feed through the real client (document, upload, createFeed), polls getFeed until
    it ends, and returns the feed and its processing report."""

    def run(document: bytes, feed_type: str = "POST_ORDER_ACKNOWLEDGEMENT_DATA") -> FeedRun:
        feeds = sandbox_clients.feeds
        doc = feeds.create_feed_document(io.BytesIO(document), FEED_CONTENT_TYPE)
        feed_id = feeds.create_feed(feed_type, doc.payload["feedDocumentId"]).payload["feedId"]
        for _ in range(10):
            feed: dict[str, Any] = feeds.get_feed(feed_id).payload
            if feed["processingStatus"] in ("DONE", "FATAL", "CANCELLED"):
                break
        report = feeds.get_feed_result_document(feed["resultFeedDocumentId"])
        return feed, str(report)

    return run


@pytest.fixture
def sandbox_orders_v2026(sandbox: Sandbox) -> Iterator[OrdersV20260101]:
    """python-amazon-sp-api's Orders API v2026-01-01 client talking to the `sandbox` fixture."""
    client = orders_v2026_client(sandbox.url)
    yield client
    client.close()


def orders_v2026_client(url: str, marketplace_id: str = US) -> OrdersV20260101:
    """The library's OrdersV20260101 for `marketplace_id`, its endpoint and LWA host at `url`."""
    # The LWA host is class attributes of the token client (sp_api/auth/access_token_client.py).
    token_client = type(
        "SandboxTokenClient",
        (AccessTokenClient,),
        {"scheme": "http://", "host": urlsplit(url).netloc, "path": "/auth/o2/token"},
    )
    marketplace = next(m for m in Marketplaces if m.marketplace_id == marketplace_id)
    client = OrdersV20260101(
        marketplace,
        credentials=dict(SANDBOX_CREDENTIALS),
        auth_token_client_class=token_client,
        verify=False,
        timeout=120,
    )
    client.endpoint = url
    client.marketplace_id = marketplace_id
    return client


# PostgreSQL, the team ledger's database --------------------------------------------------------


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """A PostgreSQL server's URL: BULK_TEST_PG_URL, else a throw-away cluster started here.
    Without one the test is skipped, except under CI, where it fails."""
    import os

    import pg_cluster

    given = os.environ.get("BULK_TEST_PG_URL", "")
    if given:
        yield given
        return
    try:
        cluster = pg_cluster.start()
    except pg_cluster.Unavailable as e:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"PostgreSQL is needed under CI: {e}")
        pytest.skip(f"no PostgreSQL server: {e}")
    try:
        yield cluster.url
    finally:
        cluster.stop()


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """A database of its own for one test, on `pg_server`, dropped afterwards."""
    import uuid
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    name = f"bulk_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(pg_server)
    yield urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))
    with psycopg.connect(pg_server, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[..., Any]:
    """Opens a ledger (for a target, the sandbox by default) on each backend in turn: a SQLite
    file, then a PostgreSQL database; every call opens the same store again."""
    from bulk.infra.database import PostgresDatabase
    from bulk.infra.ledger import SANDBOX, Ledger, TargetKey

    if request.param == "sqlite":
        path = tmp_path / "ledger.sqlite"

        def open_sqlite(target: TargetKey = SANDBOX) -> Ledger:
            return Ledger(path, target)

        return open_sqlite
    url = request.getfixturevalue("pg_url")

    def open_postgres(target: TargetKey = SANDBOX) -> Ledger:
        return Ledger(PostgresDatabase(url), target)

    return open_postgres
