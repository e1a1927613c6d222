"""The choice of target: the local sandbox or Amazon, with its credentials, endpoint and pacing.

The only module that knows both (and it loads the sandbox only when the target is the sandbox):
the adapter (bulk.amazon) never imports the sandbox, and the
sandbox never imports the adapter.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bulk import marketplaces
from bulk.access import sandbox_roles
from bulk.amazon.account import AmazonAccount
from bulk.amazon.clients import amazon_endpoint, connect
from bulk.amazon.protocol import SellerAccount
from bulk.amazon.throttle import RateLimiter
from bulk.config import ORDERS_V0, V0_REMOVAL, Config
from bulk.errors import ConfigError
from bulk.infra.database import open_database
from bulk.infra.ledger import SANDBOX, Ledger, TargetKey
from bulk.infra.masking import remember_secret
from bulk.infra.resources import demo_book
from bulk.infra.state import StateDir
from bulk.models import TargetName

if TYPE_CHECKING:
    # The fixed dummy credentials the sandbox accepts, as python-amazon-sp-api names them.
    SANDBOX_CREDENTIALS: dict[str, str]


def sandbox_credentials() -> dict[str, str]:
    """The sandbox's dummy credentials (bulk/sandbox/__init__.py), imported only when asked for:
    a production run loads nothing of the sandbox."""
    from bulk.sandbox import CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN

    return {
        "refresh_token": REFRESH_TOKEN,
        "lwa_app_id": CLIENT_ID,
        "lwa_client_secret": CLIENT_SECRET,
    }


def __getattr__(name: str) -> Any:
    if name == "SANDBOX_CREDENTIALS":
        return sandbox_credentials()
    raise AttributeError(f"module 'bulk.targets' has no attribute {name!r}")


_CREDENTIAL_VARS = ("LWA_APP_ID", "LWA_CLIENT_SECRET", "SP_API_REFRESH_TOKEN")


@dataclass(frozen=True)
class Target:
    name: TargetName
    description: str  # the first line every command prints
    warnings: tuple[str, ...] = ()  # printed after it


def target_key(config: Config) -> TargetKey:
    """What the ledger scopes this run's records to: the sandbox, or production for the
    configured seller in its region (one config names marketplaces of one region)."""
    a = config.amazon
    if a.target == "sandbox":
        return SANDBOX
    # Config validation accepts only the table's marketplaces, all of one region.
    region = marketplaces.BY_ID[a.marketplace_id].region
    return TargetKey(TargetName.PRODUCTION, a.seller_id, region.value)


STATE_URL_ENV = "BULK_STATE_URL"


def state_url(config: Config, env: Mapping[str, str]) -> str:
    """Where the ledger and the run locks live: BULK_STATE_URL, else [state] url; empty means
    SQLite in the state folder."""
    return env.get(STATE_URL_ENV, "").strip() or config.state.url.strip()


def open_ledger(config: Config, state: StateDir, env: Mapping[str, str] | None = None) -> Ledger:
    """The ledger of this config's target: in the team's database when a URL names one, else
    SQLite in the state folder."""
    url = state_url(config, os.environ if env is None else env)
    database = open_database(url, state.ledger)
    key = target_key(config)
    if database.dialect == "sqlite":
        return Ledger(database, key)
    # A team's ledger: this machine's workbooks and its in-process sandbox are its own.
    machine = socket.gethostname() or "this machine"
    if key.name is TargetName.SANDBOX:
        key = TargetKey(TargetName.SANDBOX, sandbox_of=f"{machine}:{state.sandbox.resolve()}")
    return Ledger(database, key, machine)


def _warnings(config: Config) -> tuple[str, ...]:
    if config.amazon.orders_api == ORDERS_V0:
        return (
            f'[amazon] orders_api = "v0": Amazon removes Orders API v0 on {V0_REMOVAL}; '
            "remove the setting to read orders with Orders API v2026-01-01",
        )
    return ()


@contextlib.contextmanager
def sandbox_orders(config: Config, env: Mapping[str, str]) -> Iterator[Path]:
    """The sandbox's order book: BULK_SANDBOX_ORDERS, else [sandbox] orders, else the demo book
    shipped in the package."""
    override = env.get("BULK_SANDBOX_ORDERS")
    if not override and not config.sandbox.orders:
        with demo_book() as path:
            yield path
        return
    path = Path(override).expanduser() if override else config.resolve(config.sandbox.orders)
    if not path.is_file():
        where = "BULK_SANDBOX_ORDERS" if override else "[sandbox] orders"
        raise ConfigError(
            f"the sandbox order book {path} ({where}) does not exist; point it at a marketplace "
            "JSON file, or leave it unset to use the demo book that comes with bulk"
        )
    yield path


def granted_roles(config: Config, env: Mapping[str, str]) -> tuple[str, ...]:
    """The roles the sandbox grants the app: BULK_SANDBOX_ROLES, else [sandbox] roles, else
    every role bulk needs (none restricted)."""
    try:
        return sandbox_roles(config.sandbox.roles, env.get("BULK_SANDBOX_ROLES"))
    except ValueError as e:
        raise ConfigError(f"BULK_SANDBOX_ROLES: {e}") from None


def describe_target(config: Config, env: Mapping[str, str]) -> Target:
    a = config.amazon
    if a.target == TargetName.SANDBOX:
        orders = env.get("BULK_SANDBOX_ORDERS") or config.sandbox.orders
        book = orders or "the demo order book that comes with bulk"
        return Target(
            TargetName.SANDBOX,
            f"target: sandbox (local marketplace from {book}; nothing reaches Amazon)",
            _warnings(config),
        )
    endpoint = env.get("BULK_SP_API_ENDPOINT")
    where = f" via {endpoint}" if endpoint else ""
    markets = ", ".join(a.marketplace_codes)
    noun = "marketplaces" if len(a.marketplace_codes) > 1 else "marketplace"
    return Target(
        TargetName.PRODUCTION,
        f"target: PRODUCTION Amazon, seller {a.seller_id}, {noun} {markets}{where}",
        _warnings(config),
    )


def _production_credentials(env: Mapping[str, str]) -> dict[str, str]:
    """python-amazon-sp-api's conventions: environment variables, else its credentials.yml."""
    found = {name: env.get(name, "") for name in _CREDENTIAL_VARS}
    if all(found.values()):
        return _secret(
            {
                "lwa_app_id": found["LWA_APP_ID"],
                "lwa_client_secret": found["LWA_CLIENT_SECRET"],
                "refresh_token": found["SP_API_REFRESH_TOKEN"],
            }
        )
    from_file = _credentials_file(env)
    if from_file:
        return _secret(from_file)
    missing = [name for name, value in found.items() if not value]
    raise ConfigError(
        "production needs Amazon credentials: set "
        + ", ".join(missing)
        + ' (or python-amazon-sp-api\'s credentials.yml); or set [amazon] target = "sandbox"'
    )


def credentials_origin(config: Config, env: Mapping[str, str]) -> str:
    """Where the run's Amazon credentials come from (never their values); ConfigError when
    production has none."""
    if config.amazon.target == "sandbox":
        return "the sandbox's own (nothing reaches Amazon)"
    if all(env.get(name) for name in _CREDENTIAL_VARS):
        return "environment: " + ", ".join(_CREDENTIAL_VARS)
    _production_credentials(env)  # raises with the names that are missing
    return (
        f"python-amazon-sp-api's credentials.yml (account {env.get('SP_API_ACCOUNT', 'default')})"
    )


def _secret(credentials: dict[str, str]) -> dict[str, str]:
    """Whatever bulk prints or stores from now on has these values masked."""
    remember_secret(credentials["lwa_client_secret"])
    remember_secret(credentials["refresh_token"])
    return credentials


def _credentials_file(env: Mapping[str, str]) -> dict[str, str] | None:
    """The account from python-amazon-sp-api's credentials.yml, read by the library's own loader."""
    from sp_api.base.credential_provider import (
        FromConfigFileCredentialProvider,
        MissingCredentials,
    )

    try:
        found = FromConfigFileCredentialProvider(account=env.get("SP_API_ACCOUNT", "default"))()
    except MissingCredentials:
        return None
    keys = ("lwa_app_id", "lwa_client_secret", "refresh_token")
    return {k: str(found[k]) for k in keys}


def _sandbox_speed(orders: Path) -> float:
    """How fast to pace calls to the sandbox: its own time scale when it enforces Amazon's
    rate limits, else not at all (0)."""
    try:
        book = json.loads(orders.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return 0.0  # the sandbox itself reports a broken book, with the field at fault
    if not isinstance(book, dict) or not book.get("enforce_rate_limits"):
        return 0.0
    scale = book.get("time_scale", 1)
    return float(scale) if isinstance(scale, int | float) and scale > 0 else 1.0


def _no_wait(_seconds: float) -> None:
    """The sandbox advances feeds per poll: polling it needs no real waiting."""


@contextlib.contextmanager
def open_account(
    config: Config, state: StateDir, env: Mapping[str, str]
) -> Iterator[SellerAccount]:
    """The sandbox is started in-process for the run and stopped after it."""
    ids = config.amazon.marketplace_ids
    orders_api = config.amazon.orders_api
    if config.amazon.target == TargetName.SANDBOX:
        from bulk.sandbox import start_sandbox

        with (
            sandbox_orders(config, env) as book,
            start_sandbox(
                book, state.ensure().sandbox, roles=granted_roles(config, env)
            ) as sandbox,
        ):
            clients = connect(
                sandbox.url,
                sandbox.url,
                sandbox_credentials(),
                ids[0],
                ids,
                timeout=config.amazon.timeout_seconds,
            )
            try:
                # The sandbox enforces its own limits (in fast time); waiting here would only
                # slow it.
                yield AmazonAccount(
                    clients,
                    ids,
                    orders_api=orders_api,
                    limiter=RateLimiter(scale=_sandbox_speed(book)),
                    poll_interval=10.0,
                    poll_sleep=_no_wait,
                    backoff_base=0.01,
                    restricted_data=config.amazon.restricted_data,
                )
            finally:
                clients.close()
        return
    credentials = _production_credentials(env)
    endpoint = env.get("BULK_SP_API_ENDPOINT") or amazon_endpoint(ids[0])
    lwa = env.get("BULK_LWA_ENDPOINT") or None
    clients = connect(
        endpoint, lwa, credentials, ids[0], ids, timeout=config.amazon.timeout_seconds
    )
    try:
        yield AmazonAccount(
            clients,
            ids,
            orders_api=orders_api,
            limiter=RateLimiter(),
            restricted_data=config.amazon.restricted_data,
        )
    finally:
        clients.close()
