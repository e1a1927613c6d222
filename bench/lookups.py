"""Measure what looking orders up costs at Amazon's rate limits, and write it to bench/RESULTS.md.

Usage (from the repository root, with the project installed):

    python bench/lookups.py                  # 300 and 10,000 orders placed in the last day
    python bench/lookups.py --sizes 300,2000

For each size it writes a sandbox order book of that many unshipped orders placed in the last
24 hours (the account taking the same number every day, as the performance report says), and
an order sheet cancelling all of them. It runs `bulk check -v` with the production settings
pointed at a sandbox started here, which grants the app its default roles: those bulk needs,
no restricted role (so no unshipped-orders report). It reads back what the run made: the
look-up path it chose, the API calls (as bulk counted them and as the sandbox received them),
the calls the sandbox refused (403), and the time those calls need at Amazon's published rate
limits, beside the same for reading every order with getOrder one by one. Targets: 300 orders
within 60 s of rate-limited time, 10,000 within 10 minutes, without restricted data.

Then (`--submit-sizes`, default 2000) it runs `bulk submit --yes -v` on orders of the last hour
and counts the whole run's calls: the look-up with item ids, the feed, and the read-back.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import sys
import tempfile
import time
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from io import StringIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bulk.amazon.lookup import REPORT_LATENCY_SECONDS, per_order_plan  # noqa: E402
from bulk.marketplaces import rate_limited_seconds  # noqa: E402

TARGETS = {300: 60.0, 10_000: 600.0}
START = "<!-- lookups:start -->"
END = "<!-- lookups:end -->"


@dataclass
class Result:
    orders: int
    path: str
    calls: dict[str, int]
    received: dict[str, int]
    refused: int  # calls the sandbox answered 403
    throttled: int  # calls the sandbox answered 429 (its rate model: Amazon's usage plans)
    seconds: float  # rate-limited time of every call the check made
    lookup_seconds: float  # the look-up's own, as the summary says
    per_order_seconds: float
    wall: float


def write_inputs(folder: Path, n: int, weekly: int | None = None, window_hours: int = 24) -> None:
    """n orders placed over the last `window_hours`, on an account taking `weekly` orders a
    week (default: n a day), and a sheet cancelling them all."""
    orders = []
    rows = [["Order ID", "Reason", "Details", "Notify"]]
    for i in range(1, n + 1):
        order_id = f"114-{i:07d}-{i % 9_999_999:07d}"
        minutes = 5 + (i * (window_hours * 60 - 10)) // n  # spread over the window
        orders.append(
            {
                "id": order_id,
                "status": "Unshipped",
                "channel": "MFN",
                "purchased": f"-{minutes}m",
                "items": [{"id": f"{i:014d}", "sku": f"SKU-{i}", "title": "Item", "qty": 1}],
            }
        )
        rows.append([order_id, "Out of stock", "Seasonal stock-out at the warehouse", "No"])
    book = {
        "seller_id": "A1SANDBOXSELLER",
        "marketplace_id": "ATVPDKIKX0DER",
        # By default the account takes as many orders every day as the sheet holds.
        "performance": {"orders_last_7_days": weekly or 7 * n, "seller_cancels_last_7_days": 0},
        "report_polls": 0,
        "feed_polls": 0,
        # Amazon's usage plans, enforced: a call past its bucket answers 429 (counted).
        "enforce_rate_limits": True,
        "orders": orders,
    }
    (folder / "book.json").write_text(json.dumps(book), encoding="utf-8")
    with open(folder / "sheet.csv", "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    (folder / "bulk.toml").write_text(
        '[amazon]\ntarget = "production"\nseller_id = "A1SANDBOXSELLER"\n'
        f"[policy]\nwindow_hours = {window_hours}\nmax_daily_share = 1.0\n",
        encoding="utf-8",
    )


def parse_calls(output: str) -> dict[str, int]:
    line = re.search(r"API calls: \d+ \(([^)]*)\)", output)
    if not line:
        raise SystemExit("no API calls line in the output:\n" + output)
    found = {}
    for part in line.group(1).split(", "):
        op, count = part.rsplit(" ", 1)
        found[op] = int(count)
    return found


def measure(
    n: int, command: str = "check", weekly: int | None = None, window_hours: int = 24
) -> Result:
    import requests

    from bulk.cli import app
    from bulk.sandbox import start_sandbox
    from bulk.targets import SANDBOX_CREDENTIALS

    with tempfile.TemporaryDirectory(prefix="bulk-lookups-") as tmp:
        folder = Path(tmp)
        write_inputs(folder, n, weekly, window_hours)
        old_cwd = Path.cwd()
        saved = dict(os.environ)
        with start_sandbox(folder / "book.json", folder / "sandbox-state") as sb:
            os.environ.update(
                BULK_SP_API_ENDPOINT=sb.url,
                BULK_LWA_ENDPOINT=sb.url,
                BULK_HOME=str(folder / ".bulk"),
                LWA_APP_ID=SANDBOX_CREDENTIALS["lwa_app_id"],
                LWA_CLIENT_SECRET=SANDBOX_CREDENTIALS["lwa_client_secret"],
                SP_API_REFRESH_TOKEN=SANDBOX_CREDENTIALS["refresh_token"],
            )
            os.chdir(folder)
            out = StringIO()
            start = time.perf_counter()
            try:
                with redirect_stdout(out), redirect_stderr(out):
                    extra = ["--yes"] if command == "submit" else []
                    app([command, "sheet.csv", *extra, "-v"], standalone_mode=False)
            except SystemExit:
                pass
            finally:
                wall = time.perf_counter() - start
                os.chdir(old_cwd)
                os.environ.clear()
                os.environ.update(saved)
            received = requests.get(f"{sb.url}/_sandbox/calls", timeout=30).json()
    output = out.getvalue()
    path = re.search(r"look-up: ([^\n]*)", output)
    if not path:
        raise SystemExit("no look-up line in the output:\n" + output)
    lookup = re.search(r"; (\d+)s of Amazon rate-limited time", path.group(1))
    calls = parse_calls(output)
    return Result(
        orders=n,
        path=path.group(1),
        calls=calls,
        received={
            k: v
            for k, v in received.items()
            if not k.startswith(("token", "upload", "download", "_sandbox", "refused", "throttled"))
        },
        throttled=sum(v for k, v in received.items() if k.startswith("throttled")),
        refused=sum(v for k, v in received.items() if k.startswith("refused")),
        seconds=rate_limited_seconds(calls),
        lookup_seconds=float(lookup.group(1)) if lookup else float("nan"),
        per_order_seconds=per_order_plan(n).seconds,
        wall=wall,
    )


def table(results: list[Result], sent: list[Result]) -> list[str]:
    lines = [
        START,
        "## Look-ups (Orders API v2026-01-01, no restricted role)",
        "",
        "`python bench/lookups.py`: `bulk check -v` with the production settings against a "
        "sandbox, on a sheet of N unshipped orders placed in the last 24 hours (the account "
        "taking N orders a day), the app holding the roles bulk needs and no restricted role, "
        "the sandbox enforcing Amazon's usage plans (a call past its bucket answers 429). "
        "Rate-limited time: what the calls the check made need at "
        "Amazon's published limits (`bulk.marketplaces.USAGE_PLANS`), the look-up's own "
        "and the whole check's (with the performance report). The report path also waits "
        "while Amazon builds the report (a few minutes; the planner counts "
        f"{REPORT_LATENCY_SECONDS:.0f} s for it, the sandbox builds it at once).",
        "",
        "| orders | path the planner chose | API calls (bulk's count) | sandbox received | "
        "refused (403) | throttled (429) | look-up rate-limited | whole check rate-limited | "
        "getOrder one by one | target | wall |",
        "|---:|---|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        calls = ", ".join(f"{op} {c}" for op, c in sorted(r.calls.items()))
        received = ", ".join(f"{op} {c}" for op, c in sorted(r.received.items()))
        target = TARGETS.get(r.orders)
        met = (
            ""
            if target is None
            else f"≤ {target:.0f} s " + ("(met)" if r.seconds <= target else "(MISSED)")
        )
        lines.append(
            f"| {r.orders:,} | {r.path} | {sum(r.calls.values())}: {calls} | {received} | "
            f"{r.refused} | {r.throttled} | "
            f"{r.lookup_seconds:.0f} s | {r.seconds:.0f} s | {r.per_order_seconds:,.0f} s | "
            f"{met} | {r.wall:.1f} s |"
        )
    if sent:
        lines += [
            "",
            "`bulk submit --yes -v` of N orders placed in the last hour, on an account taking "
            "100×N orders a week (`[policy] window_hours = 1`, inside the cancellation budget), "
            "same roles: the look-up needs every order's item ids, and after the feed one All "
            "Orders report reads which orders Amazon cancelled. API calls and rate-limited time "
            "are the whole run's (performance report, look-up, feed, read-back).",
            "",
            "| orders | look-up | API calls (bulk's count) | refused (403) | throttled (429) | "
            "rate-limited | wall |",
            "|---:|---|---|---:|---:|---:|---:|",
        ]
        for r in sent:
            calls = ", ".join(f"{op} {c}" for op, c in sorted(r.calls.items()))
            lines.append(
                f"| {r.orders:,} | {r.path} | {sum(r.calls.values())}: {calls} | {r.refused} | "
                f"{r.throttled} | {r.seconds:.0f} s | {r.wall:.1f} s |"
            )
    lines.append(END)
    return lines


def write_results(results: list[Result], sent: list[Result]) -> None:
    path = ROOT / "bench" / "RESULTS.md"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    block = "\n".join(table(results, sent))
    if START in text and END in text:
        before, rest = text.split(START, 1)
        after = rest.split(END, 1)[1]
        text = before + block + after
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="300,10000")
    parser.add_argument("--submit-sizes", default="2000")
    args = parser.parse_args()
    results = []
    for n in (int(s) for s in args.sizes.split(",")):
        result = measure(n)
        print(
            f"{n} orders: {result.path}; whole check {result.seconds:.0f} s rate-limited, "
            f"{sum(result.calls.values())} calls, {result.wall:.1f} s wall",
            flush=True,
        )
        results.append(result)
    sent = []
    for n in (int(s) for s in args.submit_sizes.split(",") if s):
        # Orders of the last hour on an account taking 100 times as many a week: inside the
        # cancellation budget, and a search of n/100 pages.
        result = measure(n, "submit", weekly=100 * n, window_hours=1)
        print(
            f"submit {n} orders: {result.path}; {result.seconds:.0f} s rate-limited, "
            f"{sum(result.calls.values())} calls, {result.refused} refused, {result.wall:.1f} s",
            flush=True,
        )
        sent.append(result)
    write_results(results, sent)


if __name__ == "__main__":
    main()
