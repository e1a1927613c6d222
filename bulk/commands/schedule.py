"""`bulk schedule`: what to install so that `bulk due --yes` runs every hour in a folder: a
crontab line, systemd units, a launchd agent (macOS) or a Task Scheduler command (Windows).

It only prints: installing is the user's step, with the tool they know. Every value that
reaches a scheduler is quoted the way that scheduler reads it (docs/schedules.md), and the job
writes its output with `bulk due --log`, which creates the log's folder and caps its size.
"""

from __future__ import annotations

import plistlib
import shlex
from collections.abc import Mapping
from pathlib import Path

from bulk.errors import ConfigError

KINDS = ("cron", "systemd", "launchd", "windows")
# Carried into the scheduled job so it finds the same configuration and state folder.
CARRIED_ENV = ("BULK_HOME", "BULK_CONFIG", "BULK_SANDBOX_ORDERS")
UNIT = "bulk-due"
TASK = "bulk due"
AGENT = "io.github.bulk-cancel.due"
LOG_NAME = "due.log"
# schtasks /TR takes at most 262 characters (Microsoft's schtasks create reference).
SCHTASKS_TR_MAX = 262

_CREDENTIALS_NOTE = (
    "production: the job needs the Amazon credentials too (LWA_APP_ID, LWA_CLIENT_SECRET, "
    "SP_API_REFRESH_TOKEN in its environment, or python-amazon-sp-api's credentials.yml)"
)


def default_kind(platform: str, has_systemd: bool) -> str:
    if platform.startswith("win"):
        return "windows"
    if platform == "darwin":
        return "launchd"
    return "systemd" if platform.startswith("linux") and has_systemd else "cron"


def log_file(folder: Path, env: Mapping[str, str]) -> Path:
    """Where the job logs: in its state folder (BULK_HOME, relative to the folder, or .bulk)."""
    home = env.get("BULK_HOME", "")
    state = Path(home).expanduser() if home else Path(".bulk")
    return (folder / state) / LOG_NAME


def schedule_text(
    kind: str,
    folder: Path,
    program: str,
    env: Mapping[str, str],
    *,
    logged_off: bool = False,
) -> str:
    """What to install so that `bulk due --yes` runs every hour in `folder`."""
    carried = {name: env[name] for name in CARRIED_ENV if env.get(name)}
    log = log_file(folder, env)
    if kind == "cron":
        return _cron(folder, program, carried, log)
    if kind == "systemd":
        return _systemd(folder, program, carried)
    if kind == "launchd":
        return _launchd(folder, program, carried, log)
    if kind == "windows":
        return _windows(folder, program, carried, log, logged_off)
    raise ConfigError(f"unknown schedule kind {kind!r}; use one of: {', '.join(KINDS)}")


# --- cron ----------------------------------------------------------------------------------


def cron_escape(command: str) -> str:
    """cron turns an unescaped % in a command into a new line (and what follows into the
    command's input); `\\%` is passed on as a plain %."""
    return command.replace("%", "\\%")


def _cron(folder: Path, program: str, carried: Mapping[str, str], log: Path) -> str:
    q = shlex.quote
    prefix = "".join(f"{name}={q(value)} " for name, value in carried.items())
    command = f"cd {q(str(folder))} && {prefix}{q(program)} due --yes --log {q(str(log))}"
    # Minute 7, not 0: scheduled jobs everywhere pile up on the hour.
    return "\n".join(
        [
            "# Add this line with `crontab -e`: bulk due runs at 7 minutes past every hour.",
            f"# It logs to {log} (at most 4 files of 1 MB).",
            f"# {_CREDENTIALS_NOTE}.",
            f"7 * * * * {cron_escape(command)}",
        ]
    )


# --- systemd -------------------------------------------------------------------------------


def systemd_quote(value: str) -> str:
    """One word of a unit file: double-quoted with C escapes, and % (a specifier) doubled."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return '"' + escaped.replace("%", "%%") + '"'


def _systemd_exec(value: str) -> str:
    # ExecStart also expands $NAME: a literal $ is written $$.
    return systemd_quote(value).replace("$", "$$")


def _systemd(folder: Path, program: str, carried: Mapping[str, str]) -> str:
    environment = [
        f"Environment={systemd_quote(f'{name}={value}')}" for name, value in carried.items()
    ]
    return "\n".join(
        [
            f"# ~/.config/systemd/user/{UNIT}.service",
            "[Unit]",
            "Description=bulk: send deferred cancellations whose day has come",
            "",
            "[Service]",
            "Type=oneshot",
            # WorkingDirectory takes one path, unquoted; only its specifiers need escaping.
            f"WorkingDirectory={str(folder).replace('%', '%%')}",
            *environment,
            f"ExecStart={_systemd_exec(program)} due --yes",
            "",
            f"# ~/.config/systemd/user/{UNIT}.timer",
            "[Unit]",
            "Description=Run bulk due every hour",
            "",
            "[Timer]",
            "OnCalendar=hourly",
            "RandomizedDelaySec=5min",
            "Persistent=true",
            "",
            "[Install]",
            "WantedBy=timers.target",
            "",
            f"# Then: systemctl --user daemon-reload && systemctl --user enable --now {UNIT}.timer",
            "# (and `loginctl enable-linger` so it runs while you are logged out).",
            f"# Its output is in the journal: journalctl --user -u {UNIT}.service",
            f"# {_CREDENTIALS_NOTE}, e.g. EnvironmentFile= in the service.",
        ]
    )


# --- launchd (macOS) -----------------------------------------------------------------------


def launchd_plist(folder: Path, program: str, carried: Mapping[str, str], log: Path) -> str:
    agent: dict[str, object] = {
        "Label": AGENT,
        "ProgramArguments": [program, "due", "--yes", "--log", str(log)],
        "WorkingDirectory": str(folder),
        "StartCalendarInterval": {"Minute": 7},
        "RunAtLoad": False,
    }
    if carried:
        agent["EnvironmentVariables"] = dict(carried)
    # plistlib writes Apple's XML property list format, escaping every value as XML needs.
    return plistlib.dumps(agent, sort_keys=False).decode("utf-8")


def _launchd(folder: Path, program: str, carried: Mapping[str, str], log: Path) -> str:
    path = f"~/Library/LaunchAgents/{AGENT}.plist"
    head, doctype, body = launchd_plist(folder, program, carried, log).split("\n", 2)
    # The comment goes after the XML declaration and the DOCTYPE, which must come first;
    # a comment may not hold "--".
    comment = "\n".join(
        [
            f"Save as {path}, then: launchctl bootstrap gui/$(id -u) {path}",
            "     bulk due runs at 7 minutes past every hour while you are logged in;",
            f"     it logs to {log} (at most 4 files of 1 MB).",
            f"     {_CREDENTIALS_NOTE}, e.g. in EnvironmentVariables.",
        ]
    ).replace("--", "- -")
    return "\n".join([head, doctype, f"<!-- {comment} -->", body.rstrip()])


# --- Windows Task Scheduler ----------------------------------------------------------------


def _cmd_quote(value: str) -> str:
    # Inside cmd /c, a path with spaces is quoted; a quote cannot occur in a Windows path.
    return f'"{value}"'


def _windows(
    folder: Path, program: str, carried: Mapping[str, str], log: Path, logged_off: bool
) -> str:
    sets = "".join(f'set "{name}={value}" && ' for name, value in carried.items())
    run = (
        f"cmd /c cd /d {_cmd_quote(str(folder))} && {sets}"
        f"{_cmd_quote(program)} due --yes --log {_cmd_quote(str(log))}"
    )
    # schtasks reads /TR as one argument: its inner quotes are written \" (Microsoft's
    # schtasks create reference).
    tr = run.replace('"', '\\"')
    command = f'schtasks /Create /F /TN "{TASK}" /SC HOURLY /ST 00:07 /TR "{tr}"'
    if logged_off:
        # Run whether the user is logged on or not: the task runs as this account, and
        # schtasks asks for its password (/RP *) to store with the task.
        command += ' /RU "%USERDOMAIN%\\%USERNAME%" /RP *'
    lines = [
        "REM Run once in a Command Prompt: bulk due runs at 7 minutes past every hour",
        "REM "
        + (
            "whether you are logged on or not (schtasks asks for your password)."
            if logged_off
            else "while you are logged on (--logged-off: also while you are not)."
        ),
        f"REM It logs to {log} (at most 4 files of 1 MB).",
        f"REM {_CREDENTIALS_NOTE}.",
        command,
    ]
    if len(run) > SCHTASKS_TR_MAX:
        lines.insert(
            0,
            f"REM warning: the command is {len(run)} characters; schtasks takes at most "
            f"{SCHTASKS_TR_MAX}. Put it in a .cmd file and schedule that file instead.",
        )
    return "\n".join(lines)
