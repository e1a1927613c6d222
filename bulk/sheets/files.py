"""What every file backend shares: lock-file detection, backups and atomic replacement."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from bulk.errors import SheetError


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
            raise SheetError(
                f"{path} is open in a spreadsheet program ({lock.name} exists); "
                "close it there and run again"
            )


def backup(path: Path, backup_dir: Path) -> Path:
    """Copy the file into the state folder before it is overwritten."""
    backup_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    target = backup_dir / f"{path.stem}.{stamp}{path.suffix}"
    shutil.copy2(path, target)
    return target


def replace_atomically(path: Path, write: Callable[[Path], None], backup_dir: Path | None) -> None:
    """Write to a temporary file in the same folder, keep a backup, then swap it in."""
    check_not_open(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        with contextlib.suppress(OSError):
            shutil.copymode(path, tmp)
        if backup_dir is not None and path.exists():
            backup(path, backup_dir)
        tmp.replace(path)
    except PermissionError as e:
        raise SheetError(
            f"cannot write {path}: {e.strerror}; check the file is not read-only"
        ) from e
    finally:
        tmp.unlink(missing_ok=True)


def stamp(path: Path) -> tuple[int, int]:
    """What tells whether a file changed since it was read."""
    st = path.stat()
    return (st.st_mtime_ns, st.st_size)
