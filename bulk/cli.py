"""The command line: parse arguments, call one core function, print, exit; the one error boundary."""

from __future__ import annotations

import contextlib
import os
import sys
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup

from bulk import __version__
from bulk.commands import doctor, setup
from bulk.commands.common import (
    AllowLossyOption,
    ConfigOption,
    ExitZeroOption,
    Globals,
    IncludeHiddenOption,
    JsonOption,
    SheetArg,
    VerboseOption,
    WorksheetOption,
    config_source,
    emit,
    globals_of,
    human,
    note,
    say,
    sheet_locks,
    state_folder,
)
from bulk.commands.help import EPILOGS, environment_epilog
from bulk.errors import BulkError
from bulk.infra.masking import mask

if TYPE_CHECKING:
    from bulk.config import Config
    from bulk.infra.state import StateDir
    from bulk.output.summary import Document
    from bulk.pipeline.run import Context, RunReport
    from bulk.sheets import Sheet

INTERRUPTED = "interrupted; run the same command again to finish (nothing is sent twice)"


# --- the error boundary ------------------------------------------------------------------


@dataclass(frozen=True)
class _Failure:
    """How a command ended when it could not finish: its exit code, its one line, and (for
    --json) what kind of failure it was and the crash log."""

    code: int
    line: str
    kind: str
    log: Path | None = None


def _crash(exc: BaseException) -> _Failure:
    """An unexpected error: the traceback goes to a log file, one line to the screen."""
    from bulk.infra.state import state_dir, write_crash_log

    text = "".join(traceback.format_exception(exc))
    header = f"bulk {__version__}, {datetime.now(UTC).isoformat()}\n{' '.join(sys.argv)}\n\n"
    try:
        # Exception texts can quote a server's answer: credentials are masked in the file too.
        log = write_crash_log(state_dir(os.environ), mask(header + text), datetime.now(UTC))
    except OSError:
        return _Failure(
            3, f"internal error ({type(exc).__name__}); no log file could be written", "internal"
        )
    return _Failure(
        3,
        f"internal error ({type(exc).__name__}), a bug in bulk; the details are in "
        f"{log}; please report it with that file",
        "internal",
        log,
    )


def _kind(error: BulkError) -> str:
    from bulk.errors import AmazonError, ConfigError, LockError, SheetError, TemplateError

    kinds: tuple[tuple[type[BulkError], str], ...] = (
        (LockError, "lock"),
        (ConfigError, "config"),
        (SheetError, "sheet"),
        (AmazonError, "amazon"),
        (TemplateError, "template"),
    )
    return next((kind for cls, kind in kinds if isinstance(error, cls)), "error")


def _flags_without_type(params: list[Any]) -> list[Any]:
    """Flags take no value: show `--yes`, not `--yes <bool>`."""
    for param in params:
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""
    return params


def _command_args(ctx: Any) -> list[str]:
    """The command's name as typed, before its own arguments are parsed (`ctx.args`)."""
    return list(getattr(ctx, "_protected_args", None) or getattr(ctx, "protected_args", []))


def _wants_json(ctx: Any) -> bool:
    """`--json` among the command's own arguments (before a `--`)."""
    args = [*_command_args(ctx), *ctx.args]
    if "--" in args:
        args = args[: args.index("--")]
    return "--json" in args


def _log_file(ctx: Any) -> Path | None:
    """`bulk due --log FILE`: the boundary sends all output there, its own lines included."""
    if _command_args(ctx)[:1] != ["due"]:
        return None
    args = [*_command_args(ctx), *ctx.args]
    for n, arg in enumerate(args):
        if arg == "--log" and n + 1 < len(args):
            return Path(args[n + 1])
        if arg.startswith("--log="):
            return Path(arg.split("=", 1)[1])
    return None


def _json_error(ctx: Any, failure: _Failure) -> None:
    """The error document, unless the command already printed its one document."""
    from bulk.commands.common import emit, emitted
    from bulk.output.documents import error_document

    if emitted():
        return
    command = ctx.invoked_subcommand or next(iter([*_command_args(ctx)]), None)
    if ctx.parent is not None:  # a nested group (`bulk templates export`)
        command = f"{ctx.info_name} {command}"
    emit(
        error_document(
            command,
            failure.code,
            failure.line,
            kind=failure.kind,
            now=datetime.now(UTC),
            log=failure.log,
        )
    )


class _Group(TyperGroup):
    """Runs every command inside the one error boundary: a BulkError is one line and exit 2,
    Ctrl-C or end of input is 130, anything else is a bug: exit 3 and a log file. With
    `--json`, each of these also prints an error document on stdout (bulk.error/1)."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _flags_without_type(super().get_params(ctx))

    def invoke(self, ctx: Any) -> Any:
        from bulk.commands.common import reset_emitted

        log = None
        if ctx.parent is None:
            reset_emitted()
            log = _log_file(ctx)
        with contextlib.ExitStack() as logged:
            if log is not None:
                from bulk.infra.logfile import logging_to

                try:
                    logged.enter_context(
                        logging_to(log, " ".join([*_command_args(ctx), *ctx.args]))
                    )
                except OSError as e:
                    note(f"warning: cannot write the log {log} ({e.strerror or e}); printing here")
            return self._invoke(ctx)

    def _invoke(self, ctx: Any) -> Any:
        as_json = _wants_json(ctx)
        try:
            return super().invoke(ctx)
        except typer.Exit as e:
            if as_json and e.exit_code not in (0, 1):
                # A command that stopped itself has said why on stderr already.
                _json_error(ctx, _Failure(e.exit_code, "stopped; see the lines above", "error"))
            raise
        except typer.TyperException as e:
            # Usage errors, worded by Typer on stderr as it prints them.
            if as_json:
                _json_error(ctx, _Failure(2, e.format_message(), "usage"))
            raise
        except BulkError as e:
            failure = _Failure(2, str(e), _kind(e))
        except typer.Abort:
            say()  # the prompt's line was left open
            failure = _Failure(130, INTERRUPTED, "interrupted")
        except (KeyboardInterrupt, EOFError):
            failure = _Failure(130, INTERRUPTED, "interrupted")
        except Exception as e:
            failure = _crash(e)
        note(f"error: {failure.line}" if failure.code == 2 or failure.code == 3 else failure.line)
        if as_json:
            _json_error(ctx, failure)
        raise typer.Exit(failure.code) from None


class _Command(TyperCommand):
    """Help that reads right: arguments by name in the usage line (SHEET, not {sheet}) and
    flags without a value type (--yes, not --yes <bool>)."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _flags_without_type(super().get_params(ctx))

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if isinstance(param, TyperArgument):
                name = param.display_name_raw
                pieces.append(name if param.required else f"[{name}]")
            else:
                pieces.extend(param.get_usage_pieces(ctx))
        return pieces


app = typer.Typer(
    cls=_Group,
    help="Cancel Amazon orders in bulk from the spreadsheet your team already shares.",
    epilog=environment_epilog(),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
templates_app = typer.Typer(
    cls=_Group,
    help="The customer-message templates that come with bulk.",
    no_args_is_help=True,
)
app.add_typer(templates_app, name="templates")


@contextlib.contextmanager
def _context(
    config_path: Path | None, verbose: bool, as_json: bool = False
) -> Iterator[tuple[Context, StateDir]]:
    """Config, state folder, lock, ledger, templates and the marketplace, opened for one run."""
    from bulk.config import load_from
    from bulk.infra.progress import Progress
    from bulk.infra.state import run_lock
    from bulk.pipeline.run import Context
    from bulk.rules.messages import load_templates
    from bulk.targets import describe_target, open_account, open_ledger

    env = dict(os.environ)
    source = config_source(config_path)
    config = load_from(source)
    target = describe_target(config, env)
    out = human(as_json)
    out(target.description)
    for warning in target.warnings:
        note(f"warning: {warning}")
    if verbose:
        out(source.describe())
    override = config.messages.templates
    templates = load_templates(
        config.resolve(override) if override else None, config.messages.default_locale
    )
    state = state_folder().ensure()
    with (
        run_lock(state),
        open_ledger(config, state, env) as ledger,
        ledger.run_lock(),
        open_account(config, state, env) as account,
    ):
        ctx = Context(
            config=config,
            ledger=ledger,
            account=account,
            templates=templates,
            target=config.amazon.target,
            now=lambda: datetime.now(UTC),
            progress=note if verbose or sys.stderr.isatty() else (lambda _line: None),
            steps=Progress(
                terminal=sys.stderr.isatty(),
                write=note,
                sandbox=config.amazon.target == "sandbox",
            ),
        )
        yield ctx, state


@dataclass
class _Run:
    """A finished run on one sheet: its report, its summary document, the config it used."""

    report: RunReport
    summary: Document
    config: Config


def _on_sheet(
    config_path: Path | None,
    verbose: bool,
    target: str,
    worksheet: str | None,
    run: Callable[[Context, Sheet], RunReport],
    command: str,
    as_json: bool = False,
    allow_lossy: bool = False,
) -> _Run:
    """Open everything a run needs, hold the sheet against a second bulk run on it (same
    machine, any state folder), remember it for `bulk due`, and run."""
    from bulk.commands.due import sheet_key
    from bulk.infra.heap import long_lived
    from bulk.output.summary import build_summary
    from bulk.sheets import LossyFallbackError
    from bulk.sheets.base import is_google_target

    key = sheet_key(target)
    with (
        _context(config_path, verbose, as_json) as (ctx, state),
        sheet_locks(ctx.ledger)(key),
        long_lived(),
    ):
        sheet = _sheet(target, worksheet, ctx, state, allow_lossy)
        if is_google_target(key) or Path(key).is_file():
            ctx.ledger.remember_sheet(key, worksheet or "", ctx.now(), is_google_target(key))
        try:
            report = run(ctx, sheet)
        except LossyFallbackError as e:
            # Raised when the sheet is read, before anything is sent: asking and running
            # again repeats nothing.
            if allow_lossy or not (sys.stdin.isatty() or os.environ.get("BULK_ASSUME_TTY")):
                raise
            note(f"warning: {e}")
            if not typer.confirm("Write it with openpyxl anyway?", default=False, err=True):
                raise typer.Exit(2) from e
            sheet = _sheet(target, worksheet, ctx, state, allow_lossy=True)
            report = run(ctx, sheet)
        # What `bulk due` will find there, for when it cannot open the sheet.
        ctx.ledger.record_sheet_work(key, worksheet or "", *report.work_left())
        summary = build_summary(
            report, command=command, sheet=sheet.label, target=ctx.target, now=ctx.now()
        )
        return _Run(report, summary, ctx.config)


def _sheet(
    target: str, worksheet: str | None, ctx: Context, state: StateDir, allow_lossy: bool = False
) -> Sheet:
    from bulk.sheets import open_sheet

    google = ctx.config.google.credentials
    credentials = str(ctx.config.resolve(google)) if google else None
    where = f" in {ctx.config.path}" if ctx.config.path else ""
    return open_sheet(
        target, worksheet, state.backups, credentials, allow_lossy, f"[google] credentials{where}"
    )


def _print_summary(summary: Document, verbose: bool, as_json: bool) -> None:
    from bulk.output.summary import attention_lines, summary_lines

    out = human(as_json)
    for line in summary_lines(summary, verbose):
        out(line)
    attention = attention_lines(summary)
    if attention:
        out("rows to fix:")
        for line in attention:
            out(line)


def _post(config: Config, summaries: list[Document]) -> None:
    """The webhook, for the runs worth telling; a failure is one warning line, never an exit."""
    if not config.notify.webhook:
        return
    # Imported only with a webhook to post to: httpx's async client and asyncio are not free.
    from bulk.output.webhook import post, worth_posting

    for summary in summaries:
        if worth_posting(summary):
            warning = post(config.notify.webhook, summary, format=config.notify.format)
            if warning:
                note(warning)


def _finish(run: _Run, verbose: bool, as_json: bool, exit_zero: bool = False) -> int:
    _print_summary(run.summary, verbose, as_json)
    if as_json:
        emit(run.summary)
    _post(run.config, [run.summary])
    code = run.report.exit_code
    # Rows to fix are the sheet's news, not the command's failure, for whoever asks so.
    return 0 if exit_zero and code == 1 else code


# --- commands ----------------------------------------------------------------------------


@app.command(cls=_Command, epilog=EPILOGS["check"])
def check(
    ctx: typer.Context,
    sheet: SheetArg,
    config: ConfigOption = None,
    worksheet: WorksheetOption = None,
    allow_late: Annotated[
        bool, typer.Option("--allow-late", help="Preview rows outside the time window as sendable.")
    ] = False,
    include_hidden: IncludeHiddenOption = False,
    allow_lossy: AllowLossyOption = False,
    verbose: VerboseOption = False,
    as_json: JsonOption = False,
    exit_zero: ExitZeroOption = False,
) -> None:
    """Validate and preview: look orders up, write statuses and messages. Nothing is sent."""
    from bulk.pipeline.run import Options
    from bulk.pipeline.run import check as run_check

    g = globals_of(ctx)
    verbose = verbose or g.verbose
    run = _on_sheet(
        config or g.config,
        verbose,
        sheet,
        worksheet,
        lambda c, s: run_check(c, s, Options(allow_late=allow_late, include_hidden=include_hidden)),
        "check",
        as_json,
        allow_lossy,
    )
    raise typer.Exit(_finish(run, verbose, as_json, exit_zero))


@app.command(cls=_Command, epilog=EPILOGS["submit"])
def submit(
    ctx: typer.Context,
    sheet: SheetArg,
    config: ConfigOption = None,
    worksheet: WorksheetOption = None,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Send without asking to confirm.")
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Do everything but send.")] = False,
    save_feed: Annotated[
        Path | None,
        typer.Option(
            "--save-feed", metavar="FILE", help="Write the feed document it would send to FILE."
        ),
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
    include_hidden: IncludeHiddenOption = False,
    allow_lossy: AllowLossyOption = False,
    verbose: VerboseOption = False,
    as_json: JsonOption = False,
    exit_zero: ExitZeroOption = False,
) -> None:
    """Check, then send what is READY (asks to confirm unless --yes)."""
    from bulk.pipeline.run import Options
    from bulk.pipeline.run import submit as run_submit

    g = globals_of(ctx)
    verbose = verbose or g.verbose

    def confirm(c: Context, report: RunReport) -> bool:
        from bulk.output.confirm import confirmation_lines, question
        from bulk.output.text import summary_lines
        from bulk.targets import describe_target

        if yes:
            return True
        out = human(as_json)
        for line in summary_lines(report, verbose):
            out(line)
        sandbox = c.target == "sandbox"
        where = describe_target(c.config, os.environ).description.removeprefix("target: ")
        main = c.account.marketplace_ids[0]
        for line in confirmation_lines(report, where, main, sandbox, verbose):
            out(line)
        # With no terminal to answer, sending needs --yes. BULK_ASSUME_TTY lets a wrapper
        # (or a test) that feeds the answer on standard input be asked anyway.
        if not sys.stdin.isatty() and not os.environ.get("BULK_ASSUME_TTY"):
            note("not confirmed: run in a terminal to answer, or pass --yes")
            return False
        return typer.confirm(question(report, sandbox), default=False, err=as_json)

    opts = Options(
        dry_run=dry_run,
        allow_late=allow_late,
        wait=not no_wait,
        save_feed=save_feed,
        include_hidden=include_hidden,
    )
    run = _on_sheet(
        config or g.config,
        verbose,
        sheet,
        worksheet,
        lambda c, s: run_submit(c, s, opts, lambda report: confirm(c, report)),
        "submit",
        as_json,
        allow_lossy,
    )
    if dry_run:
        human(as_json)("dry run: nothing was sent")
    elif run.report.declined:
        human(as_json)("nothing was sent; statuses were written so you can review them")
    raise typer.Exit(_finish(run, verbose, as_json, exit_zero))


@app.command(cls=_Command, epilog=EPILOGS["status"])
def status(
    ctx: typer.Context,
    sheet: SheetArg,
    config: ConfigOption = None,
    worksheet: WorksheetOption = None,
    allow_lossy: AllowLossyOption = False,
    verbose: VerboseOption = False,
    as_json: JsonOption = False,
    exit_zero: ExitZeroOption = False,
) -> None:
    """Poll pending submissions and write their results into the sheet."""
    from bulk.pipeline.run import status as run_status

    g = globals_of(ctx)
    verbose = verbose or g.verbose
    run = _on_sheet(
        config or g.config, verbose, sheet, worksheet, run_status, "status", as_json, allow_lossy
    )
    raise typer.Exit(_finish(run, verbose, as_json, exit_zero))


@app.command(cls=_Command, epilog=EPILOGS["due"])
def due(
    ctx: typer.Context,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Send the deferred rows whose day has come.")
    ] = False,
    config: ConfigOption = None,
    verbose: VerboseOption = False,
    as_json: JsonOption = False,
    log: Annotated[
        Path | None,
        typer.Option(
            "--log",
            metavar="FILE",
            help="Append everything it prints to FILE (its folder is created; at most 4 "
            "files of 1 MB are kept), for a scheduler.",
        ),
    ] = None,
) -> None:
    """Finish every sheet this folder's state knows: send DEFERRED rows whose day has come
    (with --yes) and collect pending submissions. Safe to run every hour (`bulk schedule`)."""
    from bulk.commands.due import run_due
    from bulk.errors import LockError
    from bulk.output.summary import due_document

    g = globals_of(ctx)
    verbose = verbose or g.verbose
    out = human(as_json)
    try:
        with _context(config or g.config, verbose, as_json) as (c, state):
            found = run_due(c, lambda t, w: _sheet(t, w, c, state), sheet_locks(c.ledger), send=yes)
            settings = c.config
            now = c.now()
    except LockError as e:
        # Another run holds the state folder (a long due run, or a person's submit): this
        # hour's run has nothing it may do, and the next one picks the work up.
        out(f"nothing done: {e}")
        if as_json:
            emit(due_document([], 0, now=datetime.now(UTC), note=str(e)))
        raise typer.Exit(0) from None
    if not found.runs:
        out("no sheets known yet: run `bulk check` or `bulk submit` on a sheet first")
    for sheet_run in found.runs:
        out(sheet_run.line)
        if sheet_run.summary is not None and (verbose or sheet_run.exit_code):
            for line in _indented(sheet_run.summary, verbose):
                out(line)
    if found.runs and found.nothing_due:
        out("nothing due")
    if found.skipped:
        out(
            f"work was skipped on {len(found.skipped)} sheet(s); it waits until `bulk due` can open them"
        )
    summaries = [r.summary for r in found.runs if r.summary is not None]
    document = due_document(
        [(r.sheet.target, r.sheet.worksheet, r.action, r.line, r.summary) for r in found.runs],
        found.exit_code,
        now=now,
        skipped=[(r.sheet.target, r.sheet.worksheet, r.line) for r in found.skipped],
        nothing_due=found.nothing_due,
    )
    if as_json:
        emit(document)
    if found.skipped:
        summaries.append(document)  # skipped work is worth a post even when nothing was sent
    _post(settings, summaries)
    raise typer.Exit(found.exit_code)


@app.command(cls=_Command, epilog=EPILOGS["pull"])
def pull(
    ctx: typer.Context,
    sheet: SheetArg,
    config: ConfigOption = None,
    worksheet: WorksheetOption = None,
    days: Annotated[
        int,
        typer.Option(
            "--days", min=1, metavar="N", help="Look at orders purchased in the last N days."
        ),
    ] = 7,
    allow_lossy: AllowLossyOption = False,
    verbose: VerboseOption = False,
    as_json: JsonOption = False,
) -> None:
    """Append a row for each unshipped order whose buyer asked Amazon to cancel and that the
    sheet does not hold yet. Nothing is sent; `bulk submit` sends them."""
    from bulk.commands.due import sheet_key
    from bulk.commands.pull import pull_document, pull_lines
    from bulk.pipeline.pull import pull as run_pull
    from bulk.sheets.base import is_google_target

    g = globals_of(ctx)
    verbose = verbose or g.verbose
    key = sheet_key(sheet)
    with _context(config or g.config, verbose, as_json) as (c, state), sheet_locks(c.ledger)(key):
        target = _sheet(sheet, worksheet, c, state, allow_lossy)
        if is_google_target(key) or Path(key).is_file():
            c.ledger.remember_sheet(key, worksheet or "", c.now(), is_google_target(key))
        report = run_pull(c, target, days)
        document = pull_document(report, sheet=target.label, target=c.target, now=c.now())
    for line in pull_lines(document, verbose):
        human(as_json)(line)
    if as_json:
        emit(document)
    raise typer.Exit(0)


def _indented(summary: Document, verbose: bool) -> list[str]:
    from bulk.output.summary import attention_lines, summary_lines

    lines = [f"  {line}" for line in summary_lines(summary, verbose)]
    changed = {**summary, "rows_to_fix": [r for r in summary["rows_to_fix"] if r["changed"]]}
    attention = attention_lines(changed)
    return lines + (["  rows to fix:", *(f"  {line}" for line in attention)] if attention else [])


# The commands that set up or look around, in the order `bulk --help` lists them.
app.command(cls=_Command, epilog=EPILOGS["doctor"])(doctor.doctor)
for _setup_command in (setup.schedule, setup.new, setup.init, setup.history, setup.sandbox):
    app.command(cls=_Command, epilog=EPILOGS[_setup_command.__name__])(_setup_command)
templates_app.command("export", cls=_Command, epilog=EPILOGS["templates export"])(
    setup.templates_export
)


def _version(value: bool) -> None:
    if value:
        say(f"bulk {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    ctx: typer.Context,
    config: ConfigOption = None,
    verbose: VerboseOption = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Cancel Amazon orders in bulk from a shared spreadsheet.

    Nothing reaches Amazon until `bulk submit` is confirmed; with no configuration every
    command talks to a sandbox marketplace on this machine.
    """
    ctx.obj = Globals(config=config, verbose=verbose)


def main() -> None:
    app()
