"""The `--json` documents' schema ids, and the two documents that are not a run's summary: the
error every failed command prints and the ledger's history.

Each document type has its own id, `bulk.<type>/<n>`; a change of a field's meaning (or a
field renamed or removed) bumps n. docs/json.md describes every field and docs/schemas/ holds
a JSON Schema per document, which the tests validate the output against.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SUMMARY = "bulk.summary/2"
DUE = "bulk.due/1"
HISTORY = "bulk.history/1"
PULL = "bulk.pull/1"
ERROR = "bulk.error/1"
DOCTOR = "bulk.doctor/1"

Document = dict[str, Any]

# What kind of failure an error document reports, by exit code (and for 2, by error class).
KINDS = (
    "usage",
    "config",
    "sheet",
    "amazon",
    "template",
    "lock",
    "error",
    "internal",
    "interrupted",
)


def error_document(
    command: str | None,
    exit_code: int,
    error: str,
    *,
    kind: str,
    now: datetime,
    log: Path | None = None,
) -> Document:
    """A command that could not finish: its exit code and the line it printed on stderr."""
    return {
        "schema": ERROR,
        "command": command,
        "at": now.astimezone(UTC).isoformat(timespec="seconds"),
        "exit_code": exit_code,
        "kind": kind,
        "error": error,
        "log": str(log) if log is not None else None,
    }


def history_document(rows: list[dict[str, object]], now: datetime) -> Document:
    """`bulk history --json`: every submission in the ledger, oldest first."""
    return {
        "schema": HISTORY,
        "command": "history",
        "at": now.astimezone(UTC).isoformat(timespec="seconds"),
        "exit_code": 0,
        "submissions": rows,
    }
