"""A scheduled run's log file (`bulk due --log FILE`): created with its folder, capped in size.

A scheduler runs `bulk due` every hour for months; its output must not grow without end. When
the file passes LOG_MAX_BYTES it becomes FILE.1 (FILE.1 becomes FILE.2, ...), and at most
LOG_KEEP old files are kept, so the log takes at most (LOG_KEEP + 1) x LOG_MAX_BYTES.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

LOG_MAX_BYTES = 1_000_000
LOG_KEEP = 3


def rotate(path: Path, max_bytes: int = LOG_MAX_BYTES, keep: int = LOG_KEEP) -> None:
    """Shift FILE to FILE.1 (and older ones along) when FILE has reached `max_bytes`."""
    try:
        if path.stat().st_size < max_bytes:
            return
    except FileNotFoundError:
        return
    for n in range(keep, 0, -1):
        older = path.with_name(f"{path.name}.{n}")
        newer = path if n == 1 else path.with_name(f"{path.name}.{n - 1}")
        if newer.exists():
            newer.replace(older)


@contextlib.contextmanager
def logging_to(path: Path, command: str) -> Iterator[None]:
    """Everything the command prints (stdout and stderr) goes to `path`, appended."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rotate(path)
    with (
        open(path, "a", encoding="utf-8", errors="replace") as log,
        contextlib.redirect_stdout(log),
        contextlib.redirect_stderr(log),
    ):
        log.write(f"--- {datetime.now(UTC).isoformat(timespec='seconds')} bulk {command}\n")
        yield
