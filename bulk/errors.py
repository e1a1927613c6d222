"""The one error family: every expected failure is a BulkError with a message a person can act on."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(value: str, known: Iterable[str]) -> str | None:
    """What a mistyped name most likely meant, for "did you mean" messages: the same name in
    another case, else the nearest spelling, else None."""
    names = list(known)
    same = [k for k in names if k.casefold() == value.casefold()]
    near = same or difflib.get_close_matches(value, names, n=1)
    return near[0] if near else None


class BulkError(Exception):
    """A failure the user can fix; the CLI prints its message on one line and exits 2."""


class ConfigError(BulkError):
    """bulk.toml, the command line or the environment is wrong."""


class SheetError(BulkError):
    """The sheet cannot be read or written."""


class SheetOpenError(SheetError):
    """The sheet's file is open in a spreadsheet program (its lock file is beside it)."""


class AmazonError(BulkError):
    """Amazon (or the sandbox) refused or failed a call."""


class TemplateError(BulkError):
    """A message template cannot be rendered."""


class LockError(BulkError):
    """Another process holds the sheet or the state folder."""
