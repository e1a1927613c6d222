"""bulk.toml: loading, defaults and validation (unknown keys are errors with a "did you mean")."""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs

from bulk import marketplaces as _mp
from bulk.access import parse_roles, unknown_roles
from bulk.columns import header_key
from bulk.errors import ConfigError, closest
from bulk.models import (
    AFTER_SHIPMENT_REASONS,
    BUYER_CANCELED,
    CANCEL_REASON_CODES,
    Reason,
    TargetName,
)

CONFIG_NAME = "bulk.toml"
CONFIG_ENV = "BULK_CONFIG"
APP_NAME = "bulk"

# Bounds that keep dates and durations computable (TOML allows inf and 1e300); far beyond
# any sensible setting.
MAX_WINDOW_HOURS = 24.0 * 365
# One API call is given up after this at most: longer than any answer Amazon takes, and short
# enough that a hung connection ends (inf would never end; nan compares false with everything).
MAX_TIMEOUT_SECONDS = 3600.0
MAX_FEED_WAIT_MINUTES = 24.0 * 60

# A label for every Amazon CancelReason (docs/amazon.md, "Reason codes"). "Pricing error" is not
# a valid feed reason, so it is not offered.
REASON_LABELS: tuple[Reason, ...] = (
    Reason("Out of stock", "NoInventory"),
    Reason("Buyer requested", BUYER_CANCELED),
    Reason("Undeliverable address", "ShippingAddressUndeliverable"),
    Reason("Customer exchange", "CustomerExchange"),
    Reason("General adjustment", "GeneralAdjustment"),
    Reason("Carrier credit decision", "CarrierCreditDecision"),
    Reason("Failed risk assessment", "RiskAssessmentInformationNotValid"),
    Reason("No carrier coverage", "CarrierCoverageFailure"),
    Reason("Customer return", "CustomerReturn"),
    Reason("Merchandise not received", "MerchandiseNotReceived"),
)

# The labels staff pick from the Reason dropdown: every reason that can apply to an order that
# has not shipped (docs/amazon.md, "Reasons and remedies"). [reasons] replaces the list, and
# may add the others back.
DEFAULT_REASONS: tuple[Reason, ...] = tuple(
    r for r in REASON_LABELS if r.code not in AFTER_SHIPMENT_REASONS
)


def _marketplace(code: str) -> _mp.MarketplaceInfo:
    """The marketplace of a code bulk.toml names ("GB" is the UK), once validated."""
    found = _mp.by_code(code)
    if found is None:
        raise ConfigError(f"marketplace {code!r} is unknown")
    return found


# Orders API versions bulk can read orders with; Amazon removes v0 on 2027-03-27.
ORDERS_V2026 = "2026-01-01"
ORDERS_V0 = "v0"
ORDERS_APIS = (ORDERS_V2026, ORDERS_V0)
V0_REMOVAL = "2027-03-27"


@dataclass(frozen=True)
class AmazonConfig:
    target: str = "sandbox"  # "sandbox" or "production"
    marketplace: str = ""  # the older single-marketplace key, folded into `marketplaces`
    seller_id: str = "A1SANDBOXSELLER"
    # The marketplaces of one region this account sells in, the first being the main one.
    marketplaces: tuple[str, ...] = ()
    orders_api: str = ORDERS_V2026
    # How long one API call may take before it is given up (and, when it may have acted,
    # treated as unknown: never repeated blindly).
    timeout_seconds: float = 120.0
    # Use restricted reports through a Restricted Data Token: only for an app approved for a
    # restricted role (docs/amazon.md, "Roles and restricted data"). bulk needs none.
    restricted_data: bool = False

    def __post_init__(self) -> None:
        # One way to hold the list, whichever key gave it (US when neither did).
        if not self.marketplaces:
            object.__setattr__(self, "marketplaces", (self.marketplace or "US",))
        object.__setattr__(self, "marketplace", "")

    @property
    def marketplace_codes(self) -> tuple[str, ...]:
        return self.marketplaces

    @property
    def marketplace_ids(self) -> tuple[str, ...]:
        return tuple(_marketplace(code).marketplace_id for code in self.marketplace_codes)

    @property
    def marketplace_id(self) -> str:
        """The main marketplace (the first)."""
        return self.marketplace_ids[0]


@dataclass(frozen=True)
class SandboxConfig:
    orders: str = ""  # empty: the demo order book shipped in the package
    # The roles the sandbox grants the app, in Amazon's names (BULK_SANDBOX_ROLES overrides);
    # empty: every role bulk needs, none restricted (bulk.access.NEEDED_ROLES).
    roles: tuple[str, ...] = ()


@dataclass(frozen=True)
class PolicyConfig:
    window_hours: float = 24.0
    min_details_chars: int = 15
    # A stricter cap than the marketplace's own target (bulk.marketplaces); None: none.
    target_rate: float | None = None
    max_daily_share: float = 0.5
    # Feeds that have not finished after this long leave their rows SUBMITTED for `bulk status`.
    feed_wait_minutes: float = 30.0
    # Above this many orders in a finished feed, one unshipped-orders report reads their state.
    report_threshold: int = 200


@dataclass(frozen=True)
class MessagesConfig:
    templates: str = ""  # an override folder; empty: the templates shipped in the package
    seller_name: str = "Our store"
    notify: bool = True  # default for the Notify column
    default_locale: str = "en_US"


@dataclass(frozen=True)
class GoogleConfig:
    credentials: str = ""  # service-account JSON; empty: GOOGLE_APPLICATION_CREDENTIALS or OAuth


@dataclass(frozen=True)
class NotifyConfig:
    # An incoming-webhook URL (Slack, Teams, any HTTP receiver): each run that sent something
    # or found rows to fix posts its summary there. Empty: no post.
    webhook: str = ""
    # The receiver's own message shape: "json" (the summary document plus `text`), "slack"
    # (Slack's `text`) or "teams" (a message with an Adaptive Card, as Teams Workflows take).
    format: str = "json"


WEBHOOK_FORMATS = ("json", "slack", "teams")


@dataclass(frozen=True)
class SheetConfig:
    # The team's time zone, an IANA name ("Europe/Berlin"); empty: the machine's own zone.
    # Updated At is written in it, and Scheduled For is a day in it.
    timezone: str = ""


@dataclass(frozen=True)
class StateConfig:
    # Where the ledger and the run locks live: empty, SQLite in the state folder; a
    # postgresql:// URL, a team's shared database (BULK_STATE_URL overrides it).
    url: str = ""


@dataclass(frozen=True)
class DueConfig:
    # `bulk due` first pulls buyers' cancellation requests into each sheet it knows (as
    # `bulk pull` does), so a scheduled job keeps the sheets current and sends them.
    pull: bool = False


def local_zone() -> tzinfo:
    """The machine's time zone: TZ, else the zone /etc/localtime names, else the offset the
    system reports now (Windows without a name for it)."""
    for name in (os.environ.get("TZ", "").lstrip(":"), _localtime_name()):
        if name:
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError, OSError):
                continue
    found = datetime.now().astimezone().tzinfo
    assert found is not None  # astimezone() always sets one
    return found


def _localtime_name() -> str:
    try:
        target = os.path.realpath("/etc/localtime")
    except OSError:
        return ""
    _, sep, name = target.partition("/zoneinfo/")
    return name if sep else ""


@dataclass(frozen=True)
class Config:
    amazon: AmazonConfig = field(default_factory=AmazonConfig)
    sandbox: SandboxConfig = field(default_factory=SandboxConfig)
    policy: PolicyConfig = field(default_factory=PolicyConfig)
    messages: MessagesConfig = field(default_factory=MessagesConfig)
    google: GoogleConfig = field(default_factory=GoogleConfig)
    notify: NotifyConfig = field(default_factory=NotifyConfig)
    sheet: SheetConfig = field(default_factory=SheetConfig)
    state: StateConfig = field(default_factory=StateConfig)
    due: DueConfig = field(default_factory=DueConfig)
    reasons: tuple[Reason, ...] = DEFAULT_REASONS
    path: Path | None = None  # the file it came from; None for the built-in defaults

    @property
    def base_dir(self) -> Path:
        """Relative paths in the config are relative to the config file's folder."""
        return self.path.parent if self.path else Path.cwd()

    @property
    def zone(self) -> tzinfo:
        """The team's time zone ([sheet] timezone, else the machine's)."""
        return ZoneInfo(self.sheet.timezone) if self.sheet.timezone else local_zone()

    def resolve(self, relative: str) -> Path:
        p = Path(relative).expanduser()
        return p if p.is_absolute() else self.base_dir / p


_SECTIONS: dict[str, type] = {
    "amazon": AmazonConfig,
    "sandbox": SandboxConfig,
    "policy": PolicyConfig,
    "messages": MessagesConfig,
    "google": GoogleConfig,
    "notify": NotifyConfig,
    "sheet": SheetConfig,
    "state": StateConfig,
    "due": DueConfig,
}


def _hint(key: str, known: list[str], what: str = "keys") -> str:
    close = closest(key, known)
    if close:
        return f"did you mean '{close}'?"
    return f"known {what}: " + ", ".join(sorted(known))


def _section(name: str, cls: type, raw: Any, where: str) -> Any:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: [{name}] must be a table of settings")
    known = {f.name: f for f in fields(cls)}
    values: dict[str, Any] = {}
    defaults = cls()
    for key, value in raw.items():
        if key not in known:
            raise ConfigError(
                f"{where}: unknown setting '{key}' in [{name}]; {_hint(key, list(known))}"
            )
        default = getattr(defaults, key)
        # An optional number (None by default) takes a number when set.
        expected = float if default is None else type(default)
        if expected is tuple:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(
                    f"{where}: [{name}] {key} must be a list of strings, not {value!r}"
                )
            values[key] = tuple(value)
            continue
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise ConfigError(
                f"{where}: [{name}] {key} must be a {expected.__name__}, not {value!r}"
            )
        values[key] = value
    return cls(**values)


def _reasons(raw: Any, where: str) -> tuple[Reason, ...]:
    if not isinstance(raw, Mapping) or not raw:
        raise ConfigError(
            f"{where}: [reasons] must map each dropdown label to an Amazon code, "
            f'e.g. "Out of stock" = "NoInventory"'
        )
    reasons = []
    seen: dict[str, str] = {}
    for label, code in raw.items():
        if code not in CANCEL_REASON_CODES:
            raise ConfigError(
                f"{where}: [reasons] '{label}' = {code!r} is not an Amazon cancel reason; "
                f"{_hint(str(code), list(CANCEL_REASON_CODES), 'reasons')}"
            )
        # The sheet matches reasons like headers (case, spaces and punctuation ignored).
        key = header_key(label)
        # Labels become the items of an Excel list dropdown: a comma splits an item in two
        # and a double quote ends the list, so neither can be offered.
        if not key or any(c in label for c in ',"'):
            raise ConfigError(
                f"{where}: [reasons] label {label!r} must hold letters or digits and no comma "
                "or double quote (it is an item of the Reason dropdown)"
            )
        if key in seen:
            raise ConfigError(
                f"{where}: [reasons] '{label}' and '{seen[key]}' are the same label to the "
                "sheet (case, spaces and punctuation are ignored); keep one"
            )
        seen[key] = label
        reasons.append(Reason(label, str(code)))
    return tuple(reasons)


def _marketplace_key(raw: object, where: str) -> str:
    """Which key named the marketplaces: the older `marketplace` or `marketplaces`."""
    if not isinstance(raw, Mapping):
        return "marketplaces"
    if raw.get("marketplaces") == [] or raw.get("marketplace") == "":
        # An empty list must not quietly mean the US marketplace.
        raise ConfigError(
            f"{where}: [amazon] marketplaces is empty; name the marketplaces the account sells "
            'in, e.g. marketplaces = ["US"] or ["DE", "FR", "IT", "ES"], or leave the key out '
            "for US"
        )
    if "marketplace" in raw and "marketplaces" in raw:
        raise ConfigError(
            f"{where}: [amazon] has both marketplace and marketplaces; keep marketplaces = "
            f'["{raw["marketplace"]}", ...] only'
        )
    return "marketplace" if "marketplace" in raw else "marketplaces"


def _validate(config: Config, where: str, raw_amazon: object = None) -> None:
    if config.amazon.target not in tuple(TargetName):
        raise ConfigError(f"{where}: [amazon] target must be 'sandbox' or 'production'")
    _, unknown = parse_roles(config.sandbox.roles)
    if unknown:
        raise ConfigError(f"{where}: [sandbox] roles: {unknown_roles(unknown)}")
    if not config.amazon.seller_id.strip():
        # Feeds carry it as MerchantIdentifier: Amazon refuses every row of a feed without it.
        raise ConfigError(
            f"{where}: [amazon] seller_id is empty; set it to your Merchant Token from Seller "
            "Central (Settings > Account Info > Your Merchant Token)"
        )
    _validate_marketplaces(config.amazon, where, _marketplace_key(raw_amazon, where))
    _validate_zone(config.sheet.timezone, where)
    if config.amazon.orders_api not in ORDERS_APIS:
        raise ConfigError(
            f'{where}: [amazon] orders_api must be "2026-01-01" or "v0" (until Amazon '
            f"removes v0 on {V0_REMOVAL}), not {config.amazon.orders_api!r}"
        )
    if not 0 < config.amazon.timeout_seconds <= MAX_TIMEOUT_SECONDS:
        raise ConfigError(
            f"{where}: [amazon] timeout_seconds must be a positive number of seconds, at most "
            f"{MAX_TIMEOUT_SECONDS:g} (an hour), not {config.amazon.timeout_seconds}"
        )
    p = config.policy
    strictest = min(
        (_marketplace(code) for code in config.amazon.marketplace_codes),
        key=lambda m: m.target_rate,
        default=_mp.BY_CODE["US"],
    )
    if p.target_rate is not None and not 0 < p.target_rate < strictest.target_rate:
        raise ConfigError(
            f"{where}: [policy] target_rate must be above 0 and below Amazon's "
            f"{strictest.target_rate} ({strictest.target_rate * 100:g}%"
            + (f" in {strictest.code}" if strictest.target_rate < _mp.TARGET_RATE else "")
            + f"), not {p.target_rate}"
        )
    # Written as `not ... ` so that TOML's nan fails every bound.
    if not 0 < p.max_daily_share <= 1:
        raise ConfigError(
            f"{where}: [policy] max_daily_share must be above 0 and at most 1, "
            f"not {p.max_daily_share}"
        )
    if not 0 < p.window_hours <= MAX_WINDOW_HOURS:
        raise ConfigError(
            f"{where}: [policy] window_hours must be a positive number of hours, at most "
            f"{MAX_WINDOW_HOURS:g} (a year), not {p.window_hours}"
        )
    if p.min_details_chars < 0:
        raise ConfigError(f"{where}: [policy] min_details_chars must not be negative")
    if not 0 <= p.feed_wait_minutes <= MAX_FEED_WAIT_MINUTES:
        raise ConfigError(
            f"{where}: [policy] feed_wait_minutes must be 0 or more, at most "
            f"{MAX_FEED_WAIT_MINUTES:g} (a day), not {p.feed_wait_minutes}"
        )
    if p.report_threshold < 0:
        raise ConfigError(f"{where}: [policy] report_threshold must not be negative")
    if config.notify.format not in WEBHOOK_FORMATS:
        raise ConfigError(
            f"{where}: [notify] format must be one of {', '.join(WEBHOOK_FORMATS)}, "
            f"not {config.notify.format!r}"
        )
    hook = config.notify.webhook
    if hook and not (hook.startswith(("https://", "http://")) and len(hook.split("/")[2]) > 0):
        # Never echo the URL: a webhook URL usually carries its secret token.
        raise ConfigError(
            f"{where}: [notify] webhook must be an https:// URL (your incoming webhook's address)"
        )


def _validate_zone(name: str, where: str) -> None:
    if not name:
        return
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ConfigError(
            f"{where}: [sheet] timezone {name!r} is not a time zone name; use an IANA name "
            'such as "Europe/Berlin" or "America/Los_Angeles"'
        ) from None


def _validate_marketplaces(amazon: AmazonConfig, where: str, key: str) -> None:
    for code in amazon.marketplace_codes:
        if code not in _mp.codes():
            raise ConfigError(
                f"{where}: [amazon] {key} {code!r} is unknown; "
                f"{_hint(code, _mp.codes(), 'marketplaces')}"
            )
    codes = amazon.marketplace_codes
    if len(set(amazon.marketplace_ids)) != len(codes):
        raise ConfigError(f"{where}: [amazon] marketplaces names a marketplace twice: {codes}")
    regions = {_mp.BY_ID[m].region for m in amazon.marketplace_ids}
    if len(regions) > 1:
        listing = ", ".join(f"{c} ({_marketplace(c).region})" for c in codes)
        raise ConfigError(
            f"{where}: [amazon] marketplaces must all be in one region (one account, one "
            f"endpoint), not {listing}; use one bulk.toml per region"
        )


def parse_config(data: Mapping[str, Any], path: Path | None = None) -> Config:
    where = str(path) if path else CONFIG_NAME
    kwargs: dict[str, Any] = {"path": path}
    known = [*_SECTIONS, "reasons"]
    for name, raw in data.items():
        if name in _SECTIONS:
            kwargs[name] = _section(name, _SECTIONS[name], raw, where)
        elif name == "reasons":
            kwargs["reasons"] = _reasons(raw, where)
        else:
            raise ConfigError(f"{where}: unknown section [{name}]; {_hint(name, known)}")
    config = Config(**kwargs)
    _validate(config, where, data.get("amazon"))
    amazon = data.get("amazon")
    if config.amazon.target == TargetName.PRODUCTION and not (
        isinstance(amazon, Mapping) and "seller_id" in amazon
    ):
        # The default is the sandbox's seller: every feed sent with it to Amazon would fail.
        raise ConfigError(
            f"{where}: production needs [amazon] seller_id, your Merchant Token from Seller "
            "Central (Settings > Account Info > Your Merchant Token)"
        )
    return config


def load_config(path: Path | None = None, cwd: Path | None = None) -> Config:
    """Load `path`, or bulk.toml in `cwd` when it exists, or the defaults (the sandbox)."""
    if path is None:
        candidate = (cwd or Path.cwd()) / CONFIG_NAME
        if not candidate.is_file():
            return Config()
        path = candidate
    return _read(path, "")


def _read(path: Path, origin: str) -> Config:
    named = f"config file {path}" + (f" ({origin})" if origin else "")
    try:
        # utf-8-sig: Notepad and other Windows editors start a UTF-8 file with a BOM.
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise ConfigError(f"{named} does not exist") from None
    except IsADirectoryError:
        raise ConfigError(f"{named} is a folder; name the bulk.toml file itself") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read {named}: {e}") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path} is not valid TOML: {e}") from None
    return parse_config(data, path.resolve())


# --- where the configuration comes from --------------------------------------------------


def user_config_file() -> Path:
    """bulk.toml in the user's config folder (~/.config/bulk on Linux, the platform's
    equivalent elsewhere)."""
    return platformdirs.user_config_path(APP_NAME, appauthor=False) / CONFIG_NAME


@dataclass(frozen=True)
class ConfigSource:
    """Which bulk.toml a run uses and how it was found; `path` is None for the defaults."""

    path: Path | None
    origin: str  # "--config", "BULK_CONFIG", "the current folder", "your config folder"
    looked_at: tuple[Path, ...] = ()

    def describe(self) -> str:
        """The line `-v` prints."""
        if self.path is None:
            looked = " and ".join(str(p) for p in self.looked_at)
            return f"config: none found (looked for {looked}); using the built-in defaults"
        return f"config: {self.path} (from {self.origin})"


def find_config(
    explicit: Path | None, env: Mapping[str, str], cwd: Path, user_file: Path
) -> ConfigSource:
    """The first of: --config, BULK_CONFIG, ./bulk.toml, the user's config folder."""
    if explicit is not None:
        return ConfigSource(explicit, "--config")
    from_env = env.get(CONFIG_ENV, "")
    if from_env:
        return ConfigSource(Path(from_env).expanduser(), CONFIG_ENV)
    here = cwd / CONFIG_NAME
    if here.is_file():
        return ConfigSource(here, "the current folder")
    if user_file.is_file():
        return ConfigSource(user_file, "your config folder")
    return ConfigSource(None, "", (here, user_file))


def load_from(source: ConfigSource) -> Config:
    """The configuration `source` names, or the defaults when it names none."""
    return Config() if source.path is None else _read(source.path, source.origin)


# --- `bulk init` --------------------------------------------------------------------------


def init_text() -> str:
    """A commented bulk.toml holding the defaults, for `bulk init` to write."""
    a, p, m = AmazonConfig(), PolicyConfig(), MessagesConfig()
    codes = ", ".join(_mp.BY_CODE)
    sections: list[tuple[str, list[tuple[str, str]]]] = [
        (
            "amazon",
            [
                (f'target = "{a.target}"', '"production" sends to Amazon with your credentials'),
                (f"marketplaces = {json.dumps(list(a.marketplace_codes))}", f"one region: {codes}"),
                (f'seller_id = "{a.seller_id}"', "your Merchant Token (needed for production)"),
                (
                    f'orders_api = "{a.orders_api}"',
                    f'"v0" only until Amazon removes it {V0_REMOVAL}',
                ),
                (
                    f"timeout_seconds = {a.timeout_seconds:g}",
                    "one API call is given up after this (at most 3600)",
                ),
                (
                    f"restricted_data = {str(a.restricted_data).lower()}",
                    "true only for an app approved for a restricted role",
                ),
            ],
        ),
        (
            "sandbox",
            [
                (
                    '# orders = "my-book.json"',
                    "the sandbox's order book; default: bulk's demo book",
                ),
                (
                    '# roles = ["Inventory and Order Tracking"]',
                    "roles it grants; default: all bulk needs",
                ),
            ],
        ),
        (
            "policy",
            [
                (f"window_hours = {p.window_hours:g}", "older orders are HELD unless --allow-late"),
                (f"min_details_chars = {p.min_details_chars}", "the least a Details cell holds"),
                ("# target_rate = 0.02", "a cap below the marketplace's own (US: 0.025)"),
                (f"max_daily_share = {p.max_daily_share:g}", "of the week's budget, on one day"),
                (f"feed_wait_minutes = {p.feed_wait_minutes:g}", "then `bulk status` collects"),
                (
                    f"report_threshold = {p.report_threshold}",
                    "after a feed of more orders: one report reads them",
                ),
            ],
        ),
        (
            "messages",
            [
                ('# templates = "my-templates"', "your own; missing files come from bulk's"),
                ("", "(`bulk templates export my-templates` copies bulk's out)"),
                (f'seller_name = "{m.seller_name}"', "signs the customer messages"),
                (f"notify = {str(m.notify).lower()}", "default of the sheet's Notify column"),
                (f'default_locale = "{m.default_locale}"', "team language; buyers get theirs"),
            ],
        ),
        (
            "google",
            [('# credentials = "key.json"', "default: GOOGLE_APPLICATION_CREDENTIALS")],
        ),
        (
            "notify",
            [
                (
                    '# webhook = "https://hooks..."',
                    "post each run that sent something or has rows to fix",
                ),
                ('format = "json"', '"slack", "teams" (Adaptive Card) or "json" (the summary)'),
            ],
        ),
        (
            "sheet",
            [
                (
                    '# timezone = "Europe/Berlin"',
                    "default: this machine's; Updated At and Scheduled For use it",
                )
            ],
        ),
        (
            "state",
            [
                (
                    '# url = "postgresql://bulk@db/bulk"',
                    "a team's shared ledger; default: SQLite in .bulk/",
                )
            ],
        ),
        (
            "due",
            [("pull = false", "true: `bulk due` pulls buyers' cancellation requests first")],
        ),
    ]
    sections.append(
        (
            "reasons",
            [(f'# "{r.label}" = "{r.code}"', "") for r in DEFAULT_REASONS],
        )
    )
    lines = [
        "# bulk configuration (`bulk init`). Every setting is optional: delete a line to use",
        "# its default. Paths are relative to this file. `bulk -v ...` says which file was used.",
    ]
    for name, settings in sections:
        if name == "reasons":
            # Commented out, header too: an empty [reasons] table would mean no reasons.
            lines += [
                "",
                "# The Reason dropdown: label = Amazon's CancelReason code. A [reasons] table",
                "# replaces the whole list; these are the defaults.",
                f"# [{name}]",
            ]
        else:
            lines += ["", f"[{name}]"]
        lines += [
            f"{setting:<30} # {comment}" if comment else setting for setting, comment in settings
        ]
    return "\n".join(lines) + "\n"


def write_init(folder: Path) -> Path:
    """Write a commented bulk.toml in `folder`; an existing one is never overwritten."""
    target = folder / CONFIG_NAME
    try:
        with open(target, "x", encoding="utf-8") as f:
            f.write(init_text())
    except FileExistsError:
        raise ConfigError(
            f"{target} already exists; edit it, or move it away and run `bulk init` again"
        ) from None
    except OSError as e:
        raise ConfigError(f"cannot write {target}: {e.strerror or e}") from None
    return target
