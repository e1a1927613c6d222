"""The README's quick start: a copy of the sample, sent to the sandbox; the sample itself, which
every test starts from, is never written."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from sample import EXPECTED, as_a_new_user
from typer.testing import CliRunner

from bulk.cli import app

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
runner = CliRunner()


@pytest.fixture
def empty(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    as_a_new_user(monkeypatch, tmp_path)
    yield tmp_path


def bulk(*args: str) -> Any:
    return runner.invoke(app, list(args))


def digest(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.is_file()
    }


def test_the_samples_the_tests_copy_are_the_package_data_bulk_protects() -> None:
    # Tests copy ROOT/samples; in the test install those files are bulk's package data,
    # which no bulk command writes, so a user's run cannot change what the tests start from.
    packaged = resources.files("bulk.samples")
    assert isinstance(packaged, Path)
    assert packaged.resolve() == (ROOT / "samples").resolve()


@pytest.mark.parametrize("name", ["orders.xlsx", "orders.csv"])
@pytest.mark.parametrize("command", ["check", "submit", "status"])
def test_bulk_never_writes_its_own_sample(empty: Path, name: str, command: str) -> None:
    samples = ROOT / "samples"
    before = digest(samples)
    target = os.path.relpath(samples / name, empty)
    result = bulk(command, target, "--yes") if command == "submit" else bulk(command, target)
    assert result.exit_code == 2, result.output
    last = result.output.strip().splitlines()[-1]
    assert last == (
        f"error: {target} is bulk's own sample and stays as shipped; work on a copy: "
        f"`bulk new --sample {name}`, then `bulk check {name}`"
    )
    assert digest(samples) == before


def test_the_quick_start_sends_a_copy_and_exits_zero(empty: Path) -> None:
    made = bulk("new", "--sample", "orders.xlsx")
    assert made.exit_code == 0, made.output
    assert (empty / "orders.xlsx").read_bytes() == (ROOT / "samples" / "orders.xlsx").read_bytes()
    again = bulk("new", "--sample", "orders.xlsx")
    assert again.exit_code == 2
    assert "orders.xlsx already exists" in again.output

    sent = bulk("submit", "orders.xlsx", "--yes", "--exit-zero")
    assert sent.exit_code == 0, sent.output
    rejected = sum(1 for s in EXPECTED.values() if s == "REJECTED")
    assert f"{rejected} REJECTED" in sent.output
    assert "rows to fix:" in sent.output
    assert bulk("history").exit_code == 0


def test_without_exit_zero_rows_to_fix_exit_one(empty: Path) -> None:
    assert bulk("new", "--sample", "orders.xlsx").exit_code == 0
    assert bulk("check", "orders.xlsx").exit_code == 1
    assert bulk("check", "orders.xlsx", "--exit-zero").exit_code == 0


def test_exit_zero_keeps_the_exit_code_of_a_run_that_could_not_run(empty: Path) -> None:
    assert bulk("check", "nothere.xlsx", "--exit-zero").exit_code == 2


def test_the_readme_quick_start_is_what_these_tests_run() -> None:
    blocks = README.split("```sh\n")
    first = blocks[1].split("```")[0]
    assert "bulk new --sample orders.xlsx" in first
    assert "bulk submit orders.xlsx --yes --exit-zero" in first
    assert "samples/orders.xlsx" not in first
    second = blocks[2].split("```")[0]
    assert 'pip install -e ".[test]"' in second and "pytest" in second


def test_a_checkout_s_samples_are_protected_whatever_bulk_runs(tmp_path: Path, empty: Path) -> None:
    # A checkout that bulk was installed from as a copy (`pip install .`): its samples/ are
    # not the package's files, and are still never written.
    checkout = tmp_path / "checkout"
    (checkout / "bulk").mkdir(parents=True)
    (checkout / "bulk" / "__init__.py").write_text("", encoding="utf-8")
    (checkout / "pyproject.toml").write_text("", encoding="utf-8")
    (checkout / "samples").mkdir()
    sample = checkout / "samples" / "orders.xlsx"
    sample.write_bytes((ROOT / "samples" / "orders.xlsx").read_bytes())
    before = sample.read_bytes()
    result = bulk("check", str(sample))
    assert result.exit_code == 2 and "bulk's own sample" in result.output
    assert sample.read_bytes() == before
    # The same file anywhere else is the user's to work on.
    mine = empty / "samples" / "orders.xlsx"
    mine.parent.mkdir()
    mine.write_bytes(before)
    assert bulk("check", str(mine)).exit_code == 1
