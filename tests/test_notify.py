"""Customer messages: the text a later run sends is the one previewed, recorded with the submission."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest
from typer.testing import CliRunner

from bulk.cli import app
from bulk.sandbox import start_sandbox

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()
GERMAN = "112-0000001-0000011"  # a buyer in the US marketplace whose language is de_DE


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    shutil.copytree(ROOT / "samples", tmp_path / "samples")
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BULK_HOME", raising=False)
    monkeypatch.delenv("BULK_SANDBOX_ORDERS", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    yield tmp_path


def bulk(*args: str) -> Any:
    return runner.invoke(app, list(args), catch_exceptions=False)


def cells(workdir: Path, column: str) -> dict[str, str]:
    ws = openpyxl.load_workbook(workdir / "samples" / "orders.xlsx")["Orders"]
    header = [c.value for c in ws[1]]
    found: dict[str, str] = {}
    for row in ws.iter_rows(min_row=2, values_only=True):
        if row[0]:
            found.setdefault(str(row[0]), str(row[header.index(column)] or ""))
    return found


def sent_messages(workdir: Path) -> dict[str, str]:
    with start_sandbox(
        workdir / "samples" / "marketplace.json", workdir / ".bulk" / "sandbox"
    ) as sb:
        messages = httpx.get(f"{sb.url}/_sandbox/messages").json()
    assert len({m["orderId"] for m in messages}) == len(messages), "a buyer got two messages"
    return {m["orderId"]: m["text"] for m in messages}


def assert_german_with_titles(text: str) -> None:
    assert text.startswith("Guten Tag,"), text
    assert "1 x Gooseneck Kettle, 1 L" in text  # the item's title, not its SKU
    assert "Der Wasserkocher ist voraussichtlich ab März wieder lieferbar." in text  # the note
    assert "Gooseneck kettles out of stock until March" not in text  # Details stay internal
    assert "December 1, 2026" not in text and "vom " in text  # the purchase date, in German


@pytest.mark.parametrize(
    "how",
    [["submit", "--yes"], ["submit", "--yes", "--no-wait"]],
    ids=["waited", "no-wait-then-status"],
)
def test_the_message_sent_is_the_one_previewed(workdir: Path, how: list[str]) -> None:
    previewed = bulk("check", "samples/orders.xlsx")
    assert previewed.exit_code == 1, previewed.output
    preview = cells(workdir, "Customer Message")
    assert_german_with_titles(preview[GERMAN])

    submitted = bulk(*how[:1], "samples/orders.xlsx", *how[1:])
    assert submitted.exit_code == 1, submitted.output
    if "--no-wait" in how:
        assert cells(workdir, "Status")[GERMAN] == "SUBMITTED"
        assert sent_messages(workdir) == {}
        collected = bulk("status", "samples/orders.xlsx")
        assert collected.exit_code == 1, collected.output
        assert "customer messages: 3 sent" in collected.output, collected.output

    sent = sent_messages(workdir)
    assert set(sent) == {
        "112-0000001-0000001",
        "112-0000001-0000002",
        GERMAN,
    }
    assert_german_with_titles(sent[GERMAN])
    after = cells(workdir, "Customer Message")
    for order_id, text in sent.items():
        assert text == preview[order_id]  # what staff reviewed
        assert after[order_id] == text  # and the sheet still shows what was sent
