"""File locks on every system: the `filelock` package (fcntl on POSIX, msvcrt on Windows).

A lock held by a process is released by the system when the process ends, however it ends.
"""

from __future__ import annotations

import getpass
import os
import re
import warnings
from pathlib import Path
from typing import Any


def try_lock(path: Path) -> Any | None:
    """Take the lock file `path` at once, or None when another process holds it."""
    with warnings.catch_warnings():
        # With neither fcntl nor msvcrt (no known system), filelock falls back to a lock
        # file's mere existence and warns once on import; that is still the best there is.
        warnings.simplefilter("ignore")
        import filelock

    lock = filelock.FileLock(str(path), timeout=0, thread_local=False)
    try:
        lock.acquire()
    except filelock.Timeout:
        return None
    return lock


def user_tag() -> str:
    """Who runs bulk, as a file name: the user id on POSIX, the login name elsewhere."""
    getuid = getattr(os, "getuid", None)
    if getuid is not None:
        return str(getuid())
    try:
        name = getpass.getuser()
    except (OSError, KeyError, ImportError, AttributeError):  # no login name to be had
        name = "user"
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name) or "user"
