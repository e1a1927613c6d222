"""The command line: parse arguments, call one core function, print, exit."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bulk import __version__
from bulk.errors import BulkError
from bulk.masking import mask

if TYPE_CHECKING:
    from bulk.config import Config
    from bulk.run import Context, RunReport
    from bulk.sheets import Sheet
    from bulk.state import StateDir

app = typer.Typer(
    help="Cancel Amazon orders in bulk from the spreadsheet your team already shares.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="bulk.toml to use (default: ./bulk.toml).")
]
WorksheetOption = Annotated[
    str | None,
    typer.Option(
        "--worksheet", help="Worksheet title (default: the first with an Order ID column)."
    ),
]
VerboseOption = Annotated[
    bool, typer.Option("--verbose", "-v", help="Also print API calls by operation.")
]
SheetArg = Annotated[
    str, typer.Argument(help="An .xlsx, .xlsm or .csv file, or a Google Sheets URL.")
]


def say(line: str = "") -> None:
    typer.echo(mask(line))


def note(line: str) -> None:
    # Server text reaches these lines (errors, progress): credentials are masked here, once.
    typer.echo(mask(line), err=True)


@contextlib.contextmanager
def boundary() -> Iterator[None]:
    """One error boundary: a BulkError is one line and exit 2; Ctrl-C is 130; a bug shows a traceback."""
    try:
        yield
    except BulkError as e:
        note(f"error: {e}")
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        note("interrupted; run the same command again to finish (nothing is sent twice)")
        raise typer.Exit(130) from None


def _env() -> dict[str, str]:
    return dict(os.environ)


def _state_dir() -> Path:
    return Path(os.environ.get("BULK_HOME") or ".bulk")


def _load(config_path: Path | None) -> Config:
    from bulk.config import load_config

    return load_config(config_path)


@contextlib.contextmanager
def _context(config_path: Path | None, verbose: bool) -> Iterator[tuple[Context, StateDir]]:
    """Config, state folder, lock, ledger, templates and the marketplace, opened for one run."""
    from bulk.amazon.session import describe_target, open_marketplace
    from bulk.ledger import Ledger
    from bulk.messages import load_templates
    from bulk.run import Context
    from bulk.state import StateDir, run_lock

    config = _load(config_path)
    env = _env()
    target = describe_target(config, env)
    say(target.description)
    templates_dir = config.resolve(config.messages.templates)
    if not templates_dir.is_dir():
        bundled = Path(__file__).resolve().parent.parent / "templates"
        if config.messages.templates == "templates" and bundled.is_dir():
            templates_dir = bundled
    templates = load_templates(templates_dir, config.messages.default_locale)
    state = StateDir(_state_dir())
    with (
        run_lock(state),
        Ledger(state.ensure().ledger) as ledger,
        open_marketplace(config, state, env) as marketplace,
    ):
        ctx = Context(
            config=config,
            ledger=ledger,
            marketplace=marketplace,
            templates=templates,
            target=target.name,
            now=lambda: datetime.now(UTC),
            progress=note if verbose or sys.stderr.isatty() else (lambda _line: None),
        )
        yield ctx, state


def _on_sheet(
    config_path: Path | None,
    verbose: bool,
    target: str,
    worksheet: str | None,
    run: Callable[[Context, Sheet], RunReport],
) -> RunReport:
    """Open everything a run needs, hold the sheet against a second bulk run on it (same
    machine, any state folder), and run."""
    from bulk.state import sheet_lock

    key = target if "://" in target or target.startswith("gsheet:") else str(Path(target).resolve())
    with _context(config_path, verbose) as (ctx, state), sheet_lock(key):
        return run(ctx, _sheet(target, worksheet, ctx, state))


def _sheet(target: str, worksheet: str | None, ctx: Context, state: StateDir) -> Sheet:
    from bulk.sheets import open_sheet

    google = ctx.config.google.credentials
    credentials = str(ctx.config.resolve(google)) if google else None
    return open_sheet(target, worksheet, state.backups, credentials)


def _print_report(report: RunReport, verbose: bool) -> int:
    from bulk.report import rows_needing_attention, summary_lines

    for line in summary_lines(report, verbose):
        say(line)
    attention = rows_needing_attention(report)
    if attention:
        say("rows to fix:")
        for line in attention:
            say(line)
    return report.exit_code


@app.command()
def check(
    sheet: SheetArg,
    config: ConfigOption = None,
    worksheet: WorksheetOption = None,
    allow_late: Annotated[
        bool, typer.Option("--allow-late", help="Preview rows outside the time window as sendable.")
    ] = False,
    verbose: VerboseOption = False,
) -> None:
    """Validate and preview: look orders up, write statuses and messages. Nothing is sent."""
    from bulk.run import Options
    from bulk.run import check as run_check

    with boundary():
        report = _on_sheet(
            config,
            verbose,
            sheet,
            worksheet,
            lambda ctx, s: run_check(ctx, s, Options(allow_late=allow_late)),
        )
        raise typer.Exit(_print_report(report, verbose))


@app.command()
def submit(
    sheet: SheetArg,
    config: ConfigOption = None,
    worksheet: WorksheetOption = None,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Send without asking to confirm.")
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Do everything but send.")] = False,
    save_feed: Annotated[
        Path | None,
        typer.Option("--save-feed", help="Write the feed document it would send to FILE."),
    ] = None,
    allow_late: Annotated[
        bool,
        typer.Option(
            "--allow-late", help="Send rows outside the time window instead of holding them."
        ),
    ] = False,
    no_wait: Annotated[
        bool,
        typer.Option("--no-wait", help="Return after sending; `bulk status` collects results."),
    ] = False,
    verbose: VerboseOption = False,
) -> None:
    """Check, then send what is READY (asks to confirm unless --yes)."""
    from bulk.run import Options
    from bulk.run import submit as run_submit

    def confirm(report: RunReport) -> bool:
        from bulk.report import summary_lines

        if yes:
            return True
        for line in summary_lines(report, verbose):
            say(line)
        question = f"Cancel {report.sent_orders} orders ({report.sent_items} items) on Amazon?"
        # With no terminal to answer, sending needs --yes. BULK_ASSUME_TTY lets a wrapper
        # (or a test) that feeds the answer on standard input be asked anyway.
        if not sys.stdin.isatty() and not os.environ.get("BULK_ASSUME_TTY"):
            note("not confirmed: run in a terminal to answer, or pass --yes")
            return False
        return typer.confirm(question, default=False)

    opts = Options(dry_run=dry_run, allow_late=allow_late, wait=not no_wait, save_feed=save_feed)
    with boundary():
        report = _on_sheet(
            config, verbose, sheet, worksheet, lambda ctx, s: run_submit(ctx, s, opts, confirm)
        )
        if dry_run:
            say("dry run: nothing was sent")
        elif report.declined:
            say("nothing was sent; statuses were written so you can review them")
        raise typer.Exit(_print_report(report, verbose))


@app.command()
def status(
    sheet: SheetArg,
    config: ConfigOption = None,
    worksheet: WorksheetOption = None,
    verbose: VerboseOption = False,
) -> None:
    """Poll pending submissions and write their results into the sheet."""
    from bulk.run import status as run_status

    with boundary():
        report = _on_sheet(config, verbose, sheet, worksheet, run_status)
        raise typer.Exit(_print_report(report, verbose))


@app.command()
def new(
    file: Annotated[Path, typer.Argument(help="The .xlsx file to create.")],
    config: ConfigOption = None,
) -> None:
    """Create a blank order sheet with dropdowns, formatting and instructions."""
    from bulk.new import create_order_sheet

    with boundary():
        create_order_sheet(file, _load(config))
        say(f"created {file}: add orders on the Orders sheet, then run `bulk check {file}`")


@app.command()
def history(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """What was sent, when, and how it ended (from the ledger)."""
    from bulk.ledger import Ledger
    from bulk.report import history_json, history_rows, history_text
    from bulk.state import StateDir

    with boundary():
        state = StateDir(_state_dir())
        if not state.ledger.exists():
            rows: list[dict[str, object]] = []
        else:
            with Ledger(state.ledger) as ledger:
                rows = history_rows(ledger)
        if as_json:
            say(history_json(rows))
        else:
            for line in history_text(rows):
                say(line)


@app.command()
def sandbox(
    port: Annotated[int, typer.Option("--port", help="Port on 127.0.0.1.")] = 8765,
    config: ConfigOption = None,
) -> None:
    """Run the local marketplace in the foreground (Ctrl-C stops it)."""
    from bulk.amazon.session import sandbox_orders
    from bulk.sandbox import serve
    from bulk.state import StateDir

    with boundary():
        cfg = _load(config)
        orders = sandbox_orders(cfg, _env())
        state = StateDir(_state_dir()).ensure()
        serve(orders, state.sandbox, port)


def version_callback(value: bool) -> None:
    if value:
        say(f"bulk {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=version_callback, is_eager=True, help="Show the version."
        ),
    ] = False,
) -> None:
    """Cancel Amazon orders in bulk from a shared spreadsheet."""


def main() -> None:
    app()
