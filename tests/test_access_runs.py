"""Runs under Amazon's access model: a missing role stops `submit` before anything is sent, and
access lost between the feed and the read-back leaves rows SUBMITTED for `bulk status`."""

from __future__ import annotations

import csv
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from typer.testing import CliRunner

from bulk import access
from bulk.cli import app
from bulk.sandbox import start_sandbox

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()
WITHOUT_MESSAGES = f"{access.INVENTORY_AND_ORDER_TRACKING},{access.SELLING_PARTNER_INSIGHTS}"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    shutil.copytree(ROOT / "samples", tmp_path / "samples")
    monkeypatch.chdir(tmp_path)
    for name in ("BULK_HOME", "BULK_SANDBOX_ORDERS", "BULK_SANDBOX_ROLES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    yield tmp_path


def bulk(*args: str) -> Any:
    return runner.invoke(app, list(args), catch_exceptions=False)


def statuses(path: Path) -> dict[str, tuple[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return {r["Order ID"]: (r["Status"], r["Result"]) for r in csv.DictReader(f)}


def sandbox_feeds(workdir: Path) -> list[dict[str, Any]]:
    """The feeds the sandbox received, from its state in the state folder."""
    book = workdir / "samples" / "marketplace.json"
    with start_sandbox(book, workdir / ".bulk" / "sandbox") as sb:
        found: list[dict[str, Any]] = requests.get(f"{sb.url}/_sandbox/feeds", timeout=10).json()
    return found


def test_submit_refuses_before_sending_when_messages_need_a_missing_role(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BULK_SANDBOX_ROLES", WITHOUT_MESSAGES)
    result = bulk("submit", "samples/orders.csv", "--yes")
    assert result.exit_code == 2, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.output
    assert "nothing was sent" in errors[0] and "Buyer Communication" in errors[0]
    assert sandbox_feeds(workdir) == []
    # Without rows that message buyers, the same app may send.
    path = workdir / "samples" / "orders.csv"
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    notify = rows[0].index("Notify")
    for row in rows[1:]:
        row[notify] = "No"
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    result = bulk("submit", "samples/orders.csv", "--yes")
    assert result.exit_code in (0, 1), result.output
    assert len(sandbox_feeds(workdir)) == 1


def test_a_report_refused_for_a_missing_role_names_the_role(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    roles = f"{access.INVENTORY_AND_ORDER_TRACKING},{access.BUYER_COMMUNICATION}"
    monkeypatch.setenv("BULK_SANDBOX_ROLES", roles)
    result = bulk("check", "samples/orders.csv")
    assert result.exit_code == 2, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.output
    assert "needs Amazon's role Selling Partner Insights" in errors[0]


def test_access_revoked_after_the_feed_leaves_rows_submitted_until_status(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = workdir / "samples" / "orders.csv"
    sent = bulk("submit", str(path), "--yes", "--no-wait")
    assert sent.exit_code in (0, 1), sent.output
    submitted = {o for o, (s, _r) in statuses(path).items() if s == "SUBMITTED"}
    assert submitted
    # The seller removes the app's Inventory and Order Tracking role: feeds and order reads
    # now answer 403.
    monkeypatch.setenv("BULK_SANDBOX_ROLES", access.BUYER_COMMUNICATION)
    refused = bulk("status", str(path))
    rows = statuses(path)
    for order_id in submitted:
        status, result = rows[order_id]
        assert status == "SUBMITTED"
        assert "refused access" in result and "`bulk status`" in result, result
    assert "refused access" in refused.output
    # Access comes back: `bulk status` finishes the rows; the feed was sent once.
    monkeypatch.delenv("BULK_SANDBOX_ROLES")
    done = bulk("status", str(path))
    assert done.exit_code in (0, 1), done.output
    rows = statuses(path)
    assert {rows[o][0] for o in submitted} <= {"CANCELLED", "FAILED"}
    assert "CANCELLED" in {rows[o][0] for o in submitted}
    assert len(sandbox_feeds(workdir)) == 1


# Large sheets with the default roles (no restricted role) and production settings --------


def big_inputs(folder: Path, n: int, weekly: int, window_hours: int = 24) -> None:
    """A book of n unshipped orders placed in the last `window_hours`, on an account taking
    `weekly` orders a week, and a sheet cancelling them all."""
    import json

    orders = []
    rows = [["Order ID", "Reason", "Details", "Notify"]]
    for i in range(1, n + 1):
        order_id = f"114-{i:07d}-{i % 9_999_999:07d}"
        orders.append(
            {
                "id": order_id,
                "status": "Unshipped",
                "channel": "MFN",
                "purchased": f"-{5 + (i * (window_hours * 60 - 10)) // n}m",
                "items": [{"id": f"{i:014d}", "sku": f"SKU-{i}", "title": "Item", "qty": 1}],
            }
        )
        rows.append([order_id, "Out of stock", "Seasonal stock-out at the warehouse", "No"])
    book = {
        "seller_id": "A1SANDBOXSELLER",
        "marketplace_id": "ATVPDKIKX0DER",
        "performance": {"orders_last_7_days": weekly, "seller_cancels_last_7_days": 0},
        "report_polls": 0,
        "feed_polls": 0,
        "orders": orders,
    }
    (folder / "book.json").write_text(json.dumps(book), encoding="utf-8")
    with open(folder / "sheet.csv", "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    (folder / "bulk.toml").write_text(
        '[amazon]\ntarget = "production"\nseller_id = "A1SANDBOXSELLER"\n'
        f"[policy]\nwindow_hours = {window_hours}\nmax_daily_share = 1.0\n",
        encoding="utf-8",
    )


def production_env(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    from bulk.targets import SANDBOX_CREDENTIALS

    monkeypatch.setenv("BULK_SP_API_ENDPOINT", url)
    monkeypatch.setenv("BULK_LWA_ENDPOINT", url)
    monkeypatch.setenv("LWA_APP_ID", SANDBOX_CREDENTIALS["lwa_app_id"])
    monkeypatch.setenv("LWA_CLIENT_SECRET", SANDBOX_CREDENTIALS["lwa_client_secret"])
    monkeypatch.setenv("SP_API_REFRESH_TOKEN", SANDBOX_CREDENTIALS["refresh_token"])


def refused(received: dict[str, int]) -> dict[str, int]:
    return {op: n for op, n in received.items() if op.startswith("refused ")}


def test_2000_rows_are_checked_submitted_and_read_back_without_a_restricted_role(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 2,000 orders of the last hour on an account taking 200,000 a week: 1% of the week's
    # orders, inside the cancellation budget; the hour's search is 20 pages (the burst).
    big_inputs(workdir, 2_000, weekly=200_000, window_hours=1)
    with start_sandbox(workdir / "book.json", workdir / "sandbox-state") as sb:
        assert requests.get(f"{sb.url}/_sandbox/roles", timeout=10).json() == {
            "roles": list(access.NEEDED_ROLES)
        }
        production_env(monkeypatch, sb.url)
        checked = bulk("check", "sheet.csv", "-v")
        assert checked.exit_code == 0, checked.output
        sent = bulk("submit", "sheet.csv", "--yes", "-v")
        received = requests.get(f"{sb.url}/_sandbox/calls", timeout=10).json()
    assert sent.exit_code == 0, sent.output
    assert refused(received) == {}
    assert "GET_FLAT_FILE_ACTIONABLE_ORDER_DATA_SHIPPING" not in sent.output
    assert set(statuses(workdir / "sheet.csv").values()) == {
        ("CANCELLED", "Amazon cancelled the order")
    }
    # The hour's orders are 20 pages of searchOrders (its whole burst), for the check and for
    # the submit; the read-back is one All Orders report, no getOrder.
    assert "look-up: searchOrders" in checked.output
    assert "look-up: searchOrders" in sent.output
    assert received["searchOrders"] == 40
    assert received["createReport"] == 3  # performance (check, submit), All Orders (read-back)
    assert "getOrder@2026-01-01" not in received


def test_10000_rows_are_checked_without_a_restricted_role(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big_inputs(workdir, 10_000, weekly=700_000)
    with start_sandbox(workdir / "book.json", workdir / "sandbox-state") as sb:
        production_env(monkeypatch, sb.url)
        checked = bulk("check", "sheet.csv", "-v")
        received = requests.get(f"{sb.url}/_sandbox/calls", timeout=10).json()
    assert checked.exit_code == 0, checked.output
    assert refused(received) == {}
    assert "look-up: All Orders report for 10000 orders" in checked.output
    # The report has no ship-by dates nor buyers' requests: the check says so.
    assert "10000 orders were read from Amazon's All Orders report" in checked.output
    # Every row is checked against Amazon's state: ready, or deferred by the day's budget.
    rows = statuses(workdir / "sheet.csv").values()
    assert {s for s, _r in rows} <= {"READY", "DEFERRED"}, {r for s, r in rows if s == "HELD"}
    assert received["createReport"] == 2  # the performance report and the All Orders report


def test_the_restricted_report_works_through_a_token_when_the_app_has_the_role(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 150 orders on a busy account (a day's search would be 143 pages): with restricted data
    # the unshipped-orders report carries every item id at the cost of a few calls.
    big_inputs(workdir, 150, weekly=100_000)
    toml = workdir / "bulk.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8").replace("[amazon]\n", "[amazon]\nrestricted_data = true\n")
        + "report_threshold = 100\n",
        encoding="utf-8",
    )
    roles = (*access.NEEDED_ROLES, access.DIRECT_TO_CONSUMER_SHIPPING)
    with start_sandbox(workdir / "book.json", workdir / "sandbox-state", roles=roles) as sb:
        production_env(monkeypatch, sb.url)
        sent = bulk("submit", "sheet.csv", "--yes", "-v")
        received = requests.get(f"{sb.url}/_sandbox/calls", timeout=10).json()
    assert sent.exit_code == 0, sent.output
    assert "look-up: unshipped-orders report (restricted data) for 150 orders" in sent.output
    assert refused(received) == {}
    # One token for each restricted document: the look-up's and the read-back's.
    assert received["createRestrictedDataToken"] == 2
    assert "getOrder@2026-01-01" not in received
    assert {s for s, _r in statuses(workdir / "sheet.csv").values()} == {"CANCELLED"}


def test_without_restricted_data_the_same_app_never_asks_for_a_token(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big_inputs(workdir, 150, weekly=100_000)
    roles = (*access.NEEDED_ROLES, access.DIRECT_TO_CONSUMER_SHIPPING)
    with start_sandbox(workdir / "book.json", workdir / "sandbox-state", roles=roles) as sb:
        production_env(monkeypatch, sb.url)
        checked = bulk("check", "sheet.csv", "-v")
        received = requests.get(f"{sb.url}/_sandbox/calls", timeout=10).json()
    assert checked.exit_code == 0, checked.output
    assert "createRestrictedDataToken" not in received
    assert "look-up: All Orders report for 150 orders" in checked.output
