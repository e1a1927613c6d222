"""`bulk schedule`: the crontab line, systemd units or Task Scheduler command that runs `bulk due`.

It only prints: installing is the user's step, with the tool they know.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from pathlib import Path

from bulk.errors import ConfigError

KINDS = ("cron", "systemd", "windows")
# Carried into the scheduled job so it finds the same configuration and state folder.
CARRIED_ENV = ("BULK_HOME", "BULK_CONFIG", "BULK_SANDBOX_ORDERS")
UNIT = "bulk-due"
TASK = "bulk due"

_CREDENTIALS_NOTE = (
    "production: the job needs the Amazon credentials too (LWA_APP_ID, LWA_CLIENT_SECRET, "
    "SP_API_REFRESH_TOKEN in its environment, or python-amazon-sp-api's credentials.yml)"
)


def default_kind(platform: str, has_systemd: bool) -> str:
    if platform.startswith("win"):
        return "windows"
    return "systemd" if platform.startswith("linux") and has_systemd else "cron"


def schedule_text(kind: str, folder: Path, program: str, env: Mapping[str, str]) -> str:
    """What to install so that `bulk due --yes` runs every hour in `folder`."""
    carried = {name: env[name] for name in CARRIED_ENV if env.get(name)}
    if kind == "cron":
        return _cron(folder, program, carried)
    if kind == "systemd":
        return _systemd(folder, program, carried)
    if kind == "windows":
        return _windows(folder, program, carried)
    raise ConfigError(f"unknown schedule kind {kind!r}; use one of: {', '.join(KINDS)}")


def _cron(folder: Path, program: str, carried: Mapping[str, str]) -> str:
    q = shlex.quote
    log = folder / ".bulk" / "due.log"
    prefix = "".join(f"{name}={q(value)} " for name, value in carried.items())
    # Minute 7, not 0: scheduled jobs everywhere pile up on the hour.
    line = f"7 * * * * cd {q(str(folder))} && {prefix}{q(program)} due --yes >> {q(str(log))} 2>&1"
    return "\n".join(
        [
            "# Add this line with `crontab -e`: bulk due runs at 7 minutes past every hour.",
            f"# {_CREDENTIALS_NOTE}.",
            line,
        ]
    )


def _systemd(folder: Path, program: str, carried: Mapping[str, str]) -> str:
    environment = [f'Environment="{name}={value}"' for name, value in carried.items()]
    return "\n".join(
        [
            f"# ~/.config/systemd/user/{UNIT}.service",
            "[Unit]",
            "Description=bulk: send deferred cancellations whose day has come",
            "",
            "[Service]",
            "Type=oneshot",
            f"WorkingDirectory={folder}",
            *environment,
            f"ExecStart={shlex.quote(program)} due --yes",
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
            "# (and `loginctl enable-linger` so it runs while you are logged out);",
            f"# {_CREDENTIALS_NOTE}, e.g. EnvironmentFile= in the service.",
        ]
    )


def _windows(folder: Path, program: str, carried: Mapping[str, str]) -> str:
    sets = "".join(f"set {name}={value}&& " for name, value in carried.items())
    log = folder / ".bulk" / "due.log"
    run = f'cmd /c cd /d ""{folder}"" && {sets}""{program}"" due --yes >> ""{log}"" 2>&1'
    return "\n".join(
        [
            "REM Run once in a Command Prompt: bulk due runs at 7 minutes past every hour.",
            f"REM {_CREDENTIALS_NOTE}.",
            f'schtasks /Create /F /TN "{TASK}" /SC HOURLY /ST 00:07 /TR "{run}"',
        ]
    )
