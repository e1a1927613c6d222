"""What every file backend shares: lock-file detection, backups and atomic replacement."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from bulk.errors import SheetError, SheetOpenError
from bulk.infra.state import crash_point


def check_not_open(path: Path) -> None:
    """Refuse when Excel or LibreOffice has the file open (they leave lock files beside it)."""
    name = path.name
    candidates = [
        path.with_name("~$" + name),  # Excel
        path.with_name("~$" + name[2:]),  # Excel shortens long names by two characters
        path.with_name(f".~lock.{name}#"),  # LibreOffice
    ]
    for lock in candidates:
        if lock.exists():
            raise SheetOpenError(
                f"{path} is open in a spreadsheet program ({lock.name} exists); "
                "close it there and run again (if no one has it open, delete "
                f"{lock.name}: it was left by a program that stopped)"
            )


def check_writable(path: Path) -> None:
    """Refuse a sheet file no one may write (mode 444, "Read-only" in Windows' properties)
    before anything is checked or sent: its results could not be written back."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return  # a missing file is reported by the backend that reads it
    # Mode bits, not only os.access: to root every file is writable.
    if not mode & 0o222 or not os.access(path, os.W_OK):
        raise SheetError(
            f"{path} is read-only, so bulk cannot write results into it; make it writable "
            "(or work on a copy) and run again"
        )


def real_file(path: Path) -> Path:
    """The file a sheet path names: a symbolic link's target (links followed to the end), so
    the team's real file is the one updated and the link stays a link."""
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def backup(path: Path, backup_dir: Path) -> Path:
    """Copy the file into the state folder before it is overwritten."""
    backup_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    target = backup_dir / f"{path.stem}.{stamp}{path.suffix}"
    shutil.copy2(path, target)
    return target


def replace_atomically(path: Path, write: Callable[[Path], None], backup_dir: Path | None) -> None:
    """Write to a temporary file in the same folder, keep a backup, then swap it in.

    When `write` fails, the original file is untouched and no temporary file is left. A path
    that is a symbolic link is written through to its target, which is replaced atomically.
    """
    check_not_open(path)
    path = real_file(path)
    check_not_open(path)
    existed = path.exists()
    if existed:
        check_writable(path)
    prefix = f".{path.stem}.bulk-"
    # A run killed while writing leaves its temporary file; the sheet lock says no other run
    # is writing now, so any left over is stale.
    for stale in path.parent.glob(f"{glob.escape(prefix)}*{glob.escape(path.suffix)}"):
        with contextlib.suppress(OSError):
            stale.unlink()
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=prefix, suffix=path.suffix, dir=path.parent)
    except OSError as e:
        raise SheetError(
            f"cannot write in {path.parent}: {e.strerror or e}; check the folder exists "
            "and is not read-only"
        ) from e
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        crash_point("during-sheet-write")
        if existed:
            with contextlib.suppress(OSError):
                shutil.copymode(path, tmp)
        else:
            # mkstemp creates the file readable by its owner only; a new sheet in a shared
            # folder gets the permissions any other new file gets (the umask's).
            tmp.chmod(0o666 & ~_umask())
        if backup_dir is not None and existed:
            backup(path, backup_dir)
        tmp.replace(path)
    except OSError as e:
        # Name the file that failed: the sheet's folder, or the backup folder.
        failed = e.filename if e.filename and Path(e.filename).parent != path.parent else path
        hint = (
            "; check the file and its folder are not read-only"
            if isinstance(e, PermissionError)
            else ""
        )
        raise SheetError(f"cannot write {failed}: {e.strerror or e}{hint}") from e
    finally:
        tmp.unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def stamp(path: Path) -> tuple[int, int]:
    """What tells whether a file changed since it was read."""
    st = path.stat()
    return (st.st_mtime_ns, st.st_size)
