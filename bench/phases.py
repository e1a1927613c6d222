"""Where a `bulk check` of N valid rows spends its time, phase by phase (real time, not profiled).

Usage (from the repository root, with the project installed):

    python bench/phases.py --rows 100000
    python bench/phases.py --rows 100000 --profile check.prof   # cProfile of the same run

The sheet and the order book are those of bench/bench.py, made once per size in --workdir (a
temporary folder by default); `bulk check` runs with the production settings against a sandbox in
a process of its own. Timers wrap the named functions of one process (a few microseconds a call):
the figures are the phases' own wall time, nested phases inside their callers, and the process's
peak memory when each phase last ended. The last line is the whole process's wall time and peak
memory. Use it to decide what to change, then time the
change with bench/check_vs_openpyxl.py.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# The phases of a check, outermost first: module:attribute.path
PHASES = (
    "bulk.pipeline.run:check",
    "bulk.pipeline.run:evaluate",
    "bulk.sheets.excel:ExcelSheet.read",
    "bulk.rules.rows:parse_rows",
    "bulk.pipeline.run:_known",
    "bulk.pipeline.run:_look_up",
    "bulk.amazon.orders:parse_all_orders_report",
    "bulk.pipeline.run:_decide",
    "bulk.pipeline.run:_budgets",
    "bulk.pipeline.planning:listing_risk",
    "bulk.pipeline.run:_render",
    "bulk.pipeline.run:_write",
    "bulk.pipeline.run:_updates",
    "bulk.sheets.excel:ExcelSheet.write",
    "bulk.sheets.excel:_plan",
    "bulk.sheets.xlsx._rewrite:write_rows",
    "bulk.rules.messages:load_templates",
)


def _timed(totals: dict[str, list[float]], key: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            spent = totals.setdefault(key, [0.0, 0, 0.0])
            spent[0] += time.perf_counter() - start
            spent[1] += 1
            # The process's peak memory so far, in MB, when the phase last ended.
            spent[2] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    return timed


def child(argv: list[str]) -> None:
    """Run `bulk argv...` in this process with timers around PHASES; print them at the end."""
    start = time.perf_counter()
    totals: dict[str, list[float]] = {}
    for phase in PHASES:
        module_name, path = phase.split(":")
        module = importlib.import_module(module_name)
        *owners, name = path.split(".")
        owner: Any = module
        for part in owners:
            owner = getattr(owner, part)
        original = getattr(owner, name)
        timed = _timed(totals, phase, original)
        setattr(owner, name, timed)
        if not owners:  # a function imported by name elsewhere: time those calls too
            for loaded in list(sys.modules.values()):
                if getattr(loaded, "__name__", "").startswith("bulk") and (
                    getattr(loaded, name, None) is original
                ):
                    setattr(loaded, name, timed)
    from bulk.cli import main

    sys.argv = ["bulk", *argv]
    try:
        main()
    except SystemExit as exit_:
        code = exit_.code
    else:
        code = 0
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("@@" + json.dumps({"wall": wall, "peak_mb": peak, "code": code, "phases": totals}))


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--workdir", type=Path, help="where the generated files are kept")
    parser.add_argument("--profile", type=Path, help="write a cProfile of the run here instead")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import bench

    with tempfile.TemporaryDirectory(prefix="bulk-phases-") as tmp:
        workdir = (args.workdir or Path(tmp)).resolve()
        workdir.mkdir(parents=True, exist_ok=True)
        sheet, book = workdir / f"orders-{args.rows}.xlsx", workdir / f"book-{args.rows}.json"
        if not sheet.exists() or not book.exists():
            bench.generate(workdir, args.rows)
            shutil.copy(workdir / "orders.xlsx", sheet)
            shutil.copy(workdir / "marketplace.json", book)
        shutil.copy(sheet, workdir / "orders.xlsx")
        shutil.copy(book, workdir / "marketplace.json")
        for state in (workdir / "sb", workdir / ".bulk"):
            shutil.rmtree(state, ignore_errors=True)
        # The templates' self-check is remembered from run to run, as a user's is.
        cache = workdir / "cache"
        with bench.external_sandbox(workdir) as settings:
            env = bench.clean_env(workdir) | settings | {"XDG_CACHE_HOME": str(cache)}
            if args.profile:
                command = ["-m", "cProfile", "-o", str(args.profile.resolve()), "-m", "bulk"]
            else:
                command = [__file__, "--child"]
            ran = subprocess.run(
                [sys.executable, *command, "check", "orders.xlsx"],
                cwd=workdir,
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
    if args.profile:
        print(f"profile written to {args.profile} (exit {ran.returncode})")
        return
    found = [line for line in ran.stdout.splitlines() if line.startswith("@@")]
    if not found:
        raise SystemExit(f"the check failed:\n{ran.stdout}\n{ran.stderr}")
    data = json.loads(found[-1][2:])
    print(f"`bulk check` of {args.rows:,} rows (exit {data['code']}), phase by phase:")
    for phase in PHASES:
        if phase in data["phases"]:
            spent, calls, peak = data["phases"][phase]
            print(f"{spent:8.2f} s  {peak:5.0f} MB  {phase}  ({calls:,} calls)")
    print(f"{data['wall']:8.2f} s  the whole process, {data['peak_mb']:.0f} MB at most")


if __name__ == "__main__":
    main()
