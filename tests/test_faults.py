"""Runs against a sandbox that throttles and fails often still end right, each order sent once."""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest
from sample import EXPECTED, MESSAGED, SENDABLE
from typer.testing import CliRunner

from bulk import access
from bulk.cli import app
from bulk.sandbox import start_sandbox

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


RETRIED_OPERATIONS = (
    *(op.name for op in access.OPERATIONS if op.name != "createFeed"),
    "token",
    "upload",
    "download",
)


def faulty_workdir(
    tmp_path: Path,
    seed: int,
    kinds: tuple[str, ...] = ("429", "500", "503", "slow"),
    operations: tuple[str, ...] = (),
) -> Path:
    shutil.copytree(ROOT / "samples", tmp_path / "samples")
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    book_path = tmp_path / "samples" / "marketplace.json"
    book = json.loads(book_path.read_text(encoding="utf-8"))
    book.update(
        enforce_rate_limits=True,
        time_scale=500,
        faults={"rate": 0.3, "kinds": list(kinds), "seed": seed, "operations": list(operations)},
    )
    book_path.write_text(json.dumps(book), encoding="utf-8")
    (tmp_path / "bulk.toml").write_text('[sandbox]\norders = "samples/marketplace.json"\n')
    return tmp_path


def row_statuses(workdir: Path) -> dict[int, str]:
    ws = openpyxl.load_workbook(workdir / "samples" / "orders.xlsx")["Orders"]
    header = [c.value for c in ws[1]]
    col = header.index("Status") if "Status" in header else None
    return {
        r[0].row: str(r[col].value or "") if col is not None else ""
        for r in ws.iter_rows(min_row=2)
        if r[0].value
    }


def message_statuses(workdir: Path) -> dict[str, str]:
    ws = openpyxl.load_workbook(workdir / "samples" / "orders.xlsx")["Orders"]
    header = [c.value for c in ws[1]]
    col = header.index("Message Status")
    found: dict[str, str] = {}
    for r in ws.iter_rows(min_row=2, values_only=True):
        if r[0]:
            found.setdefault(str(r[0]), str(r[col] or ""))
    return found


def view(workdir: Path, what: str) -> Any:
    book = workdir / "samples" / "marketplace.json"
    calm = workdir / "calm.json"
    data = json.loads(book.read_text(encoding="utf-8"))
    data.pop("faults")
    calm.write_text(json.dumps(data), encoding="utf-8")
    with start_sandbox(calm, workdir / ".bulk" / "sandbox") as sb:
        return httpx.get(f"{sb.url}/_sandbox/{what}").json()


@pytest.mark.parametrize(
    ("seed", "kinds"),
    [
        (1, ("429", "500", "503", "slow")),
        (2, ("429", "500", "503", "slow")),
        (3, ("429", "500", "503", "slow")),
        # Throttled answers with no body, which the library alone would take for success.
        (4, ("429-empty",)),
    ],
)
def test_faults_at_a_high_rate_end_in_the_right_statuses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int, kinds: tuple[str, ...]
) -> None:
    workdir = faulty_workdir(tmp_path, seed, kinds)
    monkeypatch.chdir(workdir)
    monkeypatch.setenv("HOME", str(workdir))
    monkeypatch.delenv("BULK_HOME", raising=False)
    outputs = []
    for _ in range(6):  # a run may stop at a fault it cannot settle; the next one finishes it
        result = runner.invoke(app, ["submit", "samples/orders.xlsx", "--yes", "-v"])
        outputs.append(result.output)
        assert result.exit_code in (1, 2), result.output  # the sample always has REJECTED rows
        assert "Traceback" not in result.output
        if result.exit_code == 1 and row_statuses(workdir) == EXPECTED:
            break
    else:
        pytest.fail("runs did not settle:\n" + "\n---\n".join(outputs))

    sent: Counter[str] = Counter()
    for feed in view(workdir, "feeds"):
        sent.update(re.findall(r"<AmazonOrderID>([^<]+)</AmazonOrderID>", feed["document"] or ""))
    assert set(sent) == SENDABLE
    assert max(sent.values()) == 1, sent
    # No buyer got two messages; every buyer Amazon lets bulk message got one, or the row says
    # that Amazon's answer was lost (a 500 instead of an answer): never sent again, check it.
    messages = Counter(m["orderId"] for m in view(workdir, "messages"))
    assert messages and max(messages.values()) == 1, messages
    assert set(messages) <= MESSAGED, messages
    said = message_statuses(workdir)
    for order_id in MESSAGED - set(messages):
        assert said[order_id].startswith("Amazon did not confirm it"), said
        assert "check Buyer-Seller Messages" in said[order_id]
    for order_id in messages:
        assert said[order_id].startswith(("sent ", "Amazon did not confirm it")), said
    # The faults happened: the sandbox counts each one it answered with.
    calls = view(workdir, "calls")
    faults = {k: n for k, n in calls.items() if k.startswith("fault ")}
    assert sum(faults.values()) >= 3, calls
    assert set(faults) <= {f"fault {kind}" for kind in kinds}, faults


def test_the_faults_really_happen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bulk.amazon.account import AmazonAccount as SellerAccount

    retried: Counter[str] = Counter()
    original = SellerAccount._call

    def counting(self: SellerAccount, operation: str, fn: Any, idempotent: bool = True) -> Any:
        try:
            return original(self, operation, fn, idempotent)
        finally:
            retried.update(self.retries)
            self.retries.clear()

    monkeypatch.setattr(SellerAccount, "_call", counting)
    # Every operation fails now and then but createFeed: its lost answer cannot be retried (the
    # run abandons the feed and the next submit sends it; tests/test_lost_answers.py), and
    # where it falls depends on how many calls come before it.
    workdir = faulty_workdir(tmp_path, 1, operations=RETRIED_OPERATIONS)
    monkeypatch.chdir(workdir)
    monkeypatch.setenv("HOME", str(workdir))
    monkeypatch.delenv("BULK_HOME", raising=False)
    result = runner.invoke(app, ["submit", "samples/orders.xlsx", "--yes"])
    assert sum(retried.values()) >= 5, retried
    # The retries were worth it: the first run, faults and all, ends every row right.
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert row_statuses(workdir) == EXPECTED
    said = message_statuses(workdir)
    assert all(said[o].startswith(("sent ", "Amazon did not confirm it")) for o in MESSAGED), said
    sent = sum(said[o].startswith("sent ") for o in MESSAGED)
    assert f"customer messages: {sent} sent" in result.output, result.output
