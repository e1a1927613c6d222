"""Benchmark bulk at 1k, 10k and 100k rows against the sandbox, and write bench/RESULTS.md.

Usage (from the repository root, with the project installed):

    python bench/bench.py                   # 1k, 10k and 100k rows
    python bench/bench.py --sizes 1000,10000

For each size it generates an order sheet and a matching sandbox order book, starts the
sandbox in a process of its own, and measures, each in a fresh process: wall time, CPU time and
peak memory of `bulk check` and `bulk submit --yes` with the production settings pointed at that
sandbox (so the figures are bulk's own, not the test double's), the API calls they made by
operation, and the time those calls would need at Amazon's published rate limits; beside the
same figures for openpyxl's bare load and save of the same workbook (nothing written), measured
in the same run, openpyxl and bulk taking turns, and for looking every order up one by one.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hostile import HEADING as HOSTILE_HEADING  # noqa: E402  (bench/hostile.py, next to this)

from bulk.marketplaces import rate_limited_seconds  # noqa: E402

MEASURE = r"""
import json, os, resource, sys, time
start = time.perf_counter()
kind = sys.argv[1]
code = 0
if kind == "openpyxl":
    import openpyxl
    wb = openpyxl.load_workbook(sys.argv[2])
    wb.save(sys.argv[2])
else:
    from bulk.cli import app
    try:
        app(sys.argv[2:], standalone_mode=False)
    except SystemExit as e:
        code = int(e.code or 0)
    except Exception as e:  # a typer.Exit carries the exit code
        code = int(getattr(e, "exit_code", 1))
wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_SELF)
cpu = usage.ru_utime + usage.ru_stime
peak = usage.ru_maxrss / 1024
print("@@" + json.dumps({"wall": wall, "cpu": cpu, "peak_mb": peak, "code": code}), file=sys.stderr)
"""

# The sandbox in a process of its own: prints its URL, serves until its standard input closes.
SANDBOX = r"""
import sys
from pathlib import Path
from bulk.sandbox import start_sandbox
with start_sandbox(Path(sys.argv[1]), Path(sys.argv[2])) as sandbox:
    print(sandbox.url, flush=True)
    sys.stdin.read()
"""


# A sandbox order book loaded in a fresh process: json.loads of the file alone (the floor any
# loader pays), then the sandbox's own load_book (parse, check every order, build the book).
LOAD_BOOK = r"""
import json, sys, time
from pathlib import Path
path = Path(sys.argv[1])
raw = path.read_bytes()
start = time.perf_counter()
json.loads(raw)
floor = time.perf_counter() - start
from bulk.sandbox.book import load_book
start = time.perf_counter()
book = load_book(path)
took = time.perf_counter() - start
print(json.dumps({"load": took, "floor": floor, "orders": len(book.orders)}))
"""


@dataclass
class Measure:
    wall: float
    cpu: float
    peak_mb: float
    calls: dict[str, int]
    output: str
    amazon: float = 0.0  # waiting for the sandbox's answers (bulk's -v summary says how long)

    @property
    def rate_limited(self) -> float:
        return rate_limited_seconds(self.calls)

    @property
    def own(self) -> float:
        """Wall time less the wait for Amazon's answers: bulk's own work."""
        return self.wall - self.amazon


# The user cache every measured run shares (bulk.infra.cache): empty when the bench starts, so
# the first run pays for the templates' self-check and the later ones do not, as on a machine.
CACHE = Path(tempfile.mkdtemp(prefix="bulk-bench-cache-"))
atexit.register(shutil.rmtree, CACHE, True)


def clean_env(workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BULK_", "SP_API", "LWA_"))}
    env["BULK_HOME"] = str(workdir / ".bulk")
    env["XDG_CACHE_HOME"] = str(CACHE)
    return env


@contextlib.contextmanager
def external_sandbox(workdir: Path) -> Iterator[dict[str, str]]:
    """Start the sandbox in its own process; yield the production settings that reach it."""
    from bulk.sandbox import auth

    proc = subprocess.Popen(
        [sys.executable, "-c", SANDBOX, str(workdir / "marketplace.json"), str(workdir / "sb")],
        cwd=workdir,
        env=clean_env(workdir),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        url = proc.stdout.readline().strip()
        if not url.startswith("http://127.0.0.1:"):
            raise SystemExit(f"the sandbox did not start (it printed {url!r})")
        yield {
            "BULK_SP_API_ENDPOINT": url,
            "BULK_LWA_ENDPOINT": url,
            "LWA_APP_ID": auth.CLIENT_ID,
            "LWA_CLIENT_SECRET": auth.CLIENT_SECRET,
            "SP_API_REFRESH_TOKEN": auth.REFRESH_TOKEN,
        }
    finally:
        proc.stdin.close()
        proc.wait(timeout=120)


def measure(workdir: Path, *args: str, settings: dict[str, str] | None = None) -> Measure:
    env = clean_env(workdir) | (settings or {})
    proc = subprocess.run(
        [sys.executable, "-c", MEASURE, *args],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    found = re.search(r"@@(\{.*\})", proc.stderr)
    if not found:
        raise SystemExit(f"measurement failed: {' '.join(args)}\n{proc.stdout}\n{proc.stderr}")
    data = json.loads(found.group(1))
    calls: dict[str, int] = {}
    output = proc.stdout + proc.stderr  # the human summary goes to stderr
    line = re.search(r"API calls: \d+ \(([^)]*)\)", output)
    if line:
        for part in line.group(1).split(", "):
            op, n = part.rsplit(" ", 1)
            calls[op] = int(n)
    waited = re.search(r"waited ([0-9.]+)s for Amazon's answers", output)
    amazon = float(waited.group(1)) if waited else 0.0
    return Measure(data["wall"], data["cpu"], data["peak_mb"], calls, output, amazon)


def load_book_seconds(workdir: Path, runs: int = 3) -> tuple[float, float, int]:
    """The sandbox's load of the book beside the json.loads floor: medians of fresh processes."""
    found = []
    for _ in range(runs):
        proc = subprocess.run(
            [sys.executable, "-c", LOAD_BOOK, str(workdir / "marketplace.json")],
            cwd=workdir,
            env=clean_env(workdir),
            capture_output=True,
            text=True,
            check=True,
        )
        found.append(json.loads(proc.stdout))
    load = sorted(f["load"] for f in found)[runs // 2]
    floor = sorted(f["floor"] for f in found)[runs // 2]
    return load, floor, found[0]["orders"]


def generate(workdir: Path, n: int) -> None:
    """A sheet of n orders to cancel, and an order book where each is unshipped and recent."""
    from openpyxl import Workbook

    orders = []
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Orders")
    ws.append(["Order ID", "Reason", "Details", "Items", "Remedy", "Notify"])
    for i in range(1, n + 1):
        order_id = f"113-{i // 10_000_000:07d}-{i % 10_000_000:07d}"
        item_id = f"{i:014d}"
        orders.append(
            {
                "id": order_id,
                "status": "Unshipped",
                "channel": "MFN",
                "purchased": f"-{1 + i % 600}m",
                "locale": "en_US",
                "items": [
                    {"id": item_id, "sku": f"SKU-{i % 500}", "title": "Stock item", "qty": 1}
                ],
            }
        )
        ws.append(
            [
                order_id,
                "Out of stock",
                "Seasonal stock-out at the main warehouse",
                "",
                "Refund",
                "No",
            ]
        )
    wb.save(workdir / "orders.xlsx")
    book = {
        "seller_id": "A1SANDBOXSELLER",
        "marketplace_id": "ATVPDKIKX0DER",
        # Enough orders that the cancellation budget is not what the benchmark measures.
        "performance": {"orders_last_7_days": n * 200, "seller_cancels_last_7_days": 0},
        # Feeds and reports are done at the first look: production settings poll in real time,
        # and Amazon's processing time is not bulk's.
        "feed_polls": 0,
        "report_polls": 0,
        "orders": orders,
    }
    (workdir / "marketplace.json").write_text(json.dumps(book), encoding="utf-8")
    (workdir / "bulk.toml").write_text(
        '[amazon]\ntarget = "production"\nseller_id = "A1SANDBOXSELLER"\n', encoding="utf-8"
    )


def per_order_seconds(n: int) -> tuple[float, float]:
    """Look-ups without reports: getOrders in batches of 50, or getOrder; plus getOrderItems."""
    batched = rate_limited_seconds({"getOrders": math.ceil(n / 50), "getOrderItems": n})
    single = rate_limited_seconds({"getOrder": n, "getOrderItems": n})
    return batched, single


def writeback_rows(n: int) -> list[str]:
    """openpyxl's load, write and save against bulk's lossless writer, side by side."""
    sys.path.insert(0, str(ROOT / "bench"))
    import xlsx_writeback as wb

    with tempfile.TemporaryDirectory(prefix="bulk-writeback-") as tmp:
        src = Path(tmp) / "orders.xlsx"
        wb.make_workbook(src, n)
        written = Path(tmp) / "written.xlsx"
        results = {
            case: wb.measure(
                case, src, Path(tmp) / "openpyxl.xlsx" if case == "openpyxl" else written, n
            )
            for case in ("openpyxl", "write_cells", "read_grid")
        }
    lines = [
        f"| {wb.CASES[case][0].strip()} | {r['seconds']:.2f} s | {r['peak_mb']:.0f} MB |"
        for case, r in results.items()
    ]
    ratio = results["openpyxl"]["seconds"] / results["write_cells"]["seconds"]
    lines.append(f"| **write_cells is {ratio:.1f}× faster than openpyxl** | | |")
    print(f"write-back {n:,} rows: {ratio:.1f}x faster than openpyxl", flush=True)
    return lines


def fmt_s(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 60:
        return f"{seconds / 60:.1f} min"
    return f"{seconds:.1f} s"


def run_bulk(workdir: Path, n: int) -> tuple[Measure, Measure]:
    """`bulk check`, then `bulk submit --yes` on the same untouched sheet, against a sandbox
    started afresh (nothing cancelled yet)."""
    pristine = workdir / "pristine.xlsx"
    if not pristine.exists():
        pristine.write_bytes((workdir / "orders.xlsx").read_bytes())
    for state in (workdir / "sb", workdir / ".bulk"):
        shutil.rmtree(state, ignore_errors=True)
    (workdir / "orders.xlsx").write_bytes(pristine.read_bytes())
    with external_sandbox(workdir) as settings:
        check = measure(workdir, "bulk", "check", "orders.xlsx", "-v", settings=settings)
        (workdir / "orders.xlsx").write_bytes(pristine.read_bytes())
        submit = measure(workdir, "bulk", "submit", "orders.xlsx", "--yes", "-v", settings=settings)
    for m in (check, submit):
        if m.calls == {}:
            raise SystemExit(f"bulk printed no API calls:\n{m.output}")
    cancelled = re.search(r"(\d+) CANCELLED", submit.output)
    if not cancelled or int(cancelled.group(1)) != n:
        raise SystemExit(f"submit did not cancel all {n} orders:\n{submit.output}")
    return check, submit


def median(measures: list[Measure]) -> Measure:
    """The run with the median wall time (of bulk's own time for a submit)."""
    return sorted(measures, key=lambda m: m.own)[len(measures) // 2]


def spread(measures: list[Measure]) -> str:
    own = sorted(m.own for m in measures)
    return f"{own[0]:.1f}–{own[-1]:.1f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--out", default=str(ROOT / "bench" / "RESULTS.md"))
    parser.add_argument("--repeat", type=int, default=3, help="runs of each kind per size")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    rows: list[str] = []
    targets: list[str] = []
    books: list[str] = []
    per_row: dict[int, float] = {}
    marginal: dict[int, float] = {}
    ranges: dict[int, tuple[str, str, str]] = {}
    every: dict[int, list[str]] = {}
    # The fixed cost of a run (start-up, imports, the template self-check, the reports): the
    # same check of a one-row sheet. What each size adds to it is its cost per row.
    with tempfile.TemporaryDirectory(prefix="bulk-bench-1-") as tmp:
        generate(Path(tmp), 1)
        # First with an empty cache (the templates' self-check runs), then as every later run.
        cold, _ = run_bulk(Path(tmp), 1)
        warm = [run_bulk(Path(tmp), 1)[0] for _ in range(args.repeat)]
        fixed = median(warm)
    print(
        f"1 row: check {fixed.wall:.2f}s, CPU {fixed.cpu:.2f}s (the fixed cost of a run; "
        f"{cold.wall:.2f}s with the templates' self-check)",
        flush=True,
    )
    last = (1, fixed.wall)
    for n in sizes:
        with tempfile.TemporaryDirectory(prefix=f"bulk-bench-{n}-") as tmp:
            workdir = Path(tmp)
            generate(workdir, n)
            # openpyxl and bulk take turns, `repeat` times: the machine's speed drifts, and
            # each figure below is the median run of its kind, its range beside it.
            plains, checks, submits = [], [], []
            for _ in range(args.repeat):
                (workdir / "plain.xlsx").write_bytes((workdir / "orders.xlsx").read_bytes())
                plains.append(measure(workdir, "openpyxl", "plain.xlsx"))
                check, submit = run_bulk(workdir, n)
                checks.append(check)
                submits.append(submit)
            plain, check, submit = median(plains), median(checks), median(submits)
            ranges[n] = (spread(plains), spread(checks), spread(submits))
            every[n] = [
                f"| {n:,} | {i + 1} | {p.wall:.1f} s, {p.peak_mb:.0f} MB | "
                f"{c.wall:.1f} s, {c.peak_mb:.0f} MB | {c.wall / p.wall:.2f}× | "
                f"{s.own:.1f} s, {s.peak_mb:.0f} MB | {s.own / c.wall:.2f}× |"
                for i, (p, c, s) in enumerate(zip(plains, checks, submits, strict=True))
            ]
            load, floor, loaded = load_book_seconds(workdir)
            per_row[n] = check.wall / n
            # What each row adds: the time since the size before (the one-row run first),
            # over the rows added. Linear cost keeps it flat; quadratic cost grows with size.
            before_n, before_wall = last
            marginal[n] = (check.wall - before_wall) / (n - before_n)
            last = (n, check.wall)
            batched, single = per_order_seconds(n)
            for name, m in (("check", check), ("submit --yes", submit)):
                calls = ", ".join(f"{op} {c}" for op, c in sorted(m.calls.items()))
                rows.append(
                    f"| {n:,} | `bulk {name}` | {m.wall:.1f} s | {m.amazon:.1f} s | "
                    f"{m.own:.1f} s | {m.cpu:.1f} s | {m.wall / n * 1e6:.0f} µs | "
                    f"{m.peak_mb:.0f} MB | {sum(m.calls.values())} ({calls}) | "
                    f"{fmt_s(m.rate_limited)} |"
                )
            rows.append(
                f"| {n:,} | openpyxl load + save | {plain.wall:.1f} s | – | – | "
                f"{plain.cpu:.1f} s | {plain.wall / n * 1e6:.0f} µs | {plain.peak_mb:.0f} MB | – | – |"
            )
            rows.append(
                f"| {n:,} | look-ups one by one (getOrders ×50 + getOrderItems; getOrder + "
                f"getOrderItems) | – | – | – | – | – | – | {math.ceil(n / 50) + n}; {2 * n} | "
                f"{fmt_s(batched)}; {fmt_s(single)} |"
            )
            books.append(f"| {loaded:,} | {load:.2f} s | {floor:.2f} s | {load / floor:.1f}× |")
            check_ratio = check.wall / plain.wall
            submit_ratio = submit.own / check.wall
            targets.append(
                f"| {n:,} | {check_ratio:.2f}× openpyxl, {check.peak_mb:.0f} MB | "
                f"{submit_ratio:.2f}× check ({submit.cpu / check.cpu:.2f}× its CPU time), "
                f"{submit.peak_mb:.0f} MB | {per_row[n] * 1e6:.0f} µs | {marginal[n] * 1e6:.0f} µs |"
            )
            print(
                f"{n:,} rows: check {check.wall:.1f}s ({check_ratio:.2f}x openpyxl "
                f"{plain.wall:.1f}s, {check.peak_mb:.0f} MB), submit {submit.wall:.1f}s, "
                f"{submit.own:.1f}s without Amazon's answers ({submit_ratio:.2f}x check, "
                f"{submit.peak_mb:.0f} MB); book of {loaded:,} orders loaded in {load:.2f}s "
                f"(json.loads {floor:.2f}s)",
                flush=True,
            )
    flat = max(per_row.values()) / min(per_row.values())
    # The first step (from one row) also pays for the report path, which a one-row check
    # does not take: the flatness is read between the measured sizes.
    steps = [marginal[n] for n in sizes[1:]] or list(marginal.values())
    flat_marginal = max(steps) / min(steps)
    writeback = writeback_rows(max(sizes))
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    load_avg = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    text = "\n".join(
        [
            "# Benchmark results",
            "",
            f"Measured {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} on {machine}, "
            f"by `python bench/bench.py --sizes {args.sizes} --repeat {args.repeat}` "
            "(load average at the end: "
            f"{load_avg}).",
            "",
            "Wall time, CPU time and peak memory (max RSS) of one fresh process each. `bulk` runs "
            "with the production settings against the sandbox in a process of its own (feeds and "
            'reports done at the first look, no throttling). "Amazon" is the time the run '
            "waited for the sandbox's answers (the network and the sandbox's work: building "
            'reports, processing feeds), as `bulk -v` reports it; "own" is the wall time '
            "without it. Rate-limited time: what the calls would need at Amazon's published rate "
            "limits (burst first, then the sustained rate, operations one after another), from "
            "`bulk.marketplaces.USAGE_PLANS`.",
            "",
            "| rows | what | wall | Amazon | own | CPU | wall per row | peak memory | API calls "
            "| at Amazon's rate limits |",
            "|---:|---|---:|---:|---:|---:|---:|---:|---|---:|",
            *rows,
            "",
            "Targets: `bulk check` in at most 0.5× the time of openpyxl's bare load + save of "
            "the same file and in at most 350 MB; `bulk submit`, without Amazon's processing, "
            "in at most 1.5× the check; a one-row check's fixed cost at most 0.4 s; time per "
            "row flat within 2× from the smallest size to the largest.",
            "",
            "| rows | check | submit (own time) | check per row | check per row added since "
            "the size before |",
            "|---:|---|---|---:|---:|",
            *targets,
            "",
            f"Each figure above is the median of {args.repeat} runs, openpyxl and bulk taking "
            "turns (bulk's own time; lowest–highest):",
            "",
            "| rows | openpyxl | check | submit (own) |",
            "|---:|---|---|---|",
            *(f"| {n:,} | {p} | {c} | {s} |" for n, (p, c, s) in ranges.items()),
            "",
            "Every run, in the order they ran (openpyxl, then check, then submit, each time):",
            "",
            "| rows | run | openpyxl load + save | check | check / openpyxl | submit (own) "
            "| submit / check |",
            "|---:|---:|---|---|---:|---|---:|",
            *(line for lines in every.values() for line in lines),
            "",
            f"The fixed cost of a run, measured as the same check of a one-row sheet: "
            f"{fixed.wall:.2f} s wall, {fixed.cpu:.2f} s CPU (median of {args.repeat}: start-up, "
            "imports, the performance report; runs: "
            f"{', '.join(f'{m.wall:.2f} s' for m in warm)}); the first run on a machine, which "
            "also checks every shipped template in every language before remembering that they "
            f"passed, took {cold.wall:.2f} s ({cold.cpu:.2f} s CPU). The time per row of a small "
            "sheet "
            f"carries: largest over smallest across sizes, {flat:.2f}×. The time each added row "
            "costs (the check's time since the size before, over the rows added) is flat from "
            f"each measured size to the next within {flat_marginal:.2f}×: the cost grows "
            "linearly. The first figure, from the one-row check to the smallest size, is the "
            "difference of two runs of under a second each, so it moves with the machine's "
            "speed from run to run.",
            "",
            "## Sandbox order book",
            "",
            "The order book the sandbox serves, loaded in a fresh process (median of 3), beside "
            "`json.loads` of the same file in the same process:",
            "",
            "| orders | load_book | json.loads | ratio |",
            "|---:|---:|---:|---:|",
            *books,
            "",
            f"## Workbook write-back, {max(sizes):,} rows",
            "",
            "Writing 5 result columns into every row of a 6-column workbook, each case in its "
            "own process (`bench/xlsx_writeback.py`, run by this script):",
            "",
            "| case | time | peak memory |",
            "|---|---:|---:|",
            *writeback,
            "",
            "Notes: messages are off in these sheets "
            "(Notify = No): Amazon's messaging API has no bulk form, so each message costs "
            "getMessagingActionsForOrder, getAttributes and createUnexpectedProblem at 1 "
            "request/second. Report generation time on Amazon (minutes) is not a rate limit and "
            "is not counted in the last column; `bulk` estimates it at "
            "2 minutes when it chooses between the report and per-order look-ups.",
            "",
        ]
    )
    out = Path(args.out)
    # The hostile-input section is measured by bench/hostile.py: keep it.
    old = out.read_text(encoding="utf-8") if out.exists() else ""
    kept = old[old.index(HOSTILE_HEADING) :] if HOSTILE_HEADING in old else ""
    out.write_text(text + ("\n" + kept if kept else ""), encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
