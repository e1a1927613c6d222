"""A rehearsal against the sandbox is never taken for production: the ledger keeps each target's
records apart, end to end through the command line and two real sandbox servers."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import requests
from typer.testing import CliRunner

from bulk.cli import app
from bulk.sandbox import start_sandbox
from bulk.targets import SANDBOX_CREDENTIALS

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    shutil.copytree(ROOT / "samples", tmp_path / "samples")
    monkeypatch.chdir(tmp_path)
    for name in ("BULK_HOME", "BULK_SANDBOX_ORDERS", "BULK_STATE_URL", "SP_API_ACCOUNT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    yield tmp_path


def bulk(*args: str) -> Any:
    return runner.invoke(app, list(args), catch_exceptions=False)


def statuses(path: Path) -> dict[str, tuple[str, str]]:
    ws = openpyxl.load_workbook(path)["Orders"]
    header = [c.value for c in ws[1]]
    found = {}
    for row in ws.iter_rows(min_row=2, values_only=True):
        values = dict(zip(header, row, strict=False))
        if values.get("Order ID"):
            found[str(values["Order ID"])] = (
                str(values.get("Status") or ""),
                str(values.get("Feed ID") or ""),
            )
    return found


def go_production(workdir: Path, monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    """Production settings, the endpoint being a second sandbox this test runs."""
    (workdir / "bulk.toml").write_text(
        '[amazon]\ntarget = "production"\nseller_id = "A1SANDBOXSELLER"\n', encoding="utf-8"
    )
    monkeypatch.setenv("BULK_SP_API_ENDPOINT", url)
    monkeypatch.setenv("BULK_LWA_ENDPOINT", url)
    monkeypatch.setenv("LWA_APP_ID", SANDBOX_CREDENTIALS["lwa_app_id"])
    monkeypatch.setenv("LWA_CLIENT_SECRET", SANDBOX_CREDENTIALS["lwa_client_secret"])
    monkeypatch.setenv("SP_API_REFRESH_TOKEN", SANDBOX_CREDENTIALS["refresh_token"])


def test_a_rehearsal_then_production_in_the_same_folder_sends_the_production_feed(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The team keeps a pristine copy of the sheet for the real run.
    shutil.copy(workdir / "samples" / "orders.xlsx", workdir / "real.xlsx")
    rehearsal = bulk("submit", "samples/orders.xlsx", "--yes")
    assert rehearsal.output.startswith("target: sandbox"), rehearsal.output
    rehearsed = statuses(workdir / "samples" / "orders.xlsx")
    # Cancelled by the feed (an order already cancelled on Amazon has no feed).
    cancelled = {o for o, (status, feed) in rehearsed.items() if status == "CANCELLED" and feed}
    assert cancelled, rehearsal.output

    book = json.loads((workdir / "samples" / "marketplace.json").read_text(encoding="utf-8"))
    book["report_polls"] = 0  # production mode polls in real time
    book["feed_polls"] = 0
    (workdir / "amazon.json").write_text(json.dumps(book), encoding="utf-8")
    with start_sandbox(workdir / "amazon.json", workdir / "amazon-state") as amazon:
        go_production(workdir, monkeypatch, amazon.url)
        real = bulk("submit", "real.xlsx", "--yes")
        feeds = requests.get(f"{amazon.url}/_sandbox/feeds", timeout=10).json()
        messages = requests.get(f"{amazon.url}/_sandbox/messages", timeout=10).json()
    assert real.output.startswith("target: PRODUCTION"), real.output
    # Production received the feed: every order the rehearsal cancelled, sent for real.
    assert len(feeds) == 1, real.output
    done = statuses(workdir / "real.xlsx")
    assert {o for o, (status, feed) in done.items() if status == "CANCELLED" and feed} == cancelled
    # The rows carry production's feed, which holds every one of those orders.
    assert {done[o][1] for o in cancelled} == {feeds[0]["feedId"]}
    assert all(f"<AmazonOrderID>{o}</AmazonOrderID>" in feeds[0]["document"] for o in cancelled)
    assert messages, "the buyers hear from the real run, not only from the rehearsal"
    # Each target's history is its own.
    history = json.loads(bulk("history", "--json").output)["submissions"]
    assert [h["target"] for h in history] == ["production"]
    monkeypatch.chdir(workdir / "samples")  # no bulk.toml here: the sandbox
    monkeypatch.setenv("BULK_HOME", str(workdir / ".bulk"))
    history = json.loads(bulk("history", "--json").output)["submissions"]
    assert [h["target"] for h in history] == ["sandbox"]


def test_the_state_url_picks_the_ledger_and_a_wrong_one_is_one_line(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = workdir / "shared" / "team.sqlite"
    (workdir / "bulk.toml").write_text(
        f'[state]\nurl = "sqlite:///{elsewhere}"\n', encoding="utf-8"
    )
    checked = bulk("check", "samples/orders.xlsx")
    assert checked.exit_code == 1, checked.output
    assert elsewhere.is_file() and not (workdir / ".bulk" / "ledger.sqlite").exists()
    # BULK_STATE_URL wins over the file; a URL bulk cannot use is refused in one line.
    monkeypatch.setenv("BULK_STATE_URL", "mysql://bulk:pw-do-not-show@db/bulk")
    refused = bulk("check", "samples/orders.xlsx")
    assert refused.exit_code == 2
    assert refused.output.splitlines()[-1] == (
        "error: [state] url mysql://bulk:***@db/bulk: bulk keeps its state in SQLite (the "
        "default, or sqlite:///path) or PostgreSQL (postgresql://user@host/database)"
    )


def test_the_rehearsed_sheet_itself_is_sent_for_real_under_production(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The same sheet, rehearsed and then submitted for real: the sandbox's CANCELLED and
    # SUBMITTED are not production's (its ledger has no record of them), so each row is
    # checked as new and the real feed carries every order the rehearsal cancelled.
    sheet = workdir / "samples" / "orders.xlsx"
    bulk("submit", "samples/orders.xlsx", "--yes")
    rehearsed = statuses(sheet)
    cancelled = {o for o, (status, feed) in rehearsed.items() if status == "CANCELLED" and feed}
    assert cancelled
    book = json.loads((workdir / "samples" / "marketplace.json").read_text(encoding="utf-8"))
    book["report_polls"] = 0
    book["feed_polls"] = 0
    (workdir / "amazon.json").write_text(json.dumps(book), encoding="utf-8")
    with start_sandbox(workdir / "amazon.json", workdir / "amazon-state") as amazon:
        go_production(workdir, monkeypatch, amazon.url)
        real = bulk("submit", "samples/orders.xlsx", "--yes")
        feeds = requests.get(f"{amazon.url}/_sandbox/feeds", timeout=10).json()
    assert real.output.startswith("target: PRODUCTION"), real.output
    assert len(feeds) == 1, real.output
    assert all(f"<AmazonOrderID>{o}</AmazonOrderID>" in feeds[0]["document"] for o in cancelled)
    done = statuses(sheet)
    assert {done[o] for o in cancelled} == {("CANCELLED", feeds[0]["feedId"])}
