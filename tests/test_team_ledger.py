"""A team on one PostgreSQL ledger: two machines (two processes with their own state folders and
temporary folders) submit copies of the same sheet at the same moment, against one marketplace
(a sandbox server both talk to, as production)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from bulk.sandbox import start_sandbox
from bulk.targets import SANDBOX_CREDENTIALS

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def _book(folder: Path) -> Path:
    book = json.loads((ROOT / "samples" / "marketplace.json").read_text(encoding="utf-8"))
    book["report_polls"] = 0  # production mode polls in real time
    book["feed_polls"] = 0
    # A tight budget: 2.5% of 360 orders is 9 seller cancellations a week, 4 already made;
    # the sample has more rows to send than that leaves for today.
    book["performance"] = {"orders_last_7_days": 360, "seller_cancels_last_7_days": 4}
    # Ship-by dates a week away: the rows the budget cannot take today are DEFERRED at any hour.
    # (With Amazon's default two days, an order bought late yesterday must ship by tomorrow,
    # and in the first hours of a UTC day such rows are HELD instead.)
    for order in book["orders"]:
        order["ship_by"] = "+7d"
    path = folder / "book.json"
    path.write_text(json.dumps(book), encoding="utf-8")
    return path


def _machine(folder: Path, url: str, state_url: str) -> tuple[Path, dict[str, str]]:
    """A colleague's laptop: its own folder, state folder, temporary folder, copy of the sheet."""
    folder.mkdir()
    (folder / "tmp").mkdir()
    shutil.copy(ROOT / "samples" / "orders.xlsx", folder / "orders.xlsx")
    toml = '[amazon]\ntarget = "production"\nseller_id = "A1SANDBOXSELLER"\n'
    if state_url:
        toml += f'\n[state]\nurl = "{state_url}"\n'
    (folder / "bulk.toml").write_text(toml, encoding="utf-8")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("BULK_", "LWA_", "SP_API_")) and k != "CI"
    }
    env.update(
        BULK_HOME=str(folder / ".bulk"),
        TMPDIR=str(folder / "tmp"),
        HOME=str(folder),
        XDG_CONFIG_HOME=str(folder / "xdg"),
        BULK_SP_API_ENDPOINT=url,
        BULK_LWA_ENDPOINT=url,
        LWA_APP_ID=SANDBOX_CREDENTIALS["lwa_app_id"],
        LWA_CLIENT_SECRET=SANDBOX_CREDENTIALS["lwa_client_secret"],
        SP_API_REFRESH_TOKEN=SANDBOX_CREDENTIALS["refresh_token"],
    )
    return folder, env


def _submit(folder: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bulk", "submit", "orders.xlsx", "--yes"],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _bulk(folder: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bulk", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _received(url: str) -> tuple[Counter[str], Counter[str]]:
    """How often each order was in a feed, and how many messages each buyer got."""
    feeds: list[dict[str, Any]] = requests.get(f"{url}/_sandbox/feeds", timeout=10).json()
    orders: Counter[str] = Counter()
    for feed in feeds:
        orders.update(re.findall(r"<AmazonOrderID>([^<]+)</AmazonOrderID>", feed["document"]))
    messages = requests.get(f"{url}/_sandbox/messages", timeout=10).json()
    return orders, Counter(m["orderId"] for m in messages)


def test_two_machines_on_one_team_database_send_each_order_once_within_one_budget(
    tmp_path: Path, pg_url: str
) -> None:
    book = _book(tmp_path)
    # What one machine alone sends under this budget (its own ledger, its own marketplace).
    with start_sandbox(book, tmp_path / "alone-market") as alone_market:
        folder, env = _machine(tmp_path / "alone", alone_market.url, "")
        alone = _submit(folder, env)
        output, _ = alone.communicate(timeout=300)
        assert alone.returncode == 1, output  # the sample has rows to fix
        sent_alone, messaged_alone = _received(alone_market.url)
    assert sent_alone and messaged_alone and "DEFERRED" in output, output

    with start_sandbox(book, tmp_path / "team-market") as market:
        machines = [_machine(tmp_path / name, market.url, pg_url) for name in ("ann", "bob")]
        runs = [_submit(folder, env) for folder, env in machines]  # at the same moment
        outputs = [run.communicate(timeout=300)[0] for run in runs]
        sent, messaged = _received(market.url)
        # Each may finish the other's work afterwards: still nothing twice.
        later = [_submit(folder, env) for folder, env in machines]
        outputs += [run.communicate(timeout=300)[0] for run in later]
        sent_after, messaged_after = _received(market.url)

    for run, output in zip(runs + later, outputs, strict=True):
        assert "Traceback" not in output, output
        # Rows to fix (1), or refused at once because the other machine holds the team's run
        # lock (2, nothing sent).
        assert run.returncode in (1, 2), output
        if run.returncode == 2:
            assert "another bulk run" in output and "for the team" in output, output
    assert any(run.returncode == 1 for run in runs), outputs
    for orders, buyers in ((sent, messaged), (sent_after, messaged_after)):
        assert orders and all(n == 1 for n in orders.values()), orders  # one feed each
        assert all(n == 1 for n in buyers.values()), buyers  # one message each at most
        # Together, no more than one machine alone sends under the same budget.
        assert sum(orders.values()) <= sum(sent_alone.values()), (orders, sent_alone)
        assert sum(buyers.values()) <= sum(messaged_alone.values())
    # The team ledger holds the sends of both machines' runs, and neither state folder has a
    # ledger of its own: each machine's history is the team's.
    histories = []
    for folder, env in machines:
        assert not (folder / ".bulk" / "ledger.sqlite").exists()
        shown = _bulk(folder, env, "history", "--json")
        histories.append(json.loads(shown.stdout)["submissions"])
    assert histories[0] == histories[1] and len(histories[0]) >= 1, histories


def test_a_database_url_with_a_password_is_masked_in_every_line(
    tmp_path: Path, pg_url: str
) -> None:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(pg_url)
    wrong = urlunsplit(
        (parts.scheme, f"nobody:hunter2-secret@{parts.hostname}:{parts.port}", parts.path, "", "")
    )
    shutil.copy(ROOT / "samples" / "orders.xlsx", tmp_path / "orders.xlsx")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BULK_")}
    env.update(BULK_STATE_URL=wrong, BULK_HOME=str(tmp_path / ".bulk"), HOME=str(tmp_path))
    refused = _bulk(tmp_path, env, "check", "orders.xlsx")
    output = refused.stdout + refused.stderr
    assert refused.returncode == 2, output  # a configuration error: one line
    assert "cannot connect to the state database postgresql://nobody:***@" in output, output
    assert "hunter2-secret" not in output and "Traceback" not in output
    logs = tmp_path / ".bulk" / "logs"
    assert not logs.exists() or all(
        "hunter2-secret" not in p.read_text(encoding="utf-8") for p in logs.iterdir()
    )


def test_in_a_team_database_each_machines_sandbox_keeps_its_own_rehearsals(
    tmp_path: Path, pg_url: str
) -> None:
    import socket

    from bulk.config import Config
    from bulk.infra.state import StateDir
    from bulk.targets import open_ledger

    ann, bob = StateDir(tmp_path / "ann"), StateDir(tmp_path / "bob")
    with open_ledger(Config(), ann, {"BULK_STATE_URL": pg_url}) as ledger:
        host = socket.gethostname()
        assert ledger.key == f"sandbox/{host}:{ann.sandbox.resolve()}"
        assert ledger.machine == host
        ledger.plan_submission("orders.xlsx", "sandbox", "<x/>", "h", [], NOW)
    with open_ledger(Config(), bob, {"BULK_STATE_URL": pg_url}) as ledger:
        assert ledger.submissions() == []  # Ann's rehearsal went to Ann's sandbox
    with open_ledger(Config(), ann, {}) as alone:  # a ledger of its own: plain "sandbox"
        assert (alone.key, alone.machine, alone.path) == ("sandbox", "", ann.ledger)


def test_the_doctor_connects_to_the_team_database_and_masks_its_password(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from urllib.parse import urlsplit, urlunsplit

    from typer.testing import CliRunner

    from bulk.cli import app

    monkeypatch.chdir(tmp_path)
    for name in ("BULK_HOME", "BULK_SANDBOX_ORDERS", "BULK_CONFIG", "SP_API_REFRESH_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("BULK_STATE_URL", pg_url)
    fine = CliRunner().invoke(app, ["doctor"], catch_exceptions=False)
    assert fine.exit_code == 0, fine.output
    assert f"✓ ledger: the team's database {pg_url} (connected)" in fine.output
    parts = urlsplit(pg_url)
    wrong = urlunsplit(
        (parts.scheme, f"nobody:hunter2-secret@{parts.hostname}:{parts.port}", parts.path, "", "")
    )
    monkeypatch.setenv("BULK_STATE_URL", wrong)
    refused = CliRunner().invoke(app, ["doctor"], catch_exceptions=False)
    assert refused.exit_code == 1, refused.output
    assert "✗ ledger: cannot connect to the state database postgresql://nobody:***@" in (
        refused.output
    )
    assert "hunter2-secret" not in refused.output
