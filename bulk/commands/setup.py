"""The commands that set bulk up or look around, without running the pipeline on a sheet:
schedule, new, init, templates export, history, sandbox."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from bulk.commands.common import (
    ConfigOption,
    JsonOption,
    emit,
    globals_of,
    load_config,
    say,
    state_folder,
)


def schedule(
    kind: Annotated[
        str | None,
        typer.Option(
            "--kind",
            metavar="KIND",
            help="cron, systemd, launchd or windows (default: this machine's usual scheduler).",
        ),
    ] = None,
    logged_off: Annotated[
        bool,
        typer.Option(
            "--logged-off",
            help="(windows) Run whether or not you are logged on; schtasks asks for your password.",
        ),
    ] = False,
) -> None:
    """Print what to install so `bulk due --yes` runs every hour from this folder; installs
    nothing."""
    import shutil

    from bulk.commands.schedule import default_kind, schedule_text

    chosen = kind or default_kind(sys.platform, Path("/run/systemd/system").is_dir())
    program = shutil.which("bulk") or str(Path(sys.argv[0]).resolve())
    say(schedule_text(chosen, Path.cwd(), program, dict(os.environ), logged_off=logged_off))


def new(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(metavar="FILE", help="The .xlsx file to create.", show_default=False)
    ],
    config: ConfigOption = None,
    sample: Annotated[
        bool,
        typer.Option(
            "--sample",
            help="Write a copy of the sample sheet (the demo orders, one row per outcome) "
            "instead of a blank one.",
        ),
    ] = False,
) -> None:
    """Create a blank order sheet with dropdowns, formatting and instructions."""
    from bulk.commands.new import create_order_sheet, create_sample_sheet

    g = globals_of(ctx)
    if sample:
        create_sample_sheet(file)
        say(
            f"created {file}: the sample's orders are in the sandbox's demo book; "
            f"run `bulk submit {file}` to try them"
        )
        return
    create_order_sheet(file, load_config(config or g.config, g.verbose))
    say(f"created {file}: add orders on the Orders sheet, then run `bulk check {file}`")


def init() -> None:
    """Write a commented bulk.toml in this folder (an existing one is never overwritten)."""
    from bulk.config import write_init

    path = write_init(Path.cwd())
    say(f"wrote {path}: every setting is shown with its default; edit what you need")


def templates_export(
    folder: Annotated[
        Path,
        typer.Argument(
            metavar="DIR", help="Folder to copy them into (created).", show_default=False
        ),
    ],
) -> None:
    """Copy the templates that come with bulk into DIR to edit; point bulk.toml's
    messages.templates at DIR to use them (files missing there come from bulk's own)."""
    from bulk.rules.messages import export_templates

    written = export_templates(folder)
    say(
        f"copied {len(written)} files to {folder}; set [messages] templates = "
        f'"{folder}" in bulk.toml to use them (see {folder / "README.md"})'
    )


def history(
    ctx: typer.Context,
    as_json: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """What was sent to the configured target, when, and how it ended (from the ledger)."""
    from datetime import UTC, datetime

    from bulk.output.documents import history_document
    from bulk.output.text import history_rows, history_text
    from bulk.targets import open_ledger, state_url

    g = globals_of(ctx)
    cfg = load_config(config or g.config, g.verbose)
    state = state_folder()
    if not state_url(cfg, os.environ) and not state.ledger.exists():
        rows: list[dict[str, object]] = []
    else:
        with open_ledger(cfg, state) as ledger:
            rows = history_rows(ledger)
    if as_json:
        emit(history_document(rows, datetime.now(UTC)))
    else:
        for line in history_text(rows):
            say(line)


def sandbox(
    ctx: typer.Context,
    port: Annotated[
        int, typer.Option("--port", min=1, max=65535, metavar="N", help="Port on 127.0.0.1.")
    ] = 8765,
    config: ConfigOption = None,
) -> None:
    """Run the local marketplace in the foreground (Ctrl-C stops it)."""
    from bulk.sandbox import serve
    from bulk.targets import granted_roles, sandbox_orders

    g = globals_of(ctx)
    cfg = load_config(config or g.config, g.verbose)
    state = state_folder().ensure()
    with sandbox_orders(cfg, dict(os.environ)) as orders:
        serve(orders, state.sandbox, port, granted_roles(cfg, dict(os.environ)))
