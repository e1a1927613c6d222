"""`bulk schedule`: what it prints for each kind of scheduler."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from bulk.commands.schedule import KINDS, default_kind, schedule_text
from bulk.errors import ConfigError

FOLDER = Path("/srv/ops team/orders")
PROGRAM = "/opt/bulk/.venv/bin/bulk"


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_runs_bulk_due_in_the_folder(kind: str) -> None:
    text = schedule_text(kind, FOLDER, PROGRAM, {})
    assert "bulk due" in text or f"{PROGRAM} due --yes" in text
    assert "due --yes" in text
    assert str(FOLDER) in text


def test_the_cron_line_is_one_line_a_shell_can_run() -> None:
    env = {"BULK_HOME": "/var/lib/bulk state", "LWA_CLIENT_SECRET": "amzn1.oa2-cs.v1.abc"}
    text = schedule_text("cron", FOLDER, PROGRAM, env)
    line = [x for x in text.splitlines() if not x.startswith("#")]
    assert len(line) == 1
    schedule, command = line[0].split(" ", 5)[:5], line[0].split(" ", 5)[5]
    assert schedule == ["7", "*", "*", "*", "*"]
    words = shlex.split(command)
    assert words[:3] == ["cd", str(FOLDER), "&&"]
    assert "BULK_HOME=/var/lib/bulk state" in words
    assert words[words.index(PROGRAM) :][:3] == [PROGRAM, "due", "--yes"]
    # Only bulk's own folders are carried; a credential never is.
    assert "amzn1.oa2-cs" not in text


def test_systemd_prints_a_service_and_a_timer() -> None:
    text = schedule_text("systemd", FOLDER, PROGRAM, {"BULK_CONFIG": "/etc/bulk.toml"})
    assert "# ~/.config/systemd/user/bulk-due.service" in text
    assert "# ~/.config/systemd/user/bulk-due.timer" in text
    assert f"WorkingDirectory={FOLDER}" in text
    assert f"ExecStart={PROGRAM} due --yes" in text
    assert 'Environment="BULK_CONFIG=/etc/bulk.toml"' in text
    assert "OnCalendar=hourly" in text and "WantedBy=timers.target" in text


def test_windows_prints_one_schtasks_command() -> None:
    text = schedule_text("windows", Path("C:/Ops"), "C:/Python/Scripts/bulk.exe", {})
    command = [x for x in text.splitlines() if x.startswith("schtasks")]
    assert len(command) == 1
    assert '/TN "bulk due" /SC HOURLY' in command[0] and "due --yes" in command[0]


@pytest.mark.parametrize(
    ("platform", "systemd", "kind"),
    [
        ("linux", True, "systemd"),
        ("linux", False, "cron"),
        ("darwin", False, "cron"),
        ("win32", False, "windows"),
    ],
)
def test_the_default_follows_the_platform(platform: str, systemd: bool, kind: str) -> None:
    assert default_kind(platform, systemd) == kind


def test_an_unknown_kind_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="use one of: cron, systemd, windows"):
        schedule_text("launchd", FOLDER, PROGRAM, {})
