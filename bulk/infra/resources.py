"""Package data: the shipped message templates and the sandbox's demo order book.

In the repository they live at the top level (`templates/`, `samples/marketplace.json`);
the wheel carries them inside the package as `bulk.templates` and `bulk.samples` (pyproject.toml's package-dir).
They are read through importlib.resources, so an installed `bulk` works from any folder.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

DEMO_BOOK_NAME = "marketplace.json"
SAMPLE_SHEET_NAME = "orders.xlsx"
# What a packaged file is called in messages when it has no path on disk (a zipped install).
PACKAGED_TEMPLATES_LABEL = "bulk/templates"


def packaged_templates() -> Traversable:
    """The templates folder shipped with bulk (one folder per locale, and README.md)."""
    return resources.files("bulk.templates")


def label(entry: Traversable, fallback: str) -> str:
    """How a packaged file is named in a message: its path on disk, or `fallback`."""
    return os.fspath(entry) if isinstance(entry, Path) else fallback


@contextlib.contextmanager
def demo_book() -> Iterator[Path]:
    """The demo order book (the sample sheet's orders) as a file on disk while in use."""
    with resources.as_file(resources.files("bulk.samples") / DEMO_BOOK_NAME) as path:
        yield path


def copy_sample(dest: Path) -> None:
    """Write a copy of the sample sheet (the demo book's orders, one row per outcome) to `dest`."""
    dest.write_bytes((resources.files("bulk.samples") / SAMPLE_SHEET_NAME).read_bytes())


def is_packaged_sample(path: Path) -> bool:
    """Whether `path` is one of bulk's own sample files: runs work on a copy, so the sample
    (and every test that starts from it) stays as shipped. That is the installed package's
    samples, and a checkout's `samples/` folder (beside `bulk/` and pyproject.toml) even when
    the bulk that runs was installed from it as a copy (`pip install .`)."""
    try:
        folder = path.resolve().parent
        packaged = resources.files("bulk.samples")
        if isinstance(packaged, Path) and folder == packaged.resolve():
            return path.name != "__init__.py"
        checkout = folder.parent
        return (
            folder.name == "samples"
            and (checkout / "pyproject.toml").is_file()
            and (checkout / "bulk" / "__init__.py").is_file()
        )
    except OSError:
        return False


def walk(folder: Traversable, prefix: str = "") -> Iterator[tuple[str, Traversable]]:
    """Every file below `folder` as (posix path relative to it, entry), sorted, skipping
    Python's own files (`__init__.py`, caches) that make the folder a package."""
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name in ("__init__.py", "__pycache__") or entry.name.endswith(".pyc"):
            continue
        name = f"{prefix}{entry.name}"
        if entry.is_dir():
            yield from walk(entry, f"{name}/")
        elif entry.is_file():
            yield name, entry
