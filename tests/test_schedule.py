"""`bulk schedule`: what it prints for each kind of scheduler."""

from __future__ import annotations

import plistlib
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sample import as_a_new_user

from bulk.commands.schedule import KINDS, SCHTASKS_TR_MAX, default_kind, schedule_text
from bulk.errors import ConfigError

FOLDER = Path("/srv/ops team/orders")
BULK = Path(sys.executable).parent / "bulk"


def cron_command(command: str) -> tuple[str, str]:
    """What cron runs, as crontab(5) says: `\\%` stands for %, and the first % not escaped
    ends the command (the rest is its standard input, with each further % a new line)."""
    out, rest, n = [], None, 0
    while n < len(command):
        if command.startswith("\\%", n):
            out.append("%")
            n += 2
        elif command[n] == "%":
            rest = command[n + 1 :].replace("%", "\n")
            break
        else:
            out.append(command[n])
            n += 1
    return "".join(out), rest or ""


def cron_line(text: str) -> str:
    [line] = [x for x in text.splitlines() if x and not x.startswith("#")]
    return line


PROGRAM = "/opt/bulk/.venv/bin/bulk"


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_runs_bulk_due_in_the_folder(kind: str) -> None:
    text = schedule_text(kind, FOLDER, PROGRAM, {})
    assert "bulk due" in text
    assert "due --yes" in text or "<string>due</string>" in text
    assert str(FOLDER) in text


def test_the_cron_line_is_one_line_a_shell_can_run() -> None:  # after cron's own % handling
    env = {"BULK_HOME": "/var/lib/bulk state", "LWA_CLIENT_SECRET": "amzn1.oa2-cs.v1.abc"}
    text = schedule_text("cron", FOLDER, PROGRAM, env)
    line = [x for x in text.splitlines() if not x.startswith("#")]
    assert len(line) == 1
    schedule, command = line[0].split(" ", 5)[:5], line[0].split(" ", 5)[5]
    assert schedule == ["7", "*", "*", "*", "*"]
    words = shlex.split(cron_command(command)[0])
    assert words[:3] == ["cd", str(FOLDER), "&&"]
    assert "BULK_HOME=/var/lib/bulk state" in words
    assert words[words.index(PROGRAM) :][:5] == [
        PROGRAM,
        "due",
        "--yes",
        "--log",
        "/var/lib/bulk state/due.log",
    ]
    # Only bulk's own folders are carried; a credential never is.
    assert "amzn1.oa2-cs" not in text


def test_systemd_prints_a_service_and_a_timer() -> None:
    text = schedule_text("systemd", FOLDER, PROGRAM, {"BULK_CONFIG": "/etc/bulk.toml"})
    assert "# ~/.config/systemd/user/bulk-due.service" in text
    assert "# ~/.config/systemd/user/bulk-due.timer" in text
    assert f"WorkingDirectory={FOLDER}" in text
    assert f'ExecStart="{PROGRAM}" due --yes' in text
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
        ("darwin", False, "launchd"),
        ("win32", False, "windows"),
    ],
)
def test_the_default_follows_the_platform(platform: str, systemd: bool, kind: str) -> None:
    assert default_kind(platform, systemd) == kind


def test_an_unknown_kind_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="use one of: cron, systemd, launchd, windows"):
        schedule_text("at", FOLDER, PROGRAM, {})


@pytest.mark.parametrize("home", ["absolute", "relative", "unset"])
def test_the_cron_line_runs_from_a_folder_named_with_a_percent_sign(
    tmp_path: Path, home: str
) -> None:
    folder = tmp_path / "sched 100%"
    folder.mkdir()
    env = {
        "absolute": {"BULK_HOME": str(tmp_path / "state 50%")},
        "relative": {"BULK_HOME": "state dir"},
        "unset": {},
    }[home]
    line = cron_line(schedule_text("cron", folder, str(BULK), env))
    fields = line.split(" ", 5)
    assert fields[:5] == ["7", "*", "*", "*", "*"]
    command, stdin = cron_command(fields[5])
    assert stdin == "", "a % reached cron unescaped"
    # cron's own environment: sh, a short PATH, HOME; nothing of this shell's.
    cron_env = {
        "PATH": "/usr/bin:/bin",
        "SHELL": "/bin/sh",
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
    }
    done = subprocess.run(
        ["/bin/sh", "-c", command],
        cwd="/",
        env=cron_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == "" and done.stderr == ""  # everything went to the log
    state = {
        "absolute": tmp_path / "state 50%",
        "relative": folder / "state dir",
        "unset": folder / ".bulk",
    }[home]
    log = (state / "due.log").read_text(encoding="utf-8")
    assert "bulk due --yes --log" in log and "no sheets known yet" in log
    assert (state / "ledger.sqlite").exists() or any(state.iterdir())


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
def test_systemd_units_with_awkward_values_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    folder = tmp_path / "ops 100% team"
    env = {"BULK_HOME": 'st"a%te $HOME\\x', "BULK_CONFIG": "/etc/bulk 50%.toml"}
    program = tmp_path / "my bulk 5%" / "bulk"
    program.parent.mkdir()
    program.write_text("#!/bin/sh\n", encoding="utf-8")
    program.chmod(0o755)
    text = schedule_text("systemd", folder, str(program), env)
    units: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        if line.startswith("# ~/.config/systemd/user/"):
            current = line.rsplit("/", 1)[1]
            units[current] = []
        elif current and not line.startswith("#"):
            units[current].append(line)
    for name, lines in units.items():
        (tmp_path / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = subprocess.run(
        ["systemd-analyze", "verify", *(f"./{n}" for n in units)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    # systemd warns (exit 0) about a value it cannot read: there must be none of ours.
    assert "bulk-due" not in done.stderr, done.stderr
    service = "\n".join(units["bulk-due.service"])
    assert 'Environment="BULK_HOME=st\\"a%%te $HOME\\\\x"' in service
    assert 'Environment="BULK_CONFIG=/etc/bulk 50%%.toml"' in service
    assert f"WorkingDirectory={tmp_path}/ops 100%% team" in service
    assert f'ExecStart="{tmp_path}/my bulk 5%%/bulk" due --yes' in service


def test_launchd_prints_a_property_list_macos_reads() -> None:
    env = {"BULK_HOME": 'a & <b> "c"', "BULK_CONFIG": "/etc/bulk.toml"}
    text = schedule_text("launchd", FOLDER, PROGRAM, env)
    agent = plistlib.loads(text.encode("utf-8"))
    assert agent["ProgramArguments"] == [
        PROGRAM,
        "due",
        "--yes",
        "--log",
        f'{FOLDER}/a & <b> "c"/due.log',
    ]
    assert agent["WorkingDirectory"] == str(FOLDER)
    assert agent["StartCalendarInterval"] == {"Minute": 7}
    assert agent["EnvironmentVariables"] == env
    assert agent["Label"].endswith(".due")


def test_windows_quotes_inside_tr_with_backslash_quote() -> None:
    text = schedule_text(
        "windows", Path("C:/Ops Team"), "C:/Program Files/Python/Scripts/bulk.exe", {}
    )
    [command] = [x for x in text.splitlines() if x.startswith("schtasks")]
    assert '""' not in command[:-2]  # the old doubled quotes; \\" ends it here
    tr = command.split(' /TR "', 1)[1].rsplit('"', 1)[0]
    # Task Scheduler gets the command with each \" read as a quote.
    assert tr.replace('\\"', '"') == (
        'cmd /c cd /d "C:/Ops Team" && "C:/Program Files/Python/Scripts/bulk.exe" due --yes '
        '--log "C:/Ops Team/.bulk/due.log"'
    )
    assert "/RU" not in command


def test_windows_can_run_whether_or_not_the_user_is_logged_on() -> None:
    text = schedule_text("windows", Path("C:/Ops"), "C:/bulk.exe", {}, logged_off=True)
    [command] = [x for x in text.splitlines() if x.startswith("schtasks")]
    assert command.endswith(' /RU "%USERDOMAIN%\\%USERNAME%" /RP *')


def test_windows_warns_when_the_command_is_too_long_for_schtasks() -> None:
    text = schedule_text("windows", Path("C:/" + "x" * 200), "C:/bulk.exe", {})
    assert f"schtasks takes at most {SCHTASKS_TR_MAX}" in text.splitlines()[0]


def test_the_log_is_capped_in_size(tmp_path: Path) -> None:
    from bulk.infra.logfile import LOG_KEEP, rotate

    log = tmp_path / "due.log"
    for n in range(LOG_KEEP + 3):
        log.write_text(f"run {n}\n" * 10, encoding="utf-8")
        rotate(log, max_bytes=50)
    assert not log.exists()  # just moved to due.log.1; the next run starts it again
    kept = sorted(p.name for p in tmp_path.iterdir())
    assert kept == [f"due.log.{n}" for n in range(1, LOG_KEEP + 1)]
    assert (tmp_path / "due.log.1").read_text(encoding="utf-8").startswith(f"run {LOG_KEEP + 2}")
    small = tmp_path / "small.log"
    small.write_text("x", encoding="utf-8")
    rotate(small, max_bytes=50)
    assert small.exists()


def test_due_log_creates_its_folder_and_holds_errors_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from bulk.cli import app

    as_a_new_user(monkeypatch, tmp_path)
    (tmp_path / "bulk.toml").write_text("[amazon]\ntarget = 'nowhere'\n", encoding="utf-8")
    log = tmp_path / "new folder" / "due.log"
    result = CliRunner().invoke(app, ["due", "--yes", "--log", str(log)])
    assert result.exit_code == 2
    assert result.output == ""
    text = log.read_text(encoding="utf-8")
    assert text.startswith("--- ") and "bulk due --yes --log" in text
    assert "error:" in text and "target" in text
