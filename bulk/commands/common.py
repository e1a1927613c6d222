"""What every command shares below the error boundary: output lines (masked), the common
options, the global options, and finding the config and the state folder."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bulk.infra.masking import mask
from bulk.infra.progress import print_above

if TYPE_CHECKING:
    from bulk.config import Config, ConfigSource
    from bulk.infra.ledger import Ledger
    from bulk.infra.state import StateDir


def say(line: str = "") -> None:
    try:
        # A bar shows on the terminal: the line goes above it, through the bar's console.
        if not (sys.stdout.isatty() and print_above(mask(line))):
            typer.echo(mask(line))
    except BrokenPipeError:
        _reader_gone()


class _Emitted:
    """Whether this command has printed its JSON document (the boundary prints an error
    document only when it has not: exactly one document on stdout)."""

    document = False


def emit(document: dict[str, object]) -> None:
    """Print the command's one JSON document on stdout (masked like every line)."""
    import json

    say(json.dumps(document, indent=2))
    _Emitted.document = True


def emitted() -> bool:
    return _Emitted.document


def reset_emitted() -> None:
    _Emitted.document = False


def note(line: str) -> None:
    # Server text reaches these lines (errors, progress): credentials are masked here, once.
    # While a progress bar shows, the line goes through its console, above the bar.
    try:
        if not print_above(mask(line)):
            typer.echo(mask(line), err=True)
    except BrokenPipeError:
        _reader_gone()


def _reader_gone() -> None:
    """Whoever read the output went away (`bulk submit ... | head`): the run still finishes
    (a half-finished run is worse than lost output), silently."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            os.dup2(devnull, stream.fileno())
    os.close(devnull)


ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        metavar="FILE",
        help="bulk.toml to use (default: BULK_CONFIG, ./bulk.toml, then your config folder).",
    ),
]
WorksheetOption = Annotated[
    str | None,
    typer.Option(
        "--worksheet",
        metavar="TITLE",
        help="Worksheet title (default: the first with an Order ID column).",
    ),
]
AllowLossyOption = Annotated[
    bool,
    typer.Option(
        "--allow-lossy",
        help="Write a workbook only openpyxl can read, losing what the refusal lists.",
    ),
]
IncludeHiddenOption = Annotated[
    bool,
    typer.Option("--include-hidden", help="Check and send rows hidden in the sheet too."),
]
VerboseOption = Annotated[
    bool,
    typer.Option(
        "--verbose", "-v", help="Also say which config file is used and the API calls made."
    ),
]
JsonOption = Annotated[
    bool,
    typer.Option(
        "--json",
        help="Print one JSON document on stdout, errors included (docs/json.md); "
        "the lines for people go to stderr.",
    ),
]
ExitZeroOption = Annotated[
    bool,
    typer.Option(
        "--exit-zero",
        help="Exit 0 when the run found rows to fix (REJECTED, FAILED) instead of 1; "
        "2, 3 and 130 still mean it could not finish.",
    ),
]
SheetArg = Annotated[
    str,
    typer.Argument(
        metavar="SHEET",
        help="An .xlsx, .xlsm or .csv file, or a Google Sheets URL.",
        show_default=False,
    ),
]


@dataclass(frozen=True)
class Globals:
    """Options given before the command (`bulk --config FILE -v check ...`)."""

    config: Path | None = None
    verbose: bool = False


def globals_of(ctx: typer.Context) -> Globals:
    found = ctx.find_root().obj
    return found if isinstance(found, Globals) else Globals()


def config_source(config_path: Path | None) -> ConfigSource:
    from bulk.config import find_config, user_config_file

    return find_config(config_path, os.environ, Path.cwd(), user_config_file())


def load_config(config_path: Path | None, verbose: bool = False) -> Config:
    from bulk.config import load_from

    source = config_source(config_path)
    config = load_from(source)
    if verbose:
        say(source.describe())
    return config


def state_folder() -> StateDir:
    from bulk.infra.state import state_dir

    return state_dir(os.environ).check()


def human(as_json: bool) -> Callable[[str], None]:
    """Where the lines a person reads go: stderr when stdout carries the JSON document."""
    return note if as_json else say


def sheet_locks(ledger: Ledger) -> Callable[[str], contextlib.AbstractContextManager[None]]:
    """Holding a sheet: against runs on this machine (a lock file), and against the team's
    other machines when the ledger is the team's database."""
    from bulk.infra.state import sheet_lock

    @contextlib.contextmanager
    def hold(label: str) -> Iterator[None]:
        with sheet_lock(label), ledger.hold(f"bulk sheet {label}", f"is working on {label}"):
            yield

    return hold
