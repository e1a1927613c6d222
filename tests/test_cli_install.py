"""Install anywhere: the packaged templates and demo book, config discovery, `bulk init`,
`bulk templates export`, the one error boundary and help that reads right.

CliRunner drives the commands in-process; the tests that need a real process (signals, a
closed pipe, no checkout anywhere near) run the `bulk` entry point of the active venv from an
empty temporary folder.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest
from typer.testing import CliRunner

from bulk import __version__
from bulk.cli import INTERRUPTED, app
from bulk.config import Config, parse_config
from bulk.infra.resources import demo_book
from bulk.sandbox import start_sandbox

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "orders.xlsx"
BULK = Path(sys.executable).parent / "bulk"
runner = CliRunner()


@pytest.fixture
def empty(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty working folder far from the checkout, with no configuration anywhere."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    for name in ("BULK_HOME", "BULK_SANDBOX_ORDERS", "BULK_ASSUME_TTY", "LWA_APP_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    yield work


def bulk(*args: str, **kwargs: Any) -> Any:
    return runner.invoke(app, list(args), **kwargs)


def lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.strip()]


def env_for(folder: Path, **extra: str) -> dict[str, str]:
    """The environment of a real `bulk` process: no bulk settings, no user config folder, and a
    home folder of its own beside `folder` (where the user's cache goes)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BULK_", "XDG_"))}
    env.update(HOME=str(home_of(folder)), XDG_CONFIG_HOME=str(folder / "xdg"), **extra)
    return env


def home_of(folder: Path) -> Path:
    return folder.parent / f"{folder.name}-home"


def run(folder: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BULK), *args],
        cwd=folder,
        env=env_for(folder, **extra),
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


def statuses(path: Path) -> dict[str, str]:
    ws = openpyxl.load_workbook(path)["Orders"]
    header = [c.value for c in ws[1]]
    found = {}
    for row in ws.iter_rows(min_row=2, values_only=True):
        values = dict(zip(header, row, strict=False))
        if values.get("Order ID"):
            found[str(values["Order ID"])] = str(values.get("Status") or "")
    return found


def sheet(path: Path) -> list[dict[str, str]]:
    ws = openpyxl.load_workbook(path)["Orders"]
    header = [str(c.value) for c in ws[1]]
    return [
        {h: "" if v is None else str(v) for h, v in zip(header, row, strict=False)}
        for row in ws.iter_rows(min_row=2, values_only=True)
        if row[0]
    ]


def sent_messages(state: Path) -> list[dict[str, Any]]:
    with demo_book() as book, start_sandbox(book, state / "sandbox") as sb:
        messages: list[dict[str, Any]] = httpx.get(f"{sb.url}/_sandbox/messages").json()
        return messages


# --- from an empty folder, no config ----------------------------------------------------------


def test_a_new_user_runs_everything_from_an_empty_folder(tmp_path: Path) -> None:
    work = tmp_path / "anywhere"
    work.mkdir()
    copied = run(work, "new", "--sample", "orders.xlsx")
    assert copied.returncode == 0, copied.stderr
    assert (work / "orders.xlsx").read_bytes() == SAMPLE.read_bytes()

    made = run(work, "new", "blank.xlsx")
    assert made.returncode == 0, made.stderr
    blank = run(work, "check", "blank.xlsx")
    assert blank.returncode == 0, blank.stderr
    assert lines(blank.stdout)[0] == (
        "target: sandbox (local marketplace from the demo order book that comes with bulk; "
        "nothing reaches Amazon)"
    )
    assert "rows: none yet (add orders below the header, then run this again)" in blank.stdout

    sent = run(work, "submit", "orders.xlsx", "--yes")
    assert sent.returncode == 1, sent.stderr  # the sample has rows to fix
    assert "demo order book" in lines(sent.stdout)[0]
    rows = sheet(work / "orders.xlsx")
    cancelled = [r for r in rows if r["Status"] == "CANCELLED"]
    assert len(cancelled) == 6
    assert all(r["Feed ID"] for r in cancelled if "nothing was sent" not in r["Result"])
    assert sum(r["Message Status"].startswith("sent") for r in rows) == 3
    assert any("Guten Tag" in r["Customer Message"] for r in rows)  # the shipped German set

    history = run(work, "history")
    assert history.returncode == 0
    assert "feed 5" in history.stdout and "orders.xlsx" in history.stdout
    for done in (made, blank, sent, history):
        assert "Traceback" not in done.stdout + done.stderr
    # Nothing lands beside the user's files but the state folder; the templates' self-check is
    # remembered in the user's cache folder.
    assert sorted(p.name for p in work.iterdir()) == [".bulk", "blank.xlsx", "orders.xlsx"]
    assert (home_of(work) / ".cache" / "bulk").is_dir()


def test_version() -> None:
    result = bulk("--version")
    assert result.exit_code == 0
    assert result.output == f"bulk {__version__}\n"


# --- bulk init and where the configuration comes from -----------------------------------------


def test_init_writes_a_commented_config_of_defaults_and_never_overwrites(empty: Path) -> None:
    result = bulk("init")
    assert result.exit_code == 0, result.output
    text = (empty / "bulk.toml").read_text(encoding="utf-8")
    written, default = parse_config(tomllib.loads(text)), Config()
    assert written.amazon.marketplace_codes == default.amazon.marketplace_codes == ("US",)
    assert (written.amazon.target, written.amazon.seller_id) == ("sandbox", "A1SANDBOXSELLER")
    assert (written.policy, written.messages, written.sandbox) == (
        default.policy,
        default.messages,
        default.sandbox,
    )
    for setting in ("target =", "marketplaces =", "seller_id =", "window_hours =", "# templates"):
        assert setting in text
    assert sum(line.lstrip().startswith("#") or "  # " in line for line in text.splitlines()) > 15

    (empty / "bulk.toml").write_text('[amazon]\nseller_id = "A2MINE"\n', encoding="utf-8")
    again = bulk("init")
    assert again.exit_code == 2
    assert lines(again.output) == [
        f"error: {empty / 'bulk.toml'} already exists; edit it, or move it away and run "
        "`bulk init` again"
    ]
    assert (empty / "bulk.toml").read_text(encoding="utf-8") == '[amazon]\nseller_id = "A2MINE"\n'


def write_config(folder: Path, label: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "bulk.toml"
    path.write_text(f'[reasons]\n"{label}" = "NoInventory"\n', encoding="utf-8")
    return path


def reason_labels(path: Path) -> str:
    wb = openpyxl.load_workbook(path)
    return " ".join(str(dv.formula1) for dv in wb["Orders"].data_validations.dataValidation)


def test_config_is_found_in_order_and_minus_v_says_which(
    empty: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    none = bulk("-v", "new", "a.xlsx")
    assert none.exit_code == 0
    assert lines(none.output)[0].startswith(
        f"config: none found (looked for {empty / 'bulk.toml'} and "
    )

    xdg = Path(os.environ["XDG_CONFIG_HOME"])
    user = write_config(xdg / "bulk", "From user folder")
    result = bulk("-v", "new", "b.xlsx")
    assert lines(result.output)[0] == f"config: {user} (from your config folder)"
    assert "From user folder" in reason_labels(empty / "b.xlsx")

    here = write_config(empty, "From here")
    result = bulk("-v", "new", "c.xlsx")
    assert lines(result.output)[0] == f"config: {here} (from the current folder)"
    assert "From here" in reason_labels(empty / "c.xlsx")

    named = write_config(tmp_path / "env", "From env")
    monkeypatch.setenv("BULK_CONFIG", str(named))
    result = bulk("-v", "new", "d.xlsx")
    assert lines(result.output)[0] == f"config: {named} (from BULK_CONFIG)"

    given = write_config(tmp_path / "given", "From option")
    for args in (("--config", str(given), "-v", "new", "e.xlsx"),):
        result = bulk(*args)
        assert lines(result.output)[0] == f"config: {given} (from --config)"
    after = bulk("new", "f.xlsx", "--config", str(given))  # after the command works too
    assert after.exit_code == 0
    assert "From option" in reason_labels(empty / "f.xlsx")


def test_a_missing_bulk_config_file_is_one_line(
    empty: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BULK_CONFIG", str(empty / "nope.toml"))
    result = bulk("new", "a.xlsx")
    assert result.exit_code == 2
    assert lines(result.output) == [
        f"error: config file {empty / 'nope.toml'} (BULK_CONFIG) does not exist"
    ]


def test_the_advice_in_samples_bulk_toml_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(ROOT / "samples", tmp_path / "samples", ignore=shutil.ignore_patterns("*.py"))
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    monkeypatch.chdir(tmp_path)
    advice = (ROOT / "samples" / "bulk.toml").read_text(encoding="utf-8").splitlines()[1]
    assert "`bulk new --sample orders.xlsx`" in advice
    assert "`bulk --config samples/bulk.toml check orders.xlsx`" in advice
    assert bulk("new", "--sample", "orders.xlsx").exit_code == 0
    result = bulk("--config", "samples/bulk.toml", "check", "orders.xlsx")
    assert result.exit_code == 1, result.output  # rows to fix, as in the sample
    book = tmp_path / "samples" / "marketplace.json"
    assert lines(result.output)[0] == (
        "target: sandbox (local marketplace from marketplace.json; nothing reaches Amazon)"
    )
    assert book.is_file()
    assert "Northwind Home Goods" in " ".join(
        r["Customer Message"] for r in sheet(tmp_path / "orders.xlsx")
    )


@pytest.mark.parametrize("value", ["inf", "1e300", "nan", "-1"])
def test_window_hours_out_of_range_is_a_config_error(empty: Path, value: str) -> None:
    (empty / "bulk.toml").write_text(f"[policy]\nwindow_hours = {value}\n", encoding="utf-8")
    shutil.copy(SAMPLE, empty / "orders.xlsx")
    result = bulk("check", "orders.xlsx")
    assert result.exit_code == 2
    assert lines(result.output) == [
        f"error: {empty / 'bulk.toml'}: [policy] window_hours must be a positive number of "
        f"hours, at most 8760 (a year), not {float(value)}"
    ]


# --- templates --------------------------------------------------------------------------------


def test_exported_templates_are_an_override_folder(empty: Path) -> None:
    result = bulk("templates", "export", "my-templates")
    assert result.exit_code == 0, result.output
    assert (empty / "my-templates" / "en_US" / "cancel" / "NoInventory.j2").is_file()
    # Keep one file, edited; everything else falls back to the shipped set.
    mine = empty / "my-templates"
    shutil.rmtree(mine)
    (mine / "en_US" / "cancel").mkdir(parents=True)
    (mine / "en_US" / "cancel" / "NoInventory.j2").write_text(
        "Edited by the team: {{ order_id }} is out of stock.\n", encoding="utf-8"
    )
    (empty / "bulk.toml").write_text('[messages]\ntemplates = "my-templates"\n', encoding="utf-8")
    shutil.copy(SAMPLE, empty / "orders.xlsx")
    checked = bulk("check", "orders.xlsx")
    assert checked.exit_code == 1, checked.output
    by_id: dict[str, dict[str, str]] = {}
    for row in sheet(empty / "orders.xlsx"):
        by_id.setdefault(row["Order ID"], row)  # the sample repeats one id on a later row
    assert by_id["112-0000001-0000001"]["Customer Message"] == (
        "Edited by the team: 112-0000001-0000001 is out of stock."
    )
    # Other reasons keep the shipped wording.
    buyer_asked = by_id["112-0000001-0000004"]["Customer Message"]  # BuyerCanceled
    assert buyer_asked and not buyer_asked.startswith("Edited")

    again = bulk("templates", "export", "my-templates")
    assert again.exit_code == 2
    assert lines(again.output)[0].startswith("error: my-templates already holds ")


def test_an_unknown_default_locale_names_the_folder_to_add(empty: Path) -> None:
    (empty / "bulk.toml").write_text('[messages]\ndefault_locale = "da_DK"\n', encoding="utf-8")
    shutil.copy(SAMPLE, empty / "orders.xlsx")
    result = bulk("check", "orders.xlsx")
    assert result.exit_code == 2
    errors = [line for line in lines(result.output) if line.startswith("error:")]
    assert len(errors) == 1
    assert "add templates/da_DK/ to a templates folder of your own" in errors[0]


# --- help ---------------------------------------------------------------------------------


def test_help_shows_flags_as_flags_and_arguments_by_name() -> None:
    result = bulk("submit", "--help", env={"COLUMNS": "120"})
    assert result.exit_code == 0
    assert "Usage: root submit [OPTIONS] SHEET" in result.output  # CliRunner calls it root
    assert "{sheet}" not in result.output and "<bool>" not in result.output
    yes = next(line for line in result.output.splitlines() if line.startswith("│ --yes"))
    assert "Send without asking to confirm." in yes
    assert "--save-feed" in result.output and "FILE" in result.output


@pytest.mark.parametrize(
    "command",
    [
        ["check"],
        ["submit"],
        ["status"],
        ["new"],
        ["init"],
        ["history"],
        ["sandbox"],
        ["templates"],
        ["templates", "export"],
    ],
)
def test_every_command_has_help(command: list[str]) -> None:
    result = bulk(*command, "--help", env={"COLUMNS": "120"})
    assert result.exit_code == 0
    assert "<bool>" not in result.output and "{" not in result.output.split("\n\n")[1]
    usage = next(line for line in result.output.splitlines() if "Usage:" in line)
    body = result.output.split(usage, 1)[1]
    assert len(body.split("╭")[0].strip()) > 20  # a sentence saying what it does


# --- the error boundary -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "command", [["check", "x.xlsx"], ["submit", "x.xlsx"], ["history"], ["sandbox"]]
)
def test_bulk_home_pointing_at_a_file_is_one_line(empty: Path, command: list[str]) -> None:
    (empty / "home").write_text("not a folder", encoding="utf-8")
    shutil.copy(SAMPLE, empty / "x.xlsx")
    result = bulk(*command, env={"BULK_HOME": str(empty / "home")})
    assert result.exit_code == 2
    errors = [line for line in lines(result.output) if line.startswith("error:")]
    assert len(lines(result.output)) <= 3  # the target and a config warning may come first
    assert errors == [
        f"error: the state folder {empty / 'home'} (BULK_HOME) is a file, not a folder; set "
        "BULK_HOME to a folder you can write"
    ]


def test_bulk_home_that_cannot_be_written_is_one_line(empty: Path) -> None:
    shutil.copy(SAMPLE, empty / "x.xlsx")
    # /proc refuses new folders even to root, for whom permission bits mean nothing.
    result = bulk("check", "x.xlsx", env={"BULK_HOME": "/proc/bulk-state"})
    assert result.exit_code == 2
    assert [line for line in lines(result.output) if line.startswith("error")] == [
        "error: the state folder /proc/bulk-state (BULK_HOME) cannot be written (No such file "
        "or directory); set BULK_HOME to a folder you can write"
    ]


NOBODY = 65534


def as_a_user(folder: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    """`bulk` as an ordinary user: as `nobody` (through setpriv) when the tests run as root, as
    CI does, for whom permission bits mean nothing."""
    prefix = []
    if os.geteuid() == 0:
        prefix = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    return subprocess.run(
        [*prefix, str(BULK), *args],
        cwd=folder,
        env=env_for(folder, **extra),
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


def test_bulk_home_without_write_permission_is_one_line() -> None:
    # Outside pytest's own temporary folder, which only its owner may enter.
    work = Path(tempfile.mkdtemp(prefix="bulk-locked-"))
    try:
        work.chmod(0o755)
        locked = work / "locked"
        locked.mkdir(mode=0o500)
        if os.geteuid() == 0:
            os.chown(locked, NOBODY, NOBODY)  # theirs, and read-only to them
        result = as_a_user(work, "history", BULK_HOME=str(locked / "state"))
        assert result.returncode == 0, result.stderr  # reading an absent ledger needs no write
        shutil.copy(SAMPLE, work / "x.xlsx")
        (work / "x.xlsx").chmod(0o644)
        result = as_a_user(work, "check", "x.xlsx", BULK_HOME=str(locked))
        assert result.returncode == 2, result.stdout + result.stderr
        assert "cannot be written (Permission denied)" in result.stdout + result.stderr
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_a_bug_is_exit_3_with_one_line_naming_the_log(
    empty: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object) -> None:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr("bulk.pipeline.run.parse_rows", broken)
    shutil.copy(SAMPLE, empty / "orders.xlsx")
    result = bulk("check", "orders.xlsx")
    assert result.exit_code == 3
    out = [line for line in lines(result.output) if not line.startswith("warning:")]
    assert out[0].startswith("target: sandbox")
    assert len(out) == 2 and "Traceback" not in result.output
    logs = list((empty / ".bulk" / "logs").iterdir())
    assert len(logs) == 1
    assert out[1] == (
        f"error: internal error (ZeroDivisionError), a bug in bulk; the details are in "
        f"{Path('.bulk') / 'logs' / logs[0].name}; please report it with that file"
    )
    text = logs[0].read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in text and "ZeroDivisionError: a bug" in text


def test_end_of_input_at_the_prompt_is_130_and_sends_nothing(
    empty: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BULK_ASSUME_TTY", "1")
    shutil.copy(SAMPLE, empty / "orders.xlsx")
    result = bulk("submit", "orders.xlsx", input="")
    assert result.exit_code == 130
    assert lines(result.output)[-1] == INTERRUPTED
    assert "Aborted" not in result.output
    assert set(statuses(empty / "orders.xlsx").values()) == {""}  # the sheet is untouched


def read_until(stream: Any, marker: bytes) -> bytes:
    seen = b""
    while marker not in seen:
        chunk = os.read(stream.fileno(), 4096)
        if not chunk:
            break
        seen += chunk
    return seen


def test_ctrl_c_at_the_prompt_is_130_with_one_line(tmp_path: Path) -> None:
    shutil.copy(SAMPLE, tmp_path / "orders.xlsx")
    proc = subprocess.Popen(
        [str(BULK), "submit", "orders.xlsx"],
        cwd=tmp_path,
        env=env_for(tmp_path, BULK_ASSUME_TTY="1"),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    shown = read_until(proc.stdout, b"[y/N]")
    assert (
        b"Cancel 5 orders (5 items) in the sandbox and send up to 4 customer messages? [y/N]"
        in shown
    )
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert err.decode().strip().splitlines()[-1] == INTERRUPTED
    assert "Traceback" not in err.decode()
    assert set(statuses(tmp_path / "orders.xlsx").values()) == {""}


def one_order_sheet(folder: Path) -> Path:
    path = folder / "orders.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(
            [
                ["Order ID", "Reason", "Details"],
                ["112-0000001-0000001", "Out of stock", "Supplier shipment of red mugs lost"],
            ]
        )
    return path


@pytest.mark.parametrize("mid_call", [False, True], ids=["between-calls", "while-on-its-way"])
def test_ctrl_c_while_messages_are_sent_prints_no_traceback(tmp_path: Path, mid_call: bool) -> None:
    one_order_sheet(tmp_path)
    if mid_call:
        # The sandbox presses Ctrl-C once the message has reached it, before it answers: the
        # interruption lands while the call is on its way, however loaded the machine is.
        with demo_book() as path:
            book = json.loads(path.read_text(encoding="utf-8"))
        book.update(
            faults={
                "rate": 1.0,
                "kinds": ["interrupt"],
                "operations": ["createUnexpectedProblem"],
                "limit": 1,
            }
        )
        (tmp_path / "book.json").write_text(json.dumps(book), encoding="utf-8")
        extra = {"BULK_SANDBOX_ORDERS": str(tmp_path / "book.json")}
    else:
        extra = {"BULK_INTERRUPT_AT": "before-message"}  # raised between two calls
    done = run(tmp_path, "submit", "orders.csv", "--yes", **extra)
    assert done.returncode == 130, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert "Exception" not in done.stderr
    assert done.stderr.strip().splitlines()[-1] == INTERRUPTED
    # The next run finishes the job and sends no second message (one that may have reached the
    # buyer is "unknown", never sent again: the same book would interrupt a second send).
    again = run(tmp_path, "submit", "orders.csv", "--yes", **(extra if mid_call else {}))
    assert again.returncode == 0, again.stdout + again.stderr
    # Exactly one message in all: sent by the second run (between calls), or by the first, whose
    # call had reached the sandbox when Ctrl-C came (mid-call), and never again.
    assert len(sent_messages(tmp_path / ".bulk")) == 1


def test_a_closed_output_pipe_lets_the_run_finish_quietly(tmp_path: Path) -> None:
    shutil.copy(SAMPLE, tmp_path / "orders.xlsx")
    proc = subprocess.Popen(
        [str(BULK), "submit", "orders.xlsx", "--yes"],
        cwd=tmp_path,
        env=env_for(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()  # `bulk submit ... | head -1`
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.stderr.close()
    proc.wait(timeout=60)
    assert proc.returncode == 1  # rows to fix, as always with the sample
    assert "Traceback" not in err and "internal error" not in err
    assert [r["Status"] for r in sheet(tmp_path / "orders.xlsx")].count("CANCELLED") == 6


def test_sandbox_port_out_of_range_is_a_usage_error(empty: Path) -> None:
    for port in ("70000", "0"):
        result = bulk("sandbox", "--port", port)
        assert result.exit_code == 2
        assert "Invalid value for '--port'" in result.output
        assert "Traceback" not in result.output
