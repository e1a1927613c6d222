"""Amazon's marketplaces as bulk needs them: ids, regions, buyer languages and cancellation rules.

One table, one place: configuration, the look-ups, the feeds (one per marketplace), the
customer messages (the buyer's language) and the cancellation-rate policy all read it.
The rules come from Amazon's Cancellation Rate help page (docs/amazon.md, "Cancellation
rate"): seller-cancelled orders over all seller-fulfilled orders in the last 7 days, kept
under 2.5%; India measures 7 and 30 days, aims under 2% and charges a fee per cancellation.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Region(StrEnum):
    """The SP-API region an account (and one run of bulk) belongs to."""

    NA = "NA"  # North America (and Brazil)
    EU = "EU"  # Europe, Middle East, India, Africa
    FE = "FE"  # Far East


# Amazon's published cancellation-rate target: the rate stays under 2.5% (India: 2%, below).
TARGET_RATE = 0.025


@dataclass(frozen=True)
class MarketplaceInfo:
    """One Amazon marketplace and the cancellation rules that apply in it."""

    code: str  # the short name staff write in bulk.toml: "US", "DE", ...
    marketplace_id: str
    region: Region
    locale: str  # the buyer language a message falls back to when Amazon names none
    currency: str  # the currency of its prices (ordersV0.json, Money.CurrencyCode)
    sales_channel: str  # its site (ordersV0.json, Order.SalesChannel)
    country: str  # ISO 3166 country of its buyers: "GB" for the marketplace staff call "UK"
    target_rate: float = TARGET_RATE  # Amazon's published target: the rate stays under this
    windows_days: tuple[int, ...] = (7,)  # the trailing windows the rate is measured over
    cancellation_fee: bool = False  # True: each seller cancellation is charged a fee
    # The marketplace's own time zone (an IANA name): the day a buyer there calls the order
    # date. For a marketplace spanning zones, the one its Seller Central reports use.
    timezone: str = "UTC"


MARKETPLACES: tuple[MarketplaceInfo, ...] = (
    MarketplaceInfo(
        "US",
        "ATVPDKIKX0DER",
        Region.NA,
        "en_US",
        "USD",
        "Amazon.com",
        "US",
        timezone="America/Los_Angeles",
    ),
    MarketplaceInfo(
        "CA",
        "A2EUQ1WTGCTBG2",
        Region.NA,
        "en_CA",
        "CAD",
        "Amazon.ca",
        "CA",
        timezone="America/Los_Angeles",
    ),
    MarketplaceInfo(
        "MX",
        "A1AM78C64UM0Y8",
        Region.NA,
        "es_MX",
        "MXN",
        "Amazon.com.mx",
        "MX",
        timezone="America/Mexico_City",
    ),
    MarketplaceInfo(
        "BR",
        "A2Q3Y263D00KWC",
        Region.NA,
        "pt_BR",
        "BRL",
        "Amazon.com.br",
        "BR",
        timezone="America/Sao_Paulo",
    ),
    MarketplaceInfo(
        "UK",
        "A1F83G8C2ARO7P",
        Region.EU,
        "en_GB",
        "GBP",
        "Amazon.co.uk",
        "GB",
        timezone="Europe/London",
    ),
    MarketplaceInfo(
        "IE",
        "A28R8C7NBKEWEA",
        Region.EU,
        "en_IE",
        "EUR",
        "Amazon.ie",
        "IE",
        timezone="Europe/Dublin",
    ),
    MarketplaceInfo(
        "DE",
        "A1PA6795UKMFR9",
        Region.EU,
        "de_DE",
        "EUR",
        "Amazon.de",
        "DE",
        timezone="Europe/Berlin",
    ),
    MarketplaceInfo(
        "FR",
        "A13V1IB3VIYZZH",
        Region.EU,
        "fr_FR",
        "EUR",
        "Amazon.fr",
        "FR",
        timezone="Europe/Paris",
    ),
    MarketplaceInfo(
        "IT", "APJ6JRA9NG5V4", Region.EU, "it_IT", "EUR", "Amazon.it", "IT", timezone="Europe/Rome"
    ),
    MarketplaceInfo(
        "ES",
        "A1RKKUPIHCS9HS",
        Region.EU,
        "es_ES",
        "EUR",
        "Amazon.es",
        "ES",
        timezone="Europe/Madrid",
    ),
    MarketplaceInfo(
        "NL",
        "A1805IZSGTT6HS",
        Region.EU,
        "nl_NL",
        "EUR",
        "Amazon.nl",
        "NL",
        timezone="Europe/Amsterdam",
    ),
    MarketplaceInfo(
        "SE",
        "A2NODRKZP88ZB9",
        Region.EU,
        "sv_SE",
        "SEK",
        "Amazon.se",
        "SE",
        timezone="Europe/Stockholm",
    ),
    MarketplaceInfo(
        "PL",
        "A1C3SOZRARQ6R3",
        Region.EU,
        "pl_PL",
        "PLN",
        "Amazon.pl",
        "PL",
        timezone="Europe/Warsaw",
    ),
    MarketplaceInfo(
        "BE",
        "AMEN7PMS3EDWL",
        Region.EU,
        "fr_BE",
        "EUR",
        "Amazon.com.be",
        "BE",
        timezone="Europe/Brussels",
    ),
    MarketplaceInfo(
        "TR",
        "A33AVAJ2PDY3EV",
        Region.EU,
        "tr_TR",
        "TRY",
        "Amazon.com.tr",
        "TR",
        timezone="Europe/Istanbul",
    ),
    MarketplaceInfo(
        "AE", "A2VIGQ35RCS4UG", Region.EU, "en_AE", "AED", "Amazon.ae", "AE", timezone="Asia/Dubai"
    ),
    MarketplaceInfo(
        "SA", "A17E79C6D8DWNP", Region.EU, "ar_SA", "SAR", "Amazon.sa", "SA", timezone="Asia/Riyadh"
    ),
    MarketplaceInfo(
        "EG", "ARBP9OOSHTCHU", Region.EU, "ar_EG", "EGP", "Amazon.eg", "EG", timezone="Africa/Cairo"
    ),
    MarketplaceInfo(
        "ZA",
        "AE08WJ6YKNBMC",
        Region.EU,
        "en_ZA",
        "ZAR",
        "Amazon.co.za",
        "ZA",
        timezone="Africa/Johannesburg",
    ),
    MarketplaceInfo(
        "IN",
        "A21TJRUUN4KGV",
        Region.EU,
        "en_IN",
        "INR",
        "Amazon.in",
        "IN",
        target_rate=0.02,
        windows_days=(7, 30),
        cancellation_fee=True,
        timezone="Asia/Kolkata",
    ),
    MarketplaceInfo(
        "JP",
        "A1VC38T7YXB528",
        Region.FE,
        "ja_JP",
        "JPY",
        "Amazon.co.jp",
        "JP",
        timezone="Asia/Tokyo",
    ),
    MarketplaceInfo(
        "AU",
        "A39IBJ37TRP1C6",
        Region.FE,
        "en_AU",
        "AUD",
        "Amazon.com.au",
        "AU",
        timezone="Australia/Sydney",
    ),
    MarketplaceInfo(
        "SG",
        "A19VAU5U5O7RUS",
        Region.FE,
        "en_SG",
        "SGD",
        "Amazon.sg",
        "SG",
        timezone="Asia/Singapore",
    ),
)

# "GB" is accepted as another name for the UK marketplace.
_ALIASES = {"GB": "UK"}

BY_CODE: dict[str, MarketplaceInfo] = {m.code: m for m in MARKETPLACES}
BY_ID: dict[str, MarketplaceInfo] = {m.marketplace_id: m for m in MARKETPLACES}


def by_code(code: str) -> MarketplaceInfo | None:
    """The marketplace staff call `code` ("de" and "GB" included), or None."""
    key = code.strip().upper()
    return BY_CODE.get(_ALIASES.get(key, key))


def by_id(marketplace_id: str) -> MarketplaceInfo | None:
    """The marketplace with Amazon's id `marketplace_id`, or None."""
    return BY_ID.get(marketplace_id)


def codes() -> list[str]:
    """Every code bulk.toml accepts, for "did you mean" hints."""
    return [*BY_CODE, *_ALIASES]


# Published rate (requests per second) and burst per operation (docs/amazon.md, "Rate limits",
# from each operation's "Usage Plan" in Amazon's API reference).
USAGE_PLANS: dict[str, tuple[float, int]] = {
    # Orders v2026-01-01 (orders_2026-01-01.json, each operation's "Usage Plan"); getOrder has
    # the same plan in v0.
    "searchOrders": (0.0056, 20),
    "getOrder": (0.5, 30),
    # Orders v0 (ordersV0.json), used only with orders_api = "v0".
    "getOrders": (0.0167, 20),
    # Restricted Orders v0 operations (ordersV0.json), only with a Restricted Data Token.
    "getOrderAddress": (0.5, 30),
    "getOrderBuyerInfo": (0.5, 30),
    "getOrderItemsBuyerInfo": (0.5, 30),
    # Tokens 2021-03-01 and Sellers v1 (tokens_2021-03-01.json, sellers.json).
    "createRestrictedDataToken": (1.0, 10),
    "getMarketplaceParticipations": (0.016, 15),
    "getOrderItems": (0.5, 30),
    "createFeedDocument": (0.5, 15),
    "createFeed": (0.0083, 15),
    "getFeed": (2.0, 15),
    "getFeeds": (0.0222, 10),
    "cancelFeed": (2.0, 15),
    "getFeedDocument": (0.0222, 10),
    "createReport": (0.0167, 15),
    "getReports": (0.0222, 10),
    "getReport": (2.0, 15),
    "getReportDocument": (0.0167, 15),
    "getMessagingActionsForOrder": (1.0, 5),
    "createUnexpectedProblem": (1.0, 5),
    "getAttributes": (1.0, 5),
}


def rate_limited_seconds(calls: dict[str, int]) -> float:
    """How long these calls need at Amazon's published limits: the burst goes at once, the rest at
    the sustained rate, one operation after another (as a run makes them)."""
    total = 0.0
    for operation, n in calls.items():
        rate, burst = USAGE_PLANS.get(operation, (1.0, 5))
        total += max(0, n - burst) / rate
    return total
