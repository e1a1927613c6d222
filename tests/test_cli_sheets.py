"""Sheets from the wild through the command line: what is refused, and what is left alone."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bulk.cli import app

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    shutil.copytree(ROOT / "samples", tmp_path / "samples")
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    monkeypatch.chdir(tmp_path)
    for name in ("BULK_HOME", "BULK_SANDBOX_ORDERS", "BULK_CONFIG", "LWA_APP_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    yield tmp_path


def bulk(*args: str) -> Any:
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.mark.parametrize("sample", ["orders.csv", "orders.xlsx"])
def test_status_with_nothing_pending_writes_nothing(workdir: Path, sample: str) -> None:
    path = workdir / "samples" / sample
    before = path.read_bytes()
    stamp = path.stat().st_mtime_ns
    result = bulk("status", str(path))
    assert result.exit_code in (0, 1), result.output
    assert path.read_bytes() == before and path.stat().st_mtime_ns == stamp
    backups = workdir / ".bulk" / "backups"
    assert not backups.exists() or not list(backups.iterdir())


@pytest.mark.parametrize("sample", ["orders.csv", "orders.xlsx"])
def test_a_read_only_sheet_is_one_line_and_exit_2(workdir: Path, sample: str) -> None:
    path = workdir / "samples" / sample
    path.chmod(0o444)
    before = path.read_bytes()
    result = bulk("check", str(path))
    assert result.exit_code == 2, result.output
    error = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert error == [
        f"error: {path} is read-only, so bulk cannot write results into it; "
        "make it writable (or work on a copy) and run again"
    ]
    assert path.read_bytes() == before
    backups = workdir / ".bulk" / "backups"
    assert not backups.exists() or not list(backups.iterdir())
