"""bulk.toml: loading, defaults and validation (unknown keys are errors with a "did you mean")."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from bulk import marketplaces as _mp
from bulk.errors import ConfigError, closest
from bulk.models import CANCEL_REASON_CODES, Reason
from bulk.sheets.header import header_key

CONFIG_NAME = "bulk.toml"

# Labels staff pick from the Reason dropdown, and the CancelReason each sends
# (reference/amazon/xsd/OrderAcknowledgement.xsd). "Pricing error" is not a valid
# feed reason, so it is not offered.
DEFAULT_REASONS: tuple[Reason, ...] = (
    Reason("Out of stock", "NoInventory"),
    Reason("Buyer requested", "BuyerCanceled"),
    Reason("Undeliverable address", "ShippingAddressUndeliverable"),
    Reason("Customer exchange", "CustomerExchange"),
    Reason("General adjustment", "GeneralAdjustment"),
    Reason("Carrier credit decision", "CarrierCreditDecision"),
    Reason("Failed risk assessment", "RiskAssessmentInformationNotValid"),
    Reason("No carrier coverage", "CarrierCoverageFailure"),
    Reason("Customer return", "CustomerReturn"),
    Reason("Merchandise not received", "MerchandiseNotReceived"),
)

# Marketplace codes and ids live in one table (bulk/marketplaces.py).
MARKETPLACE_IDS: dict[str, str] = {code: m.marketplace_id for code, m in _mp.BY_CODE.items()}
MARKETPLACE_IDS["GB"] = MARKETPLACE_IDS["UK"]


@dataclass(frozen=True)
class AmazonConfig:
    target: str = "sandbox"  # "sandbox" or "production"
    marketplace: str = "US"
    seller_id: str = "A1SANDBOXSELLER"

    @property
    def marketplace_id(self) -> str:
        return MARKETPLACE_IDS[self.marketplace]


@dataclass(frozen=True)
class SandboxConfig:
    orders: str = "samples/marketplace.json"


@dataclass(frozen=True)
class PolicyConfig:
    window_hours: float = 24.0
    min_details_chars: int = 15
    target_rate: float = 0.02
    max_daily_share: float = 0.5
    # Feeds that have not finished after this long leave their rows SUBMITTED for `bulk status`.
    feed_wait_minutes: float = 30.0
    # Above this many orders to look up, one unshipped-orders report replaces per-order calls.
    report_threshold: int = 200


@dataclass(frozen=True)
class MessagesConfig:
    templates: str = "templates"
    seller_name: str = "Our store"
    notify: bool = True  # default for the Notify column
    default_locale: str = "en_US"


@dataclass(frozen=True)
class GoogleConfig:
    credentials: str = ""  # service-account JSON; empty: GOOGLE_APPLICATION_CREDENTIALS or OAuth


@dataclass(frozen=True)
class Config:
    amazon: AmazonConfig = field(default_factory=AmazonConfig)
    sandbox: SandboxConfig = field(default_factory=SandboxConfig)
    policy: PolicyConfig = field(default_factory=PolicyConfig)
    messages: MessagesConfig = field(default_factory=MessagesConfig)
    google: GoogleConfig = field(default_factory=GoogleConfig)
    reasons: tuple[Reason, ...] = DEFAULT_REASONS
    path: Path | None = None  # the file it came from; None for the built-in defaults

    @property
    def base_dir(self) -> Path:
        """Relative paths in the config are relative to the config file's folder."""
        return self.path.parent if self.path else Path.cwd()

    def resolve(self, relative: str) -> Path:
        p = Path(relative).expanduser()
        return p if p.is_absolute() else self.base_dir / p


_SECTIONS: dict[str, type] = {
    "amazon": AmazonConfig,
    "sandbox": SandboxConfig,
    "policy": PolicyConfig,
    "messages": MessagesConfig,
    "google": GoogleConfig,
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
        expected = type(getattr(defaults, key))
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


def _validate(config: Config, where: str) -> None:
    if config.amazon.target not in ("sandbox", "production"):
        raise ConfigError(f"{where}: [amazon] target must be 'sandbox' or 'production'")
    if not config.amazon.seller_id.strip():
        # Feeds carry it as MerchantIdentifier: Amazon refuses every row of a feed without it.
        raise ConfigError(
            f"{where}: [amazon] seller_id is empty; set it to your Merchant Token from Seller "
            "Central (Settings > Account Info > Your Merchant Token)"
        )
    if config.amazon.marketplace not in MARKETPLACE_IDS:
        raise ConfigError(
            f"{where}: [amazon] marketplace {config.amazon.marketplace!r} is unknown; "
            f"{_hint(config.amazon.marketplace, list(MARKETPLACE_IDS), 'marketplaces')}"
        )
    p = config.policy
    if not 0 < p.target_rate < 0.025:
        raise ConfigError(
            f"{where}: [policy] target_rate must be above 0 and below Amazon's 0.025 "
            f"(2.5%), not {p.target_rate}"
        )
    # Written as `not ... ` so that TOML's nan fails every bound.
    if not 0 < p.max_daily_share <= 1:
        raise ConfigError(
            f"{where}: [policy] max_daily_share must be above 0 and at most 1, "
            f"not {p.max_daily_share}"
        )
    if not p.window_hours > 0:
        raise ConfigError(
            f"{where}: [policy] window_hours must be a positive number of hours, "
            f"not {p.window_hours}"
        )
    if p.min_details_chars < 0:
        raise ConfigError(f"{where}: [policy] min_details_chars must not be negative")
    if not p.feed_wait_minutes >= 0:
        raise ConfigError(
            f"{where}: [policy] feed_wait_minutes must be 0 or more, not {p.feed_wait_minutes}"
        )
    if p.report_threshold < 0:
        raise ConfigError(f"{where}: [policy] report_threshold must not be negative")


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
    _validate(config, where)
    amazon = data.get("amazon")
    if config.amazon.target == "production" and not (
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
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read config file {path}: {e}") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path} is not valid TOML: {e}") from None
    return parse_config(data, path.resolve())
