"""The state folder (.bulk/ or BULK_HOME): ledger, sandbox state, workbook backups, the run lock."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bulk.errors import LockError

# Crash points for the reliability tests: BULK_CRASH_AT names one, and the process dies there
# at once, as if the power went off (no cleanup, no finally blocks).
CRASH_ENV = "BULK_CRASH_AT"


def crash_point(name: str) -> None:
    if os.environ.get(CRASH_ENV) == name:
        os._exit(77)


@dataclass(frozen=True)
class StateDir:
    root: Path

    @property
    def ledger(self) -> Path:
        return self.root / "ledger.sqlite"

    @property
    def sandbox(self) -> Path:
        return self.root / "sandbox"

    @property
    def backups(self) -> Path:
        return self.root / "backups"

    def ensure(self) -> StateDir:
        self.root.mkdir(parents=True, exist_ok=True)
        return self


@contextlib.contextmanager
def run_lock(state: StateDir) -> Iterator[None]:
    """One bulk run per state folder at a time: a second one refuses with one line."""
    state.ensure()
    with _flock(state.root / "run.lock", f"is using {state.root}"):
        yield


@contextlib.contextmanager
def sheet_lock(label: str) -> Iterator[None]:
    """One bulk run per sheet at a time, whatever state folder each uses (same machine).

    The lock file lives in the system's temporary folder, named by a hash of the sheet's
    path or URL, so nothing is added beside the team's file.
    """
    key = hashlib.sha256(label.encode("utf-8")).hexdigest()[:24]
    folder = Path(tempfile.gettempdir()) / f"bulk-locks-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    with _flock(folder / f"{key}.lock", f"is working on {label}"):
        yield


@contextlib.contextmanager
def _flock(path: Path, doing: str) -> Iterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "another process"
            raise LockError(
                f"another bulk run (pid {holder}) {doing}; wait for it to finish and run again"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)
