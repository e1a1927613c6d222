"""The state folder (.bulk/ or BULK_HOME): ledger, sandbox state, workbook backups, crash logs,
the run lock."""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bulk.errors import ConfigError, LockError
from bulk.infra.locks import try_lock, user_tag

HOME_ENV = "BULK_HOME"
DEFAULT_HOME = ".bulk"

# Crash points for the reliability tests: BULK_CRASH_AT names one, and the process dies there
# at once, as if the power went off (no cleanup, no finally blocks). BULK_INTERRUPT_AT names
# one where Ctrl-C is pressed. (A Ctrl-C while a call is on its way is the sandbox's
# "interrupt" fault.)
CRASH_ENV = "BULK_CRASH_AT"
INTERRUPT_ENV = "BULK_INTERRUPT_AT"


def crash_point(name: str) -> None:
    if os.environ.get(CRASH_ENV) == name:
        os._exit(77)
    if os.environ.get(INTERRUPT_ENV) == name:
        signal.raise_signal(signal.SIGINT)


@dataclass(frozen=True)
class StateDir:
    root: Path
    from_env: bool = False  # named by BULK_HOME (said so in errors)

    @property
    def ledger(self) -> Path:
        return self.root / "ledger.sqlite"

    @property
    def sandbox(self) -> Path:
        return self.root / "sandbox"

    @property
    def backups(self) -> Path:
        return self.root / "backups"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    def _refuse(self, problem: str) -> ConfigError:
        named = f"{self.root} ({HOME_ENV})" if self.from_env else str(self.root)
        fix = (
            f"set {HOME_ENV} to a folder you can write"
            if self.from_env
            else (f"run bulk in a folder you can write, or set {HOME_ENV} to one")
        )
        return ConfigError(f"the state folder {named} {problem}; {fix}")

    def check(self) -> StateDir:
        """Refuse a state folder that is a file (read-only commands need no more)."""
        if self.root.exists() and not self.root.is_dir():
            raise self._refuse("is a file, not a folder")
        return self

    def ensure(self) -> StateDir:
        """Create the folder when missing and prove it can be written, or refuse in one line."""
        self.check()
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            # Root and some file systems ignore permission bits: only a real write tells.
            with tempfile.TemporaryFile(dir=self.root):
                pass
        except FileExistsError:
            raise self._refuse("is a file, not a folder") from None
        except OSError as e:
            raise self._refuse(f"cannot be written ({e.strerror or e})") from None
        return self


def state_dir(env: Mapping[str, str]) -> StateDir:
    """BULK_HOME, else .bulk/ in the current folder."""
    home = env.get(HOME_ENV, "")
    return StateDir(Path(home).expanduser() if home else Path(DEFAULT_HOME), from_env=bool(home))


def write_crash_log(state: StateDir, text: str, moment: datetime) -> Path:
    """Keep an unexpected error's traceback in the state folder's logs/ (else the system's
    temporary folder) and return the file's path."""
    name = f"crash-{moment.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    for folder in (state.logs, Path(tempfile.gettempdir())):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / name
            path.write_text(text, encoding="utf-8")
        except OSError:
            continue
        return path
    raise OSError("no folder to write a crash log to")


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
    folder = Path(tempfile.gettempdir()) / f"bulk-locks-{user_tag()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    with _flock(folder / f"{key}.lock", f"is working on {label}"):
        yield


@contextlib.contextmanager
def _flock(path: Path, doing: str) -> Iterator[None]:
    """Hold the lock file `path`; its holder's pid is kept beside it for the refusal."""
    holder = path.with_name(path.name + ".pid")
    lock = try_lock(path)
    if lock is None:
        try:
            pid = holder.read_text(encoding="utf-8").strip()
        except OSError:
            pid = ""
        raise LockError(
            f"another bulk run (pid {pid or 'unknown'}) {doing}; wait for it to finish and run "
            "again"
        )
    try:
        with contextlib.suppress(OSError):
            holder.write_text(str(os.getpid()), encoding="utf-8")
        yield
    finally:
        lock.release()
