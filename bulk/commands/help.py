"""What `--help` says below each command's options: an example and the exit codes; and, for
`bulk --help`, the environment variables bulk reads. One place, so the README and the help
cannot drift apart (tests/test_help.py holds them to each other)."""

from __future__ import annotations

_RUN_CODES = (
    "Exit codes: 0 every row in good standing; 1 rows to fix (REJECTED, FAILED; 0 with "
    "--exit-zero); 2 could not run (arguments, config, the sheet, credentials) or the results "
    "could not be written; 3 a bug in bulk (the line names its log file); 130 interrupted."
)
_SIMPLE_CODES = (
    "Exit codes: 0 done; 2 could not run (one line says why); 3 a bug in bulk (the line names "
    "its log file); 130 interrupted."
)


def _epilog(*examples: str, codes: str = _SIMPLE_CODES) -> str:
    # Paragraphs: the help renderer joins single line breaks, so each example is its own.
    return "\n\n".join([*(f"Example: {e}" for e in examples), codes])


EPILOGS: dict[str, str] = {
    "check": _epilog("bulk check orders.xlsx", codes=_RUN_CODES),
    "submit": _epilog(
        "bulk submit orders.xlsx --yes", "bulk submit orders.xlsx --dry-run", codes=_RUN_CODES
    ),
    "status": _epilog("bulk status orders.xlsx", codes=_RUN_CODES),
    "due": _epilog(
        "bulk due --yes --log .bulk/due.log",
        codes=(
            "Exit codes: 0 done, or nothing due (also when another run holds the state "
            "folder); 1 this run found rows to fix; 2 could not run; 3 a bug in bulk (the line "
            "names its log file); 130 interrupted."
        ),
    ),
    "pull": _epilog("bulk pull orders.xlsx --days 3"),
    "schedule": _epilog("bulk schedule --kind cron", "bulk schedule --kind windows --logged-off"),
    "new": _epilog("bulk new orders.xlsx", "bulk new --sample demo.xlsx"),
    "init": _epilog("bulk init"),
    "history": _epilog("bulk history --json"),
    "doctor": _epilog(
        "bulk doctor",
        "bulk doctor --json",
        codes="Exit codes: 0 every check passed; 1 a check failed (its line says what to do); "
        "3 a bug in bulk (the line names its log file); 130 interrupted.",
    ),
    "sandbox": _epilog(
        "bulk sandbox --port 8765",
        codes="Exit codes: 130 stopped with Ctrl-C; 2 could not start (the port is taken, a "
        "bad order book); 3 a bug in bulk.",
    ),
    "templates export": _epilog("bulk templates export my-templates"),
}

ENVIRONMENT = {
    "BULK_CONFIG": "the bulk.toml to use (after --config)",
    "BULK_HOME": "the state folder: ledger, backups, logs, locks (default: .bulk here)",
    "BULK_STATE_URL": "a PostgreSQL URL for the team ledger (bulk.toml: state.url)",
    "BULK_SANDBOX_ORDERS": "the sandbox's order book (bulk.toml: sandbox.orders)",
    "BULK_SANDBOX_ROLES": "the app's roles in the sandbox, comma-separated Amazon role names "
    "(bulk.toml: sandbox.roles; default: the roles bulk needs, none restricted)",
    "BULK_SP_API_ENDPOINT": "production: another SP-API host (a proxy, a test server)",
    "BULK_LWA_ENDPOINT": "production: another Login with Amazon host",
    "LWA_APP_ID": "production credentials, with LWA_CLIENT_SECRET and SP_API_REFRESH_TOKEN "
    "(or python-amazon-sp-api's credentials.yml)",
    "SP_API_ACCOUNT": "production: which account of credentials.yml (default: default)",
    "GOOGLE_APPLICATION_CREDENTIALS": "a service account's JSON key for Google Sheets",
    "SHEETS_EMULATOR_HOST": "host:port of a local Sheets API emulator (plain HTTP)",
}


def environment_epilog() -> str:
    lines = [f"{name}: {meaning}." for name, meaning in ENVIRONMENT.items()]
    return "\n\n".join(["Environment variables:", *lines])
