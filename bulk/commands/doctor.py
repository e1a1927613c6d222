"""`bulk doctor`: check a setup before anything is sent, one line per check, with what to do.

The config file used, the credentials, the login-token exchange, the seller id, the account's
marketplaces against `[amazon] marketplaces`, every role bulk needs (each by one harmless read,
named as Amazon names it), the state folder and the templates. Nothing is created or sent.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from bulk import access, marketplaces
from bulk.commands.common import (
    ConfigOption,
    JsonOption,
    emit,
    globals_of,
    human,
    state_folder,
)
from bulk.errors import BulkError
from bulk.formats import counted

if TYPE_CHECKING:
    from bulk.amazon.protocol import SellerAccount
    from bulk.config import Config


# A seller id (merchant token) as Seller Central shows it: A and 9 to 20 capitals and digits.
_SELLER_ID = re.compile(r"^A[0-9A-Z]{8,20}$")
SANDBOX_SELLER = "A1SANDBOXSELLER"

# Where each role matters, for the line that names a missing one.
_ROLE_USE = {
    access.INVENTORY_AND_ORDER_TRACKING: "order look-ups, the cancellation feed and its result",
    access.SELLING_PARTNER_INSIGHTS: "the account's cancellation rate",
    access.BUYER_COMMUNICATION: "customer messages, on rows with Notify = Yes",
    access.DIRECT_TO_CONSUMER_SHIPPING: "the unshipped-orders report of restricted_data = true",
}
_ADD_ROLE = (
    "in Seller Central's Develop Apps page, edit the app, tick the role (request it in the "
    "developer profile first if it is not offered), save, and authorise the app again for a "
    "new refresh token"
)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""  # what to do, for a failed check


def _line(c: Check) -> str:
    mark = "✓" if c.ok else "✗"
    text = f"{mark} {c.name}: {c.detail}"
    return text if c.ok or not c.fix else f"{text}\n    → {c.fix}"


def _config(config_path: Path | None, env: Mapping[str, str]) -> tuple[Check, Config | None]:
    from bulk.config import find_config, load_from, user_config_file

    try:
        source = find_config(config_path, env, Path.cwd(), user_config_file())
        config = load_from(source)
    except BulkError as e:
        return Check("config", False, str(e), "fix the file, or run `bulk init` for one"), None
    return Check("config", True, source.describe().removeprefix("config: ")), config


def _credentials(config: Config, env: Mapping[str, str]) -> Check:
    from bulk.targets import credentials_origin

    try:
        return Check("credentials", True, credentials_origin(config, env))
    except BulkError as e:
        return Check(
            "credentials",
            False,
            str(e),
            'see docs/production.md, "5. Where the three secrets go"',
        )


def _seller(config: Config) -> Check:
    seller = config.amazon.seller_id
    if config.amazon.target == "sandbox":
        return Check("seller id", True, f"{seller} (the sandbox's)")
    if seller == SANDBOX_SELLER or not _SELLER_ID.match(seller):
        return Check(
            "seller id",
            False,
            f"{seller!r} is not a seller id (Amazon's merchant token, like A2EXAMPLE12345)",
            "copy it from Seller Central, Settings > Account Info > Merchant Token, into "
            "[amazon] seller_id",
        )
    return Check("seller id", True, f"{seller} (Amazon checks it against the feed)")


def _marketplaces(config: Config, market: SellerAccount) -> Check:
    name = "marketplaces"
    try:
        taking_part = set(market.participations())
    except BulkError as e:
        return Check(name, False, str(e), "`bulk doctor` needs Selling Partner Insights for this")
    wanted = config.amazon.marketplace_codes
    missing = [
        code
        for code, mid in zip(wanted, config.amazon.marketplace_ids, strict=True)
        if mid not in taking_part
    ]
    codes = sorted(m.code for mid in taking_part if (m := marketplaces.by_id(mid)) is not None)
    if missing:
        return Check(
            name,
            False,
            f"the account does not sell in {', '.join(missing)}; it sells in "
            f"{', '.join(codes) or 'no marketplace bulk knows'}",
            "set [amazon] marketplaces to marketplaces of the account (one region)",
        )
    return Check(name, True, f"{', '.join(wanted)} (the account sells in {', '.join(codes)})")


def _roles(config: Config, market: SellerAccount) -> list[Check]:
    needed = list(access.NEEDED_ROLES)
    if config.amazon.restricted_data:
        needed.append(access.DIRECT_TO_CONSUMER_SHIPPING)
    found = []
    for role in needed:
        try:
            missing = market.missing_roles([role])
        except BulkError as e:
            found.append(Check(f"role {role}", False, str(e), "run `bulk doctor` again later"))
            continue
        if missing:
            found.append(
                Check(
                    f"role {role}",
                    False,
                    f"the app lacks Amazon's role {role}, which bulk needs for {_ROLE_USE[role]}",
                    _ADD_ROLE,
                )
            )
        else:
            found.append(Check(f"role {role}", True, f"granted, for {_ROLE_USE[role]}"))
    return found


def _state() -> Check:
    try:
        state = state_folder().ensure()
    except BulkError as e:
        return Check("state folder", False, str(e), "set BULK_HOME to a folder you can write")
    return Check("state folder", True, f"{state.root} (writable)")


def _ledger(config: Config, env: Mapping[str, str]) -> Check:
    """Where the ledger is; a team's database is connected to (nothing is created in it)."""
    from bulk.infra.database import PostgresDatabase, is_postgres, masked_url
    from bulk.targets import state_url

    url = state_url(config, env)
    if not url:
        return Check("ledger", True, "SQLite in the state folder (this machine's alone)")
    if not is_postgres(url):
        return Check("ledger", True, f"SQLite at {masked_url(url)}")
    try:
        PostgresDatabase(url).close()
    except BulkError as e:
        return Check(
            "ledger",
            False,
            str(e),
            "check [state] url (or BULK_STATE_URL), that the server is up, and the user's password",
        )
    return Check("ledger", True, f"the team's database {masked_url(url)} (connected)")


def _templates(config: Config) -> Check:
    from bulk.rules.messages import load_templates

    override = config.messages.templates
    try:
        templates = load_templates(
            config.resolve(override) if override else None, config.messages.default_locale
        )
    except BulkError as e:
        return Check("templates", False, str(e), "fix the template, or remove it to use bulk's")
    count = sum(len(names) for names in templates.names.values())
    where = f"{override} over bulk's own" if override else "bulk's own"
    return Check(
        "templates", True, f"{count} templates in {len(templates.names)} languages load ({where})"
    )


def diagnose(
    config_path: Path | None,
    env: Mapping[str, str],
    progress: Callable[[str], None] = lambda _line: None,
) -> list[Check]:
    """Every check, in order; Amazon is asked only once the local checks allow it."""
    from bulk.targets import describe_target, open_account

    checks: list[Check] = []
    first, config = _config(config_path, env)
    checks.append(first)
    if config is None:
        return checks
    target = describe_target(config, env).description.removeprefix("target: ")
    checks.append(Check("target", True, target))
    checks.append(_credentials(config, env))
    checks.append(_seller(config))
    state = _state()
    checks.append(state)
    checks.append(_ledger(config, env))
    checks.append(_templates(config))
    if not (checks[2].ok and state.ok):
        checks.append(Check("login", False, "not tried", "fix the checks above first"))
        return checks
    progress("asking Amazon: login, marketplaces, roles")
    try:
        with open_account(config, state_folder(), env) as market:
            try:
                market.login()
            except BulkError as e:
                checks.append(
                    Check(
                        "login",
                        False,
                        str(e),
                        "create a new refresh token by authorising the app again",
                    )
                )
                return checks
            checks.append(Check("login", True, "Login with Amazon gave an access token"))
            checks.append(_marketplaces(config, market))
            checks.extend(_roles(config, market))
    except BulkError as e:
        checks.append(Check("Amazon", False, str(e), "fix the checks above, then run again"))
    return checks


def document(checks: list[Check], now: datetime) -> dict[str, Any]:
    """The --json document (docs/json.md, bulk.doctor/1)."""
    from bulk.output.documents import DOCTOR

    ok = all(c.ok for c in checks)
    return {
        "schema": DOCTOR,
        "command": "doctor",
        "at": now.astimezone(UTC).isoformat(timespec="seconds"),
        "exit_code": 0 if ok else 1,
        "ok": ok,
        "checks": [asdict(c) for c in checks],
    }


def report(checks: list[Check]) -> list[str]:
    """The lines a person reads, and a last line that sums up."""
    lines = [_line(c) for c in checks]
    failed = sum(1 for c in checks if not c.ok)
    if failed:
        lines.append(f"{counted(failed, 'check')} failed: fix them before `bulk submit`")
    else:
        lines.append("all checks passed")
    return lines


def doctor(ctx: typer.Context, config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Check the setup before anything is sent: config, credentials, login, seller id,
    marketplaces, the app's roles, state folder and templates; exit 1 on any failure."""
    g = globals_of(ctx)
    out = human(as_json)
    checks = diagnose(config or g.config, dict(os.environ), out if g.verbose else _nothing)
    for line in report(checks):
        out(line)
    if as_json:
        emit(document(checks, datetime.now(UTC)))
    raise typer.Exit(0 if all(c.ok for c in checks) else 1)


def _nothing(_line: str) -> None:
    """Progress lines nobody asked for."""
