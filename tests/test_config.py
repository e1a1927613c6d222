"""bulk.config: bulk.toml loading, defaults and validation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bulk.config import (
    DEFAULT_REASONS,
    AmazonConfig,
    Config,
    GoogleConfig,
    MessagesConfig,
    PolicyConfig,
    SandboxConfig,
    load_config,
    parse_config,
)
from bulk.errors import ConfigError
from bulk.models import CANCEL_REASON_CODES, Reason

FULL = """\
[amazon]
target = "production"
marketplace = "DE"
seller_id = "A2SELLER"

[sandbox]
orders = "books/market.json"

[policy]
window_hours = 12
min_details_chars = 20
target_rate = 0.015
max_daily_share = 0.25
feed_wait_minutes = 5.5
report_threshold = 50

[messages]
templates = "my-templates"
seller_name = "Becher & Co"
notify = false
default_locale = "de_DE"

[google]
credentials = "/etc/bulk/service-account.json"

[reasons]
"Nicht auf Lager" = "NoInventory"
"Kunde storniert" = "BuyerCanceled"
"""


def write(folder: Path, text: str, name: str = "bulk.toml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def config_error(data: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as e:
        parse_config(data)
    message = str(e.value)
    assert "\n" not in message
    return message


# ---------------------------------------------------------------------------------------------
# Defaults and a full file


def test_no_file_gives_the_defaults_and_the_sandbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    config = load_config()
    assert config == Config()
    assert config.path is None
    assert config.amazon.target == "sandbox"
    assert config.amazon.marketplace_id == "ATVPDKIKX0DER"
    assert config.reasons == DEFAULT_REASONS
    assert config.policy == PolicyConfig()
    assert config.resolve("templates") == tmp_path / "templates"


def test_default_reasons_are_valid_feed_reasons() -> None:
    assert {r.code for r in DEFAULT_REASONS} <= set(CANCEL_REASON_CODES)
    assert "Pricing error" not in {r.label for r in DEFAULT_REASONS}


def test_bulk_toml_in_the_working_folder_is_used(tmp_path: Path) -> None:
    path = write(tmp_path, '[amazon]\nseller_id = "A9"\n')
    config = load_config(cwd=tmp_path)
    assert config.amazon.seller_id == "A9"
    assert config.path == path.resolve()


def test_a_full_file(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, FULL))
    assert config.amazon == AmazonConfig("production", "DE", "A2SELLER")
    assert config.amazon.marketplace_id == "A1PA6795UKMFR9"
    assert config.sandbox == SandboxConfig("books/market.json")
    assert config.policy == PolicyConfig(
        window_hours=12.0,
        min_details_chars=20,
        target_rate=0.015,
        max_daily_share=0.25,
        feed_wait_minutes=5.5,
        report_threshold=50,
    )
    assert isinstance(config.policy.window_hours, float)
    assert config.messages == MessagesConfig("my-templates", "Becher & Co", False, "de_DE")
    assert config.google == GoogleConfig("/etc/bulk/service-account.json")
    assert config.reasons == (
        Reason("Nicht auf Lager", "NoInventory"),
        Reason("Kunde storniert", "BuyerCanceled"),
    )


def test_a_partial_section_keeps_the_other_defaults() -> None:
    config = parse_config({"policy": {"min_details_chars": 3}})
    assert config.policy == PolicyConfig(min_details_chars=3)
    assert config.amazon == AmazonConfig()


# ---------------------------------------------------------------------------------------------
# Unknown names: an error with a hint


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"polcy": {}}, "unknown section [polcy]; did you mean 'policy'?"),
        ({"reason": {}}, "unknown section [reason]; did you mean 'reasons'?"),
        (
            {"xyz": {}},
            "unknown section [xyz]; known keys: amazon, due, google, messages, notify, policy",
        ),
        (
            {"notify": {"webhok": "https://hooks.example/x"}},
            "unknown setting 'webhok' in [notify]; did you mean 'webhook'?",
        ),
        (
            {"policy": {"windw_hours": 3}},
            "unknown setting 'windw_hours' in [policy]; did you mean 'window_hours'?",
        ),
        (
            {"amazon": {"sellerid": "A1"}},
            "unknown setting 'sellerid' in [amazon]; did you mean 'seller_id'?",
        ),
        ({"google": {"zzz": 1}}, "unknown setting 'zzz' in [google]; known keys: credentials"),
        ({"Policy": {}}, "unknown section [Policy]; did you mean 'policy'?"),
    ],
)
def test_unknown_names_are_errors_with_a_hint(data: dict[str, Any], expected: str) -> None:
    assert expected in config_error(data)


def test_the_webhook_is_an_http_url_and_a_bad_one_is_not_echoed() -> None:
    url = "https://hooks.slack.example/services/T0/B0/SECRET"
    assert parse_config({"notify": {"webhook": url}}).notify.webhook == url
    assert parse_config({}).notify.webhook == ""
    message = config_error({"notify": {"webhook": "hooks.slack.example/services/SECRET"}})
    assert "[notify] webhook must be an https:// URL" in message
    assert "SECRET" not in message


def test_the_message_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[policy]\nwindow_hour = 2\n")
    with pytest.raises(ConfigError, match=r"bulk\.toml: unknown setting 'window_hour'"):
        load_config(path)


# ---------------------------------------------------------------------------------------------
# Types and bounds


@pytest.mark.parametrize(
    ("section", "key", "value", "expected"),
    [
        ("policy", "window_hours", "24", "[policy] window_hours must be a float, not '24'"),
        ("policy", "min_details_chars", 1.5, "[policy] min_details_chars must be a int"),
        ("policy", "min_details_chars", True, "[policy] min_details_chars must be a int"),
        ("policy", "target_rate", False, "[policy] target_rate must be a float"),
        ("messages", "notify", "yes", "[messages] notify must be a bool, not 'yes'"),
        ("messages", "seller_name", 5, "[messages] seller_name must be a str, not 5"),
        ("amazon", "seller_id", ["A1"], "[amazon] seller_id must be a str"),
    ],
)
def test_wrong_types_are_errors(section: str, key: str, value: object, expected: str) -> None:
    assert expected in config_error({section: {key: value}})


@pytest.mark.parametrize("section", ["amazon", "policy", "reasons"])
def test_a_section_that_is_not_a_table_is_an_error(section: str) -> None:
    message = config_error({section: "x"})
    assert f"[{section}] must" in message


def test_whole_numbers_are_accepted_for_floats() -> None:
    policy = parse_config({"policy": {"window_hours": 48, "max_daily_share": 1}}).policy
    assert (policy.window_hours, policy.max_daily_share) == (48.0, 1.0)
    assert isinstance(policy.window_hours, float)


@pytest.mark.parametrize("rate", [0.0001, 0.02, 0.0249])
def test_target_rate_within_bounds(rate: float) -> None:
    assert parse_config({"policy": {"target_rate": rate}}).policy.target_rate == rate


@pytest.mark.parametrize("rate", [0, 0.0, -0.01, 0.025, 0.03, 1, float("nan"), float("inf")])
def test_target_rate_out_of_bounds(rate: float) -> None:
    message = config_error({"policy": {"target_rate": rate}})
    assert "target_rate must be above 0 and below Amazon's 0.025" in message


def test_target_rate_is_bounded_by_the_strictest_marketplace() -> None:
    # India's own target is 2%: a cap of 2.2% would let the rate pass India's target.
    message = config_error({"amazon": {"marketplaces": ["IN"]}, "policy": {"target_rate": 0.022}})
    assert "below Amazon's 0.02 (2% in IN), not 0.022" in message
    india = parse_config({"amazon": {"marketplaces": ["IN"]}, "policy": {"target_rate": 0.019}})
    assert india.policy.target_rate == 0.019


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("max_daily_share", 0.0, "max_daily_share must be above 0 and at most 1"),
        ("max_daily_share", 1.5, "max_daily_share must be above 0 and at most 1"),
        ("max_daily_share", float("nan"), "max_daily_share must be above 0 and at most 1"),
        ("window_hours", 0.0, "window_hours must be a positive number of hours"),
        ("window_hours", -1.0, "window_hours must be a positive number of hours"),
        ("window_hours", float("nan"), "window_hours must be a positive number of hours"),
        ("window_hours", float("inf"), "window_hours must be a positive number of hours, at most"),
        ("window_hours", 1e300, "at most 8760 (a year), not 1e+300"),
        ("window_hours", 8760.5, "at most 8760 (a year)"),
        ("min_details_chars", -1, "min_details_chars must not be negative"),
        ("feed_wait_minutes", -0.5, "feed_wait_minutes must be 0 or more"),
        ("feed_wait_minutes", float("nan"), "feed_wait_minutes must be 0 or more"),
        ("feed_wait_minutes", float("inf"), "feed_wait_minutes must be 0 or more, at most 1440"),
        ("report_threshold", -1, "report_threshold must not be negative"),
    ],
)
def test_policy_bounds(key: str, value: float, expected: str) -> None:
    assert expected in config_error({"policy": {key: value}})


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("min_details_chars", 0),
        ("feed_wait_minutes", 0.0),
        ("feed_wait_minutes", 1440.0),
        ("window_hours", 0.5),
        ("window_hours", 8760.0),
    ],
)
def test_policy_edge_values_accepted(key: str, value: float) -> None:
    assert getattr(parse_config({"policy": {key: value}}).policy, key) == value


def test_target_must_be_sandbox_or_production() -> None:
    assert "target must be 'sandbox' or 'production'" in config_error(
        {"amazon": {"target": "staging"}}
    )


@pytest.mark.parametrize(
    "amazon",
    [
        {"seller_id": ""},
        {"seller_id": "   "},
        {"target": "production", "seller_id": ""},
    ],
)
def test_an_empty_seller_id_is_refused(amazon: dict[str, str]) -> None:
    assert "[amazon] seller_id is empty" in config_error({"amazon": amazon})


def test_production_needs_its_own_seller_id() -> None:
    # The default is the sandbox's seller id: Amazon would refuse every row of every feed.
    assert "production needs [amazon] seller_id" in config_error(
        {"amazon": {"target": "production"}}
    )
    given = parse_config({"amazon": {"target": "production", "seller_id": "A2SELLER"}})
    assert given.amazon.seller_id == "A2SELLER"


@pytest.mark.parametrize(
    ("marketplace", "expected"),
    [("de", "did you mean 'DE'?"), ("Germany", "known marketplaces: AE, AU, BE")],
)
def test_unknown_marketplace(marketplace: str, expected: str) -> None:
    message = config_error({"amazon": {"marketplace": marketplace}})
    assert f"marketplace '{marketplace}' is unknown" in message
    assert expected in message


# ---------------------------------------------------------------------------------------------
# [reasons]


def test_reasons_keep_their_order() -> None:
    config = parse_config({"reasons": {"Sold out": "NoInventory", "Asked": "BuyerCanceled"}})
    assert config.reasons == (Reason("Sold out", "NoInventory"), Reason("Asked", "BuyerCanceled"))


@pytest.mark.parametrize(
    ("reasons", "expected"),
    [
        ({}, "[reasons] must map each dropdown label to an Amazon code"),
        (
            {"Sold out": "NoInventry"},
            "[reasons] 'Sold out' = 'NoInventry' is not an Amazon cancel reason; "
            "did you mean 'NoInventory'?",
        ),
        (
            {"Pricing error": "PricingError"},
            "'PricingError' is not an Amazon cancel reason; known reasons: BuyerCanceled",
        ),
        ({"Sold out": 3}, "'Sold out' = 3 is not an Amazon cancel reason"),
        # A comma would split the item of the Excel dropdown in two; a quote would end it.
        ({"Sold out, sorry": "NoInventory"}, "label 'Sold out, sorry' must hold letters"),
        ({'Sold "out"': "NoInventory"}, "no comma or double quote"),
        ({"  ": "NoInventory"}, "label '  ' must hold letters or digits"),
        ({"--": "NoInventory"}, "label '--' must hold letters or digits"),
        (
            {"Sold out": "NoInventory", "sold-out": "GeneralAdjustment"},
            "'sold-out' and 'Sold out' are the same label to the sheet",
        ),
    ],
)
def test_reason_errors(reasons: dict[str, Any], expected: str) -> None:
    assert expected in config_error({"reasons": reasons})


def test_reason_labels_in_any_script_are_distinct() -> None:
    config = parse_config(
        {"reasons": {"在庫切れ": "NoInventory", "住所不明": "ShippingAddressUndeliverable"}}
    )
    assert [r.code for r in config.reasons] == ["NoInventory", "ShippingAddressUndeliverable"]


# ---------------------------------------------------------------------------------------------
# The file itself


def test_invalid_toml_is_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, '[policy]\nwindow_hours = = 3\n[amazon\ntarget = "x"\n')
    with pytest.raises(ConfigError) as e:
        load_config(path)
    message = str(e.value)
    assert message.startswith(f"{path} is not valid TOML: ")
    assert "line 2" in message
    assert "\n" not in message


def test_a_missing_file_named_on_the_command_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"config file .*nope\.toml does not exist"):
        load_config(tmp_path / "nope.toml")


def test_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "bulk.toml"
    path.write_bytes('[messages]\nseller_name = "Müller"\n'.encode("cp1252"))
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(path)


def test_relative_paths_resolve_against_the_config_files_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(
        tmp_path / "team",
        '[sandbox]\norders = "data/market.json"\n[messages]\ntemplates = "../shared/tpl"\n'
        '[google]\ncredentials = "/abs/key.json"\n',
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)

    config = load_config(Path("../team/bulk.toml"))  # named relative to the working folder

    assert config.path == (tmp_path / "team" / "bulk.toml").resolve()
    assert config.base_dir == (tmp_path / "team").resolve()
    assert config.resolve(config.sandbox.orders) == (tmp_path / "team/data/market.json").resolve()
    assert (
        config.resolve(config.messages.templates).resolve() == (tmp_path / "shared/tpl").resolve()
    )
    assert config.resolve(config.google.credentials) == Path("/abs/key.json")


def test_home_relative_paths_expand(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    config = load_config(write(tmp_path, '[google]\ncredentials = "~/key.json"\n'))
    assert config.resolve(config.google.credentials) == tmp_path / "home" / "key.json"


# Several marketplaces of one region ------------------------------------------------------


def test_several_marketplaces_of_one_region() -> None:
    config = parse_config({"amazon": {"marketplaces": ["DE", "FR", "IT"]}})
    assert config.amazon.marketplace_codes == ("DE", "FR", "IT")
    assert config.amazon.marketplace_ids == ("A1PA6795UKMFR9", "A13V1IB3VIYZZH", "APJ6JRA9NG5V4")
    assert config.amazon.marketplace_id == "A1PA6795UKMFR9"  # the first is the main one


def test_the_single_marketplace_key_still_works() -> None:
    assert parse_config({"amazon": {"marketplace": "FR"}}).amazon.marketplace_ids == (
        "A13V1IB3VIYZZH",
    )
    assert parse_config({}).amazon.marketplace_ids == ("ATVPDKIKX0DER",)


@pytest.mark.parametrize(
    ("amazon", "expected"),
    [
        ({"marketplaces": ["DE", "US"]}, "must all be in one region"),
        ({"marketplaces": ["DE", "Frnace"]}, "marketplaces 'Frnace' is unknown"),
        ({"marketplaces": ["DE", "DE"]}, "names a marketplace twice"),
        ({"marketplaces": "DE"}, "marketplaces must be a list of strings"),
        ({"marketplaces": ["DE"], "marketplace": "DE"}, "both marketplace and marketplaces"),
        ({"orders_api": "2021"}, 'orders_api must be "2026-01-01" or "v0"'),
    ],
)
def test_bad_marketplace_settings(amazon: dict[str, object], expected: str) -> None:
    assert expected in config_error({"amazon": amazon})


def test_orders_api_v0_is_still_accepted() -> None:
    assert parse_config({"amazon": {"orders_api": "v0"}}).amazon.orders_api == "v0"


def test_target_rate_is_unset_by_default_so_the_marketplaces_target_applies() -> None:
    assert parse_config({}).policy.target_rate is None
    assert parse_config({"policy": {"target_rate": 0.02}}).policy.target_rate == 0.02
