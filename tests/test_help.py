"""`--help`: every command shows an example and its exit codes; `bulk --help` lists every
environment variable bulk reads."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bulk.cli import app
from bulk.commands.help import ENVIRONMENT, EPILOGS

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()
# Read only by the tests' crash and interrupt points and by tests that answer a prompt.
TEST_ONLY = {"BULK_ASSUME_TTY", "BULK_CRASH_AT", "BULK_INTERRUPT_AT"}


def help_of(*command: str) -> str:
    result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())


def commands() -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []
    for command in app.registered_commands:
        found.append(((command.name or command.callback.__name__).replace("_", "-"),))  # type: ignore[union-attr]
    for group in app.registered_groups:
        for command in group.typer_instance.registered_commands:  # type: ignore[union-attr]
            found.append((str(group.name), str(command.name)))
    return found


@pytest.mark.parametrize("command", commands(), ids=" ".join)
def test_every_command_has_an_example_and_its_exit_codes(command: tuple[str, ...]) -> None:
    text = help_of(*command)
    assert f"Example: bulk {' '.join(command)}" in text
    assert "Exit codes:" in text


def test_every_command_has_its_help_text() -> None:
    assert sorted(" ".join(c) for c in commands()) == sorted(EPILOGS)


def test_the_top_level_help_lists_every_environment_variable_bulk_reads() -> None:
    text = help_of()
    read = set()
    for path in (ROOT / "bulk").rglob("*.py"):
        read.update(
            re.findall(
                r'"((?:BULK|GOOGLE|SHEETS|LWA|SP_API)_[A-Z_]+)"', path.read_text(encoding="utf-8")
            )
        )
    missing = read - TEST_ONLY - set(ENVIRONMENT) - {"LWA_CLIENT_SECRET", "SP_API_REFRESH_TOKEN"}
    assert missing == set()
    for name in ENVIRONMENT:
        assert f"{name}:" in text
    assert "LWA_CLIENT_SECRET" in text and "SP_API_REFRESH_TOKEN" in text
