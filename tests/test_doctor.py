"""`bulk doctor` against the sandbox: each check a line with ✓/✗ and, for ✗, what to do."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from typer.testing import CliRunner

from bulk import access
from bulk.cli import app

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    for name in ("BULK_HOME", "BULK_SANDBOX_ORDERS", "BULK_SANDBOX_ROLES", "BULK_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    for name in ("LWA_APP_ID", "LWA_CLIENT_SECRET", "SP_API_REFRESH_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    yield tmp_path


def doctor(*args: str) -> Any:
    return runner.invoke(app, ["doctor", *args], catch_exceptions=False)


def lines(output: str) -> dict[str, str]:
    """Each check's line by its name."""
    found = {}
    for line in output.splitlines():
        if line[:2] in ("✓ ", "✗ "):
            name, _, rest = line[2:].partition(": ")
            found[name] = line[:1] + " " + rest
    return found


def test_the_default_sandbox_passes_every_check(workdir: Path) -> None:
    result = doctor()
    assert result.exit_code == 0, result.output
    found = lines(result.output)
    assert all(v.startswith("✓") for v in found.values()), result.output
    for role in access.NEEDED_ROLES:
        assert f"role {role}" in found
    for name in ("config", "credentials", "login", "seller id", "marketplaces", "state folder"):
        assert name in found
    assert "templates" in found and "load" in found["templates"]
    assert result.output.rstrip().endswith("all checks passed")


def test_a_missing_role_is_named_and_fails_the_doctor(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "BULK_SANDBOX_ROLES", "Inventory and Order Tracking, Selling Partner Insights"
    )
    result = doctor()
    assert result.exit_code == 1, result.output
    found = lines(result.output)
    assert found["role Buyer Communication"].startswith("✗")
    assert "lacks Amazon's role Buyer Communication" in found["role Buyer Communication"]
    assert found["role Inventory and Order Tracking"].startswith("✓")
    # The fix is on the next line.
    after = result.output.split("role Buyer Communication", 1)[1].splitlines()[1]
    assert after.strip().startswith("→") and "Develop Apps" in after


def test_json_is_one_document_with_a_schema(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BULK_SANDBOX_ROLES", "Buyer Communication")
    result = runner.invoke(app, ["doctor", "--json"], catch_exceptions=False)
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    schema = json.loads((ROOT / "docs" / "schemas" / "doctor.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(document)
    assert document["schema"] == "bulk.doctor/1"
    assert document["exit_code"] == 1
    assert document["ok"] is False
    failed = {c["name"] for c in document["checks"] if not c["ok"]}
    assert failed == {
        "role Inventory and Order Tracking",
        "role Selling Partner Insights",
        "marketplaces",  # Sellers API needs one of Amazon's roles for it too
    }
    assert all(c["fix"] for c in document["checks"] if not c["ok"])


def test_marketplaces_the_account_does_not_sell_in_fail(workdir: Path) -> None:
    (workdir / "bulk.toml").write_text('[amazon]\nmarketplaces = ["CA"]\n', encoding="utf-8")
    result = doctor()
    assert result.exit_code == 1, result.output
    found = lines(result.output)
    assert found["marketplaces"].startswith("✗")
    assert "does not sell in CA" in found["marketplaces"] and "US" in found["marketplaces"]


def test_a_broken_config_fails_without_asking_amazon(workdir: Path) -> None:
    (workdir / "bulk.toml").write_text("[amazon]\ntarget = 'moon'\n", encoding="utf-8")
    result = doctor()
    assert result.exit_code == 1
    found = lines(result.output)
    assert list(found) == ["config"] and found["config"].startswith("✗")


def test_production_without_credentials_says_where_they_go(workdir: Path) -> None:
    (workdir / "bulk.toml").write_text(
        '[amazon]\ntarget = "production"\nseller_id = "A2EXAMPLE12345"\n', encoding="utf-8"
    )
    result = doctor()
    assert result.exit_code == 1
    found = lines(result.output)
    assert found["credentials"].startswith("✗") and "LWA_APP_ID" in found["credentials"]
    assert found["seller id"].startswith("✓")
    assert found["login"].startswith("✗")  # not tried: nothing was asked of Amazon
