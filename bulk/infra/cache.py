"""Facts bulk proved once and need not prove again, remembered in the user's cache folder.

Each fact is a file named by a hash of everything it depends on: when any of that changes, the
name changes and the fact is proved afresh. Only successes are remembered, and a cache that
cannot be read or written is no cache at all (never an error).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

CACHE_ENV = "XDG_CACHE_HOME"


def cache_dir() -> Path:
    """$XDG_CACHE_HOME/bulk, else ~/.cache/bulk (%LOCALAPPDATA%\\bulk on Windows)."""
    base = os.environ.get(CACHE_ENV) or os.environ.get("LOCALAPPDATA")
    return (Path(base) if base else Path.home() / ".cache") / "bulk"


def digest(*parts: str | bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()


def known(kind: str, key: str) -> bool:
    try:
        return (cache_dir() / kind / key).is_file()
    except OSError:
        return False


def remember(kind: str, key: str) -> None:
    try:
        folder = cache_dir() / kind
        folder.mkdir(parents=True, exist_ok=True)
        (folder / key).touch()
    except OSError:
        pass
