"""More of the command line end to end: API call budgets, the report path, templates, Google."""

from __future__ import annotations

import csv
import json
import re
import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from fake_sheets import FakeSheets
from typer.testing import CliRunner

from bulk.cli import app

pytest_plugins = ["conftest_google"]

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    shutil.copytree(ROOT / "samples", tmp_path / "samples")
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    monkeypatch.chdir(tmp_path)
    for name in ("BULK_HOME", "BULK_SANDBOX_ORDERS", "LWA_APP_ID", "SP_API_REFRESH_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    yield tmp_path


def calls(output: str) -> dict[str, int]:
    line = re.search(r"API calls: \d+ \(([^)]*)\)", output)
    assert line, output
    found = {}
    for part in line.group(1).split(", "):
        op, n = part.rsplit(" ", 1)
        found[op] = int(n)
    return found


def bulk(*args: str) -> Any:
    return runner.invoke(app, list(args), catch_exceptions=False)


def quick_production(workdir: Path, monkeypatch: pytest.MonkeyPatch, sandbox_url: str) -> None:
    """Production settings pointed at a sandbox this test runs (and can ask what it received)."""
    from bulk.targets import SANDBOX_CREDENTIALS

    (workdir / "bulk.toml").write_text(
        '[amazon]\ntarget = "production"\nseller_id = "A1SANDBOXSELLER"\n', encoding="utf-8"
    )
    monkeypatch.setenv("BULK_SP_API_ENDPOINT", sandbox_url)
    monkeypatch.setenv("BULK_LWA_ENDPOINT", sandbox_url)
    monkeypatch.setenv("LWA_APP_ID", SANDBOX_CREDENTIALS["lwa_app_id"])
    monkeypatch.setenv("LWA_CLIENT_SECRET", SANDBOX_CREDENTIALS["lwa_client_secret"])
    monkeypatch.setenv("SP_API_REFRESH_TOKEN", SANDBOX_CREDENTIALS["refresh_token"])


def quick_book(workdir: Path) -> Path:
    # Reports ready at the first look: production mode polls in real time.
    book = json.loads((workdir / "samples" / "marketplace.json").read_text(encoding="utf-8"))
    book["report_polls"] = 0
    (workdir / "quick.json").write_text(json.dumps(book), encoding="utf-8")
    return workdir / "quick.json"


V0_ORDERS = ("getOrders", "getOrder", "getOrderItems")  # the sandbox's names for Orders v0


def test_check_on_the_sample_makes_no_orders_v0_call(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bulk.sandbox import start_sandbox

    with start_sandbox(quick_book(workdir), workdir / "proxy-state") as sb:
        quick_production(workdir, monkeypatch, sb.url)
        result = bulk("check", "samples/orders.xlsx", "-v")
        received = requests.get(f"{sb.url}/_sandbox/calls", timeout=10).json()
    assert result.exit_code == 1, result.output
    # What the sandbox received: Orders v2026-01-01 only, one getOrder per well-formed id
    # (13, inside getOrder's burst of 30, so no rate-limited wait).
    assert not [op for op in V0_ORDERS if op in received], received
    assert received["getOrder@2026-01-01"] == 13
    made = calls(result.output)
    assert made["getOrder"] == 13
    assert "getOrders" not in made and "getOrderItems" not in made
    # The cancellation rate from one report (create, poll, download); nothing sent.
    assert made["createReport"] == 1
    assert made["getReportDocument"] == 1
    assert "createFeed" not in made and "createUnexpectedProblem" not in made
    assert "look-up: getOrder for 13 orders; 0s of Amazon rate-limited time" in result.output


def test_orders_api_v0_still_works_and_warns_of_its_removal(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bulk.sandbox import start_sandbox

    with start_sandbox(quick_book(workdir), workdir / "proxy-state") as sb:
        quick_production(workdir, monkeypatch, sb.url)
        toml = workdir / "bulk.toml"
        toml.write_text(toml.read_text(encoding="utf-8") + 'orders_api = "v0"\n', encoding="utf-8")
        result = bulk("check", "samples/orders.xlsx", "-v")
        received = requests.get(f"{sb.url}/_sandbox/calls", timeout=10).json()
    assert result.exit_code == 1, result.output
    assert "Amazon removes Orders API v0 on 2027-03-27" in result.output
    # 13 ids: one getOrders call; items for the 8 unshipped merchant-fulfilled orders only.
    assert received["getOrders"] == 1
    assert received["getOrderItems"] == 8
    assert "getOrder@2026-01-01" not in received and "searchOrders" not in received


def big_book(workdir: Path, n: int) -> None:
    """n orders: most unshipped, every tenth shipped; and a sheet that cancels them all."""
    orders = []
    rows = [["Order ID", "Reason", "Details", "Notify"]]
    for i in range(1, n + 1):
        order_id = f"114-{i:07d}-0000001"
        shipped = i % 10 == 0
        orders.append(
            {
                "id": order_id,
                "status": "Shipped" if shipped else "Unshipped",
                "channel": "MFN",
                "purchased": f"-{i}m",
                "items": [
                    {
                        "id": f"{i:014d}",
                        "sku": f"SKU-{i}",
                        "title": "Item",
                        "qty": 1,
                        **({"shipped": 1} if shipped else {}),
                    }
                ],
            }
        )
        rows.append([order_id, "Out of stock", "Seasonal stock-out at the warehouse", "No"])
    book = {
        "seller_id": "A1SANDBOXSELLER",
        "marketplace_id": "ATVPDKIKX0DER",
        "performance": {"orders_last_7_days": 100_000, "seller_cancels_last_7_days": 0},
        "orders": orders,
    }
    (workdir / "big.json").write_text(json.dumps(book), encoding="utf-8")
    with open(workdir / "big.csv", "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    (workdir / "bulk.toml").write_text(
        '[sandbox]\norders = "big.json"\n[policy]\nreport_threshold = 100\n', encoding="utf-8"
    )


def test_many_orders_are_checked_with_one_all_orders_report(workdir: Path) -> None:
    big_book(workdir, 150)
    result = bulk("check", "big.csv", "-v")
    # 150 orders on an account taking 100,000 a week: a windowed search would be 143 pages
    # (hours at searchOrders' rate), per order 4 minutes; the All Orders report (no restricted
    # role) takes a handful of calls, and no row needs item ids to be checked.
    assert "look-up: All Orders report for 150 orders" in result.output, result.output
    made = calls(result.output)
    assert "getOrder" not in made and "searchOrders" not in made
    assert made["createReport"] == 2  # performance, All Orders
    with open(workdir / "big.csv", encoding="utf-8") as f:
        statuses = Counter(row["Status"] for row in csv.DictReader(f))
    assert statuses == {"READY": 135, "REJECTED": 15}


def test_many_orders_are_submitted_and_read_back_without_restricted_data(workdir: Path) -> None:
    big_book(workdir, 150)
    result = bulk("submit", "big.csv", "--yes", "-v")
    made = calls(result.output)
    # Sending needs every order's item ids: getOrder for each (cheaper here than the report
    # followed by getOrder), never the restricted unshipped-orders report.
    assert "look-up: getOrder for 150 orders" in result.output, result.output
    assert made["getOrder"] == 150
    with open(workdir / "big.csv", encoding="utf-8") as f:
        statuses = Counter(row["Status"] for row in csv.DictReader(f))
    assert statuses == {"CANCELLED": 135, "REJECTED": 15}
    # After the feed, Amazon's state comes from one All Orders report, not 135 look-ups.
    assert made["createReport"] == 2  # performance, All Orders after the feed


def test_a_broken_template_stops_the_run_before_anything_is_sent(workdir: Path) -> None:
    (workdir / "bulk.toml").write_text('[messages]\ntemplates = "templates"\n')
    broken = workdir / "templates" / "en_US" / "cancel" / "NoInventory.j2"
    broken.write_text("Hello {{ order_number }}", encoding="utf-8")
    result = bulk("submit", "samples/orders.xlsx", "--yes")
    assert result.exit_code == 2
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert "NoInventory.j2 line 1" in errors[0] and "order_number" in errors[0]
    assert "feed" not in result.output
    # Nothing reached the marketplace: the sandbox's own record of what it received is empty.
    from bulk.sandbox import start_sandbox

    with start_sandbox(
        workdir / "samples" / "marketplace.json", workdir / ".bulk" / "sandbox"
    ) as sb:
        assert requests.get(f"{sb.url}/_sandbox/feeds", timeout=10).json() == []
        assert requests.get(f"{sb.url}/_sandbox/messages", timeout=10).json() == []


def test_a_google_sheet_is_checked_and_submitted_like_a_workbook(
    workdir: Path, fake_sheets: FakeSheets
) -> None:
    key = "1BulkSampleSheetKey0123456789abcdefghijkl"
    with open(workdir / "samples" / "orders.csv", encoding="utf-8") as f:
        values = list(csv.reader(f))
    book = fake_sheets.add_spreadsheet(key, "Cancellations", {"Orders": values}, rows=100, cols=8)
    result = bulk("submit", f"https://docs.google.com/spreadsheets/d/{key}/edit#gid=0", "--yes")
    assert result.exit_code == 1, result.output
    table = book.sheet("Orders").table()
    header = table[0]
    status = {row[0]: row[header.index("Status")] for row in reversed(table[1:]) if row}
    assert status["112-0000001-0000001"] == "CANCELLED"
    assert status["112-0000001-0000005"] == "REJECTED"
    assert status["112-0000001-0000006"] == "ESCALATE"
    # Reads: metadata and one values request; writes: the Order ID column again, one
    # spreadsheets:batchUpdate to widen the grid for the result columns, one values write.
    assert fake_sheets.counts["values.batchUpdate"] == 1
    assert fake_sheets.counts["spreadsheets.batchUpdate"] == 1


def test_production_settings_reach_another_host_and_never_show_the_secrets(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bulk.sandbox import start_sandbox
    from bulk.targets import SANDBOX_CREDENTIALS

    (workdir / "bulk.toml").write_text(
        '[amazon]\ntarget = "production"\nseller_id = "A1SANDBOXSELLER"\n', encoding="utf-8"
    )
    # Reports ready at the first look: production mode polls in real time.
    book = json.loads((workdir / "samples" / "marketplace.json").read_text(encoding="utf-8"))
    book["report_polls"] = 0
    (workdir / "quick.json").write_text(json.dumps(book), encoding="utf-8")
    with start_sandbox(workdir / "quick.json", workdir / "proxy-state") as sb:
        monkeypatch.setenv("BULK_SP_API_ENDPOINT", sb.url)
        monkeypatch.setenv("BULK_LWA_ENDPOINT", sb.url)
        monkeypatch.setenv("LWA_APP_ID", SANDBOX_CREDENTIALS["lwa_app_id"])
        monkeypatch.setenv("LWA_CLIENT_SECRET", SANDBOX_CREDENTIALS["lwa_client_secret"])
        monkeypatch.setenv("SP_API_REFRESH_TOKEN", SANDBOX_CREDENTIALS["refresh_token"])
        result = bulk("check", "samples/orders.xlsx", "-v")
        assert result.exit_code == 1, result.output
        assert result.output.startswith("target: PRODUCTION Amazon, seller A1SANDBOXSELLER")
        assert calls(result.output)["getOrder"] == 13

        monkeypatch.setenv("SP_API_REFRESH_TOKEN", "Atzr|wrong-token-do-not-print")
        refused = bulk("check", "samples/orders.xlsx")
        assert refused.exit_code == 2
        assert "Traceback" not in refused.output

    secrets = [*SANDBOX_CREDENTIALS.values(), "Atzr|wrong-token-do-not-print"]
    written = [result.output, refused.output]
    written += [
        p.read_bytes().decode("latin-1") for p in (workdir / ".bulk").rglob("*") if p.is_file()
    ]
    written.append((workdir / "samples" / "orders.xlsx").read_bytes().decode("latin-1"))
    for text in written:
        for secret in secrets:
            assert secret not in text
